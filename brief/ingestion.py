"""Ingest files into the store: idempotent by content hash, updates in place, crash-safe."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from brief.embed import MiniLMEmbedder, OpenAIEmbedder
from brief.ingest.chunking import ChunkingOptions, chunk_article
from brief.ingest.files import IngestLimits, Skipped
from brief.ingest.loaders import LoadError, LoadResult, load_file, read_file, scan_inputs
from brief.store import Store, StoreError
from brief.types import Article, Chunk, DocumentRecord

if TYPE_CHECKING:
    from brief.settings import Settings

ProgressCallback = Callable[[int, int, str], None]
# Embed this many chunks at once across documents: full batches, sorted by length.
_EMBED_GROUP = 128


@dataclass
class FileOutcome:
    path: str
    status: str  # added | updated | unchanged | failed | partial
    doc_ids: list[str] = field(default_factory=list)
    chunks: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class IngestReport:
    files: list[FileOutcome] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)  # folder entries that could not be read
    pruned: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    chunks_written: int = 0
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def errors(self) -> list[str]:
        return [e for f in self.files for e in f.errors]

    @property
    def ok(self) -> bool:
        return not self.errors and not any(s.problem for s in self.skipped)

    def summary(self) -> str:
        rate = self.chunks_written / self.seconds if self.seconds > 0 else 0.0
        return (
            f"{self.count('added')} added, {self.count('updated')} updated, "
            f"{self.count('unchanged')} unchanged, {self.count('failed') + self.count('partial')} failed"
            f"{f', {len(self.skipped)} skipped' if self.skipped else ''}"
            f"{f', {len(self.pruned)} pruned' if self.pruned else ''}; "
            f"{self.chunks_written} chunks in {self.seconds:.1f} s ({rate:.1f} chunks/s)"
        )

    def to_dict(self) -> dict:
        return {
            "added": self.count("added"),
            "updated": self.count("updated"),
            "unchanged": self.count("unchanged"),
            "failed": self.count("failed") + self.count("partial"),
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
            "pruned": self.pruned,
            "repaired": self.repaired,
            "chunks_written": self.chunks_written,
            "seconds": round(self.seconds, 3),
            "errors": self.errors,
            "files": [f.__dict__ for f in self.files],
        }


class IngestInterrupted(StoreError):
    """The store failed part-way through an ingest; says what had been written and what not."""

    def __init__(self, cause: StoreError, report: IngestReport, documents: int, total_files: int) -> None:
        done = (
            f"{documents} documents ({report.chunks_written} chunks) had been written and are kept"
            if documents
            else "nothing had been written yet"
        )
        super().__init__(
            f"{cause} The ingest stopped part-way: {done}; {total_files - len(report.files)} of {total_files} "
            "files were not reached and the documents being written when it failed were not stored. "
            "Run the same ingest again when the store is back: what is stored is skipped."
        )
        self.report = report
        self.documents = documents


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
    """Runs one ingest over a store with an embedder and chunking options."""

    def __init__(self, store: Store, embedder: MiniLMEmbedder | OpenAIEmbedder, options: ChunkingOptions) -> None:
        self.store = store
        self.embedder = embedder
        self.options = options
        self._retire: list[tuple[str, str]] = []
        self._seen = FileHashCache(store.cache_dir / "files.json", {})
        self.limits = ingest_limits(store.settings)
        self._documents_written = 0

    def run(self, paths: Iterable[Path], prune: bool = False, progress: ProgressCallback | None = None) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport()
        files, report.skipped = scan_inputs([Path(p) for p in paths])
        try:
            self._run(files, report, prune, progress)
        except StoreError as exc:
            report.seconds = time.perf_counter() - started
            raise IngestInterrupted(exc, report, self._documents_written, len(files)) from exc
        report.seconds = time.perf_counter() - started
        return report

    def _run(self, files: list[Path], report: IngestReport, prune: bool, progress: ProgressCallback | None) -> None:
        with self.store.write_lock():
            report.repaired = self.store.repair()
            known = self.store.documents()
            self._seen = FileHashCache.load(self.store.cache_dir / "files.json")
            pending: list[tuple[DocumentRecord, list[Chunk]]] = []
            for number, path in enumerate(files, start=1):
                if progress:
                    progress(number - 1, len(files), str(path))
                outcome = self._ingest_file(path, known, pending)
                report.files.append(outcome)
                if sum(len(c) for _, c in pending) >= _EMBED_GROUP:
                    report.chunks_written += self._flush(pending, known)
            report.chunks_written += self._flush(pending, known)
            if prune:
                report.pruned = self._prune(known)
            if progress:
                progress(len(files), len(files), "")
            self._seen.save()
            self.store.lexical()  # bring the BM25 index in step now, not at the first question

    def _ingest_file(
        self, path: Path, known: dict[str, DocumentRecord], pending: list[tuple[DocumentRecord, list[Chunk]]]
    ) -> FileOutcome:
        key = path_key(path)
        try:
            data = read_file(path, self.limits)  # one bounded read, for the hash and the parse
        except LoadError as exc:
            return FileOutcome(str(path), "failed", errors=[str(exc)])
        raw_hash = hashlib.sha256(data).hexdigest()
        remembered = self._seen.get(key, raw_hash)
        if remembered is not None and all(d in known and key in known[d].paths for d in remembered):
            # Same bytes as last time, and every article from them is still stored: no parsing.
            return FileOutcome(str(path), "unchanged", doc_ids=list(remembered))
        try:
            loaded = self._load(path, data)
        except LoadError as exc:
            return FileOutcome(str(path), "failed", errors=[str(exc)])
        except Exception as exc:  # noqa: BLE001 - one unreadable file must not stop the others
            reason = f"{path}: could not be parsed ({type(exc).__name__}: {str(exc)[:160]})"
            return FileOutcome(str(path), "failed", errors=[reason])
        before = {d for d, rec in known.items() if key in rec.paths}
        outcome = FileOutcome(str(path), "unchanged", errors=[str(e) for e in loaded.errors])
        queued = {rec.doc_id for rec, _ in pending}
        for article in loaded.articles:
            doc_id = document_id(article)
            outcome.doc_ids.append(doc_id)
            if doc_id in known:
                record = known[doc_id]
                if key not in record.paths:
                    record.paths.append(key)
                    self.store.update_paths(record)
                continue
            if doc_id in queued:  # the same article twice in one run: remember both files
                record = next(r for r, _ in pending if r.doc_id == doc_id)
                if key not in record.paths:
                    record.paths.append(key)
                continue
            chunks = chunk_article(article, doc_id, self.options)
            pending.append((_record_for(article, doc_id, key, len(chunks)), chunks))
            queued.add(doc_id)
            outcome.chunks += len(chunks)
            outcome.status = "updated" if before else "added"
        if loaded.errors:
            outcome.status = "partial"
            return outcome  # keep old versions of records that failed to parse
        if raw_hash:
            self._seen.remember(key, raw_hash, outcome.doc_ids)
        # Old versions go only after the new ones are written (in _flush): never a gap.
        self._retire.extend((stale, key) for stale in before - set(outcome.doc_ids))
        if outcome.status == "unchanged" and before - set(outcome.doc_ids):
            outcome.status = "updated"
        return outcome

    def _load(self, path: Path, data: bytes) -> LoadResult:
        """Parse one file from its bytes (a subclass may add what it knows of where it came from)."""
        return load_file(path, self.limits, data)

    def _flush(self, pending: list[tuple[DocumentRecord, list[Chunk]]], known: dict[str, DocumentRecord]) -> int:
        """Write the queued documents, then retire the versions they replace."""
        written = self._write(pending, known)
        for doc_id, key in self._retire:
            if doc_id in known:
                self._drop_path(known, doc_id, key)
        self._retire.clear()
        return written

    def _write(self, pending: list[tuple[DocumentRecord, list[Chunk]]], known: dict[str, DocumentRecord]) -> int:
        """Embed the queued documents together, then write them as one group (pending -> chunks -> ready)."""
        if not pending:
            return 0
        all_chunks = [c for _, chunks in pending for c in chunks]
        vectors = self.embedder.encode([embedding_text(c) for c in all_chunks])
        batch, offset = [], 0
        for record, chunks in pending:
            batch.append((record, chunks, vectors[offset : offset + len(chunks)]))
            offset += len(chunks)
        self.store.write_documents(batch)
        self._documents_written += len(pending)
        for record, _ in pending:
            known[record.doc_id] = record
        pending.clear()
        return len(all_chunks)

    def _drop_path(self, known: dict[str, DocumentRecord], doc_id: str, key: str) -> bool:
        """Forget that a document came from `key`; delete it when no file holds it any more."""
        record = known[doc_id]
        record.paths = [p for p in record.paths if p != key]
        if record.paths:
            self.store.update_paths(record)
            return False
        self.store.delete_document(doc_id)
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


def embedding_text(chunk: Chunk) -> str:
    """What the embedder sees: the passage under its article title and section."""
    heading = " - ".join(p for p in (chunk.title, chunk.section) if p)
    return f"{heading}\n{chunk.text}" if heading else chunk.text


def _record_for(article: Article, doc_id: str, key: str, chunks: int) -> DocumentRecord:
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
    )
