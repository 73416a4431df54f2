"""The app as a reader meets it, in headless Chromium: copy as Markdown, a citation opened in its
article, filter chips and an empty scope, delete with confirmation (cancel, confirm, undo), the
trash button, and the writer choice shown only when more than one writer is configured.

One app over a fixture library (the seed corpus, the hostile XSS article, two fixture articles),
started through the real `brief.ui.app.launch(..., block=False)` on a free loopback port.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ARTICLES, FIXTURES, REPO, SEED, free_port, make_library
from playwright.sync_api import Browser, Page, expect
from test_llm_backends import FaultServer, openai_settings
from ui_support import (  # noqa: F401 - browser is a fixture
    DECLINE_TEXT,
    MODEL_WORK_MS,
    UI_MS,
    VIEWPORT,
    RunningApp,
    answer_text,
    ask,
    assert_no_xss,
    browser,
    clean_environment,
    normalize,
    open_app,
    open_tab,
    running_app,
    strip_markers,
)

from brief.settings import Settings
from brief.types import Answer, Citation, Sentence

pytestmark = pytest.mark.browser

XSS = FIXTURES / "hostile" / "xss.md"
SEED_TITLE = "New US sanctions will push Pakistan toward China"
SEED_OUTLET = "afgazad.com"
XSS_TITLE = "Harlow Bridge Reopens to Traffic After Lengthy Repairs"
CHINA_QUESTION = "Why might the new sanctions push Pakistan toward China?"
# An HTML tag in Markdown: "<" not escaped by a backslash (a "\<" is shown as a literal "<").
HTML_TAG = re.compile(r"(?<!\\)</?[A-Za-z][^<>]*>")
EXTRA = """---
title: Orrin Valley Library Extends Weekend Hours
author: Petra Lind
source: Orrin Valley Courier
date: 2025-03-02
---

The Orrin Valley public library will open on Sundays from April, the town council said on
Monday. Volunteers will staff the reading room from noon until five o'clock.
"""
EXTRA_TITLE = "Orrin Valley Library Extends Weekend Hours"
DEADLINE = 180.0  # seconds the stalled model waits at most


@pytest.fixture(scope="module")
def product_library(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Iterator[Any]:
    with pytest.MonkeyPatch.context() as mp:
        clean_environment(mp)
        home = tmp_path_factory.mktemp("ui-product")
        extra = home / "orrin-valley-library.md"
        extra.write_text(EXTRA, encoding="utf-8")
        library = make_library(Settings(home=home / "home"), embedder)
        articles = [ARTICLES / "port-strike-ends.md", ARTICLES / "central-bank-rate-hike.md"]
        report = library.ingest([REPO / "corpus", XSS, extra, *articles])
        assert report.ok, report.errors
        yield library


@pytest.fixture(scope="module")
def app(product_library: Any) -> Iterator[RunningApp]:
    with pytest.MonkeyPatch.context() as mp:
        clean_environment(mp)
        mp.chdir(REPO)
        with running_app(product_library, free_port()) as running:
            yield running


@pytest.fixture
def page(browser: Browser, app: RunningApp) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app.url.rstrip("/"))
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    open_app(page, app.url)
    yield page
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


# ----- copy ---------------------------------------------------------------------------------------


def test_copy_puts_markdown_with_markers_and_sources_on_the_clipboard(page: Page) -> None:
    message = ask(page, CHINA_QUESTION)
    shown = answer_text(message)
    copy = message.locator(".brief-copy")
    expect(copy).to_be_visible()
    copy.click()
    expect(copy).to_have_text("Copied", timeout=UI_MS)
    clipboard = page.evaluate("() => navigator.clipboard.readText()")
    assert clipboard == page.evaluate("() => window.__briefCopied")

    assert not HTML_TAG.search(clipboard), clipboard
    assert "brief-cite" not in clipboard and "&lt;" not in clipboard and "&quot;" not in clipboard
    body, _, sources = clipboard.partition("\n\nSources:\n")
    assert re.search(r"\[\d+\]", body), body
    assert strip_markers(body) == shown  # the same sentences the page shows, markers aside
    # Every marker in the text has its entry in the sources list, with title, outlet and date.
    for n in sorted(set(re.findall(r"\[(\d+)\]", body))):
        entry = re.search(rf"^\[{n}\] (.+)$", sources, re.M)
        assert entry, (n, sources)
    assert f"{SEED_TITLE}, {SEED_OUTLET}, 2024-12-29" in sources
    quotes = [line[2:] for line in sources.splitlines() if line.startswith("> ")]
    assert quotes and all(q.strip("“”") for q in quotes), clipboard
    seed = normalize(SEED.read_text(encoding="utf-8"))
    assert any(q.strip("“”").split(" … ")[0][:60] in seed for q in quotes), quotes


def test_copied_markdown_escapes_markup_from_articles() -> None:
    from brief.ui import render

    citation = Citation(1, "d1", "d1:0000", "<b>Bold</b> title", "Outlet", "2025-01-01", "javascript:x", "<img src=x>")
    answer = Answer(
        "q",
        "It said <script>alert(1)</script>.",
        False,
        "extractive",
        [citation],
        [Sentence("It said <script>alert(1)</script>.", [1], True)],
        [],
        {},
    )
    text = render.answer_markdown(answer)
    assert not HTML_TAG.search(text), text
    assert "It said \\<script\\>alert(1)\\</script\\>.[1]" in text
    assert "[1] \\<b\\>Bold\\</b\\> title, Outlet, 2025-01-01\n" in text  # the javascript: link is dropped
    assert "> \\<img src=x\\>" in text


# ----- citation context ---------------------------------------------------------------------------


def test_citation_opens_the_passage_highlighted_in_its_article(page: Page) -> None:
    message = ask(page, CHINA_QUESTION)
    reader = page.locator("#brief-reader")
    expect(reader.locator(".brief-reader")).to_have_count(0)

    first = message.locator("details.brief-cite").first
    quote = normalize(first.locator(".brief-quote").text_content() or "").strip("“”")
    first.locator("summary").click()
    expect(first.locator(".brief-passage")).to_be_visible()  # the quote still opens in place
    view = reader.locator(".brief-reader")
    expect(view.locator("h3")).to_have_text(SEED_TITLE, timeout=MODEL_WORK_MS)
    meta = view.locator(".brief-reader-meta")
    expect(meta).to_contain_text(SEED_OUTLET)
    expect(meta).to_contain_text("2024-12-29")
    mark = view.locator("mark").first
    expect(mark).to_be_visible()
    expect(mark).to_be_in_viewport()

    seed = normalize(re.sub(r"\*+", "", SEED.read_text(encoding="utf-8")))  # the cleaned text drops *emphasis*
    # A citation may quote sentences from more than one place of the passage: one mark each.
    marks = [m for m in (normalize(t) for t in view.locator("mark").all_text_contents()) if m]
    assert marks and all(m in seed for m in marks), marks
    pieces = quote.split(" … ")
    if pieces[0] == SEED_TITLE:  # an answer may quote the article's headline: the reader's heading
        pieces = pieces[1:]
    if pieces:
        assert any(pieces[0] in m or m in quote for m in marks), (quote, marks)
    else:  # the headline alone: the cited passage is marked whole, a mark per paragraph
        assert sum(len(m) for m in marks) > 500, marks
    article = normalize(view.locator(".brief-reader-body").text_content() or "")
    # The whole article, not only the passage: its text around the marks is there.
    assert len(article) > 4 * len(" ".join(marks)) and all(m in article for m in marks)
    paragraphs = [normalize(p) for p in view.locator(".brief-reader-body p").all_text_contents()]
    assert len(paragraphs) > 3 and all(p in seed for p in paragraphs if p)

    # A passage in the sources panel opens the same way, and ✕ closes the article.
    page.locator("#brief-reader .brief-reader-close").click()
    expect(view).to_have_count(0, timeout=UI_MS)
    page.locator("#brief-sources li.brief-read").first.click()
    expect(reader.locator(".brief-reader h3")).to_have_text(SEED_TITLE, timeout=MODEL_WORK_MS)
    expect(reader.locator("mark").first).to_be_visible()


def test_the_reader_shows_hostile_article_text_as_text(page: Page) -> None:
    message = ask(page, "What raw text did the broken widget display in place of the headline?")
    message.locator("details.brief-cite summary").first.click()
    view = page.locator("#brief-reader .brief-reader")
    expect(view.locator("h3")).to_have_text(XSS_TITLE, timeout=MODEL_WORK_MS)
    expect(view.locator(".brief-reader-body")).to_contain_text("<script>window.__xss=1</script>")
    assert view.locator("script").count() == 0
    assert_no_xss(page, "reader view")


def test_sources_group_citations_by_article_and_trash_clears_them(page: Page) -> None:
    message = ask(page, CHINA_QUESTION)
    cited = message.locator("details.brief-cite summary").all_text_contents()
    assert len(cited) >= 2, cited
    panel = page.locator("#brief-sources")
    headings = panel.locator(".brief-source h4").all_text_contents()
    assert len(headings) == len(set(headings)), f"an article heading repeats: {headings}"
    assert SEED_TITLE in headings
    seed_group = panel.locator(".brief-source").filter(has=page.locator("h4", has_text=SEED_TITLE))
    numbers = {f"[{n}]" for n in re.findall(r"\[(\d+)\]", " ".join(cited))}
    assert {normalize(t) for t in seed_group.locator(".brief-n").all_text_contents()} == numbers

    page.locator("#brief-chat").get_by_role("button", name=re.compile("clear", re.I)).click()
    expect(page.locator("#brief-chat [data-testid='bot']")).to_have_count(0, timeout=UI_MS)
    expect(panel).to_contain_text("Sources of the last answer appear here", timeout=UI_MS)
    expect(panel.locator(".brief-source")).to_have_count(0)


# ----- filters ------------------------------------------------------------------------------------


def _choose(page: Page, picker_id: str, option: str) -> None:
    page.locator(f"#{picker_id} input").click()
    page.get_by_role("option", name=re.compile(re.escape(option))).click()
    page.keyboard.press("Escape")


def test_filter_chips_show_active_filters_and_an_empty_scope_says_so(page: Page, product_library: Any) -> None:
    chips = page.locator("#brief-chat-chips")
    total = len(product_library.documents())
    expect(chips).to_have_text(f"All {total} documents", timeout=UI_MS)

    accordion = page.locator("#brief-filters")
    accordion.get_by_text("Filters", exact=True).click()
    _choose(page, "brief-chat-outlets", SEED_OUTLET)
    expect(chips.locator(".brief-chip", has_text=f"Outlet: {SEED_OUTLET}")).to_be_visible(timeout=UI_MS)
    expect(chips).to_contain_text(f"1 of {total} documents")
    # Closing the panel leaves the chips in view.
    accordion.get_by_text("Filters", exact=True).click()
    expect(page.locator("#brief-chat-since")).to_be_hidden(timeout=UI_MS)
    expect(chips.locator(".brief-chip", has_text=f"Outlet: {SEED_OUTLET}")).to_be_visible()

    accordion.get_by_text("Filters", exact=True).click()
    page.locator("#brief-chat-since textarea").fill("2030-01-01")
    expect(chips.locator(".brief-chip", has_text="From 2030-01-01")).to_be_visible(timeout=UI_MS)
    expect(chips.locator(".brief-chip-none")).to_have_text("No documents match these filters")

    page.locator("#brief-question textarea").fill(CHINA_QUESTION)
    page.locator("#brief-ask").click()
    said = page.locator("#brief-chat .brief-empty-scope")
    expect(said).to_contain_text("No documents match these filters", timeout=MODEL_WORK_MS)
    expect(said).to_contain_text("2030-01-01")
    expect(page.locator("#brief-chat")).not_to_contain_text(DECLINE_TEXT)
    expect(page.locator("#brief-chat .brief-footer")).to_have_count(0)

    page.locator("#brief-chat-clear-filters").click()
    expect(chips).to_have_text(f"All {total} documents", timeout=UI_MS)
    answer = ask(page, CHINA_QUESTION)
    assert "Pakistan" in answer_text(answer)


def test_brief_with_an_empty_scope_says_so(page: Page) -> None:
    open_tab(page, "Brief")
    page.locator("#brief-brief-filters").get_by_text("Filters", exact=True).click()
    page.locator("#brief-brief-until textarea").fill("1990-01-01")
    expect(page.locator("#brief-brief-chips")).to_contain_text("No documents match these filters", timeout=UI_MS)
    page.locator("#brief-topic textarea").fill("Harlow Bridge")
    page.locator("#brief-generate").click()
    expect(page.locator("#brief-view")).to_contain_text("No documents match these filters", timeout=MODEL_WORK_MS)
    expect(page.locator("#brief-view")).not_to_contain_text("Bottom line")


# ----- delete -------------------------------------------------------------------------------------


def _pick_for_delete(page: Page, title: str) -> None:
    picker = page.get_by_label("Document to delete")
    picker.click()
    page.get_by_role("option", name=re.compile(re.escape(title))).click()
    expect(picker).to_have_value(re.compile(re.escape(title)))


def test_delete_asks_first_cancel_keeps_and_undo_restores(page: Page, product_library: Any) -> None:
    open_tab(page, "Library")
    docs = page.locator("#brief-docs")
    expect(docs).to_contain_text(EXTRA_TITLE, timeout=UI_MS)
    count = len(product_library.documents())

    _pick_for_delete(page, EXTRA_TITLE)
    page.locator("#brief-delete").click()
    question = page.locator(".brief-confirm")
    expect(question).to_be_visible(timeout=UI_MS)
    expect(question).to_contain_text(EXTRA_TITLE)
    expect(question).to_contain_text("Orrin Valley Courier")
    expect(question).to_contain_text("passages")
    assert len(product_library.documents()) == count  # asking removed nothing

    page.locator("#brief-delete-cancel").click()
    expect(page.locator("#brief-delete-yes")).to_be_hidden(timeout=UI_MS)
    expect(page.get_by_text("Nothing was deleted.")).to_be_visible()
    expect(docs).to_contain_text(EXTRA_TITLE)
    assert EXTRA_TITLE in {d.title for d in product_library.documents()}

    _pick_for_delete(page, EXTRA_TITLE)
    page.locator("#brief-delete").click()
    page.locator("#brief-delete-yes").click()
    expect(page.get_by_text(f"Deleted {EXTRA_TITLE}.")).to_be_visible(timeout=MODEL_WORK_MS)
    expect(docs).not_to_contain_text(EXTRA_TITLE, timeout=UI_MS)
    assert EXTRA_TITLE not in {d.title for d in product_library.documents()}

    page.locator("#brief-undo").click()
    expect(page.get_by_text("Restored.")).to_be_visible(timeout=MODEL_WORK_MS)
    expect(docs).to_contain_text(EXTRA_TITLE, timeout=UI_MS)
    assert EXTRA_TITLE in {d.title for d in product_library.documents()}
    assert len(product_library.documents()) == count
    expect(page.locator("#brief-undo")).to_be_hidden()


# ----- quiet details ------------------------------------------------------------------------------


def test_one_writer_means_no_writer_choice_and_no_store_details_in_view(page: Page) -> None:
    # Only the extractive writer is configured here: no radio, on any tab.
    expect(page.locator("#brief-writer")).to_be_hidden()
    expect(page.get_by_text("Writer", exact=True)).to_have_count(0)
    message = ask(page, CHINA_QUESTION)
    footer = message.locator(".brief-footer")
    expect(footer).to_contain_text("answered by extractive")
    expect(footer.locator(".brief-how")).to_be_hidden()  # behind the (i) until asked
    footer.locator("summary").click()
    expect(footer.locator(".brief-how")).to_be_visible()
    expect(footer.locator(".brief-how")).to_have_text(re.compile(r"^answered by extractive · \d+ ms$"))

    open_tab(page, "Library")
    stats = page.locator("#brief-stats")
    expect(stats).to_contain_text("documents", timeout=UI_MS)
    expect(stats).not_to_contain_text("embedder")
    expect(stats).not_to_contain_text("store")
    expect(page.get_by_text(re.compile("chroma|/home/", re.I)).first).to_be_hidden()


def test_two_writers_are_offered_in_settings(browser: Browser, tmp_path: Path, embedder: Any) -> None:
    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF")  # only its presence matters: nothing is asked of it here
    library = make_library(Settings(home=tmp_path / "home", local_model_path=str(model)), embedder)
    with running_app(library, free_port()) as two:
        context = browser.new_context(viewport=VIEWPORT)
        try:
            page = context.new_page()
            open_app(page, two.url)
            page.get_by_text("Settings", exact=True).first.click()
            writer = page.locator("#brief-writer")
            expect(writer).to_be_visible(timeout=UI_MS)
            expect(writer.get_by_role("radio")).to_have_count(2)
            expect(writer.get_by_label("Local model")).to_be_checked()
            expect(writer.get_by_label(re.compile("extractive"))).not_to_be_checked()
        finally:
            context.close()


# ----- a model that takes its time ----------------------------------------------------------------


def test_a_slow_model_shows_thinking_with_elapsed_seconds(browser: Browser, tmp_path: Path, embedder: Any) -> None:
    release = threading.Event()
    model = FaultServer(lambda server, conn, seen: release.wait(DEADLINE), max_requests=5, max_wait=DEADLINE)
    library = make_library(Settings(home=tmp_path / "home", **openai_settings(model.base_url)), embedder)
    report = library.ingest([ARTICLES / "port-strike-ends.md"])
    assert report.ok, report.errors
    context = browser.new_context(viewport=VIEWPORT)
    try:
        with running_app(library, free_port()) as slow:
            page = context.new_page()
            open_app(page, slow.url)
            page.locator("#brief-question textarea").fill("How long did the Port Calloway strike last?")
            page.locator("#brief-ask").click()
            thinking = page.locator("#brief-chat .brief-thinking")
            expect(thinking).to_have_text(re.compile(r"^thinking… \d+ s$"), timeout=UI_MS)
            # The count goes on while the model has said nothing yet.
            expect(thinking).to_have_text(re.compile(r"^thinking… ([2-9]|\d\d+) s$"), timeout=UI_MS)
            assert len(model.seen) >= 1  # the question did reach the model
            release.set()  # the model gives up without a word: the answer falls back and is shown
            expect(page.locator("#brief-chat .brief-footer")).to_have_count(1, timeout=MODEL_WORK_MS)
            expect(thinking).to_have_count(0)
    finally:
        release.set()
        context.close()
        model.stopping.set()
