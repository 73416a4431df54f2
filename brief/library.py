"""`Library`: the Python API that the CLI, the UI and the tests all use."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from brief.backends import resolve_backend
from brief.errors import BriefError
from brief.generate import Generator, History, make_generator
from brief.minilm import MiniLM
from brief.pipeline import AnswerPipeline, AskRequest, BriefPipeline, BriefRequest, Stages
from brief.report import BriefAssembler
from brief.retrieve import HybridSearcher, SearchFilters
from brief.settings import Settings
from brief.store import Store
from brief.text import clean_question
from brief.types import Answer, Brief, Chunk, DocumentRecord

if TYPE_CHECKING:  # ingestion loads the parsers (HTML, PDF, ...): only `ingest` needs them
    from brief.embed import OpenAIEmbedder
    from brief.ingestion import IngestReport, ProgressCallback


class UnknownDocument(BriefError, KeyError):
    """No document (or more than one) matches the given id."""

    def __str__(self) -> str:
        return str(self.args[0])


class Library:
    """A collection of ingested articles: ingest, list, remove, and (later) ask and brief."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self._generators: dict[str, Generator] = {}

    @cached_property
    def embedder(self) -> MiniLM | OpenAIEmbedder:
        # The bundled model without LangChain's Embeddings class: a question need not import LangChain.
        if self.settings.embedder == "openai":
            from brief.embed import OpenAIEmbedder

            return OpenAIEmbedder(self.settings)
        return MiniLM.from_settings(self.settings)

    @cached_property
    def store(self) -> Store:
        return Store(self.settings, self.settings.embedder_name())

    @cached_property
    def searcher(self) -> HybridSearcher:
        s = self.settings
        return HybridSearcher(self.store, self.embedder, s.candidates, s.rrf_k, s.per_doc_cap)

    @cached_property
    def stages(self) -> Stages:
        return Stages(self.searcher, self.generator, self.generator("extractive"), self.judge_embedder)

    @cached_property
    def answer_pipeline(self) -> AnswerPipeline:
        """AskRequest -> Answer; stream: the text as it is written, then the Answer."""
        return AnswerPipeline(self.stages)

    @cached_property
    def brief_pipeline(self) -> BriefPipeline:
        """BriefRequest -> Brief; stream: progress lines, then the Brief."""
        return BriefPipeline(self.stages, BriefAssembler())

    @cached_property
    def answer_chain(self) -> Any:
        """The answer pipeline as a LangChain Runnable (same run; LangChain callbacks and tracing)."""
        from brief.chain import PipelineRunnable

        return PipelineRunnable(self.answer_pipeline)

    @cached_property
    def brief_chain(self) -> Any:
        """The brief pipeline as a LangChain Runnable."""
        from brief.chain import PipelineRunnable

        return PipelineRunnable(self.brief_pipeline)

    @cached_property
    def judge_embedder(self) -> MiniLM:
        """Citation checks compare meanings with the bundled model: local, fast, deterministic."""
        if isinstance(self.embedder, MiniLM):
            return self.embedder
        return MiniLM.from_settings(self.settings)

    def generator(self, backend: str = "auto") -> Generator:
        """The generator for a backend ('auto' follows the settings), created once."""
        name = resolve_backend(self.settings, backend)
        if name not in self._generators:
            self._generators[name] = make_generator(name, self.settings, self.judge_embedder)
        return self._generators[name]

    def _request(
        self,
        question: str,
        history: History | None,
        filters: SearchFilters | None,
        k: int | None,
        backend: str,
    ) -> AskRequest:
        name = resolve_backend(self.settings, backend)
        return AskRequest(
            clean_question(question), list(history or []), filters or SearchFilters(), k or self.settings.top_k, name
        )

    def ask(
        self,
        question: str,
        history: History | None = None,
        filters: SearchFilters | None = None,
        k: int | None = None,
        backend: str = "auto",
    ) -> Answer:
        """A cited answer (or an honest decline) from the library."""
        return self.answer_pipeline.invoke(self._request(question, history, filters, k, backend))

    def ask_stream(
        self,
        question: str,
        history: History | None = None,
        filters: SearchFilters | None = None,
        k: int | None = None,
        backend: str = "auto",
    ) -> Iterator[str | Answer]:
        """Text pieces while the answer is written, then the verified Answer."""
        return self.answer_pipeline.stream(self._request(question, history, filters, k, backend))

    def report(
        self,
        topic: str,
        filters: SearchFilters | None = None,
        backend: str = "auto",
        progress: Callable[[str], None] | None = None,
    ) -> Brief:
        """A one-page, fully cited brief on a topic or question; `progress` hears each stage."""
        for item in self.report_stream(topic, filters, backend):
            if isinstance(item, Brief):
                return item
            if progress is not None:
                progress(item)
        raise AssertionError("the brief pipeline ended without a brief")  # pragma: no cover

    def report_stream(
        self, topic: str, filters: SearchFilters | None = None, backend: str = "auto"
    ) -> Iterator[str | Brief]:
        """Progress lines while the brief is written, then the Brief."""
        request = BriefRequest(
            clean_question(topic), filters or SearchFilters(), resolve_backend(self.settings, backend)
        )
        return self.brief_pipeline.stream(request)

    def ingest(
        self, paths: Iterable[str | Path], prune: bool = False, progress: ProgressCallback | None = None
    ) -> IngestReport:
        """Add new and changed articles, retire replaced versions, optionally prune vanished files."""
        from brief.ingestion import Ingestor

        return Ingestor(self.store, self.embedder).run([Path(p) for p in paths], prune=prune, progress=progress)

    def documents(self) -> list[DocumentRecord]:
        """Indexed documents, newest first."""
        docs = list(self.store.documents().values())
        return sorted(docs, key=lambda d: (d.date, d.title), reverse=True)

    def document(self, doc_id: str) -> DocumentRecord:
        """The document with this id or unique id prefix."""
        docs = self.store.documents()
        if doc_id in docs:
            return docs[doc_id]
        matches = [d for d in docs if d.startswith(doc_id)] if len(doc_id) >= 4 else []
        if len(matches) == 1:
            return docs[matches[0]]
        if matches:
            raise UnknownDocument(f"'{doc_id}' matches {len(matches)} documents; give more of the id")
        raise UnknownDocument(f"no document with id '{doc_id}' (see: brief docs)")

    def document_chunks(self, doc_id: str) -> list[Chunk]:
        """The stored chunks of one document, in reading order (their offsets index its text)."""
        record = self.document(doc_id)
        chunks = self.store.get_chunks(self.store.chunk_ids_of(record.doc_id))
        return sorted(chunks, key=lambda c: c.index)

    def remove(self, doc_id: str) -> DocumentRecord:
        """Delete one document and its chunks."""
        record = self.document(doc_id)
        with self.store.write_lock():
            self.store.delete_document(record.doc_id)
            self.store.prepare_search()
        return record

    def status(self) -> dict[str, Any]:
        """Where the store is, which models are set, and what it holds."""
        from brief.status import library_status

        return library_status(self.settings, self.store)
