"""The one pipeline under answers and briefs: a model that is cut off, drips, or writes nothing
the sources support; a backend that is not configured; a topic too long for a page.

Every model here is a real HTTP server on 127.0.0.1 (the fault servers of test_llm_backends)
spoken to through the real OpenAI client."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS as SEED_CORPUS
from conftest import free_port, run_cli
from test_llm_backends import (
    PARTIAL,
    QUESTION,
    FaultServer,
    Seen,
    fault_server,  # noqa: F401 - a fixture used by the tests below
    library_on,
    openai_settings,
    reply_with,
    seed,  # noqa: F401 - a fixture used by the tests below
    sse_chunk,
    sse_finish,
)

from brief.export import to_pdf
from brief.types import Answer, Brief

K = 3


def cut_without_finishing(server: FaultServer, conn: socket.socket, seen: Seen) -> None:
    """A stream that ends cleanly (final chunk and [DONE]) although the model never finished."""
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    for piece in PARTIAL:
        conn.sendall(sse_chunk(piece))
    conn.sendall(sse_finish(None))


def drips(server: FaultServer, conn: socket.socket, seen: Seen) -> None:
    """One token a second for as long as the server may wait: each read is quick, the whole is not."""
    conn.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    ends = time.monotonic() + server.max_wait
    while time.monotonic() < ends and not server.stopping.is_set():
        conn.sendall(sse_chunk("more "))
        time.sleep(1.0)


def unrelated_text(server: FaultServer, conn: socket.socket, seen: Seen) -> None:
    reply_with(conn, seen, "Bananas ripen faster beside apples in a paper bag [1].")


def test_a_stream_cut_off_before_the_model_finished_is_not_shown_as_an_answer(seed: Any, fault_server) -> None:
    stub = fault_server(cut_without_finishing)
    library = library_on(seed, **openai_settings(stub.base_url))
    items = list(library.ask_stream(QUESTION, k=K))
    answer = items[-1]
    assert isinstance(answer, Answer)
    assert "".join(p for p in items[:-1] if isinstance(p, str)).startswith("".join(PARTIAL))
    assert "cut off" in answer.notice and "extractive answer" in answer.notice
    assert answer.backend == "extractive" and not answer.declined and answer.citations
    # invoke goes the same way.
    again = library.ask(QUESTION, k=K)
    assert again.backend == "extractive" and "cut off" in again.notice


@pytest.mark.parametrize("streamed", [True, False])
def test_a_dripping_model_is_stopped_at_the_deadline(seed: Any, fault_server, streamed: bool) -> None:
    stub = fault_server(drips, max_wait=40.0)
    library = library_on(seed, **openai_settings(stub.base_url, llm_timeout=3))
    started = time.monotonic()
    answer = list(library.ask_stream(QUESTION, k=K))[-1] if streamed else library.ask(QUESTION, k=K)
    waited = time.monotonic() - started
    assert "did not answer in time (3 s)" in answer.notice
    assert answer.backend == "extractive" and answer.citations
    # Each token came within the per-read timeout; only a deadline on the whole call stops it.
    # The server would have dripped for 40 s.
    assert waited < 25, waited


def test_a_brief_nothing_of_which_holds_is_rewritten_extractively(seed: Any, fault_server) -> None:
    stub = fault_server(unrelated_text, max_requests=20)
    library = library_on(seed, **openai_settings(stub.base_url))
    progress: list[str] = []
    brief = library.report("sanctions and China", progress=progress.append)
    assert isinstance(brief, Brief)
    assert "nothing the language model wrote could be verified" in brief.notice
    assert brief.backend == "extractive"
    assert brief.word_count() > 0 and brief.sources
    assert "Bananas" not in str(brief.to_dict())
    assert any(p.startswith("writing bottom line") for p in progress)  # the model's stages were shown


def test_cli_report_says_when_the_brief_was_rewritten(seed: Any, fault_server, tmp_path: Path) -> None:
    stub = fault_server(unrelated_text, max_requests=20)
    result = run_cli(
        "report", "sanctions and China", "--backend", "openai", "-o", str(tmp_path / "b.md"),
        home=seed.settings.home, cwd=tmp_path,
        extra_env={"OPENAI_BASE_URL": stub.base_url, "OPENAI_API_KEY": "local", "BRIEF_LLM_MAX_RETRIES": "0"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "note: nothing the language model wrote could be verified" in result.stderr
    assert "Bananas" not in (tmp_path / "b.md").read_text(encoding="utf-8")


def test_a_very_long_topic_still_fits_one_page(seed: Any) -> None:
    topic = "What does the article say about " + " ".join(f"aspect{i} of the sanctions" for i in range(400))
    brief = seed.report(topic, backend="extractive")
    assert len(brief.title) < 120 and brief.title.endswith("…")
    data, printed = to_pdf(brief)
    assert data.startswith(b"%PDF")
    assert len(printed.topic) > 1000 and topic.startswith(printed.topic)  # shortened on the page only


@pytest.mark.parametrize(
    ("backend", "env", "says"),
    [
        ("openai", {}, "the openai backend needs an API key: set OPENAI_API_KEY"),
        ("local", {}, "the local backend needs a model: set BRIEF_LOCAL_MODEL_PATH"),
        ("local", {"BRIEF_LOCAL_MODEL_PATH": "/nonexistent/model.gguf"}, "model file does not exist"),
    ],
)
def test_a_backend_that_is_not_configured_is_one_line_and_exit_2(
    seed: Any, tmp_path: Path, backend: str, env: dict[str, str], says: str
) -> None:
    for command in (("ask", QUESTION), ("report", "sanctions")):
        result = run_cli(*command, "--backend", backend, home=seed.settings.home, cwd=tmp_path, extra_env=env)
        assert result.returncode == 2, (command, result.stderr)
        assert says in result.stderr
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_a_file_that_is_not_a_model_is_one_line(seed: Any, tmp_path: Path) -> None:
    fake = tmp_path / "notes.gguf"
    fake.write_text("not a model", encoding="utf-8")
    result = run_cli(
        "ask", QUESTION, "--backend", "local", home=seed.settings.home, cwd=tmp_path,
        extra_env={"BRIEF_LOCAL_MODEL_PATH": str(fake)},
    )  # fmt: skip
    assert result.returncode != 0
    assert "not a GGUF model file" in result.stderr and "Traceback" not in result.stderr


def test_ui_on_a_busy_port_suggests_another(seed: Any, tmp_path: Path) -> None:
    port = free_port()
    with socket.create_server(("127.0.0.1", port)):
        result = run_cli("ui", "--port", str(port), home=seed.settings.home, cwd=tmp_path, timeout=300)
    assert result.returncode != 0
    assert f"port {port} is in use" in result.stderr and "--port" in result.stderr
    assert "Traceback" not in result.stderr and "GRADIO_SERVER_PORT" not in result.stderr


def test_a_first_run_that_prepares_the_model_says_so_once(tmp_path: Path) -> None:
    env = {"BRIEF_MODEL_CACHE": str(tmp_path / "models")}
    home = tmp_path / "home"
    notes = []
    for _ in range(2):
        result = run_cli("ingest", str(SEED_CORPUS), "-q", home=home, cwd=tmp_path, extra_env=env, timeout=600)
        assert result.returncode == 0, result.stderr
        notes.append([line for line in result.stderr.splitlines() if "preparing the embedding model" in line])
    assert len(notes[0]) == 1 and notes[0][0].startswith("note: ")
    assert notes[1] == []  # prepared once per machine
