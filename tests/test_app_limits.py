"""Issue 14, items 7, 8 and 14, against the real app over HTTP: login throttling per client
address, request caps (files and bytes per upload, question and topic length), and a limit per
model backend so that a model that hangs cannot starve extractive answers."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from conftest import copy_small_set, free_port, make_library
from gradio_client import Client
from test_llm_backends import FaultServer, Seen, openai_settings
from ui_support import running_app

from brief.settings import Settings

DEADLINE = 180.0  # seconds for anything the app must do on a busy 2-core machine


@pytest.fixture(scope="module")
def library_home(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Path:
    """Three articles in a library of their own, shared by the apps of this module."""
    root = tmp_path_factory.mktemp("limits")
    library = make_library(Settings(home=root / "home"), embedder)
    assert library.ingest([copy_small_set(root / "src")]).ok
    return root / "home"


def _app_library(home: Path, embedder: Any, **overrides: Any) -> Any:
    return make_library(Settings(home=home, **overrides), embedder)


# ----- item 7: login throttling ------------------------------------------------------------------


def _login(client: httpx.Client, base: str, password: str) -> httpx.Response:
    return client.post(f"{base}login", data={"username": "reader", "password": password})


def _login_when_allowed(client: httpx.Client, base: str, password: str) -> httpx.Response:
    """Try to log in until the lock-out has passed (its length is the setting); the first
    answer that is not a refusal."""
    deadline = time.monotonic() + DEADLINE
    while True:
        response = _login(client, base, password)
        if response.status_code != 429:
            return response
        assert time.monotonic() < deadline, "the lock-out did not end"
        time.sleep(float(response.headers["retry-after"]) / 4)


def test_failed_logins_back_off_per_client_without_locking_out_others(library_home: Path, embedder: Any) -> None:
    library = _app_library(library_home, embedder, ui_auth="reader:secret", ui_login_attempts=3, ui_login_backoff=4)
    port = free_port()
    with running_app(library, port) as app:
        base = app.url
        attacker = httpx.Client(timeout=DEADLINE)
        # Another client: a different source address on the loopback network.
        other = httpx.Client(timeout=DEADLINE, transport=httpx.HTTPTransport(local_address="127.0.0.2"))
        try:
            assert [_login(attacker, base, f"wrong{i}").status_code for i in range(3)] == [400, 400, 400]
            burst = [_login(attacker, base, f"guess{i}") for i in range(50)]
            assert {r.status_code for r in burst} == {429}  # none of them reached the password check
            refusal = burst[0].json()["detail"]
            assert "Too many failed logins from your address" in refusal and "Wait" in refusal
            first_wait = int(burst[0].headers["retry-after"])
            assert 1 <= first_wait <= 5
            assert _login(attacker, base, "secret").status_code == 429  # locked, even with the password

            # The other client is not affected: it logs in, and its own failures count for it alone.
            assert _login(other, base, "wrong").status_code == 400
            ok = _login(other, base, "secret")
            assert ok.status_code == 200 and ok.json() == {"success": True}

            # After the lock-out, one more failure locks the attacker again, for twice as long.
            assert _login_when_allowed(attacker, base, "wrong").status_code == 400
            again = _login(attacker, base, "wrong")
            assert again.status_code == 429
            assert int(again.headers["retry-after"]) > first_wait
            # ... and the right password, once allowed, logs in and clears the count.
            assert _login_when_allowed(attacker, base, "secret").status_code == 200
            assert [_login(attacker, base, "wrong").status_code for _ in range(2)] == [400, 400]
        finally:
            attacker.close()
            other.close()


# ----- item 8: request caps ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def capped_app(library_home: Path, embedder: Any) -> Iterator[Any]:
    library = _app_library(library_home, embedder, ui_max_files=3, ui_max_upload_mb=1, max_topic_chars=300)
    with running_app(library, free_port()) as app:
        yield app


def _files(count: int, size: int) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", (f"note-{i}.txt", b"x" * size, "text/plain")) for i in range(count)]


def test_uploads_are_capped_by_files_and_bytes_per_request(capped_app: Any) -> None:
    upload = f"{capped_app.url}gradio_api/upload"
    with httpx.Client(timeout=DEADLINE) as client:
        fine = client.post(upload, files=_files(3, 1000))
        assert fine.status_code == 200 and len(fine.json()) == 3

        too_many = client.post(upload, files=_files(4, 1000))
        assert too_many.status_code == 413
        assert "Too many files in one upload: more than 3" in too_many.json()["detail"]

        too_big = client.post(upload, files=_files(2, 700_000))  # 1.4 MB against 1 MB
        assert too_big.status_code == 413
        assert "too large (1.3 MB): at most 1 MB per request" in too_big.json()["detail"]

        # Without a Content-Length (chunked), the bytes are counted as they arrive.
        boundary = "brief-test-boundary"

        def chunked() -> Iterator[bytes]:
            for i in range(40):
                yield (
                    (
                        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="part-{i}.txt"\r\n'
                        f"Content-Type: text/plain\r\n\r\n"
                    ).encode()
                    + b"y" * 100_000
                    + b"\r\n"
                )
            yield f"--{boundary}--\r\n".encode()

        streamed = client.post(
            upload, content=chunked(), headers={"content-type": f"multipart/form-data; boundary={boundary}"}
        )
        assert streamed.status_code == 413
        assert "Too many files in one upload" in streamed.json()["detail"]


def test_a_huge_question_is_refused_and_never_echoed(capped_app: Any) -> None:
    # 50 MB in one request: refused before Gradio reads it, with a short answer.
    with httpx.Client(timeout=DEADLINE) as client:
        config = client.get(f"{capped_app.url}config").json()
        (chat,) = [d["id"] for d in config["dependencies"] if d.get("api_name") == "chat"]

        def join(question: str) -> httpx.Response:
            data = [question, [], [], "extractive", [], "", "", [], ""]  # message, chat, history, backend, filters
            body = {"data": data, "fn_index": chat, "trigger_id": None, "session_hash": uuid4().hex[:10]}
            return client.post(
                f"{capped_app.url}gradio_api/queue/join",
                content=json.dumps(body).encode(),
                headers={"content-type": "application/json"},
            )

        assert join("What ended the strike?").status_code == 200  # the same request, small, is accepted
        refused = join("Why? " * (10 * 1024 * 1024))
    assert refused.status_code == 413
    assert len(refused.content) < 1000 and "too large" in refused.json()["detail"]

    # A question over the character cap (but a small request): a clear refusal in the chat,
    # and the question is not sent back (not even into the textbox).
    client = Client(capped_app.url, verbose=False, httpx_kwargs={"timeout": DEADLINE})
    long_question = "What ended the strike at Port Calloway?" * 250  # 9,750 characters
    messages, sources, textbox = client.predict(long_question, [], "extractive", [], "", "", [], api_name="/chat")
    shown = json.dumps(messages)
    assert "9,750 characters long" in shown and "at most 2,000" in shown and "BRIEF_MAX_QUESTION_CHARS" in shown
    assert "Port Calloway" not in shown and "Port Calloway" not in json.dumps(textbox)
    assert len(shown) < 2000

    topic = "the strike," * 50  # 550 characters against 300
    html, *_ = client.predict(topic, "extractive", [], "", "", [], api_name="/brief")
    assert "550 characters long" in html and "BRIEF_MAX_TOPIC_CHARS" in html and "the strike,the strike" not in html


# ----- item 14: a hanging model does not starve extractive answers --------------------------------


class StallingModel:
    """An OpenAI-compatible endpoint on 127.0.0.1 that accepts chat requests and never answers
    until released."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.server = FaultServer(self._stall, max_requests=50, max_wait=DEADLINE)

    def _stall(self, server: FaultServer, conn: socket.socket, seen: Seen) -> None:
        self.release.wait(DEADLINE)

    @property
    def waiting(self) -> int:
        return len(self.server.seen)

    def stop(self) -> None:
        self.release.set()
        self.server.stop()


def _wait_for(condition: Any, what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_a_hanging_model_does_not_starve_extractive_answers(library_home: Path, embedder: Any) -> None:
    model = StallingModel()
    settings = openai_settings(model.server.base_url, llm_timeout=DEADLINE * 2)
    library = _app_library(library_home, embedder, ui_model_concurrency=2, **settings)
    question = "How long did the Port Calloway strike last?"
    try:
        with running_app(library, free_port()) as app:
            client = Client(app.url, verbose=False, httpx_kwargs={"timeout": DEADLINE})
            # As many model chats as the app had workers before this limit (8): all would hang.
            stuck = [client.submit(question, [], "openai", [], "", "", [], api_name="/chat") for _ in range(8)]
            _wait_for(lambda: model.waiting >= 2, "the model to receive requests")
            # Chats beyond the model's limit do not wait for it: they are answered extractively, with a notice.
            overflow: list[str] = []

            def finished_overflow() -> bool:
                overflow[:] = [json.dumps(job.result()[0]) for job in stuck if job.done()]
                return len(overflow) >= 6

            _wait_for(finished_overflow, "the chats over the model limit")
            assert all(
                "already writing 2 answers" in text and "BRIEF_UI_MODEL_CONCURRENCY" in text for text in overflow
            )
            assert all("17 days" in text.lower() for text in overflow), overflow[0][:500]

            started = time.monotonic()
            messages, _, _ = client.predict(question, [], "extractive", [], "", "", [], api_name="/chat")
            took = time.monotonic() - started
            assert "17 days" in json.dumps(messages).lower() and "already writing" not in json.dumps(messages)
            assert model.waiting == 2 and not model.release.is_set()  # the two model chats still hang
            print(f"extractive answer beside two hanging model chats: {took:.1f} s")
            model.release.set()  # the stuck calls fail now and fall back; the app closes cleanly
            for job in stuck:
                job.result(timeout=DEADLINE)
    finally:
        model.stop()
