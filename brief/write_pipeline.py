"""Embed and write groups of documents on two worker threads, in the order they were sent.

The ingest's own thread parses and chunks; one worker embeds a group while the other writes
the group before it to the store. Queues of two groups between them keep memory bounded
(the parser waits when it is ahead) and every operation - a group's write, a path update, a
deletion - reaches the store in the order it was sent, so a replaced version is retired only
after its successor is stored. The first failure stops the work: later operations are
dropped, and the caller gets the exception at its next call.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from brief.memory import keep_large_blocks_returnable, release_free_memory
from brief.store import StoredThenFailed
from brief.types import Chunk, DocumentRecord
from brief.vector_sharing import owners

Group = list[tuple[DocumentRecord, list[Chunk]]]
TextsOf = Callable[[Sequence[Chunk]], list[str]]
_STOP = object()
_DEPTH = 2  # groups waiting between two stages
_TICK = 0.25  # seconds between the caller's progress reports while it waits
_SAME_TEXT_CACHE = 4096  # vectors kept for texts seen again (syndicated copies): ~6 MB


class PendingGroup:
    """Documents queued for the next group, with their chunk count."""

    def __init__(self) -> None:
        self.documents: Group = []
        self.chunks = 0
        self._ids: set[str] = set()

    def add(self, record: DocumentRecord, chunks: list[Chunk]) -> None:
        self.documents.append((record, chunks))
        self.chunks += len(chunks)
        self._ids.add(record.doc_id)

    def holds(self, doc_id: str) -> bool:
        return doc_id in self._ids

    def take(self) -> Group:
        group, self.documents, self.chunks, self._ids = self.documents, [], 0, set()
        return group


class WritePipeline:
    """Two stages (embed, write) behind `write`, `update_paths` and `delete`."""

    def __init__(
        self,
        store: Any,
        embedder: Any,
        texts_of: TextsOf,
        on_written: Callable[[int, int], None],
        on_wait: Callable[[], None] = lambda: None,
        embed_every: int = 1,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.texts_of = texts_of
        self.embed_every = embed_every  # one chunk in this many has a vector of its own
        self.on_written = on_written  # (documents, chunks) of each group once stored (writer thread)
        self.on_wait = on_wait  # called on the caller's thread while it waits (progress keeps moving)
        self.documents_written = 0
        self.documents_in_write = 0  # the group the store was writing when it failed (if it did)
        self.chunks_written = 0
        self._failure: BaseException | None = None
        self._vectors_of_text: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._to_embed: queue.Queue = queue.Queue(_DEPTH)
        self._to_write: queue.Queue = queue.Queue(_DEPTH)
        keep_large_blocks_returnable()  # before the groups' arrays start coming and going
        self._threads = [
            threading.Thread(target=self._embed_stage, name="brief-ingest-embed", daemon=True),
            threading.Thread(target=self._write_stage, name="brief-ingest-write", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    # ----- the caller's side -------------------------------------------------------------------

    def write(self, group: Group) -> None:
        self._send(("write", group))

    def update_paths(self, record: DocumentRecord) -> None:
        self._send(("paths", replace(record, paths=list(record.paths))))  # the paths as they are now

    def delete(self, doc_id: str) -> None:
        self._send(("delete", doc_id))

    def wait(self) -> None:
        """Return once everything sent so far is stored; raise the failure if there was one."""
        done = threading.Event()
        self._send(("barrier", done))
        while not done.wait(_TICK):
            self.on_wait()
        self._raise_failure()

    def close(self, abort: bool = False) -> None:
        """Stop both stages after what was sent (or, with `abort`, drop what has not started)."""
        if abort and self._failure is None:
            self._failure = _Aborted()
        self._to_embed.put(_STOP)
        for thread in self._threads:
            thread.join()

    @property
    def failure(self) -> BaseException | None:
        return None if isinstance(self._failure, _Aborted) else self._failure

    def _send(self, item: tuple) -> None:
        self._raise_failure()
        while True:  # waits while two groups are already waiting: bounded memory
            try:
                self._to_embed.put(item, timeout=_TICK)
                return
            except queue.Full:
                self.on_wait()

    def _raise_failure(self) -> None:
        if self._failure is not None and not isinstance(self._failure, _Aborted):
            raise self._failure

    # ----- the stages ----------------------------------------------------------------------------

    def _embed_stage(self) -> None:
        while (item := self._to_embed.get()) is not _STOP:
            if item[0] == "write" and self._failure is None:
                try:
                    item = ("write", item[1], self._vectors(item[1]))
                except BaseException as exc:  # noqa: BLE001 - handed to the caller, not lost
                    self._failure = exc
            self._to_write.put(item)
        self._to_write.put(_STOP)

    def _write_stage(self) -> None:
        while (item := self._to_write.get()) is not _STOP:
            kind = item[0]
            if kind == "barrier":
                item[1].set()
                continue
            if self._failure is not None:
                continue  # drop the rest: the caller learns of the failure and says what was written
            try:
                if kind == "write":
                    self._store_group(item[1], item[2])
                    item = None  # the group's texts and vectors, so that they are freed now
                    release_free_memory()
                elif kind == "paths":
                    self.store.update_paths(item[1])
                elif kind == "delete":
                    self.store.delete_document(item[1])
            except BaseException as exc:  # noqa: BLE001 - handed to the caller, not lost
                self._failure = exc

    def _store_group(self, group: Group, vectors: np.ndarray) -> None:
        batch, offset = [], 0
        for record, chunks in group:
            batch.append((record, chunks, vectors[offset : offset + len(chunks)]))
            offset += len(chunks)
        self.documents_in_write = len(group)
        try:
            self.store.write_documents(batch)
        except StoredThenFailed:
            self.documents_in_write = 0
            self._count(len(group), offset)  # stored and ready: the failure came after
            raise
        self.documents_in_write = 0
        self._count(len(group), offset)

    def _count(self, documents: int, chunks: int) -> None:
        self.documents_written += documents
        self.chunks_written += chunks
        self.on_written(documents, chunks)

    def _vectors(self, group: Group) -> np.ndarray:
        """The group's vectors, a row per chunk; a chunk that shares a vector (embed_every) gets
        a copy of its owner's row, and a text met shortly before (a syndicated copy) is not
        embedded again."""
        texts: list[str] = []
        rows: list[int] = []  # per chunk, its row in `texts`
        for _, chunks in group:
            own = self.texts_of(chunks)
            shared = owners([c.index for c in chunks], self.embed_every)
            row_of = {}  # an owner's position -> its row (an owner may come after its sharers)
            for i, owner in enumerate(shared):
                if owner == i:
                    row_of[i] = len(texts)
                    texts.append(own[i])
            rows.extend(row_of[owner] for owner in shared)
        vectors = self._embed_texts(texts)
        return vectors[rows] if rows else vectors

    def _embed_texts(self, texts: list[str]) -> np.ndarray:
        keys = [hashlib.blake2b(t.encode("utf-8", "replace"), digest_size=16).digest() for t in texts]
        found = {k: self._vectors_of_text[k] for k in keys if k in self._vectors_of_text}
        missing = [k for k in dict.fromkeys(keys) if k not in found]
        if missing:
            first_text: dict[bytes, str] = {}
            for key, text in zip(keys, texts, strict=True):
                first_text.setdefault(key, text)
            found.update(zip(missing, self.embedder.encode([first_text[k] for k in missing]), strict=True))
        for key, vector in found.items():
            self._remember(key, vector)
        return np.vstack([found[k] for k in keys]) if keys else np.zeros((0, 0), dtype=np.float32)

    def _remember(self, key: bytes, vector: np.ndarray) -> None:
        self._vectors_of_text[key] = vector
        self._vectors_of_text.move_to_end(key)
        while len(self._vectors_of_text) > _SAME_TEXT_CACHE:
            self._vectors_of_text.popitem(last=False)


class _Aborted(Exception):
    """The caller stopped the ingest (Ctrl-C): what has not started is dropped."""
