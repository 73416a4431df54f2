"""HTTPS through the pinned connection: the certificate is checked against the host name even
though the socket goes to the address that was checked (a real TLS server on 127.0.0.1)."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from brief.web import fetch
from brief.web.fetch import Fetcher, FetchError, FetchPolicy, decode_body

PAGE = b"<html><body><article><h1>Secure Harbour News</h1><p>Served over TLS.</p></article></body></html>"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert)]
        + ["-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return cert, key


@pytest.fixture(scope="module")
def tls_port(certificate: tuple[Path, Path]) -> Iterator[int]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
            pass

        def do_GET(self) -> None:  # noqa: N802 - the base class's name
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(PAGE)))
            self.end_headers()
            self.wfile.write(PAGE)

    class QuietServer(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: object, client_address: object) -> None:
            pass  # refused handshakes are what one test provokes

    server = QuietServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*map(str, certificate))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=30)


def test_untrusted_certificate_is_refused(tls_port: int) -> None:
    with pytest.raises(FetchError, match="TLS failed"):
        Fetcher(FetchPolicy(allow_private=True, retries=0)).get(f"https://localhost:{tls_port}/page.html")


def test_trusted_certificate_is_checked_against_the_name(
    tls_port: int, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, _ = certificate
    trusting = ssl.create_default_context(cafile=str(cert))  # trusts this certificate only
    monkeypatch.setattr(fetch.ssl, "create_default_context", lambda: trusting)
    policy = FetchPolicy(allow_private=True, retries=0)
    result = Fetcher(policy).get(f"https://localhost:{tls_port}/page.html")
    assert "Served over TLS." in decode_body(result)
    # The same server by its address: the certificate names localhost, not 127.0.0.1.
    with pytest.raises(FetchError, match="TLS failed"):
        Fetcher(policy).get(f"https://127.0.0.1:{tls_port}/page.html")
