"""The hybrid searcher as a LangChain retriever (`BaseRetriever`), for use in others' chains.

A thin adapter: all retrieval logic lives in `brief.retrieve.HybridSearcher`. Kept apart so that
answering a question does not import LangChain's callback and tracing machinery.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import fields, replace
from datetime import date
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForRetrieverRun, CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from brief.retrieve import SearchFilters
from brief.types import Chunk, Passage


class BriefRetriever(BaseRetriever):
    """The hybrid searcher as a LangChain retriever returning Documents with metadata.

    Besides the constructor's `k` and `filters`, every call accepts `k` and brief's filters as
    keywords: `retriever.invoke(q, k=3, sources="Harbour Gazette", since="2024-06-01")`, or
    `filters=SearchFilters(...)` to replace the constructor's filters as a whole. At most `k`
    documents come back, also for a two-part question (whose extra passages come last).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    searcher: Any
    k: int = 6
    filters: SearchFilters = SearchFilters()

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **options: Any
    ) -> list[Document]:
        k, filters = self._call_options(options)
        result = self.searcher.search(query, k, filters)
        return [passage_to_document(p) for p in result.passages[:k]]

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun, **options: Any
    ) -> list[Document]:
        # Embedding the query and reading Chroma block: a worker thread keeps the event loop free.
        return await asyncio.to_thread(
            self._get_relevant_documents, query, run_manager=run_manager.get_sync(), **options
        )

    def _call_options(self, options: dict[str, Any]) -> tuple[int, SearchFilters]:
        """`k` and the filters for one call: the constructor's, changed by call-time keywords."""
        options = dict(options)
        options.pop("verbose", None)  # LangChain's own invoke keyword, read before we are called
        unknown = sorted(set(options) - {"k", "filters", *_FILTER_FIELDS})
        if unknown:
            given = ", ".join(map(repr, unknown))
            accepted = ", ".join(("k", "filters", *_FILTER_FIELDS))
            raise TypeError(f"BriefRetriever got unexpected keyword(s) {given}; it accepts {accepted}")
        k = options.pop("k", self.k)
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be a whole number of documents >= 1, not {k!r}")
        filters = options.pop("filters", self.filters)
        if not isinstance(filters, SearchFilters):
            raise TypeError(f"filters must be a SearchFilters, not {type(filters).__name__}")
        return k, call_time_filters(filters, options)


_FILTER_FIELDS = tuple(f.name for f in fields(SearchFilters))


def call_time_filters(base: SearchFilters, overrides: dict[str, Any]) -> SearchFilters:
    """`base` with the fields given as keywords replaced: outlets and ids as one string or a list
    of them, dates as ISO strings or `date`s."""
    changes: dict[str, Any] = {}
    for name, value in overrides.items():
        if name in ("sources", "doc_ids"):
            changes[name] = _names(name, value)
        elif isinstance(value, date):  # a datetime too: its day is what counts
            changes[name] = value.strftime("%Y-%m-%d")
        elif value is None or isinstance(value, str):
            changes[name] = value or ""
        else:
            raise TypeError(f"{name} must be an ISO date string or a date, not {type(value).__name__}")
    return replace(base, **changes)


def _names(name: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Iterable):
        values = tuple(value)
        if all(isinstance(v, str) for v in values):
            return values
    raise TypeError(f"{name} must be a string or a list of strings, not {value!r}")


def passage_to_document(passage: Passage) -> Document:
    meta = passage.chunk.metadata()
    meta.update(
        chunk_id=passage.chunk.chunk_id,
        score=passage.score,
        passage_start=passage.start,
        passage_end=passage.end,
    )
    return Document(page_content=passage.text, metadata=meta, id=passage.chunk.chunk_id)


def document_to_passage(document: Document) -> Passage:
    meta = dict(document.metadata)
    chunk = Chunk(
        chunk_id=meta["chunk_id"],
        doc_id=meta["doc_id"],
        index=int(meta["index"]),
        text=document.page_content,
        start=int(meta["start"]),
        end=int(meta["end"]),
        section=meta.get("section", ""),
        title=meta.get("title", ""),
        source=meta.get("source", ""),
        date=meta.get("date", ""),
        author=meta.get("author", ""),
        url=meta.get("url", ""),
    )
    return Passage(
        chunk,
        float(meta.get("score", 0.0)),
        document.page_content,
        int(meta.get("passage_start", chunk.start)),
        int(meta.get("passage_end", chunk.end)),
    )
