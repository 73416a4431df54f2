"""The guarded HTTP client against a real server on 127.0.0.1: timeouts, caps, redirects,
content types, retries, robots.txt, and the refusal of private addresses."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from web_support import CANONICAL, WebServer, web_server

from brief.settings import DEFAULT_USER_AGENT, Settings
from brief.web.fetch import (
    FEED_TYPES,
    Fetcher,
    FetchError,
    FetchPolicy,
    RefusedAddress,
    RobotsRules,
    address_refusal,
    decode_body,
)
from brief.web.urls import normalize_url

# The CLI's policy: private addresses allowed (the test server is on 127.0.0.1).
CLI = FetchPolicy(allow_private=True, retries=2)


@pytest.fixture(scope="module")
def server() -> Iterator[WebServer]:
    with web_server() as running:
        yield running


def test_article_is_fetched_with_a_descriptive_user_agent(server: WebServer) -> None:
    result = Fetcher(CLI).get(server.url("/article.html"))
    assert (result.status, result.media_type, result.charset) == (200, "text/html", "utf-8")
    assert CANONICAL in decode_body(result)
    assert server.headers["/article.html"]["user-agent"] == DEFAULT_USER_AGENT
    assert DEFAULT_USER_AGENT.startswith("brief/")


def test_redirect_is_followed_and_the_final_address_kept(server: WebServer) -> None:
    result = Fetcher(CLI).get(server.url("/old-article"))
    assert result.status == 200
    assert result.final_url == server.url("/article.html")


def test_redirect_limit(server: WebServer) -> None:
    fetcher = Fetcher(CLI.with_changes(max_redirects=3))
    with pytest.raises(FetchError, match="more than 3 redirects"):
        fetcher.get(server.url("/loop"))
    assert fetcher.requests == 4  # the first request and three redirects, no more


def test_not_found_is_one_clear_line(server: WebServer) -> None:
    with pytest.raises(FetchError) as info:
        Fetcher(CLI).get(server.url("/missing"))
    assert str(info.value) == f"{server.url('/missing')}: HTTP 404 Not Found"
    assert info.value.status == 404


def test_wrong_content_type_is_refused_before_the_body(server: WebServer) -> None:
    with pytest.raises(FetchError, match="unsupported content type 'image/png'"):
        Fetcher(CLI).get(server.url("/image.png"))
    # A page is not a feed either.
    with pytest.raises(FetchError, match="unsupported content type 'text/html'"):
        Fetcher(CLI).get(server.url("/feed-as-html"), accept=FEED_TYPES)


def test_slow_server_trips_the_read_timeout(server: WebServer) -> None:
    # The server waits 120 s; a 1 s read timeout must end the wait long before that.
    fetcher = Fetcher(CLI.with_changes(read_timeout=1.0, retries=0))
    started = time.monotonic()
    with pytest.raises(FetchError, match="read timeout"):
        fetcher.get(server.url("/slow.html"))
    assert time.monotonic() - started < 60


def test_total_deadline_bounds_a_fetch(server: WebServer) -> None:
    fetcher = Fetcher(CLI.with_changes(read_timeout=100.0, deadline=1.5, retries=0))
    started = time.monotonic()
    with pytest.raises(FetchError, match="deadline"):
        fetcher.get(server.url("/slow.html"))
    assert time.monotonic() - started < 60


def test_endless_body_stops_at_the_byte_cap(server: WebServer) -> None:
    fetcher = Fetcher(CLI.with_changes(max_bytes=200_000))
    with pytest.raises(FetchError, match="larger than the 200 kB limit; stopped reading"):
        fetcher.get(server.url("/endless.html"))


def test_gzip_body_is_inflated(server: WebServer) -> None:
    result = Fetcher(CLI).get(server.url("/gzip.html"))
    assert CANONICAL in decode_body(result)
    assert server.headers["/gzip.html"]["accept-encoding"] == "gzip"


def test_503_is_retried_after_retry_after(server: WebServer) -> None:
    result = Fetcher(CLI).get(server.url("/flaky.html"))
    assert result.status == 200
    assert server.counts["/flaky.html"] == 2


def test_429_with_a_long_retry_after_gives_up_at_once(server: WebServer) -> None:
    started = time.monotonic()
    with pytest.raises(FetchError, match="HTTP 429.*retry after 3600 s"):
        Fetcher(CLI).get(server.url("/throttled.html"))
    assert time.monotonic() - started < 30
    assert server.counts["/throttled.html"] == 1


def test_only_http_and_https(server: WebServer) -> None:
    for url in ("ftp://127.0.0.1/file.txt", "file:///etc/passwd", "gopher://127.0.0.1:70/"):
        with pytest.raises(FetchError, match="only http and https"):
            Fetcher(CLI).get(url)


def test_app_policy_refuses_loopback(server: WebServer) -> None:
    fetcher = Fetcher(FetchPolicy())  # the app's default
    with pytest.raises(RefusedAddress) as info:
        fetcher.get(server.url("/article.html"))
    assert "127.0.0.1, a loopback address" in info.value.reason
    assert "BRIEF_FETCH_ALLOW_PRIVATE" in info.value.reason
    assert fetcher.requests == 0  # refused before any connection


def test_redirect_to_loopback_is_refused_on_the_hop(server: WebServer) -> None:
    # "localhost" is allowed by name (an operator's exemption); its redirect to 127.0.0.1 is not.
    port = server.base.rsplit(":", 1)[1]
    fetcher = Fetcher(FetchPolicy(allow_hosts=frozenset({"localhost"})))
    before = server.counts["/article.html"]
    with pytest.raises(RefusedAddress, match=r"redirected to http://127\.0\.0\.1:\d+/article\.html"):
        fetcher.get(f"http://localhost:{port}/to-loopback")
    assert server.counts["/to-loopback"] >= 1
    assert server.counts["/article.html"] == before  # the redirect target was never requested


def test_names_are_checked_after_resolution() -> None:
    """A public-looking name that resolves to a private address is refused (DNS rebinding)."""
    fetcher = Fetcher(FetchPolicy(), resolver=lambda host, port: ["10.1.2.3"])
    with pytest.raises(RefusedAddress, match="news.example resolves to 10.1.2.3, a private address"):
        fetcher.get("http://news.example/article.html")
    mixed = Fetcher(FetchPolicy(), resolver=lambda host, port: ["93.184.215.14", "127.0.0.1"])
    with pytest.raises(RefusedAddress, match="loopback"):
        mixed.get("http://news.example/article.html")


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "a loopback address"),
        ("::1", "a loopback address"),
        ("::ffff:127.0.0.1", "a loopback address"),
        ("10.0.0.8", "a private address"),
        ("172.16.5.4", "a private address"),
        ("192.168.1.1", "a private address"),
        ("fd12:3456::1", "a private address"),
        ("169.254.169.254", "a cloud metadata address"),
        ("fd00:ec2::254", "a cloud metadata address"),
        ("100.100.100.200", "a cloud metadata address"),
        ("169.254.10.10", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("0.0.0.0", "not a public address"),
        ("100.64.0.1", "not a public address"),
        ("224.0.0.1", "not a public address"),
        ("93.184.215.14", ""),
        ("2606:4700::1111", ""),
    ],
)
def test_address_refusal(address: str, reason: str) -> None:
    assert address_refusal(address) == reason


def test_policy_from_settings(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(home=tmp_path, fetch_read_timeout=3, fetch_max_bytes=5000, fetch_allow_hosts=["Wiki.Corp."])
    app = FetchPolicy.from_settings(settings)
    assert (app.read_timeout, app.max_bytes, app.allow_private) == (3, 5000, False)
    assert app.allow_hosts == frozenset({"wiki.corp"})
    assert FetchPolicy.from_settings(settings, allow_private=True).allow_private


def test_robots_txt(server: WebServer) -> None:
    rules = RobotsRules(Fetcher(CLI))
    assert rules.allowed(server.url("/article.html"))
    assert not rules.allowed(server.url("/private/secret.html"))
    assert rules.allowed(server.url("/notes.txt"))
    assert server.counts["/robots.txt"] >= 1


def test_normalize_url() -> None:
    assert (
        normalize_url("HTTPS://News.Example:443/a/b?utm_source=x&id=3&fbclid=9#top") == "https://news.example/a/b?id=3"
    )
    assert normalize_url("/story", base="http://news.example:8080/feed.xml") == "http://news.example:8080/story"
    assert normalize_url("javascript:alert(1)") == ""
    assert normalize_url("http://news.example") == "http://news.example/"
