"""Ingest files into the store: idempotent by content hash, updates in place, crash-safe."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from brief.embed import MiniLMEmbedder, OpenAIEmbedder
from brief.ingest.chunking import ChunkingOptions, chunk_article
from brief.ingest.loaders import LoadError, LoadResult, find_files, load_file, unsupported_files
from brief.store import Store
from brief.types import Article, Chunk, DocumentRecord

ProgressCallback = Callable[[int, int, str], None]
# Embed this many chunks at once across documents: full batches, sorted by length.
_EMBED_GROUP = 128
SKIPPED = "skipped"


@dataclass
class FileOutcome:
    path: str
    status: str  # added | updated | unchanged | failed | partial | skipped
    doc_ids: list[str] = field(default_factory=list)
    chunks: int = 0
    errors: list[str] = field(default_factory=list)
    note: str = ""  # why a file was skipped


@dataclass
class IngestReport:
    files: list[FileOutcome] = field(default_factory=list)
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
        return not self.errors

    def summary(self) -> str:
        rate = self.chunks_written / self.seconds if self.seconds > 0 else 0.0
        return (
            f"{self.count('added')} added, {self.count('updated')} updated, "
            f"{self.count('unchanged')} unchanged, {self.count('failed') + self.count('partial')} failed"
            f"{f', {self.count(SKIPPED)} skipped' if self.count(SKIPPED) else ''}"
            f"{f', {len(self.pruned)} pruned' if self.pruned else ''}; "
            f"{self.chunks_written} chunks in {self.seconds:.1f} s ({rate:.1f} chunks/s)"
        )

    def to_dict(self) -> dict:
        return {
            "added": self.count("added"),
            "updated": self.count("updated"),
            "unchanged": self.count("unchanged"),
            "failed": self.count("failed") + self.count("partial"),
            "skipped": self.count(SKIPPED),
            "pruned": self.pruned,
            "repaired": self.repaired,
            "chunks_written": self.chunks_written,
            "seconds": round(self.seconds, 3),
            "errors": self.errors,
            "files": [f.__dict__ for f in self.files],
        }


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

    def run(self, paths: Iterable[Path], prune: bool = False, progress: ProgressCallback | None = None) -> IngestReport:
        started = time.perf_counter()
        report = IngestReport()
        paths = [Path(p) for p in paths]
        files = list(find_files(paths))
        # A folder's files of a type brief does not read are named, never silently dropped.
        report.files.extend(FileOutcome(str(p), SKIPPED, note="unsupported type") for p in unsupported_files(paths))
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
        report.seconds = time.perf_counter() - started
        return report

    def _ingest_file(
        self, path: Path, known: dict[str, DocumentRecord], pending: list[tuple[DocumentRecord, list[Chunk]]]
    ) -> FileOutcome:
        key = path_key(path)
        raw_hash = file_hash(path)
        remembered = self._seen.get(key, raw_hash)
        if remembered is not None and all(d in known and key in known[d].paths for d in remembered):
            # Same bytes as last time, and every article from them is still stored: no parsing.
            return FileOutcome(str(path), "unchanged", doc_ids=list(remembered))
        try:
            loaded = self._load(path)
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

    def _load(self, path: Path) -> LoadResult:
        """Parse one file (a subclass may add what it knows of where the file came from)."""
        return load_file(path)

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


def file_hash(path: Path) -> str:
    """sha256 of the file's bytes; "" if it cannot be read (the loader will say why)."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


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
