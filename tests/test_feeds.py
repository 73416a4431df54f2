"""News feeds: parsing RSS and Atom, and `brief ingest --feed/--feeds` against a real server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import run_cli
from test_links import chunk_texts, docs_of
from web_support import HIDDEN_MARKERS, HOSTILE_ENTRY_TEXT, WebServer, web_server

from brief.web.feeds import FeedError, FeedState, parse_feed


@pytest.fixture(scope="module")
def server() -> Iterator[WebServer]:
    with web_server() as running:
        yield running


def files_under(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file with its size and modification time: what a step wrote, if anything."""
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()
    }


# ----- parsing -----------------------------------------------------------------------------------


def test_rss_items() -> None:
    data = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>
    <item><title>One</title><link>/one.html?utm_source=rss</link><guid isPermaLink="false">a-1</guid>
      <pubDate>Tue, 04 Mar 2025 09:00:00 GMT</pubDate><description>First</description></item>
    <item><title>Two</title><guid>https://wire.example/two</guid></item>
    <item><title>Three</title><guid>not-a-link</guid><description>&lt;p&gt;Only text&lt;/p&gt;</description></item>
    </channel></rss>"""
    feed = parse_feed(data, "https://wire.example/feed.xml")
    assert feed.title == "Wire"
    one, two, three = feed.entries
    assert (one.key, one.link, one.published) == (
        "a-1",
        "https://wire.example/one.html",
        "Tue, 04 Mar 2025 09:00:00 GMT",
    )
    assert (two.key, two.link) == ("https://wire.example/two", "https://wire.example/two")
    assert (three.key, three.link, three.content) == ("not-a-link", "", "<p>Only text</p>")


def test_atom_entries() -> None:
    data = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom wire</title>
    <entry><id>urn:1</id><title>One</title><link rel="self" href="/api/1"/><link href="/news/1"/>
      <updated>2025-03-05T10:00:00Z</updated><summary>S</summary>
      <content type="html">&lt;p&gt;C&lt;/p&gt;</content></entry>
    </feed>"""
    feed = parse_feed(data, "https://wire.example/atom.xml")
    (entry,) = feed.entries
    assert (feed.title, entry.key, entry.link, entry.content) == (
        "Atom wire",
        "urn:1",
        "https://wire.example/news/1",
        "<p>C</p>",
    )


def test_entities_are_not_expanded_and_non_feeds_are_refused() -> None:
    bomb = b"""<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">
    <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;">]>
    <rss><channel><item><title>&d;</title><guid>x</guid></item></channel></rss>"""
    (entry,) = parse_feed(bomb, "https://wire.example/feed.xml").entries
    assert "aaaa" not in entry.title
    with pytest.raises(FeedError, match="not a feed"):
        parse_feed(b"<html><body>hello</body></html>", "https://wire.example/")


# ----- polling through the CLI ---------------------------------------------------------------------


def test_feed_poll_then_unchanged_poll_costs_one_request_and_writes_nothing(server: WebServer, tmp_path: Path) -> None:
    home = tmp_path / "home"
    feed = server.url("/feed.xml")
    first = run_cli("ingest", "--feed", feed, home=home, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert f"feed {feed}: 2 entries, 2 new (2 added)" in first.stdout
    titles = sorted(d["title"] for d in docs_of(home, tmp_path))
    assert titles == [
        "Harbour Board Approves New Ferry Terminal for Calloway",
        "Island Ferry Timetable Changes From April",
    ]
    state = FeedState(home / "feeds.json").records[feed]
    assert (state.etag, state.title, sorted(state.seen)) == ('"feed-v1"', "Harbour News", ["entry-1", "entry-2"])

    before, requests = files_under(home), server.total()
    second = run_cli("ingest", "--feed", feed, home=home, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert f"feed {feed}: unchanged since the last check" in second.stdout
    assert server.total() - requests == 1  # the conditional request for the feed, nothing else
    assert server.headers["/feed.xml"]["if-none-match"] == '"feed-v1"'
    assert files_under(home) == before  # not a byte written


def test_feeds_listed_in_brief_toml(server: WebServer, tmp_path: Path) -> None:
    home = tmp_path / "home"
    rss, atom = server.url("/feed.xml"), server.url("/atom.xml")
    (tmp_path / "brief.toml").write_text(f'feeds = ["{rss}", "{atom}"]\n', encoding="utf-8")
    result = run_cli("ingest", "--feeds", "--json", home=home, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    polls = {p["url"]: p for p in json.loads(result.stdout)["feeds"]}
    assert (polls[rss]["added"], polls[rss]["failed"]) == (2, 0)
    assert (polls[atom]["added"], polls[atom]["skipped"]) == (1, 1)
    (skipped,) = [link for link in polls[atom]["links"] if link["status"] == "skipped"]
    assert skipped["url"] == server.url("/private/secret.html")
    assert "robots.txt" in skipped["reason"]
    texts = "\n".join(chunk_texts(home))
    for marker in HIDDEN_MARKERS:
        assert marker not in texts  # the Atom entry's page hides text in six ways

    text = run_cli("ingest", "--feeds", home=home, cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    assert text.stdout.splitlines() == [
        f"feed {rss}: unchanged since the last check",
        f"feed {atom}: unchanged since the last check",
    ]

    (tmp_path / "brief.toml").write_text("", encoding="utf-8")
    empty = run_cli("ingest", "--feeds", home=home, cwd=tmp_path)
    assert empty.returncode == 2
    assert empty.stderr.startswith("error: no feeds are listed")


def test_hostile_feed(server: WebServer, tmp_path: Path) -> None:
    home = tmp_path / "home"
    feed = server.url("/hostile.xml")
    result = run_cli("ingest", "--feed", feed, home=home, cwd=tmp_path)
    assert result.returncode == 1  # one entry's page is missing
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [f"error: {server.url('/missing')}: HTTP 404 Not Found"]
    assert "skipped: javascript:alert(document.cookie): no http(s) link and no text in the entry" in result.stdout
    assert f"feed {feed}: 3 entries, 3 new (1 added, 1 failed, 1 skipped)" in result.stdout
    (doc,) = docs_of(home, tmp_path)
    texts = "\n".join(chunk_texts(home))
    assert HOSTILE_ENTRY_TEXT in texts
    for payload in ("__xss", "onerror", "<script", "<img", "HIDDEN-IN-FEED", "EXPANDED-ENTITY"):
        assert payload not in texts
        assert payload not in json.dumps(doc)

    # The failed entry is retried on the next poll; the others are not taken again.
    missing = server.counts["/missing"]
    again = run_cli("ingest", "--feed", feed, home=home, cwd=tmp_path)
    assert f"feed {feed}: 3 entries, 1 new (1 failed)" in again.stdout
    assert server.counts["/missing"] == missing + 1
    assert len(docs_of(home, tmp_path)) == 1
