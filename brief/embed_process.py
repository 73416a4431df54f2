"""A long ingest's embedding model in a process of its own.

During an ingest the model's two sessions share the interpreter with the parser and with
Chroma, whose upserts hold the GIL for the whole call (1.2-1.4 ms per record): the model threads
sat idle a third of the time waiting for it. In a child process with its own interpreter they
are busy ~90% of the time: the development set's one-in-three ingest took 459 s against 527 s
(benchmarks/README.md).
Starting the child costs about a second, so an ingest only moves there after it has embedded
`after` texts itself; a small ingest or an upload never starts one.

The child runs the same MiniLM with the same settings, so a text gets the same vector either
way. It is a new interpreter, not a fork (the parent has threads), and it exits when its pipe
closes, also when the parent is killed.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

from brief.minilm import EmbeddingError, MiniLM

_STOP = None


def _serve(requests: Connection, replies: Connection, model_args: dict[str, Any]) -> None:
    """The child: embed each list of texts it is sent, until told to stop or the pipe closes."""
    model = MiniLM(**model_args)
    while True:
        try:
            texts = requests.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        if texts is _STOP:
            return
        try:
            reply: tuple = ("ok", model.encode(texts))
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises it
            reply = ("error", f"{type(exc).__name__}: {exc}")
        try:
            replies.send(reply)
        except OSError:
            return  # the parent died while this ran


class EmbeddingProcess:
    """MiniLM's `encode` in a child process, for the duration of one ingest.

    The child is a fresh interpreter running this module (`python -m`), not a multiprocessing
    child: that would import the caller's main script again, and a script without a
    `__main__` guard would then ingest a second time inside it. Two pipes carry pickled texts
    out and vectors back; only brief's own two ends of them exist."""

    def __init__(self, model: MiniLM) -> None:
        args = model.constructor_args()
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        env = dict(os.environ)
        # The same brief as this process, wherever it was imported from.
        package_root = str(Path(__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "brief.embed_process", str(request_read), str(reply_write), json.dumps(args)],
                pass_fds=(request_read, reply_write),
                stdin=subprocess.DEVNULL,
                env=env,
            )
        except OSError as exc:
            for fd in (request_read, request_write, reply_read, reply_write):
                os.close(fd)
            raise EmbeddingError(f"the embedding process could not be started: {exc}") from exc
        os.close(request_read)  # the child's ends: its death shows here as end of file
        os.close(reply_write)
        self._requests = Connection(request_write, readable=False)
        self._replies = Connection(reply_read, writable=False)

    @property
    def pid(self) -> int:
        return self._process.pid

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        try:
            self._requests.send(list(texts))
            status, value = self._replies.recv()
        except (EOFError, OSError) as exc:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(5)
            raise EmbeddingError(
                f"the embedding process stopped (exit code {self._process.returncode}) while embedding "
                f"{len(texts)} passages"
            ) from exc
        if status != "ok":
            raise EmbeddingError(f"the embedding process failed: {value}")
        return value

    @property
    def alive(self) -> bool:
        return self._process.poll() is None

    def close(self) -> None:
        """Stop the child and wait for it (its memory goes back to the system)."""
        with contextlib.suppress(OSError):  # already gone
            self._requests.send(_STOP)
        try:
            self._process.wait(30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._requests.close()
        self._replies.close()


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
                try:
                    self._process = EmbeddingProcess(self.model)
                except EmbeddingError:
                    self.after = None  # no interpreter to start (an embedded Python): stay here
                else:
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


if __name__ == "__main__":  # the child: python -m brief.embed_process REQUEST_FD REPLY_FD ARGS
    _serve(
        Connection(int(sys.argv[1]), writable=False),
        Connection(int(sys.argv[2]), readable=False),
        json.loads(sys.argv[3]),
    )
