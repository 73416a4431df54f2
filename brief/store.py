"""Chroma (embedded or server) holding chunks and a document registry, plus the local search index.

Consistency without transactions: a document's registry record is written as `pending`
before its chunks and flipped to `ready` after them, so readers see only `ready`
documents, and a crash leaves a `pending` record that `repair` cleans up. Removal marks
the record `deleting` first for the same reason.

No call may hang: every request to a Chroma server has a deadline (`chroma_timeout`). An
embedded client keeps its vector index in memory, so when the registry's generation token
shows that another process wrote, the client is reopened before the next read.

Questions are answered from the local search index (`brief.search_index`), a per-machine
cache derived from Chroma: the writer appends each written batch to it, and a reader that
finds it behind the registry fetches the documents it lacks. For an embedded store, every
generation bump is also written to a small file, so a reader knows whether its cache is
current without opening Chroma: the client is opened only to write, to fill the cache, or
for a server.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from brief.chroma_probe import ProbeFailed, ServerProbe, server_address
from brief.errors import BriefError
from brief.lexical import LexicalFilter
from brief.memory import release_free_memory
from brief.search_index import DamagedIndex, IndexFolder, SearchIndex
from brief.settings import Settings
from brief.types import Chunk, DocumentRecord, date_to_int

_log = logging.getLogger("brief.store")
# A fetch this large is a rebuild of the local index (an index format of another brief version, a
# damaged index, a store new to this machine), not the few documents another process just wrote:
# the CLI shows it as a note, since a large library takes a while.
REBUILD_NOTE_DOCS = 100

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

READY, PENDING, DELETING = "ready", "pending", "deleting"
_PAGE = 2000
_SNAPSHOT_FILE = "registry-columns.json"  # by column (older brief wrote registry.json by record)
_GENERATION_FILE = "generation"  # the embedded registry's token, written by writers on each bump
_STORE_FILE = "store.json"  # the embedding model the collection was built with
_MAX_SEGMENTS = 32  # more segments than this and a writer merges them (each costs a few opens)
# A writer's periodic merge takes the newest segments under this many rows (~32 groups of an
# ingest), so that it never copies the whole index again; its memory stays flat.
_SMALL_SEGMENT_ROWS = 8192
_DOCS_PER_FETCH = 200  # doc ids per `$in` filter when fetching new documents' chunks
# A pending record from another host is considered abandoned after this long.
STALE_PENDING_SECONDS = 15 * 60


class StoreError(BriefError, RuntimeError):
    """The store cannot be opened or written; the message says why and what to do."""


class EmbedderMismatch(StoreError):
    """The collection was built with another embedding model."""


class StoredThenFailed(StoreError):
    """The documents were stored and turned ready; what failed came after (telling readers,
    merging the local index). The caller counts them as written."""

    def __init__(self, cause: StoreError) -> None:
        super().__init__(str(cause))
        self.cause = cause


def _chunk_fields() -> tuple[str, ...]:
    return ("doc_id", "index", "start", "end", "section", "title", "source", "date", "author", "url")


@dataclass
class RegistrySnapshot:
    """The ready documents at one registry generation."""

    generation: str
    documents: Mapping[str, DocumentRecord]

    @cached_property
    def fingerprint(self) -> str:
        """A hash of the ready document set: it changes whenever searchable content changes."""
        digest = hashlib.sha1()
        versions = self.versions  # a document chunked again gets a new version, even at the same count
        for doc_id in sorted(versions):
            digest.update(f"{doc_id}:{versions[doc_id]};".encode())
        return digest.hexdigest()

    @cached_property
    def versions(self) -> dict[str, str]:
        """doc id -> its version (chunk count, ingest time, recipe): a document deleted or chunked
        and written again gets a new one, so an index of the old chunks is known to be stale."""
        counts, times, recipes = self._column("chunks"), self._column("ingested_at"), self._column("recipe")
        return {d: _version(counts[d], times[d], recipes[d]) for d in counts}

    @cached_property
    def searchable(self) -> dict[str, str]:
        """`versions` of the documents that have chunks: what the search index must hold."""
        counts = self._column("chunks")
        return {d: v for d, v in self.versions.items() if counts[d]}

    @cached_property
    def chunks(self) -> int:
        return sum(self._column("chunks").values())

    def recipes(self) -> dict[str, str]:
        """doc id -> how it was chunked and embedded ("" before recipes were recorded)."""
        return self._column("recipe")

    def sources(self) -> list[str]:
        """The outlets of the ready documents, sorted."""
        return sorted({s for s in self._column("source").values() if s})

    def _column(self, name: str) -> dict[str, Any]:
        if isinstance(self.documents, _RecordTable):
            return self.documents.column(name)  # without building every record
        return {d: getattr(r, name) for d, r in self.documents.items()}


_RECORD_FIELDS = tuple(f.name for f in fields(DocumentRecord))


class _RecordTable(Mapping[str, DocumentRecord]):
    """Registry records as saved, by column: a record is built only when it is asked for, so a
    new process that only searches does not build thousands of them."""

    def __init__(self, columns: dict[str, list[Any]]) -> None:
        if set(columns) != set(_RECORD_FIELDS) or len({len(c) for c in columns.values()}) != 1:
            raise ValueError("registry columns are missing or differ in length")
        self._columns = columns
        self._row = {doc_id: i for i, doc_id in enumerate(columns["doc_id"])}
        self._built: dict[str, DocumentRecord] = {}

    def column(self, name: str) -> dict[str, Any]:
        return dict(zip(self._columns["doc_id"], self._columns[name], strict=True))

    def __getitem__(self, doc_id: str) -> DocumentRecord:
        record = self._built.get(doc_id)
        if record is None:
            i = self._row[doc_id]
            record = DocumentRecord(**{f: self._columns[f][i] for f in _RECORD_FIELDS})
            self._built[doc_id] = record
        return record

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._row

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns["doc_id"])

    def __len__(self) -> int:
        return len(self._row)


class Store:
    """The chunk collections (shards), the document registry and the local search index of one library."""

    def __init__(self, settings: Settings, embedder_name: str) -> None:
        self.settings = settings
        self.embedder_name = embedder_name
        self.location = settings.chroma_url or str(settings.home / "chroma")
        # Calls share the client; reopening it waits for them (see _reopen_if_written_elsewhere).
        self._gate = _ClientGate()
        # The client, the chunk collections (shards, oldest first), the registry and the token
        # collection, once opened.
        self._parts: tuple[Any, list[Any], Any, Any] | None = None
        self._open_shard_rows: int | None = None  # rows in the last shard, counted when first needed
        self._open_lock = threading.Lock()
        name = settings.collection
        key = hashlib.sha1(f"{self.location}|{name}".encode()).hexdigest()[:12]
        # Per-machine caches derived from this store (never the truth: always re-checkable).
        self.cache_dir = settings.home / "cache" / key
        self.index_folder = IndexFolder(settings.home / "index" / key)
        self._index: tuple[str, SearchIndex] | None = None  # (generation, index seen at it)
        self._index_lock = threading.Lock()
        self._snapshot: RegistrySnapshot | None = None
        # What a writer's periodic merges keep live: the searchable versions read once, then
        # kept by its own writes, not by reading every record again at each merge (~0.5 s and
        # ~20 MB at 4k documents, growing with the registry). Only merges use it: a document
        # another writer added meanwhile just loses its rows in this cache, fetched again when
        # a search finds it missing.
        self._written_versions: dict[str, str] | None = None
        # The last generation this process read or wrote; any other one means another process wrote.
        self._seen_generation: str | None = None
        self._stale = False  # another process wrote since the client was opened
        self._writing = False
        self._probe: ServerProbe | None = None  # a server's few reads without the chromadb client
        if not (self._server_is_probed() or self._local_state_is_usable()):
            self._opened()  # no local state yet, or a server without our collections: open Chroma now

    def _server_is_probed(self) -> bool:
        """A server whose collections exist, checked over plain HTTP (importing chromadb costs a
        fresh process about a second): refuses another embedder as opening the collection would.
        Anything the probe cannot read (a missing collection, an unexpected answer) is left to
        the real client."""
        if not self.settings.chroma_url:
            return False
        probe = ServerProbe(self.settings.chroma_url, self.settings.collection, self.settings.chroma_timeout)
        try:
            stored = probe.embedder()
            probe.generation()  # the registry's collection, made last, exists too
        except Exception as exc:  # noqa: BLE001 - a network failure becomes one clear message
            probe.close()
            if _is_timeout(exc) or _is_connection_error(exc):
                raise _not_connected(self.settings, exc) from exc
            return False  # a missing collection, an error status, an unexpected answer: the client decides
        if stored and stored != self.embedder_name:
            raise EmbedderMismatch(_mismatch_message(self.settings, self.location, stored, self.embedder_name))
        self._probe = probe
        return True

    # ----- the Chroma client, opened when first needed -----------------------------------------

    def _local_state_is_usable(self) -> bool:
        """An embedded store whose writers left the generation file and model name here: reads
        need not open Chroma. Refuses another embedder just as opening the collection would."""
        if self.settings.chroma_url or not (self.settings.home / "chroma" / "chroma.sqlite3").exists():
            return False
        try:
            stored = json.loads((self.cache_dir / _STORE_FILE).read_text(encoding="utf-8"))["embedder"]
        except (OSError, ValueError, KeyError, TypeError):
            return False
        if stored != self.embedder_name:
            raise EmbedderMismatch(_mismatch_message(self.settings, self.location, stored, self.embedder_name))
        return self._file_generation() is not None

    def _opened(self) -> tuple[Any, list[Any], Any, Any]:
        parts = self._parts
        if parts is None:
            with self._open_lock:
                if self._parts is None:
                    self._open()
                parts = self._parts
        assert parts is not None
        return parts

    @property
    def _client(self) -> Any:
        return self._opened()[0]

    @property
    def _shards(self) -> list[Any]:
        """The chunk collections, oldest first; new chunks go into the last."""
        return self._opened()[1]

    def _shard(self, number: int) -> Any:
        shards = self._shards
        if not 0 <= number < len(shards):
            raise StoreError(f"the registry names chunk collection {number}, which {self.location} does not hold")
        return shards[number]

    @property
    def _docs(self) -> Any:
        return self._opened()[2]

    @property
    def _meta(self) -> Any:
        return self._opened()[3]

    def _open(self) -> None:
        """Connect and open the three collections; refuse a collection of another embedder."""
        settings, name, embedder_name = self.settings, self.settings.collection, self.embedder_name
        client = _connect(settings)
        try:
            # A server holds its indexes in its own process: its chunks stay in one collection.
            names = [] if settings.chroma_url else _collection_names(client)
            last = max((n for n in map(_shard_number(name), names) if n is not None), default=0)
            # Position n holds shard n (a gap, which brief never leaves, becomes an empty one).
            shards = [_chunk_collection(client, name, n, embedder_name) for n in range(last + 1)]
            chunks = shards[0]
            docs = client.get_or_create_collection(f"{name}_docs", embedding_function=None)
            # One record whose token changes on every registry write: readers compare it to
            # decide whether their cached view of the registry is still current.
            meta = client.get_or_create_collection(f"{name}_meta", embedding_function=None)
        except Exception as exc:  # noqa: BLE001 - any client failure becomes one clear message
            if self.settings.chroma_url and _is_timeout(exc):
                raise StoreError(_timeout_message(self.settings)) from exc
            raise StoreError(f"cannot open the Chroma collections at {self.location}: {exc}") from exc
        stored = (chunks.metadata or {}).get("embedder")
        if stored and stored != embedder_name:
            raise EmbedderMismatch(_mismatch_message(settings, self.location, stored, embedder_name))
        self._parts = (client, shards, docs, meta)
        self._open_shard_rows = None
        self._stale = False  # a new client sees every write made so far
        if not settings.chroma_url:
            _write_atomically(self.cache_dir / _STORE_FILE, json.dumps({"embedder": stored or embedder_name}))

    def _reopen_if_written_elsewhere(self, generation: str) -> None:
        """An embedded client does not see vectors that another process added: reopen it
        when the registry changed under a token this process did not write."""
        if self.settings.chroma_url:
            return  # a server serves every client the same data
        if self._seen_generation is not None and generation != self._seen_generation:
            self._stale = True
        self._seen_generation = generation
        if not self._stale or self._writing:
            return  # while this process writes, the client stays; the next read reopens it
        if self._parts is None:
            self._stale = False  # nothing open: the client opened later will see everything
            return
        self._reopen(only_if_stale=True)

    # ----- document registry -------------------------------------------------------------

    def documents(self, statuses: Sequence[str] = (READY,)) -> dict[str, DocumentRecord]:
        """Registry records with the given statuses, by doc id (copies: safe to change)."""
        if tuple(statuses) == (READY,):
            return {k: replace(v, paths=list(v.paths)) for k, v in self.snapshot().documents.items()}
        return self._read_records(statuses)

    def snapshot(self) -> RegistrySnapshot:
        """The ready documents as of now, shared and read-only. Cached until the registry's
        generation token changes, so a query costs one small read, not a read of every record."""
        generation = self.generation()
        self._reopen_if_written_elsewhere(generation)
        cached = self._snapshot
        if cached is not None and cached.generation == generation:
            return cached
        if cached is None and generation:  # a new process: another one may have read this generation
            saved = self._load_snapshot(generation)
            if saved is not None:
                self._snapshot = saved
                return saved
        # Read the records after the token: the records are at least as new as the token says.
        snapshot = RegistrySnapshot(generation, MappingProxyType(self._read_records((READY,))))
        self._snapshot = snapshot
        if generation:
            self._save_snapshot(snapshot)
        return snapshot

    # The registry as read at one generation, kept on disk: a new process (every CLI command)
    # would otherwise read every record from Chroma, ~1.5 s at 15k documents. A generation
    # token is a fresh uuid per write, so a file can only match the state it was read in.
    def _load_snapshot(self, generation: str) -> RegistrySnapshot | None:
        try:
            data = json.loads((self.cache_dir / _SNAPSHOT_FILE).read_text(encoding="utf-8"))
            if data.get("generation") != generation:
                return None
            snapshot = RegistrySnapshot(generation, _RecordTable(data["columns"]))
            snapshot.__dict__["fingerprint"] = str(data["fingerprint"])  # as computed when saved
            return snapshot
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None  # missing, half-written by a killed process, or from another version

    def _save_snapshot(self, snapshot: RegistrySnapshot) -> None:
        records = list(snapshot.documents.values())
        columns = {f: [getattr(r, f) for r in records] for f in _RECORD_FIELDS}
        # By column: parsed ~3x faster than a list of records.
        data = {"generation": snapshot.generation, "fingerprint": snapshot.fingerprint, "columns": columns}
        tmp = self.cache_dir / f"{_SNAPSHOT_FILE}.{os.getpid()}.tmp"
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(data), encoding="utf-8")
            tmp.replace(self.cache_dir / _SNAPSHOT_FILE)
        except OSError:
            tmp.unlink(missing_ok=True)  # a cache that cannot be written only costs time

    def _read_records(self, statuses: Sequence[str]) -> dict[str, DocumentRecord]:
        result = self._call(lambda: self._docs.get(include=["metadatas"]))
        records = {}
        for doc_id, meta in zip(result["ids"], result["metadatas"] or [], strict=False):
            if meta.get("status", READY) in statuses:
                records[doc_id] = _record_from_meta(doc_id, meta)
        return records

    def generation(self) -> str:
        """The registry's current generation token ("" before the first write). For an embedded
        store, the copy its writers keep in a file (no need to open Chroma to read it)."""
        if not self.settings.chroma_url:
            token = self._file_generation()
            if token is not None:
                return token
            token = self._publish_if_no_writer()
            if token is not None:
                return token
        elif self._probe is not None:
            try:
                return str(self._call(self._probe.generation))
            except ProbeFailed:
                pass  # e.g. dropped on the server since: the real client makes it again
        return self._chroma_generation()

    def _publish_if_no_writer(self) -> str | None:
        """A store last written without the generation file (an older brief): publish it now if
        no writer is at work (the writers' lock is free), so later readers skip Chroma."""
        if not (self.settings.home / "chroma" / "chroma.sqlite3").exists():
            return None
        with contextlib.suppress(OSError), open(self.settings.home / "write.lock", "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return None  # a writer is busy: it publishes the file itself
            try:
                token = self._chroma_generation()
                self._publish_generation(token)
                return token
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return None

    def _chroma_generation(self) -> str:
        found = self._call(lambda: self._meta.get(ids=["generation"], include=["metadatas"]))
        return str(found["metadatas"][0].get("token", "")) if found["ids"] else ""

    def _file_generation(self) -> str | None:
        try:
            return (self.cache_dir / _GENERATION_FILE).read_text(encoding="utf-8").strip()
        except OSError:
            return None

    def _bump_generation(self) -> None:
        token = uuid.uuid4().hex
        self._call(lambda: self._meta.upsert(ids=["generation"], embeddings=[[1.0]], metadatas=[{"token": token}]))
        self._seen_generation = token  # our own write: no reason to reopen
        self._publish_generation(token)

    def _publish_generation(self, token: str) -> None:
        """Readers of an embedded store take the token from this file (writers hold the lock).
        A file that cannot be replaced is removed: readers then ask Chroma, never trust an old one."""
        if not self.settings.chroma_url and not _write_atomically(self.cache_dir / _GENERATION_FILE, token):
            with contextlib.suppress(OSError):
                (self.cache_dir / _GENERATION_FILE).unlink(missing_ok=True)

    def document_statuses(self) -> dict[str, str]:
        result = self._call(lambda: self._docs.get(include=["metadatas"]))
        return {i: m.get("status", READY) for i, m in zip(result["ids"], result["metadatas"] or [], strict=False)}

    def fingerprint(self) -> str:
        """A hash of the ready document set: it changes whenever searchable content changes."""
        return self.snapshot().fingerprint

    def begin_document(self, record: DocumentRecord) -> None:
        """Announce a document about to be written (status pending) into the last shard."""
        self._put_records([record], PENDING, shards={record.doc_id: len(self._shards) - 1})

    def update_paths(self, record: DocumentRecord) -> None:
        self._put_records([record], READY, shards=self._stored_shards([record.doc_id]))

    def write_documents(self, batch: Sequence[tuple[DocumentRecord, Sequence[Chunk], np.ndarray]]) -> None:
        """Write several new documents with a handful of round trips instead of ~7 each.

        The protocol is the one-document one, applied to the group: all records pending,
        earlier versions and leftovers of an interrupted run removed from their shards, all
        chunks written into one shard, then all records ready in one upsert. A crash before
        that last call leaves only pending records, which `repair` removes; readers never see
        part of a document.
        """
        if not batch:
            return
        records = [record for record, _, _ in batch]
        doc_ids = [r.doc_id for r in records]
        versions = {r.doc_id: record_version(r) for r in records}
        chunks = [c for _, doc_chunks, _ in batch for c in doc_chunks]
        vectors = np.concatenate([v for _, doc_chunks, v in batch if len(doc_chunks)]) if chunks else None
        target = self._shard_for(len(chunks))
        # Where earlier versions (or an interrupted write's leftovers) lie. Only those shards
        # are touched: reading a shard loads its whole vector index into an embedded store.
        earlier = self._stored_shards(doc_ids)
        located = {d: earlier.get(d, target) for d in doc_ids}
        self._put_records(records, PENDING, shards=located)  # names the old shard until it is cleared
        for shard in sorted(set(located.values())):
            self._call(lambda n=shard: self._shard(n).delete(where={"doc_id": {"$in": doc_ids}}))
        moved = {d: target for d in doc_ids}
        if located != moved:
            self._put_records(records, PENDING, shards=moved, announce=False)
        if chunks:
            self.write_chunks(chunks, vectors, target)
            # Into the local index before the records turn ready: searchable the moment they do.
            with contextlib.suppress(OSError):  # a cache that cannot be written is filled by readers
                self.index_folder.append(chunks, vectors, versions)
        self._put_records(records, READY, shards=moved, announce=False)
        if self._written_versions is not None:
            for record in records:
                if record.chunks:
                    self._written_versions[record.doc_id] = versions[record.doc_id]
                else:
                    self._written_versions.pop(record.doc_id, None)
        try:
            self._bump_generation()
            if len(self.index_folder.segment_names() or []) > _MAX_SEGMENTS:
                self._merge_recent_segments()
        except StoredThenFailed:
            raise
        except StoreError as exc:  # e.g. the server went away right after the records turned ready
            raise StoredThenFailed(exc) from exc

    def _put_records(
        self,
        records: Sequence[DocumentRecord],
        status: str,
        announce: bool = True,
        shards: Mapping[str, int] | None = None,
    ) -> None:
        """Write registry records; `shards` says where each one's chunks are (default: the first)."""
        metas: list[dict[str, Any]] = []
        for record in records:
            meta: dict[str, Any] = record.to_dict()
            meta.pop("doc_id")
            meta["shard"] = (shards or {}).get(record.doc_id, 0)
            meta["paths"] = json.dumps(record.paths)
            meta.update(
                status=status,
                date_int=date_to_int(record.date),
                updated=time.time(),
                owner=f"{socket.gethostname()}:{os.getpid()}",
            )
            metas.append(meta)
        ids = [r.doc_id for r in records]
        self._call(lambda: self._docs.upsert(ids=ids, embeddings=[[1.0]] * len(ids), metadatas=metas))
        if announce:
            self._bump_generation()

    def delete_document(self, doc_id: str) -> None:
        """Hide the document first, then delete its chunks and its record."""
        found = self._call(lambda: self._docs.get(ids=[doc_id], include=["metadatas"]))
        shard = None  # not registered: look in every shard
        if found["ids"]:
            meta = dict(found["metadatas"][0])
            shard = _shard_of(meta)
            meta["status"] = DELETING
            self._call(lambda: self._docs.upsert(ids=[doc_id], embeddings=[[1.0]], metadatas=[meta]))
        self._bump_generation()
        if self._written_versions is not None:
            self._written_versions.pop(doc_id, None)
        self.delete_chunks_of(doc_id, shard)
        self._call(lambda: self._docs.delete(ids=[doc_id]))
        self._bump_generation()

    def repair(self) -> list[str]:
        """Finish interrupted writes: remove pending/deleting documents whose writer is gone."""
        repaired = []
        # Only unfinished records: reading every record costs ~1 s at 15k documents.
        unfinished = {"status": {"$in": [PENDING, DELETING]}}
        result = self._call(lambda: self._docs.get(where=unfinished, include=["metadatas"]))
        for doc_id, meta in zip(result["ids"], result["metadatas"] or [], strict=False):
            if _writer_is_gone(meta):
                self.delete_chunks_of(doc_id, _shard_of(meta))
                self._call(lambda d=doc_id: self._docs.delete(ids=[d]))
                repaired.append(doc_id)
        if repaired:
            self._bump_generation()
        return repaired

    # ----- chunks ---------------------------------------------------------------------------

    def _shard_for(self, incoming: int) -> int:
        """The shard `incoming` new chunks go into: the last one, or a new one when they would
        take it past `chunk_shard_rows` (embedded stores only)."""
        last = len(self._shards) - 1
        limit = self.settings.chunk_shard_rows
        if self.settings.chroma_url or limit is None or not incoming:
            return last
        if self._open_shard_rows is None:
            self._open_shard_rows = int(self._call(self._shards[last].count))
        if self._open_shard_rows and self._open_shard_rows + incoming > limit:
            self._reopen(last_shard=last + 1)
            last += 1
            self._open_shard_rows = 0
        self._open_shard_rows += incoming
        return last

    def _reopen(self, last_shard: int | None = None, only_if_stale: bool = False) -> None:
        """Close the client and open another: it sees the collections other processes made, and
        the vector indexes the old one loaded are dropped (freed once no other client of this
        process holds the same store). With `last_shard`, chunk shards up to it are created."""
        with self._gate.exclusive(), self._open_lock:
            if only_if_stale and not self._stale:
                return  # another thread just reopened it
            if self._parts is not None:
                with contextlib.suppress(Exception):  # a client that fails to close is dropped anyway
                    self._parts[0].close()
                self._parts = None
            release_free_memory()
            self._open()
            assert self._parts is not None
            client, shards, _, _ = self._parts
            shards.extend(
                _chunk_collection(client, self.settings.collection, n, self.embedder_name)
                for n in range(len(shards), (last_shard or 0) + 1)
            )

    def _stored_shards(self, doc_ids: Sequence[str]) -> dict[str, int]:
        """doc id -> the shard its registry record (of any status) names, for those that have one."""
        if len(self._shards) == 1:
            return {}  # one shard: nothing to look up
        found = self._call(lambda: self._docs.get(ids=list(doc_ids), include=["metadatas"]))
        return {d: _shard_of(m or {}) for d, m in zip(found["ids"], found["metadatas"] or [], strict=False)}

    def write_chunks(self, chunks: Sequence[Chunk], vectors: np.ndarray, shard: int | None = None) -> None:
        """Upsert chunks into one shard (default: the last)."""
        number = len(self._shards) - 1 if shard is None else shard
        batch = self._chunk_batch
        for start in range(0, len(chunks), batch):
            part = chunks[start : start + batch]
            self._call(
                lambda p=part, s=start: self._shard(number).upsert(
                    ids=[c.chunk_id for c in p],
                    embeddings=vectors[s : s + len(p)],
                    documents=[c.text for c in p],
                    metadatas=[c.metadata() for c in p],
                )
            )

    def delete_chunks_of(self, doc_id: str, shard: int | None = None) -> None:
        """Delete a document's chunks from its shard (None: from every shard)."""
        numbers = range(len(self._shards)) if shard is None else [shard]
        for n in numbers:
            self._call(lambda n=n: self._shard(n).delete(where={"doc_id": doc_id}))

    def count_chunks(self) -> int:
        return sum(int(self._call(shard.count)) for shard in self._shards)

    def chunk_ids_of(self, doc_id: str) -> list[str]:
        return [
            i
            for shard in self._shards
            for i in self._call(lambda s=shard: s.get(where={"doc_id": doc_id}, include=[]))["ids"]
        ]

    def get_chunks(self, chunk_ids: Sequence[str]) -> list[Chunk]:
        """Chunks by id, in the order asked; unknown ids are left out."""
        if not chunk_ids:
            return []
        found: dict[str, Chunk] = {}
        for shard in self._shards:
            asked = [i for i in chunk_ids if i not in found]
            if not asked:
                break
            result = self._call(lambda s=shard, a=asked: s.get(ids=a, include=["documents", "metadatas"]))
            for i, d, m in zip(result["ids"], result["documents"], result["metadatas"], strict=False):
                found[i] = _chunk_from_row(i, d, m)
        return [found[i] for i in chunk_ids if i in found]

    def query_dense(
        self, vector: Sequence[float], n: int, where: LexicalFilter | None = None
    ) -> list[tuple[Chunk, float]]:
        """Nearest chunks in Chroma with cosine similarity (1 - distance), best first.
        (Questions use the local index; this asks the store of truth itself.)"""
        if n <= 0:
            return []
        hits: list[tuple[Chunk, float]] = []
        for shard in self._shards:  # the n best of each shard, then the n best of those
            result = self._call(
                lambda s=shard: s.query(
                    query_embeddings=[[float(x) for x in vector]],
                    n_results=n,
                    where=_chroma_where(where),
                    include=["documents", "metadatas", "distances"],
                )
            )
            rows = zip(
                result["ids"][0],
                result["documents"][0],
                result["metadatas"][0],
                result["distances"][0],
                strict=False,
            )
            hits.extend((_chunk_from_row(i, d, m), 1.0 - float(dist)) for i, d, m, dist in rows)
        return sorted(hits, key=lambda hit: -hit[1])[:n]

    def iter_chunks(self, include_vectors: bool = False) -> Iterator[tuple[str, str, dict, Any]]:
        """Every stored chunk as (id, text, metadata, vector or None), page by page."""
        include = ["documents", "metadatas"] + (["embeddings"] if include_vectors else [])
        for shard in self._shards:
            offset = 0
            while True:
                page = self._call(lambda s=shard, o=offset: s.get(include=include, limit=_PAGE, offset=o))
                ids = page["ids"]
                if not ids:
                    break
                vectors = page.get("embeddings") if include_vectors else None
                for j, chunk_id in enumerate(ids):
                    vector = vectors[j] if vectors is not None else None
                    yield chunk_id, page["documents"][j], page["metadatas"][j], vector
                offset += len(ids)

    # ----- the local search index ---------------------------------------------------------------

    def search_index(self, snapshot: RegistrySnapshot | None = None) -> SearchIndex:
        """The local index as of the registry snapshot; documents it lacks are fetched first."""
        snapshot = snapshot or self.snapshot()
        cached = self._index
        if cached is not None and cached[0] == snapshot.generation:
            return cached[1]
        with self._index_lock:
            cached = self._index
            if cached is not None and cached[0] == snapshot.generation:
                return cached[1]  # another thread just did it
            index = self._current_index(snapshot)
            self._index = (snapshot.generation, index)
        return index

    def prepare_search(self) -> SearchIndex:
        """Bring the local index fully up to date: the documents it lacks fetched, its segments
        merged into one without the rows of deleted documents. Writers call it once at the end."""
        snapshot = self.snapshot()
        index = self.search_index(snapshot)
        if len(index.segments) > 1 or index.dead_rows:
            with self._index_lock:
                index = self.index_folder.compact(snapshot.searchable, snapshot.fingerprint)
                self._index = (snapshot.generation, index)
        return index

    def _merge_recent_segments(self) -> None:
        """A long write's periodic merge: its newest small segments become one (the end of the
        write merges everything, in `prepare_search`)."""
        if self._written_versions is None:
            self._written_versions = dict(self.snapshot().searchable)
        with self._index_lock:
            self.index_folder.merge_recent(self._written_versions, _SMALL_SEGMENT_ROWS)

    def lexical(self) -> SearchIndex:
        """The up-to-date local index (its `search` is the BM25 side). Same as `prepare_search`."""
        return self.prepare_search()

    def stored_chunks(self) -> int:
        """Chunks the store holds: asked of a server (one request); counted in the local index of
        an embedded store (the same number once the index is current, without opening Chroma)."""
        if self._probe is not None:
            with contextlib.suppress(ProbeFailed):
                return int(self._call(self._probe.count_chunks))
        if self.settings.chroma_url:
            return self.count_chunks()
        return len(self.search_index())

    def _current_index(self, snapshot: RegistrySnapshot) -> SearchIndex:
        folder = self.index_folder
        try:
            index = folder.open(snapshot.searchable, snapshot.fingerprint)
        except DamagedIndex:
            folder.reset()  # half-written, truncated or foreign files: rebuilt from Chroma
            index = folder.open(snapshot.searchable, snapshot.fingerprint)
        if not index.missing:
            return index
        rebuilding = len(index.missing) >= REBUILD_NOTE_DOCS
        started = time.perf_counter()
        if rebuilding:
            _log.info("copying %d documents from Chroma into this machine's search index (once)", len(index.missing))
        self._fetch_into_index(index.missing, snapshot)
        index = folder.open(snapshot.searchable, snapshot.fingerprint)
        if len(index.segments) > _MAX_SEGMENTS or index.dead_rows > len(index):
            index = folder.compact(snapshot.searchable, snapshot.fingerprint)
        if rebuilding:
            _log.info("search index ready in %.0f s", time.perf_counter() - started)
        return index

    def _fetch_into_index(self, doc_ids: Sequence[str], snapshot: RegistrySnapshot) -> None:
        """Copy documents from Chroma into the local index, a group at a time (bounded memory).
        A document whose chunks are not all there (being deleted) stays out."""
        versions = snapshot.searchable
        by_shard: dict[int, list[str]] = {}
        for doc_id in doc_ids:
            by_shard.setdefault(snapshot.documents[doc_id].shard, []).append(doc_id)
        if by_shard and max(by_shard) >= len(self._shards):
            self._reopen()  # another process started a shard since this client opened
        groups = [
            (shard, ids[start : start + _DOCS_PER_FETCH])
            for shard, ids in sorted(by_shard.items())
            for start in range(0, len(ids), _DOCS_PER_FETCH)
        ]
        for shard, group in groups:
            page = self._call(
                lambda n=shard, g=group: self._shard(n).get(
                    where={"doc_id": {"$in": g}}, include=["documents", "metadatas", "embeddings"]
                )
            )
            rows = zip(page["ids"], page["documents"], page["metadatas"], page["embeddings"], strict=True)
            by_doc: dict[str, list[tuple[Chunk, Any]]] = {}
            for chunk_id, text, meta, vector in rows:
                chunk = _chunk_from_row(chunk_id, text, meta)
                by_doc.setdefault(chunk.doc_id, []).append((chunk, vector))
            complete = [
                pairs for d, pairs in by_doc.items() if d in versions and len(pairs) == snapshot.documents[d].chunks
            ]
            chunks = [c for pairs in complete for c, _ in pairs]
            if chunks:
                vectors = np.asarray([v for pairs in complete for _, v in pairs], dtype=np.float32)
                self.index_folder.append(chunks, vectors, versions)

    # ----- writers' lock and helpers ----------------------------------------------------------

    @contextlib.contextmanager
    def write_lock(self) -> Iterator[None]:
        """One writer at a time per BRIEF_HOME (embedded Chroma is not multi-process safe)."""
        self.settings.home.mkdir(parents=True, exist_ok=True)
        with open(self.settings.home / "write.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            # Write through a client that has seen the other processes' writes, and make the
            # file readers trust agree with Chroma (a writer may have died between the two).
            generation = self._chroma_generation()
            self._publish_generation(generation)
            self._reopen_if_written_elsewhere(generation)
            self._writing = True  # the client stays as it is while this process writes
            self._written_versions = None  # read again at this writer's first merge
            try:
                yield
            finally:
                self._writing = False
                self._written_versions = None
                fcntl.flock(handle, fcntl.LOCK_UN)

    @functools.cached_property
    def _chunk_batch(self) -> int:
        """Rows per upsert: Chroma's limit (asked once; a server round trip), at most 2000."""
        try:
            limit = int(self._client.get_max_batch_size())
        except Exception:  # noqa: BLE001 - older servers lack the call
            limit = 1000
        return max(1, min(limit, 2000))

    def _call(self, func):  # type: ignore[no-untyped-def]
        try:
            with self._gate.call():
                return func()
        except StoreError:
            raise
        except Exception as exc:  # noqa: BLE001
            if self.settings.chroma_url and _is_timeout(exc):
                raise StoreError(_timeout_message(self.settings)) from exc
            if self.settings.chroma_url and _is_connection_error(exc):
                raise StoreError(
                    f"the Chroma server at {self.settings.chroma_url} is not reachable "
                    f"({exc.__class__.__name__}). "
                    "Start it (chroma run --path DIR --port N) or fix BRIEF_CHROMA_URL."
                ) from exc
            raise


class _ClientGate:
    """Many calls may use the client at once; a reopen waits until none is running and holds
    new ones back until the new client is in place."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._active = 0
        self._exclusive = False

    @contextlib.contextmanager
    def call(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._exclusive)
            self._active += 1
        try:
            yield
        finally:
            with self._cond:
                self._active -= 1
                self._cond.notify_all()

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._exclusive)
            self._exclusive = True
            self._cond.wait_for(lambda: self._active == 0)
        try:
            yield
        finally:
            with self._cond:
                self._exclusive = False
                self._cond.notify_all()


def _connect(settings: Settings):  # type: ignore[no-untyped-def]
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        https, host, port = server_address(settings.chroma_url)
        try:
            # Chroma's HTTP client waits forever by default, even while it is being built (it asks
            # the server who we are): a bounded heartbeat first, then the deadline on its session.
            _heartbeat(f"{'https' if https else 'http'}://{host}:{port}", settings.chroma_timeout)
            client = chromadb.HttpClient(host=host, port=port, ssl=https, settings=chroma_settings)
            _set_deadline(client, settings.chroma_timeout)
            return client
        except Exception as exc:  # noqa: BLE001
            raise _not_connected(settings, exc) from exc
    path = settings.home / "chroma"
    try:
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as exc:  # noqa: BLE001
        raise StoreError(f"cannot open the store at {path}: {exc}") from exc


def _chunk_collection(client: Any, name: str, number: int, embedder_name: str) -> Any:
    """Chunk shard `number`: `brief_chunks` (the first, as before shards), then `brief_chunks.1`, ..."""
    return client.get_or_create_collection(
        f"{name}_chunks" if number == 0 else f"{name}_chunks.{number}",
        embedding_function=None,
        configuration={"hnsw": {"space": "cosine"}},
        metadata={"embedder": embedder_name},
    )


def _shard_number(name: str) -> Callable[[str], int | None]:
    """A function telling which chunk shard of the store `name` a collection is (None: none)."""
    prefix = f"{name}_chunks"

    def number(collection: str) -> int | None:
        if collection == prefix:
            return 0
        head, dot, tail = collection.rpartition(".")
        return int(tail) if head == prefix and dot and tail.isdigit() else None

    return number


def _collection_names(client: Any) -> list[str]:
    return [getattr(c, "name", c) for c in client.list_collections()]


def _not_connected(settings: Settings, exc: BaseException) -> StoreError:
    """Why a server store could not be opened: stuck (a timeout), or not there at all."""
    if _is_timeout(exc):
        return StoreError(_timeout_message(settings))
    return StoreError(
        f"cannot connect to the Chroma server at {settings.chroma_url}: {str(exc).rstrip('.')}. "
        "Start it (chroma run --path DIR --port N) or fix BRIEF_CHROMA_URL."
    )


def _heartbeat(base_url: str, timeout: float) -> None:
    import httpx

    httpx.get(f"{base_url}/api/v2/heartbeat", timeout=_http_timeout(timeout)).raise_for_status()


def _http_timeout(seconds: float):  # type: ignore[no-untyped-def]
    import httpx

    return httpx.Timeout(seconds, connect=min(seconds, 10.0))


def _set_deadline(client: Any, seconds: float) -> None:
    """Give every request of a Chroma HTTP client a deadline (its session has none by default)."""
    session = getattr(getattr(client, "_server", None), "_session", None)
    if session is None:
        raise StoreError("this chromadb version hides its HTTP session: brief cannot bound its calls")
    session.timeout = _http_timeout(seconds)


def _is_timeout(exc: BaseException) -> bool:
    names = {cls.__name__ for cls in type(exc).__mro__}
    # TimeoutError: a socket's own (the server probe's plain HTTP connection).
    timeouts = {"TimeoutException", "ReadTimeout", "WriteTimeout", "PoolTimeout", "ConnectTimeout", "TimeoutError"}
    return bool(names & timeouts)


def _timeout_message(settings: Settings) -> str:
    return (
        f"the Chroma server at {settings.chroma_url} did not answer within {settings.chroma_timeout:g} s "
        "(BRIEF_CHROMA_TIMEOUT): it accepts connections but is stuck or overloaded. "
        "Check the server, or fix BRIEF_CHROMA_URL."
    )


def _is_connection_error(exc: Exception) -> bool:
    names = {cls.__name__ for cls in type(exc).__mro__}
    text = str(exc).lower()
    return bool(
        # ReadError/WriteError: the server went away in the middle of a request (connection reset).
        names
        & {
            "ConnectError",
            "ConnectionError",
            "ConnectTimeout",
            "ReadTimeout",
            "RemoteProtocolError",
            "ReadError",
            "WriteError",
        }
    ) or ("connect" in text and ("refused" in text or "could not" in text or "failed" in text))


def _writer_is_gone(meta: dict[str, Any]) -> bool:
    host, _, pid = str(meta.get("owner", "")).rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        if int(pid) == os.getpid():
            return True  # this process is not writing it now (writes hold the lock)
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False
    return time.time() - float(meta.get("updated", 0) or 0) > STALE_PENDING_SECONDS


def _record_from_meta(doc_id: str, meta: dict[str, Any]) -> DocumentRecord:
    return DocumentRecord(
        doc_id=doc_id,
        title=str(meta.get("title", "")),
        author=str(meta.get("author", "")),
        source=str(meta.get("source", "")),
        date=str(meta.get("date", "")),
        url=str(meta.get("url", "")),
        language=str(meta.get("language", "")),
        paths=json.loads(meta.get("paths") or "[]"),
        chunks=int(meta.get("chunks", 0)),
        chars=int(meta.get("chars", 0)),
        ingested_at=str(meta.get("ingested_at", "")),
        recipe=str(meta.get("recipe", "")),
        shard=_shard_of(meta),
    )


def _shard_of(meta: dict[str, Any]) -> int:
    """The chunk shard a registry record names (records from before shards: the first)."""
    return int(meta.get("shard", 0) or 0)


def record_version(record: DocumentRecord) -> str:
    """A document's version: a document deleted and written again gets a new one."""
    return _version(record.chunks, record.ingested_at, record.recipe)


def _version(chunks: int, ingested_at: str, recipe: str) -> str:
    # Records from before recipes keep the version their index segments were written with.
    return f"{chunks}|{ingested_at}|{recipe}" if recipe else f"{chunks}|{ingested_at}"


def _chroma_where(where: LexicalFilter | None) -> dict[str, Any] | None:
    """brief's filter in Chroma's `where` syntax (dates are stored as YYYYMMDD numbers)."""
    if where is None:
        return None
    clauses: list[dict[str, Any]] = []
    if where.sources:
        clauses.append({"source": {"$in": sorted(where.sources)}})
    if where.doc_ids:
        clauses.append({"doc_id": {"$in": sorted(where.doc_ids)}})
    if where.since:
        clauses.append({"date_int": {"$gte": where.since}})
    if where.until:
        clauses.append({"date_int": {"$lte": where.until}})
        clauses.append({"date_int": {"$gt": 0}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _mismatch_message(settings: Settings, location: str, stored: str, wanted: str) -> str:
    return (
        f"the collection '{settings.collection}' at {location} was built with the embedding model "
        f"'{stored}', but brief is set to use '{wanted}'. Mixing models in one "
        "collection would make search meaningless: set BRIEF_EMBEDDER (and BRIEF_EMBED_QUANTIZED) "
        "back, or choose another BRIEF_COLLECTION (or BRIEF_HOME) for the new model."
    )


def _write_atomically(path: Path, text: str) -> bool:
    """Write a small file by renaming a complete copy into place; False if that failed."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        return True
    except OSError:
        tmp.unlink(missing_ok=True)
        return False


def _chunk_from_row(chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
    fields = {k: meta.get(k, "") for k in _chunk_fields()}
    for key in ("index", "start", "end"):
        fields[key] = int(fields[key] or 0)
    return Chunk(
        chunk_id=chunk_id,
        text=text,
        **{k: (v if k in ("index", "start", "end") else str(v)) for k, v in fields.items()},
    )
