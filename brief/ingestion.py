"""Ingest files into the store: idempotent by content hash, updates in place, crash-safe."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from brief.embed_process import IngestEmbedder
from brief.ingest.chunking import (
    ChunkingOptions,
    archive_applies,
    chunk_article,
    index_recipe,
    made_alike,
    sharing_plans,
)
from brief.ingest.files import IngestLimits, Skipped
from brief.ingest.loaders import TEXT_SIZED_SUFFIXES, LoadError, open_source, scan_inputs
from brief.ingest_progress import IngestProgress, ProgressCallback, ProgressMeter, sharing_note
from brief.minilm import MiniLM
from brief.store import Store, StoreError
from brief.types import Article, Chunk, DocumentRecord
from brief.vector_sharing import every_for_ingest
from brief.write_pipeline import PendingGroup, WritePipeline

if TYPE_CHECKING:
    from brief.embed import OpenAIEmbedder
    from brief.settings import Settings

__all__ = ["IngestProgress", "IngestReport", "Ingestor", "ProgressCallback", "document_id", "path_key"]


@dataclass
class FileOutcome:
    path: str
    status: str  # added | updated | unchanged | failed | partial
    doc_ids: list[str] = field(default_factory=list)
    chunks: int = 0
    rechunked: int = 0  # stored documents chunked again because they were made another way
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class IngestReport:
    files: list[FileOutcome] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)  # folder entries that could not be read
    pruned: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    chunks_written: int = 0
    seconds: float = 0.0
    embed_every: int = 1  # one chunk in this many got a vector of its own
    archive: bool = False  # an archive import: the input's size chose embed_every

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def rechunked(self) -> int:
        return sum(f.rechunked for f in self.files)

    @property
    def errors(self) -> list[str]:
        return [e for f in self.files for e in f.errors]

    @property
    def warnings(self) -> list[str]:
        return [w for f in self.files for w in f.warnings]

    @property
    def ok(self) -> bool:
        return not self.errors and not any(s.problem for s in self.skipped)

    def summary(self) -> str:
        rate = self.chunks_written / self.seconds if self.seconds > 0 else 0.0
        return (
            f"{self.count('added')} added, {self.count('updated')} updated, "
            f"{self.count('unchanged')} unchanged, {self.count('failed') + self.count('partial')} failed"
            f"{f', {len(self.skipped)} skipped' if self.skipped else ''}"
            f"{f', {len(self.pruned)} pruned' if self.pruned else ''}"
            f"{f', {self.rechunked} documents chunked again with the current settings' if self.rechunked else ''}; "
            f"{self.chunks_written} chunks in {self.seconds:.1f} s ({rate:.1f} chunks/s)"
            f"{f'; {sharing_note(self.embed_every, self.archive)}' if self.embed_every > 1 else ''}"
        )

    def to_dict(self) -> dict:
        return {
            "added": self.count("added"),
            "updated": self.count("updated"),
            "unchanged": self.count("unchanged"),
            "rechunked": self.rechunked,
            "failed": self.count("failed") + self.count("partial"),
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
            "pruned": self.pruned,
            "repaired": self.repaired,
            "chunks_written": self.chunks_written,
            "embed_every": self.embed_every,
            "archive": self.archive,
            "seconds": round(self.seconds, 3),
            "errors": self.errors,
            "warnings": self.warnings,
            "files": [f.__dict__ for f in self.files],
        }


class IngestInterrupted(StoreError):
    """The store failed part-way through an ingest; says what had been written and what not."""

    def __init__(
        self, cause: StoreError, report: IngestReport, documents: int, total_files: int, in_flight: int = 0
    ) -> None:
        done = (
            f"{documents} documents ({report.chunks_written} chunks) had been written and are kept"
            if documents
            else "nothing had been written yet"
        )
        # A store that fails while answering a write may have applied it: its last group is
        # either stored whole or left pending (which the next ingest removes), never half-visible.
        unsure = (
            f"the {in_flight} documents being written when it failed may or may not have been stored"
            if in_flight
            else "nothing else was being written"
        )
        super().__init__(
            f"{cause} The ingest stopped part-way: {done}; {total_files - len(report.files)} of {total_files} "
            f"files were not reached and {unsure}. "
            "Run the same ingest again when the store is back: what is stored is skipped."
        )
        self.report = report
        self.documents = documents
        self.in_flight = in_flight


def document_id(article: Article) -> str:
    """A content hash: the same article gives the same id wherever and whenever it is read."""
    digest = hashlib.sha256()
    for part in (article.title, article.author, article.source, article.date, article.url, article.text):
        digest.update(part.encode("utf-8"))
        digest.update(b"\x1f")
    return digest.hexdigest()[:20]


def path_key(path: str | Path) -> str:
    return str(Path(path).resolve())


class Ingestor:
    """Runs one ingest over a store with an embedder, under the store's settings.

    Memory stays bounded whatever the input: files are read one at a time and JSON Lines
    record by record; documents go out in groups of about `group_chunks` chunks to a
    `WritePipeline`, which embeds one group while the store writes the one before and this
    thread parses the next. Each group is searchable once written.
    """

    def __init__(self, store: Store, embedder: MiniLM | OpenAIEmbedder) -> None:
        self.store = store
        self.embedder = embedder
        settings = store.settings  # chunking, grouping and limits: the library's own settings
        self.options = ChunkingOptions.from_settings(settings)
        # What MiniLM reads of a long chunk (e.g. its first and last 64 word pieces) and which
        # chunks share a vector are part of how a vector is made. Which chunks share depends on
        # the size of the input (an archive import embeds fewer): set per run by _plan.
        self._reads = getattr(embedder, "reads", None)
        self._plan(settings.embed_every)
        self.group_chunks = settings.ingest_group_chunks
        self._seen = FileHashCache(store.cache_dir / "files.json", {})
        self.limits = ingest_limits(settings)
        self._pipeline: WritePipeline | None = None

    def run(self, paths: Iterable[Path], prune: bool = False, progress: ProgressCallback | None = None) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport()
        files, report.skipped = scan_inputs([Path(p) for p in paths])
        meter = ProgressMeter(files, progress, started)
        # Only files stored as text count towards an archive import: a few large PDFs are not one.
        text_bytes = sum(size for name, size in meter.sizes.items() if Path(name).suffix.lower() in TEXT_SIZED_SUFFIXES)
        self._plan(self._every_for(text_bytes))
        report.embed_every = meter.embed_every = self.embed_every
        report.archive = meter.archive = self.embed_every != self.store.settings.embed_every

        def written(documents: int, chunks: int) -> None:
            report.chunks_written += chunks
            meter.written(documents, chunks)

        embedder = self._embedder_for_ingest()
        pipeline = self._pipeline = WritePipeline(
            self.store, embedder, embedding_texts, written, meter.tick, self.embed_every
        )
        finished = False
        try:
            try:
                self._run(files, report, prune, meter)
                finished = True
            finally:
                pipeline.close(abort=not finished)
                if embedder is not self.embedder:
                    embedder.release()  # the model's own process, if it was started, ends here
        except StoreError as exc:
            report.seconds = time.perf_counter() - started
            raise IngestInterrupted(
                exc, report, pipeline.documents_written, len(files), pipeline.documents_in_write
            ) from exc
        report.seconds = time.perf_counter() - started
        meter.finish()
        return report

    def _plan(self, every: int) -> None:
        """This run embeds one chunk in `every`; a stored document made under the settings'
        other plan (an ordinary ingest's or an archive import's) is kept as it is."""
        self.embed_every = every
        self.recipe = index_recipe(self.options, self._reads, every)
        plans = {every, *sharing_plans(self.store.settings)}
        self._current = tuple(index_recipe(self.options, self._reads, n) for n in sorted(plans))

    def _every_for(self, input_bytes: int) -> int:
        settings = self.store.settings
        archive_bytes = (
            int(settings.archive_mb * 1_000_000) if archive_applies(settings) and settings.archive_mb else None
        )
        return every_for_ingest(settings.embed_every, settings.archive_embed_every, archive_bytes, input_bytes)

    def _up_to_date(self, record: DocumentRecord) -> bool:
        return any(made_alike(record.recipe, recipe) for recipe in self._current)

    def _embedder_for_ingest(self) -> Any:
        """MiniLM moves to a process of its own once a long ingest has embedded enough texts."""
        after = self.store.settings.embed_process_after
        if isinstance(self.embedder, MiniLM) and after is not None:
            return IngestEmbedder(self.embedder, after)
        return self.embedder

    def _run(self, files: list[Path], report: IngestReport, prune: bool, meter: ProgressMeter) -> None:
        with self.store.write_lock():
            report.repaired = self.store.repair()
            known = self.store.documents()
            self._seen = FileHashCache.load(self.store.cache_dir / "files.json")
            pending = PendingGroup()
            for path in files:
                meter.start_file(path)
                outcome = self._ingest_file(path, known, pending, meter)
                report.files.append(outcome)
                meter.file_done(path)
            self._send(pending)
            if prune:
                report.pruned = self._prune(known)
            self._pipeline.wait()  # type: ignore[union-attr]
            self._seen.save()
            # Every chunk is embedded: the model's ~90 MB go back before the index merge below,
            # the ingest's memory peak (the next question opens the model again, ~0.3 s).
            release = getattr(self._pipeline.embedder, "release", None)  # type: ignore[union-attr]
            if release is not None:
                release()
            self.store.prepare_search()  # bring the search indexes in step now, not at the first question

    def _ingest_file(
        self, path: Path, known: dict[str, DocumentRecord], pending: PendingGroup, meter: ProgressMeter
    ) -> FileOutcome:
        key = path_key(path)
        try:
            source = open_source(path, self.limits)  # one bounded pass: checks and the digest
        except LoadError as exc:
            return FileOutcome(str(path), "failed", errors=[str(exc)])
        remembered = self._seen.get(key, source.digest)
        if remembered is not None and all(
            d in known and key in known[d].paths and self._up_to_date(known[d]) for d in remembered
        ):
            # Same bytes as last time, every article from them still stored and made the way the
            # settings now ask: no parsing.
            return FileOutcome(str(path), "unchanged", doc_ids=list(remembered))
        before = {d for d, rec in known.items() if key in rec.paths}
        outcome = FileOutcome(str(path), "unchanged")
        listed: set[str] = set()
        items = source.items()
        while True:
            # Only reading and parsing are guarded here: a failure of the embedder or the store
            # (raised by _send) must stop the ingest, not pass for a bad file.
            try:
                item = next(items, None)
            except LoadError as exc:
                outcome.errors.append(str(exc))
                outcome.status = "partial" if outcome.doc_ids else "failed"
                return outcome  # keep old versions: the file could not be read to its end
            except Exception as exc:  # noqa: BLE001 - one unreadable file must not stop the others
                outcome.errors.append(f"{path}: could not be parsed ({type(exc).__name__}: {str(exc)[:160]})")
                outcome.status = "partial" if outcome.doc_ids else "failed"
                return outcome
            if item is None:
                break
            if isinstance(item, LoadError):
                outcome.errors.append(str(item))
                continue
            article = self._adjusted(path, item)
            outcome.warnings.extend(article.warnings)
            self._queue_article(article, key, known, pending, outcome, listed, bool(before))
            meter.article_read(source.bytes_read)
            if pending.chunks >= self.group_chunks:
                self._send(pending)
        if outcome.errors:
            outcome.status = "partial"
            return outcome  # keep old versions of records that failed to parse
        if not source.changed_while_read:
            self._seen.remember(key, source.digest, outcome.doc_ids)
        stale = before - set(outcome.doc_ids)
        if stale:
            # Old versions go only after the new ones are written: never a gap.
            self._send(pending)
            for doc_id in stale:
                if doc_id in known:
                    self._drop_path(known, doc_id, key)
            if outcome.status == "unchanged":
                outcome.status = "updated"
        return outcome

    def _queue_article(
        self,
        article: Article,
        key: str,
        known: dict[str, DocumentRecord],
        pending: PendingGroup,
        outcome: FileOutcome,
        listed: set[str],
        replacing: bool,
    ) -> None:
        doc_id = document_id(article)
        if doc_id in listed:
            return  # the same article twice in one file
        listed.add(doc_id)
        outcome.doc_ids.append(doc_id)
        stored = known.get(doc_id)
        if stored is not None and self._up_to_date(stored):
            # Stored, or queued earlier in this run: remember this file too.
            if key not in stored.paths:
                stored.paths.append(key)
                if not pending.holds(doc_id):  # a queued record is written with its paths as they are then
                    self._pipeline.update_paths(stored)  # type: ignore[union-attr]
            return
        chunks = chunk_article(article, doc_id, self.options)
        record = _record_for(article, doc_id, key, len(chunks), self.recipe)
        if stored is not None:
            # Chunked or embedded under other settings: written again under the same id, for
            # every file that holds it. Its old chunks are replaced in the same write.
            record.paths = stored.paths + ([key] if key not in stored.paths else [])
            outcome.rechunked += 1
        pending.add(record, chunks)
        known[doc_id] = record  # from here on the run treats it as stored (the write follows in order)
        outcome.chunks += len(chunks)
        outcome.status = "updated" if replacing or stored is not None else "added"

    def _adjusted(self, path: Path, article: Article) -> Article:
        """An article as read from `path` (a subclass may add what it knows of where it came from)."""
        return article

    def _send(self, pending: PendingGroup) -> None:
        if pending.documents:
            self._pipeline.write(pending.take())  # type: ignore[union-attr]

    def _drop_path(self, known: dict[str, DocumentRecord], doc_id: str, key: str) -> bool:
        """Forget that a document came from `key`; delete it when no file holds it any more."""
        record = known[doc_id]
        record.paths = [p for p in record.paths if p != key]
        if record.paths:
            self._pipeline.update_paths(record)  # type: ignore[union-attr]
            return False
        self._pipeline.delete(doc_id)  # type: ignore[union-attr]
        del known[doc_id]
        return True

    def _prune(self, known: dict[str, DocumentRecord]) -> list[str]:
        pruned = []
        for doc_id, record in list(known.items()):
            for key in [p for p in record.paths if not Path(p).exists()]:
                if self._drop_path(known, doc_id, key):
                    pruned.append(doc_id)
                    break
        return pruned


def ingest_limits(settings: Settings) -> IngestLimits:
    """The caps on one input file that the settings ask for."""
    return IngestLimits(
        max_file_bytes=settings.ingest_max_file_mb * 1024 * 1024,
        max_front_matter_bytes=settings.ingest_max_front_matter_kb * 1024,
    )


class FileHashCache:
    """Which articles each file's exact bytes produced last time, so that re-ingesting an
    unchanged file skips parsing. Only a shortcut: a hit is trusted only if every one of
    those articles is still ready in the store, so a stale or lost cache costs time, never
    correctness."""

    def __init__(self, path: Path, entries: dict[str, dict]) -> None:
        self.path = path
        self.entries = entries

    @classmethod
    def load(cls, path: Path) -> FileHashCache:
        try:
            entries = json.loads(path.read_text(encoding="utf-8"))
            return cls(path, entries if isinstance(entries, dict) else {})
        except (OSError, ValueError):
            return cls(path, {})

    def get(self, key: str, raw_hash: str) -> list[str] | None:
        entry = self.entries.get(key)
        if raw_hash and isinstance(entry, dict) and entry.get("sha256") == raw_hash:
            return list(entry.get("doc_ids") or [])
        return None

    def remember(self, key: str, raw_hash: str, doc_ids: list[str]) -> None:
        self.entries[key] = {"sha256": raw_hash, "doc_ids": doc_ids}

    def save(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.entries), encoding="utf-8")
            tmp.replace(self.path)
        except OSError:
            pass  # a cache that cannot be written only costs time next run


def embedding_text(chunk: Chunk, previous: Chunk | None = None) -> str:
    """What the embedder sees: the passage under its article title and section. The sentences
    it repeats from `previous` (the chunk before it, for context when read) are left out: they
    were embedded with that chunk, and embedding them twice costs time, not recall."""
    text = chunk.text
    if previous is not None and previous.doc_id == chunk.doc_id and chunk.start < previous.end < chunk.end:
        text = chunk.text[previous.end - chunk.start :].lstrip() or chunk.text
    heading = " - ".join(p for p in (chunk.title, chunk.section) if p)
    return f"{heading}\n{text}" if heading else text


def embedding_texts(chunks: Sequence[Chunk]) -> list[str]:
    """The embedding texts of one document's chunks, in order."""
    return [embedding_text(c, chunks[i - 1] if i else None) for i, c in enumerate(chunks)]


def _record_for(article: Article, doc_id: str, key: str, chunks: int, recipe: str) -> DocumentRecord:
    return DocumentRecord(
        doc_id=doc_id,
        title=article.title,
        author=article.author,
        source=article.source,
        date=article.date,
        url=article.url,
        language=article.language,
        paths=[key],
        chunks=chunks,
        chars=len(article.text),
        ingested_at=datetime.now(UTC).isoformat(timespec="seconds"),
        recipe=recipe,
    )
