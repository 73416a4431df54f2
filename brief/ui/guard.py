"""Limits that keep one client of the app from hurting the others.

- `LoginThrottle`: after a few failed logins from one address, that address waits, longer
  after each further failure; other addresses are not affected.
- `RequestGuard`: an ASGI middleware in front of Gradio that applies the throttle to the login
  route and refuses oversized requests (uploads by files and bytes, any other request by bytes)
  with a clear message, before Gradio reads them.
- `ModelSlots`: at most N answers at once per language-model backend, so that a stuck model
  cannot hold every worker while extractive answers wait.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BACKOFF_SECONDS = 3600.0
# Addresses remembered at most; beyond it, the ones not locked out are forgotten first.
_MAX_CLIENTS = 10_000
_UPLOAD_PART = b'Content-Disposition: form-data; name="files"; filename="'
_MB = 1024 * 1024


@dataclass
class _Failures:
    count: int = 0
    locked_until: float = 0.0


class LoginThrottle:
    """Failed logins per client address, with a back-off that doubles on each failure after
    the first `attempts` (from `backoff` seconds up to an hour). A success clears the count."""

    def __init__(self, attempts: int, backoff: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.attempts = attempts
        self.backoff = backoff
        self._clock = clock
        self._clients: dict[str, _Failures] = {}
        self._lock = threading.Lock()

    def wait_seconds(self, client: str) -> float:
        """How long this client must still wait before its next attempt (0: it may try now)."""
        with self._lock:
            entry = self._clients.get(client)
            return max(0.0, entry.locked_until - self._clock()) if entry else 0.0

    def failed(self, client: str) -> float:
        """Count a failed attempt; returns the wait it now imposes (0 while under the limit)."""
        with self._lock:
            entry = self._clients.setdefault(client, _Failures())
            entry.count += 1
            over = entry.count - self.attempts
            wait = 0.0 if over < 0 else min(self.backoff * 2**over, MAX_BACKOFF_SECONDS)
            entry.locked_until = self._clock() + wait
            self._forget_some()
            return wait

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._clients.pop(client, None)

    def _forget_some(self) -> None:
        if len(self._clients) <= _MAX_CLIENTS:
            return
        now = self._clock()
        for client in [c for c, e in self._clients.items() if e.locked_until <= now]:
            del self._clients[client]


@dataclass
class RequestCaps:
    """Sizes one request to the app may have."""

    upload_files: int
    upload_bytes: int
    other_bytes: int  # any other request (a question, a topic, an event): generous for text


class RequestGuard:
    """ASGI middleware: login throttling and request-size caps, applied before Gradio runs."""

    def __init__(self, app: ASGIApp, throttle: LoginThrottle | None, caps: RequestCaps) -> None:
        self.app = app
        self.throttle = throttle
        self.caps = caps

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", "")).rstrip("/")
        if path.endswith("/login") and self.throttle is not None:
            await self._login(scope, receive, send)
        elif path.endswith("/gradio_api/upload"):
            await self._capped(scope, receive, send, self.caps.upload_bytes, self.caps.upload_files)
        else:
            await self._capped(scope, receive, send, self.caps.other_bytes, None)

    async def _login(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.throttle is not None
        client = _client_address(scope)
        wait = self.throttle.wait_seconds(client)
        if wait > 0:
            await _refuse(send, 429, _login_refusal(wait), retry_after=wait)
            return
        status: list[int] = []

        async def noting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
            await send(message)

        await self.app(scope, receive, noting_send)
        if status and status[0] == 200:
            self.throttle.succeeded(client)
        elif status and status[0] in (400, 401, 403):  # Gradio answers a wrong password with 400
            self.throttle.failed(client)

    async def _capped(self, scope: Scope, receive: Receive, send: Send, max_bytes: int, max_files: int | None) -> None:
        declared = _content_length(scope)
        if declared is not None and declared > max_bytes:
            await _refuse(send, 413, _too_large(max_bytes, declared))
            return
        counter = _BodyCounter(max_bytes, max_files)
        started = False

        async def counting_receive() -> Message:
            if counter.refusal:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                counter.add(message.get("body", b""))
                if counter.refusal:
                    return {"type": "http.disconnect"}  # Gradio stops reading; we answer
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if counter.refusal:
                return  # whatever Gradio says about the cut request, the refusal is the answer
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not counter.refusal:
                raise
        if counter.refusal and not started:
            await _refuse(send, 413, counter.refusal)


class _BodyCounter:
    """Counts a request body's bytes (and upload parts) as it streams in."""

    def __init__(self, max_bytes: int, max_files: int | None) -> None:
        self.max_bytes = max_bytes
        self.max_files = max_files
        self.bytes = 0
        self.files = 0
        self._tail = b""
        self.refusal = ""

    def add(self, body: bytes) -> None:
        self.bytes += len(body)
        if self.bytes > self.max_bytes:
            self.refusal = _too_large(self.max_bytes)
            return
        if self.max_files is None:
            return
        window = self._tail + body
        self.files += window.count(_UPLOAD_PART)
        # Keep enough of the end to find a part header split across two pieces, not more.
        self._tail = window[-(len(_UPLOAD_PART) - 1) :]
        if self.files > self.max_files:
            self.refusal = (
                f"Too many files in one upload: more than {self.max_files} (BRIEF_UI_MAX_FILES). "
                "Upload them in smaller groups."
            )


def _too_large(max_bytes: int, declared: int | None = None) -> str:
    size = f" ({declared / _MB:.1f} MB)" if declared is not None else ""
    return (
        f"This request is too large{size}: at most {max_bytes / _MB:g} MB per request "
        "(BRIEF_UI_MAX_UPLOAD_MB for uploads). Send less at once."
    )


def _login_refusal(wait: float) -> str:
    return f"Too many failed logins from your address. Wait {int(wait) + 1} s before trying again."


def _client_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(send: Send, status: int, detail: str, retry_after: float | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if retry_after is not None:
        headers.append((b"retry-after", str(int(retry_after) + 1).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class ModelSlots:
    """At most `limit` calls at once per language-model backend; extractive is not limited."""

    UNLIMITED = frozenset({"extractive"})

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._lock = threading.Lock()

    @contextmanager
    def claim(self, backend: str) -> Iterator[bool]:
        """Yields whether a slot was free (without waiting); frees it afterwards."""
        if backend in self.UNLIMITED:
            yield True
            return
        with self._lock:
            slot = self._slots.setdefault(backend, threading.BoundedSemaphore(self.limit))
        taken = slot.acquire(blocking=False)
        try:
            yield taken
        finally:
            if taken:
                slot.release()
