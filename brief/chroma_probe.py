"""The few reads a fresh process needs from a Chroma server, over its HTTP API, without the
chromadb client.

Importing chromadb takes 0.7-1.3 s on this machine (httpx alone ~0.1 s), and building its HTTP
client asks the server several questions more. A CLI call or the first question of a process
only needs three small answers from a server store: is the collection of our embedder, what is
the registry's generation token (if it is the one the local caches were read at, nothing else
is asked), and how many chunks it holds. Everything else (writes, fetching documents the local
index lacks) opens the real client, as before.
"""

from __future__ import annotations

import http.client
import json
import threading
from typing import Any
from urllib.parse import quote, urlparse

_COLLECTIONS = "/api/v2/tenants/default_tenant/databases/default_database/collections"


def server_address(url: str) -> tuple[bool, str, int]:
    """(https?, host, port) of a Chroma server URL ("host:port" alone means plain HTTP; the
    port defaults to Chroma's 8000, or 443 for https)."""
    parsed = urlparse(url if "//" in url else f"http://{url}")
    https = parsed.scheme == "https"
    return https, parsed.hostname or "localhost", parsed.port or (443 if https else 8000)


class ProbeFailed(Exception):
    """An answer the probe cannot use (an error status, another API): the real client decides."""


class MissingCollection(ProbeFailed):
    """The server has no collection of that name (yet): the real client creates it."""


class ServerProbe:
    """Read-only requests to one Chroma server over one kept-alive connection, each socket
    operation bounded by `timeout` seconds. Network errors and timeouts are raised as the socket
    raises them (ConnectionError, TimeoutError); the store turns them into its messages."""

    def __init__(self, url: str, prefix: str, timeout: float) -> None:
        self._https, self._host, self._port = server_address(url)
        self._timeout = timeout
        self.prefix = prefix
        self._ids: dict[str, str] = {}
        self._connection: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()  # one connection: the app's threads take turns (each request is small)

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def embedder(self) -> str:
        """The embedder named in the chunk collection's metadata ("" if none)."""
        found = self._collection("chunks")
        return str((found.get("metadata") or {}).get("embedder") or "")

    def generation(self) -> str:
        """The registry's generation token ("" before the first write)."""
        found = self._about("meta", "POST", "get", {"ids": ["generation"], "include": ["metadatas"]})
        metadatas = found.get("metadatas") or []
        return str((metadatas[0] or {}).get("token", "")) if found.get("ids") and metadatas else ""

    def count_chunks(self) -> int:
        return int(self._about("chunks", "GET", "count"))

    def _collection(self, suffix: str) -> dict[str, Any]:
        """The server's description of collection `{prefix}_{suffix}` (id, metadata, ...)."""
        status, found = self._send("GET", f"{_COLLECTIONS}/{quote(f'{self.prefix}_{suffix}')}")
        if status == 404:
            raise MissingCollection(f"{self.prefix}_{suffix}")
        if status != 200 or not isinstance(found, dict) or "id" not in found:
            raise ProbeFailed(f"collection {self.prefix}_{suffix}: HTTP {status}")
        self._ids[suffix] = str(found["id"])
        return found

    def _about(self, suffix: str, method: str, action: str, body: dict[str, Any] | None = None) -> Any:
        """A request about one collection by its id; a collection dropped and made again since
        its id was looked up is looked up once more."""
        for attempt in (1, 2):
            if suffix not in self._ids:
                self._collection(suffix)
            status, found = self._send(method, f"{_COLLECTIONS}/{self._ids[suffix]}/{action}", body)
            if status == 404 and attempt == 1:
                del self._ids[suffix]
                continue
            if status == 404:
                raise MissingCollection(f"{self.prefix}_{suffix}")
            if status != 200:
                raise ProbeFailed(f"{action} on {self.prefix}_{suffix}: HTTP {status}")
            return found
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        with self._lock:
            return self._send_locked(method, path, body)

    def _send_locked(self, method: str, path: str, body: dict[str, Any] | None) -> tuple[int, Any]:
        payload = json.dumps(body).encode("utf-8") if body is not None else None
        headers = {"Content-Type": "application/json"} if payload is not None else {}
        for attempt in (1, 2):
            reused = self._connection is not None
            if self._connection is None:
                kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
                self._connection = kind(self._host, self._port, timeout=self._timeout)
            try:
                self._connection.request(method, path, body=payload, headers=headers)
                response = self._connection.getresponse()
                data = response.read()
                break
            except Exception as exc:
                self._close()  # a half-used connection is never reused
                # A kept-alive connection the server has closed since (idle): once more, anew.
                if not (reused and attempt == 1 and isinstance(exc, ConnectionError | http.client.HTTPException)):
                    raise
        try:
            return response.status, json.loads(data) if data else None
        except ValueError as exc:
            raise ProbeFailed(f"{path}: not JSON") from exc
