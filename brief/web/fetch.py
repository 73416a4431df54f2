"""A guarded HTTP client for links and feeds.

Every request has a connect timeout, a read timeout and a total deadline; a body is streamed
and abandoned at a byte cap; redirects are followed by hand, at most a few, and each hop is
checked like the first. Addresses are resolved here and the connection goes to the address
that was checked, so a name that resolves to a private address (or re-resolves to one
between the check and the connection) cannot turn brief into a proxy into the server's own
network, unless the policy allows private addresses (the CLI's default, an intranet's choice).
"""

from __future__ import annotations

import email.utils
import http.client
import ipaddress
import socket
import ssl
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

from brief.errors import BriefError
from brief.settings import DEFAULT_USER_AGENT

if TYPE_CHECKING:
    from brief.settings import Settings

PAGE_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "text/plain",
        "text/markdown",
        "application/pdf",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    }
)
FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/xml",
        "text/xml",
        "application/feed+xml",
    }
)
_REDIRECTS = {301, 302, 303, 307, 308}
_RETRYABLE = {429, 500, 502, 503, 504}
_METADATA_ADDRESSES = {
    ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack
    ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
}
_READ_SIZE = 64 * 1024

Resolver = Callable[[str, int], list[str]]


class FetchError(BriefError):
    """A URL could not be fetched; `str()` is "URL: reason", one line."""

    def __init__(self, url: str, reason: str, status: int = 0) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.status = status


class RefusedAddress(FetchError):
    """The URL resolves to an address the policy does not let brief fetch."""


@dataclass(frozen=True)
class FetchPolicy:
    """Limits for one fetch (all times in seconds)."""

    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    deadline: float = 60.0
    max_bytes: int = 10_000_000
    max_redirects: int = 5
    retries: int = 2
    max_retry_wait: float = 30.0
    user_agent: str = DEFAULT_USER_AGENT
    allow_private: bool = False
    allow_hosts: frozenset[str] = frozenset()  # names exempt from the private-address refusal
    respect_robots: bool = True

    @classmethod
    def from_settings(cls, settings: Settings, allow_private: bool | None = None) -> FetchPolicy:
        """The settings' limits; `allow_private` overrides the setting (the CLI passes True)."""
        return cls(
            connect_timeout=settings.fetch_connect_timeout,
            read_timeout=settings.fetch_read_timeout,
            deadline=settings.fetch_deadline,
            max_bytes=settings.fetch_max_bytes,
            max_redirects=settings.fetch_max_redirects,
            retries=settings.fetch_retries,
            user_agent=settings.fetch_user_agent,
            allow_private=settings.fetch_allow_private if allow_private is None else allow_private,
            allow_hosts=frozenset(h.strip().lower().rstrip(".") for h in settings.fetch_allow_hosts if h.strip()),
            respect_robots=settings.fetch_respect_robots,
        )

    def with_changes(self, **changes: object) -> FetchPolicy:
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass
class FetchResult:
    """A response: 200 with its body, or 304 (not modified) without one."""

    url: str  # as asked
    final_url: str  # after redirects
    status: int
    media_type: str  # "text/html", lower case, without parameters
    charset: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def address_refusal(address: str) -> str:
    """Why the policy refuses to connect to `address` without allow_private; "" if it is public."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in _METADATA_ADDRESSES:
        return "a cloud metadata address"
    if ip.is_unspecified:
        return "not a public address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_private:
        return "a private address"
    if ip.is_multicast or ip.is_reserved or not ip.is_global:
        return "not a public address"
    return ""


def resolve_host(host: str, port: int) -> list[str]:
    """Every address the name resolves to (IPv4 first), as text."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = []
    for family, *_rest, sockaddr in sorted(infos, key=lambda info: info[0] != socket.AF_INET):
        address = str(sockaddr[0])
        if address not in addresses and family in (socket.AF_INET, socket.AF_INET6):
            addresses.append(address)
    return addresses


class Fetcher:
    """GET requests under one policy. `requests` counts the HTTP requests sent."""

    def __init__(self, policy: FetchPolicy, resolver: Resolver = resolve_host) -> None:
        self.policy = policy
        self.resolver = resolver
        self.requests = 0

    def get(
        self, url: str, accept: Iterable[str] = PAGE_TYPES, conditional: dict[str, str] | None = None
    ) -> FetchResult:
        """Fetch `url`, following redirects and retrying 429/5xx; raise FetchError with the reason."""
        accepted = frozenset(accept)
        deadline = time.monotonic() + self.policy.deadline
        attempt = 0
        while True:
            try:
                return self._follow(url, accepted, conditional or {}, deadline)
            except _Retryable as exc:
                attempt += 1
                wait = exc.retry_after if exc.retry_after is not None else 2.0 ** (attempt - 1)
                if attempt > self.policy.retries:
                    raise FetchError(url, f"{exc.reason} (gave up after {attempt} attempts)", exc.status) from None
                if wait > self.policy.max_retry_wait or time.monotonic() + wait >= deadline:
                    raise FetchError(url, f"{exc.reason}; asked to retry after {wait:.0f} s", exc.status) from None
                time.sleep(wait)

    # ----- one attempt: the redirect chain ----------------------------------------------------

    def _follow(self, url: str, accept: frozenset[str], conditional: dict[str, str], deadline: float) -> FetchResult:
        current = url
        for _hop in range(self.policy.max_redirects + 1):
            status, headers, response, connection = self._request(url, current, conditional, deadline)
            try:
                if status in _REDIRECTS and headers.get("location"):
                    current = urljoin(current, headers["location"])
                    continue
                if status == 304:
                    return FetchResult(url, current, 304, "", "", b"", headers)
                if status in _RETRYABLE:
                    raise _Retryable(f"HTTP {status} {response.reason}".strip(), status, _retry_after(headers))
                if status >= 300 or status < 200:
                    raise FetchError(url, f"HTTP {status} {response.reason}".strip(), status)
                media_type, charset = _content_type(headers.get("content-type", ""))
                if media_type and media_type not in accept:
                    raise FetchError(url, f"unsupported content type '{media_type}'", status)
                body = self._read_body(url, response, headers, deadline)
                return FetchResult(url, current, status, media_type, charset, body, headers)
            finally:
                connection.close()
        raise FetchError(url, f"more than {self.policy.max_redirects} redirects")

    def _request(
        self, url: str, current: str, conditional: dict[str, str], deadline: float
    ) -> tuple[int, dict[str, str], http.client.HTTPResponse, http.client.HTTPConnection]:
        parts = urlsplit(current)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            where = "" if current == url else f" (redirected to {current})"
            raise FetchError(url, f"only http and https links can be fetched{where}")
        try:
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError:
            raise FetchError(url, "invalid port in the address") from None
        address = self._checked_address(url, parts.hostname, port, current)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchError(url, f"took longer than the {self.policy.deadline:g} s deadline")
        timeout = min(self.policy.connect_timeout, remaining)
        connection: http.client.HTTPConnection
        if scheme == "https":
            connection = _PinnedHTTPSConnection(parts.hostname, port, address, timeout)
        else:
            connection = _PinnedHTTPConnection(parts.hostname, port, address, timeout)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = {
            "User-Agent": self.policy.user_agent,
            "Accept": "*/*",
            "Accept-Encoding": "gzip",
            "Connection": "close",
            **conditional,
        }
        self.requests += 1
        try:
            connection.request("GET", target, headers=headers)
            if connection.sock is not None:
                connection.sock.settimeout(min(self.policy.read_timeout, max(deadline - time.monotonic(), 0.01)))
            response = connection.getresponse()
        except TimeoutError:
            connection.close()
            raise FetchError(url, self._timeout_reason(deadline)) from None
        except ssl.SSLError as exc:
            connection.close()
            raise FetchError(url, f"TLS failed ({exc.reason or exc})") from None
        except (ConnectionRefusedError, ConnectionResetError) as exc:
            connection.close()
            raise _Retryable(f"connection failed ({exc.strerror or type(exc).__name__})", 0, None) from None
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise FetchError(url, f"connection failed ({type(exc).__name__}: {exc})") from None
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response, connection

    def _checked_address(self, url: str, host: str, port: int, current: str) -> str:
        try:
            addresses = self.resolver(host, port)
        except (OSError, UnicodeError) as exc:
            raise FetchError(url, f"cannot resolve {host} ({getattr(exc, 'strerror', None) or exc})") from None
        if not addresses:
            raise FetchError(url, f"cannot resolve {host}")
        if not self.policy.allow_private and host.lower().rstrip(".") not in self.policy.allow_hosts:
            for address in addresses:
                why = address_refusal(address)
                if why:
                    via = "" if current == url else f" (redirected to {current})"
                    raise RefusedAddress(
                        url,
                        f"refused: {host} resolves to {address}, {why}{via}; links to private networks "
                        "are not fetched here (an operator can allow them: BRIEF_FETCH_ALLOW_PRIVATE=true)",
                    )
        return addresses[0]

    def _read_body(
        self, url: str, response: http.client.HTTPResponse, headers: dict[str, str], deadline: float
    ) -> bytes:
        cap = self.policy.max_bytes
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise FetchError(url, f"too large ({_size(int(declared))}; the limit is {_size(cap)})")
        encoding = headers.get("content-encoding", "").strip().lower()
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding in ("gzip", "x-gzip") else None
        if encoding and encoding not in ("gzip", "x-gzip", "identity"):
            raise FetchError(url, f"unsupported content encoding '{encoding}'")
        parts: list[bytes] = []
        size = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise FetchError(url, f"took longer than the {self.policy.deadline:g} s deadline")
            sock = getattr(getattr(response, "fp", None), "raw", None)
            _set_timeout(sock, min(self.policy.read_timeout, remaining))
            try:
                piece = response.read1(_READ_SIZE) if hasattr(response, "read1") else response.read(_READ_SIZE)
            except TimeoutError:
                raise FetchError(url, self._timeout_reason(deadline)) from None
            except (OSError, http.client.HTTPException) as exc:
                raise FetchError(url, f"the connection broke while reading ({type(exc).__name__})") from None
            if not piece:
                break
            if inflater is not None:
                try:
                    piece = inflater.decompress(piece, cap + 1 - size)
                except zlib.error:
                    raise FetchError(url, "damaged gzip body") from None
            size += len(piece)
            if size > cap:
                raise FetchError(url, f"larger than the {_size(cap)} limit; stopped reading")
            parts.append(piece)
        return b"".join(parts)

    def _timeout_reason(self, deadline: float) -> str:
        if time.monotonic() >= deadline - 0.05:
            return f"took longer than the {self.policy.deadline:g} s deadline"
        return f"no answer within the {self.policy.read_timeout:g} s read timeout"


class _Retryable(Exception):
    def __init__(self, reason: str, status: int, retry_after: float | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked, whatever the name resolves to now."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to the checked address, with the certificate checked against the host name."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def _set_timeout(raw: object, seconds: float) -> None:
    sock = getattr(raw, "_sock", None)
    if isinstance(sock, socket.socket):
        sock.settimeout(max(seconds, 0.01))


def _size(count: int) -> str:
    return f"{count / 1_000_000:g} MB" if count >= 1_000_000 else f"{count / 1000:g} kB"


def _content_type(value: str) -> tuple[str, str]:
    media_type, _, params = value.partition(";")
    charset = ""
    for param in params.split(";"):
        key, _, val = param.partition("=")
        if key.strip().lower() == "charset":
            charset = val.strip().strip("\"'").lower()
    return media_type.strip().lower(), charset


def _retry_after(headers: dict[str, str]) -> float | None:
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def decode_body(result: FetchResult) -> str:
    """A text body as str: the declared charset, else UTF-8, else Latin-1 (never fails)."""
    body = result.body
    for charset in (result.charset, "utf-8"):
        if charset:
            try:
                return body.decode(charset)
            except (LookupError, UnicodeDecodeError):
                continue
    return body.decode("latin-1")


class RobotsRules:
    """robots.txt of each host, read once per instance, for the pages of feeds."""

    def __init__(self, fetcher: Fetcher) -> None:
        self.fetcher = fetcher
        self._parsers: dict[str, RobotFileParser | bool] = {}

    def allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._parsers:
            self._parsers[origin] = self._read(f"{origin}/robots.txt")
        rules = self._parsers[origin]
        if isinstance(rules, bool):
            return rules
        return rules.can_fetch(self.fetcher.policy.user_agent, url)

    def _read(self, robots_url: str) -> RobotFileParser | bool:
        # RFC 9309: a missing robots.txt (4xx) allows everything; an unreachable one, nothing.
        try:
            result = self.fetcher.get(robots_url, accept=("text/plain", "text/html"))
        except FetchError as exc:
            return 400 <= exc.status < 500
        parser = RobotFileParser()
        parser.parse(decode_body(result).splitlines())
        return parser
