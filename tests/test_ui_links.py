"""The Library tab's "Add a link" and news feeds, driven in headless Chromium, against a real
web server on 127.0.0.1; and uploads kept by content hash (two readers' report.md)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import free_port, make_library
from playwright.sync_api import Browser, Page, expect, sync_playwright
from ui_support import MODEL_WORK_MS, UI_MS, VIEWPORT, RunningApp, launch_chromium, open_app, open_tab, running_app
from web_support import ARTICLE_TITLE, WebServer, web_server

from brief.settings import Settings


@pytest.fixture(scope="module")
def server() -> Iterator[WebServer]:
    with web_server() as running:
        yield running


@pytest.fixture(scope="module")
def link_library(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Iterator[Any]:
    """An empty library whose app may fetch "localhost" by name (an operator's exemption), and
    nothing else that resolves to a private address: the default policy."""
    with pytest.MonkeyPatch.context() as mp:
        for name in [n for n in __import__("os").environ if n.startswith("BRIEF_")]:
            mp.delenv(name)
        mp.chdir(tmp_path_factory.mktemp("ui-links-cwd"))
        settings = Settings(home=tmp_path_factory.mktemp("ui-links") / "home", fetch_allow_hosts=["localhost"])
        yield make_library(settings, embedder)


@pytest.fixture(scope="module")
def app(link_library: Any) -> Iterator[RunningApp]:
    with running_app(link_library, free_port()) as running:
        yield running


@pytest.fixture
def page(app: RunningApp) -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser: Browser = launch_chromium(playwright)
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        open_app(page, app.url)
        yield page
        context.close()
        browser.close()
        assert not errors, f"uncaught errors in the page: {errors}"


pytestmark = pytest.mark.browser


def test_add_links_and_refuse_private_addresses(page: Page, server: WebServer, link_library: Any) -> None:
    port = server.base.rsplit(":", 1)[1]
    allowed = f"http://localhost:{port}/article.html"
    private = f"http://127.0.0.1:{port}/notes.txt"
    redirect = f"http://localhost:{port}/to-loopback"
    requests_before = server.counts["/notes.txt"]

    open_tab(page, "Library")
    page.locator("#brief-links textarea").fill(f"{allowed}\n{private}\n{redirect}\n")
    page.locator("#brief-add-links").click()

    rows = page.locator("#brief-link-results [role='row']")
    added = rows.filter(has_text=allowed)
    expect(added).to_contain_text("added", timeout=MODEL_WORK_MS)
    refused = rows.filter(has_text=private)
    expect(refused).to_contain_text("refused")
    expect(refused).to_contain_text("127.0.0.1, a loopback address")
    expect(refused).to_contain_text("BRIEF_FETCH_ALLOW_PRIVATE")
    hop = rows.filter(has_text="/to-loopback")
    expect(hop).to_contain_text("refused")
    expect(hop).to_contain_text(re.compile(r"redirected to http://127\.0\.0\.1:\d+/article\.html"))
    expect(page.locator("#brief-docs")).to_contain_text(ARTICLE_TITLE, timeout=UI_MS)

    assert server.counts["/notes.txt"] == requests_before  # the private address was never contacted
    (doc,) = link_library.documents()
    assert doc.title == ARTICLE_TITLE


def test_check_a_feed_now(page: Page, server: WebServer, link_library: Any) -> None:
    port = server.base.rsplit(":", 1)[1]
    feed = f"http://localhost:{port}/feed.xml"
    open_tab(page, "Library")
    page.get_by_text("News feeds").click()
    page.locator("#brief-feed-url textarea, #brief-feed-url input").first.fill(feed)
    page.locator("#brief-check-feeds").click()

    rows = page.locator("#brief-link-results [role='row']")
    expect(rows.filter(has_text=feed)).to_contain_text("2 new", timeout=MODEL_WORK_MS)
    expect(rows.filter(has_text="/notes.txt")).to_contain_text("added")
    expect(page.locator("#brief-feeds")).to_contain_text("Harbour News", timeout=UI_MS)
    expect(page.locator("#brief-docs")).to_contain_text("Island Ferry Timetable Changes From April", timeout=UI_MS)

    # Checking every known feed again: the feed has not changed, one request, nothing new.
    before = server.counts["/feed.xml"]
    page.locator("#brief-feed-url textarea, #brief-feed-url input").first.fill("")
    page.locator("#brief-check-feeds").click()
    expect(rows.filter(has_text=feed)).to_contain_text("unchanged", timeout=MODEL_WORK_MS)
    assert server.counts["/feed.xml"] == before + 1


# ----- uploads by content hash (no browser needed: the handler is the whole story) ----------------


def test_two_uploads_named_alike_stay_two_documents(tmp_path: Path, settings_factory: Any, embedder: Any) -> None:
    from brief.ui.app import BriefApp

    library = make_library(settings_factory(), embedder)
    app = BriefApp(library)
    first, second = tmp_path / "alice" / "report.md", tmp_path / "bob" / "report.md"
    for path, place in ((first, "Norrby"), (second, "Vesterhamn")):
        path.parent.mkdir()
        path.write_text(
            f"# {place} Opens a New Library\n\nThe town of {place} opened a new public library on Saturday, "
            f"with room for 40,000 books and a reading hall overlooking the harbour.\n",
            encoding="utf-8",
        )

    def no_progress(*_args: Any, **_kwargs: Any) -> None:
        return None

    rows, *_ = app.upload([str(first)], progress=no_progress)
    assert [row[:2] for row in rows] == [["report.md", "added"]]
    rows, *_ = app.upload([str(second)], progress=no_progress)
    assert [row[:2] for row in rows] == [["report.md", "added"]]  # not "updated": nothing replaced
    titles = sorted(d.title for d in library.documents())
    assert titles == ["Norrby Opens a New Library", "Vesterhamn Opens a New Library"]

    # The same bytes again: the same stored path, unchanged, still two documents.
    again = tmp_path / "carol" / "report.md"
    again.parent.mkdir()
    again.write_bytes(first.read_bytes())
    rows, *_ = app.upload([str(again)], progress=no_progress)
    assert [row[:2] for row in rows] == [["report.md", "unchanged"]]
    assert len(library.documents()) == 2
    stored = sorted(p.relative_to(app.uploads) for p in app.uploads.rglob("*") if p.is_file())
    assert len(stored) == 2 and all(p.name == "report.md" for p in stored)
