"""A long ingest's embedding model in a process of its own.

During an ingest the model's two sessions share the interpreter with the parser and with
Chroma, whose upserts hold the GIL for the whole call (1.2-1.4 ms per record): the model threads
sat idle a third of the time waiting for it. In a child process with its own interpreter they
are busy ~90% of the time, and 800 real articles ingest ~12% faster (benchmarks/README.md).
Starting the child costs about a second, so an ingest only moves there after it has embedded
`after` texts itself; a small ingest or an upload never starts one.

The child runs the same MiniLM with the same settings, so a text gets the same vector either
way. It is spawned, not forked (the parent has threads), and it exits when its pipe closes,
also when the parent is killed.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from brief.minilm import EmbeddingError, MiniLM

_STOP = None


def _serve(conn: Any, model_args: tuple) -> None:
    """The child: embed each list of texts it is sent, until told to stop or the pipe closes."""
    model = MiniLM(*model_args)
    while True:
        try:
            texts = conn.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        if texts is _STOP:
            return
        try:
            reply: tuple = ("ok", model.encode(texts))
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises it
            reply = ("error", f"{type(exc).__name__}: {exc}")
        try:
            conn.send(reply)
        except OSError:
            return  # the parent died while this ran


class EmbeddingProcess:
    """MiniLM's `encode` in a child process, for the duration of one ingest."""

    def __init__(self, model: MiniLM) -> None:
        args = (model.quantized, model.workers, model._cache_dir, model.max_tokens, model.read_ends)
        context = multiprocessing.get_context("spawn")
        self._conn, child_end = context.Pipe()
        self._process = context.Process(target=_serve, args=(child_end, args), name="brief-embed", daemon=True)
        self._process.start()
        child_end.close()  # only the child holds it now: its death shows here as end of file

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        try:
            self._conn.send(list(texts))
            status, value = self._conn.recv()
        except (EOFError, OSError) as exc:
            self._process.join(5)
            raise EmbeddingError(
                f"the embedding process stopped (exit code {self._process.exitcode}) while embedding "
                f"{len(texts)} passages"
            ) from exc
        if status != "ok":
            raise EmbeddingError(f"the embedding process failed: {value}")
        return value

    @property
    def alive(self) -> bool:
        return self._process.is_alive()

    def close(self) -> None:
        """Stop the child and wait for it (its memory goes back to the system)."""
        with contextlib.suppress(OSError):  # already gone
            self._conn.send(_STOP)
        self._process.join(30)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        self._conn.close()


class IngestEmbedder:
    """The ingest's embedder: MiniLM in this process for the first `after` texts, then in an
    `EmbeddingProcess` (None: never). `release` ends the child and frees the local sessions."""

    def __init__(self, model: MiniLM, after: int | None) -> None:
        self.model = model
        self.after = after
        self.embedded_here = 0
        self._process: EmbeddingProcess | None = None
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            if self._process is None and self.after is not None and self.embedded_here >= self.after:
                self._process = EmbeddingProcess(self.model)
                self.model.release()  # its sessions are idle from now on: ~90 MB back
            process = self._process
        if process is not None:
            return process.encode(texts)
        vectors = self.model.encode(texts)
        self.embedded_here += len(texts)
        return vectors

    @property
    def in_child(self) -> bool:
        return self._process is not None

    def release(self) -> bool:
        with self._lock:
            process, self._process = self._process, None
        if process is not None:
            process.close()
        return self.model.release()
