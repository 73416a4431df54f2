"""The Gradio app driven in headless Chromium (Debian's /usr/bin/chromium) through Playwright.

One app, started through the real `brief.ui.app.launch(..., block=False)` path on a free
loopback port, serves a fixture library (the seed corpus, a hostile XSS article and two fixture
articles) for the whole module. Screenshots of each tab go to artifacts/test-screenshots/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from conftest import ARTICLES, FIXTURES, REPO, SEED, free_port, make_library
from playwright.sync_api import Browser, Page, expect
from ui_support import (  # noqa: F401 - browser is a fixture
    DECLINE_TEXT,
    MODEL_WORK_MS,
    UI_MS,
    VIEWPORT,
    RunningApp,
    answer_text,
    ask,
    assert_no_xss,
    bot_messages,
    browser,
    clean_environment,
    normalize,
    open_app,
    open_tab,
    passage_parts,
    port_is_open,
    running_app,
    save_screenshot,
    send_question,
    strip_markers,
    user_messages,
    wait_for_answer,
)

from brief.settings import Settings

pytestmark = pytest.mark.browser

# The reviewed screenshots in artifacts/screenshots/ come from tests/ui_screenshots.py; these are
# the tests' own, for looking at a failure.
SCREENSHOTS = REPO / "artifacts" / "test-screenshots"
XSS = FIXTURES / "hostile" / "xss.md"
EXTRA_ARTICLES = ("port-strike-ends.md", "central-bank-rate-hike.md")
SEED_TITLE = "New US sanctions will push Pakistan toward China"
XSS_TITLE = "Harlow Bridge Reopens to Traffic After Lengthy Repairs"
CHINA_QUESTION = "Why might the new sanctions push Pakistan toward China?"

NEW_ARTICLE = """---
title: Zephyr Ferry Line Adds Night Crossings to Marrow Island
author: Tamsin Okoro
source: Marrow Island Herald
date: 2025-02-14
language: en
---

The Zephyr Ferry Line will add three night crossings to Marrow Island from 1 March, the operator
said on Thursday. The new sailings leave the mainland terminal at 22:00, 23:30 and 01:00.

Island businesses had asked for later crossings for two years, saying that restaurant staff and
hospital workers could not get home after evening shifts. The operator said the night boats would
run for a six-month trial.
"""
NEW_TITLE = "Zephyr Ferry Line Adds Night Crossings to Marrow Island"


@pytest.fixture(scope="module")
def ui_library(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Iterator[Any]:
    """The fixture library in its own BRIEF_HOME."""
    with pytest.MonkeyPatch.context() as mp:
        clean_environment(mp)
        settings = Settings(home=tmp_path_factory.mktemp("ui") / "home")
        library = make_library(settings, embedder)
        report = library.ingest([REPO / "corpus", XSS, *(ARTICLES / name for name in EXTRA_ARTICLES)])
        assert report.ok, report.errors
        titles = {d.title for d in library.documents()}
        assert {SEED_TITLE, XSS_TITLE} <= titles, titles
        yield library


@pytest.fixture(scope="module")
def app(ui_library: Any) -> Iterator[RunningApp]:
    """The app over the fixture library, through the real launch() code path."""
    with pytest.MonkeyPatch.context() as mp:
        clean_environment(mp)
        # The app lists question sets from ./eval, as when `brief ui` runs from the repository root.
        mp.chdir(REPO)
        port = free_port()
        with running_app(ui_library, port) as running:
            assert running.url == f"http://127.0.0.1:{port}/"
            assert running.share_url is None  # nothing is ever tunnelled out
            assert port_is_open(port)
            yield running
        assert not port_is_open(port), "demo.close() left the port open"


@pytest.fixture
def page(browser: Browser, app: RunningApp) -> Iterator[Page]:
    """A fresh browser context (a new reader with a new session) on the app."""
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    outside: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # Offline by default: the page loads nothing (fonts, scripts, analytics) from other hosts.
    page.on("request", lambda r: None if _is_local(r.url) else outside.append(r.url))
    open_app(page, app.url)
    yield page
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"
    assert not outside, f"the page contacted other hosts: {outside[:10]}"


def _is_local(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme in ("data", "blob", "about") or parsed.hostname in ("127.0.0.1", "localhost")


def _seed_text() -> str:
    return normalize(SEED.read_text(encoding="utf-8"))


# ----- chat ---------------------------------------------------------------------------------------


def test_chat_answer_is_cited_and_citation_opens(page: Page) -> None:
    page.locator("#brief-question textarea").fill(CHINA_QUESTION)
    page.locator("#brief-ask").click()
    page.wait_for_selector("#brief-chat details.brief-cite summary", timeout=MODEL_WORK_MS)
    message = wait_for_answer(page, 0)

    text = answer_text(message)
    assert "Chinese camp" in text or "mistrust" in text, text
    expect(message.locator(".brief-footer")).to_contain_text("answered by extractive")
    expect(page.locator("#brief-sources")).to_contain_text(SEED_TITLE)
    expect(user_messages(page)).to_have_count(1)
    expect(user_messages(page)).to_contain_text(CHINA_QUESTION)

    first = message.locator("details.brief-cite").first
    passage = first.locator(".brief-passage")
    expect(passage).to_be_hidden()
    first.locator("summary").click()
    expect(first).to_have_attribute("open", "")
    expect(passage).to_be_visible()
    meta, quote = passage_parts(passage)
    assert SEED_TITLE in meta, meta
    # A quote is verbatim article text; non-adjacent sentences are joined by " … ".
    pieces = [p for p in quote.split(" … ") if p]
    assert pieces and len(quote) > 40, quote
    seed = _seed_text()
    for piece in pieces:
        assert piece in seed, f"quoted text not in the seed article: {piece!r}"
    # The sources panel repeats the same passage.
    expect(page.locator("#brief-sources blockquote").first).to_contain_text(pieces[0][:60])
    save_screenshot(page, SCREENSHOTS, "chat")


def test_follow_up_keeps_context_and_new_chat_resets(page: Page, ui_library: Any) -> None:
    first_q, second_q = "Which entities were sanctioned?", "When were they imposed?"
    first = ask(page, first_q)
    first_text = answer_text(first)
    assert "National Development Complex" in first_text, first_text

    second = ask(page, second_q)
    second_text = answer_text(second)
    assert second_text and DECLINE_TEXT not in second_text, second_text
    assert second.locator("details.brief-cite").count() > 0
    expect(user_messages(page)).to_have_count(2)

    # The app passed the first exchange as history: its answer is the library's answer *with* that
    # history, which (for this pair) differs from the answer to the bare question.
    api_first = ui_library.ask(first_q, backend="auto")
    assert strip_markers(" ".join(s.text for s in api_first.sentences)) == first_text
    with_history = ui_library.ask(second_q, history=[(first_q, api_first.answer)])
    without_history = ui_library.ask(second_q)
    expected_with = strip_markers(" ".join(s.text for s in with_history.sentences))
    expected_without = strip_markers(" ".join(s.text for s in without_history.sentences))
    assert expected_with != expected_without, "this question pair no longer shows whether context is kept"
    assert second_text == expected_with

    page.locator("#brief-new-chat").click()
    expect(bot_messages(page)).to_have_count(0, timeout=UI_MS)
    expect(user_messages(page)).to_have_count(0)
    expect(page.locator("#brief-sources")).to_contain_text("Sources of the last answer appear here")

    # After "New chat" the same question is asked without the old context.
    fresh = ask(page, second_q)
    assert answer_text(fresh) == expected_without
    expect(user_messages(page)).to_have_count(1)


def test_two_readers_chat_at_the_same_time(browser: Browser, app: RunningApp) -> None:
    contexts = [browser.new_context(viewport=VIEWPORT) for _ in range(2)]
    try:
        alice, bob = (context.new_page() for context in contexts)
        for reader in (alice, bob):
            open_app(reader, app.url)
        questions = {alice: CHINA_QUESTION, bob: "When did the Harlow Bridge reopen?"}
        # Both questions are in flight at once.
        before = {reader: send_question(reader, q) for reader, q in questions.items()}
        answers = {reader: wait_for_answer(reader, before[reader]) for reader in questions}

        assert "Pakistan" in answer_text(answers[alice])
        assert "Harlow Bridge" in answer_text(answers[bob])
        for reader, other in ((alice, bob), (bob, alice)):
            expect(user_messages(reader)).to_have_count(1)
            expect(bot_messages(reader)).to_have_count(1)
            expect(user_messages(reader)).to_have_text(questions[reader])
            chat = normalize(reader.locator("#brief-chat").inner_text())
            assert questions[other] not in chat
        expect(alice.locator("#brief-sources")).to_contain_text(SEED_TITLE)
        expect(alice.locator("#brief-sources")).not_to_contain_text(XSS_TITLE)
        expect(bob.locator("#brief-sources")).to_contain_text(XSS_TITLE)
        expect(bob.locator("#brief-sources")).not_to_contain_text(SEED_TITLE)
        assert "Harlow" not in normalize(alice.locator("#brief-chat").inner_text())
        assert "Pakistan" not in normalize(bob.locator("#brief-chat").inner_text())

        # A third reader who opens the app now starts with an empty chat.
        carol_context = browser.new_context(viewport=VIEWPORT)
        contexts.append(carol_context)
        carol = carol_context.new_page()
        open_app(carol, app.url)
        expect(bot_messages(carol)).to_have_count(0)
        expect(user_messages(carol)).to_have_count(0)
    finally:
        for context in contexts:
            context.close()


# ----- library ------------------------------------------------------------------------------------


def test_library_upload_and_delete(page: Page, ui_library: Any, tmp_path: Path) -> None:
    good = tmp_path / "zephyr-ferry-line.md"
    good.write_text(NEW_ARTICLE, encoding="utf-8")
    bad = tmp_path / "empty-notes.txt"
    bad.write_text("", encoding="utf-8")
    count = len(ui_library.documents())

    open_tab(page, "Library")
    docs = page.locator("#brief-docs")
    expect(docs).to_contain_text(SEED_TITLE, timeout=UI_MS)
    stats = page.get_by_text(re.compile(r"\d+ documents ·"))
    expect(stats).to_contain_text(f"{count} documents")

    page.locator("#brief-upload input[type=file]").set_input_files([str(good), str(bad)])
    # Both files are uploaded (listed in the component) before ingesting.
    expect(page.locator("#brief-upload")).to_contain_text("empty-notes", timeout=UI_MS)
    expect(page.locator("#brief-upload")).to_contain_text("zephyr-ferry-line", timeout=UI_MS)
    page.locator("#brief-ingest").click()

    results = page.locator("#brief-results [role='row']")
    good_row = results.filter(has_text="zephyr-ferry-line.md")
    bad_row = results.filter(has_text="empty-notes.txt")
    expect(good_row).to_contain_text("added", timeout=MODEL_WORK_MS)
    expect(bad_row).to_contain_text("failed")
    expect(bad_row).to_contain_text("empty")
    expect(docs).to_contain_text(NEW_TITLE, timeout=UI_MS)
    expect(docs.locator("[role='row']").filter(has_text=NEW_TITLE)).to_contain_text("Marrow Island Herald")
    expect(stats).to_contain_text(f"{count + 1} documents")
    assert NEW_TITLE in {d.title for d in ui_library.documents()}
    save_screenshot(page, SCREENSHOTS, "library")

    picker = page.get_by_label("Document to delete")
    picker.click()
    page.get_by_role("option", name=re.compile(re.escape(NEW_TITLE))).click()
    expect(picker).to_have_value(re.compile(re.escape(NEW_TITLE)))
    page.locator("#brief-delete").click()
    # Delete asks first, naming the document; only the confirmation removes it.
    expect(page.locator("#brief-delete-yes")).to_be_visible(timeout=UI_MS)
    expect(page.get_by_text(re.compile(r"Delete .*" + re.escape(NEW_TITLE)))).to_be_visible()
    page.locator("#brief-delete-yes").click()
    expect(page.get_by_text(f"Deleted {NEW_TITLE}.")).to_be_visible(timeout=MODEL_WORK_MS)
    expect(docs).not_to_contain_text(NEW_TITLE, timeout=UI_MS)
    expect(docs).to_contain_text(SEED_TITLE)
    expect(stats).to_contain_text(f"{count} documents")
    assert NEW_TITLE not in {d.title for d in ui_library.documents()}


# ----- brief --------------------------------------------------------------------------------------


def test_brief_generates_and_downloads_one_page_pdf(page: Page, tmp_path: Path) -> None:
    from pypdf import PdfReader

    open_tab(page, "Brief")
    page.locator("#brief-topic textarea").fill("Why might sanctions push Pakistan toward China?")
    page.locator("#brief-generate").click()
    view = page.locator("#brief-view")
    expect(view).to_contain_text("Bottom line", timeout=MODEL_WORK_MS)
    expect(view).to_contain_text("Sources")
    expect(view.locator("h2", has_text="Sources").locator("xpath=following-sibling::ol[1]")).to_contain_text(SEED_TITLE)
    expect(view.locator("sup").first).to_be_visible()
    pdf_button = page.locator("#brief-download-pdf")
    expect(pdf_button).to_be_visible(timeout=UI_MS)
    expect(page.locator("#brief-download-md")).to_be_visible()
    expect(page.locator("#brief-download-html")).to_be_visible()
    save_screenshot(page, SCREENSHOTS, "brief")

    with page.expect_download(timeout=UI_MS) as info:
        pdf_button.click()
    download = info.value
    assert download.suggested_filename.endswith(".pdf"), download.suggested_filename
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    assert target.read_bytes().startswith(b"%PDF")
    reader = PdfReader(str(target))
    assert len(reader.pages) == 1
    text = normalize(reader.pages[0].extract_text())
    # Section headings are upper-cased by the PDF's CSS, so the extracted glyphs read "BOTTOM LINE".
    assert "bottom line" in text.lower(), text[:500]
    assert "sources" in text.lower()


# ----- hostile article ----------------------------------------------------------------------------


def test_hostile_article_is_shown_as_text_never_run(page: Page) -> None:
    message = ask(page, "When did the Harlow Bridge reopen?")
    assert "4 May 2025" in answer_text(message)
    expect(page.locator("#brief-sources")).to_contain_text(XSS_TITLE)
    assert_no_xss(page, "chat answer")

    # A question whose answer quotes the markup: it must read as text.
    quoted = ask(page, "What raw text did the broken widget display in place of the headline?")
    assert "<script>window.__xss=1</script>" in answer_text(quoted)
    expect(quoted.locator(".brief-answer")).to_contain_text("<script>window.__xss=1</script>")
    for summary in quoted.locator("details.brief-cite summary").all():
        summary.click()
    expect(quoted.locator(".brief-passage").first).to_be_visible()
    expect(quoted.locator(".brief-passage").first).to_contain_text("<script>")
    assert quoted.locator("script").count() == 0
    caption = ask(page, "What stray markup was pasted into the photo caption?")
    expect(caption.locator(".brief-answer")).to_contain_text('<img src=x onerror="window.__xss=1">')
    assert_no_xss(page, "quoted markup in the chat and sources panel")

    open_tab(page, "Library")
    expect(page.locator("#brief-docs")).to_contain_text(XSS_TITLE, timeout=UI_MS)
    assert_no_xss(page, "library table")

    open_tab(page, "Brief")
    page.locator("#brief-topic textarea").fill("Harlow Bridge")
    page.locator("#brief-generate").click()
    view = page.locator("#brief-view")
    expect(view).to_contain_text("Bottom line", timeout=MODEL_WORK_MS)
    expect(view).to_contain_text(XSS_TITLE)
    assert view.locator("script").count() == 0
    assert_no_xss(page, "brief")


# ----- evaluation ---------------------------------------------------------------------------------


def test_evaluate_sample_set(page: Page) -> None:
    # The app resolved its question sets at start-up; the working folder now is a test's tmp dir.
    open_tab(page, "Evaluate")
    sets = page.get_by_label("Question sets")
    block = page.locator(".block", has=sets).last
    tokens = block.locator(".token")
    # Clear the preselection, then choose the sample set from the list the app offers.
    expect(tokens.first).to_be_visible(timeout=UI_MS)
    block.locator("[title='Clear']").click()
    expect(tokens).to_have_count(0)
    sets.click()
    options = page.get_by_role("option")
    expect(options.filter(has_text="eval/world.yaml")).to_have_count(1)
    options.filter(has_text="eval/sample.yaml").click()
    page.keyboard.press("Escape")
    expect(tokens).to_have_text(["eval/sample.yaml"])
    page.locator("#brief-run-eval").click()

    metrics = page.locator("#brief-metrics")
    row = metrics.locator("[role='row']").filter(has_text="fact recall")
    expect(row).to_be_visible(timeout=150_000)
    values = re.findall(r"\d\.\d{3}", row.inner_text())
    assert values and all(0.0 <= float(v) <= 1.0 for v in values), row.inner_text()
    expect(metrics).to_contain_text("sample")
    expect(page.get_by_text(re.compile(r"12 questions · backend extractive"))).to_be_visible()
    chart_loaded = "() => [...document.images].some(i => i.complete && i.naturalWidth > 0 && i.src.includes('eval-'))"
    page.wait_for_function(chart_loaded, timeout=UI_MS)
    save_screenshot(page, SCREENSHOTS, "evaluate")


# ----- basic auth ---------------------------------------------------------------------------------


def test_basic_auth_login(browser: Browser, tmp_path: Path, embedder: Any) -> None:
    settings = Settings(home=tmp_path / "auth-home", ui_auth="reader:secret")
    library = make_library(settings, embedder)
    port = free_port()
    with running_app(library, port) as secured:
        context = browser.new_context(viewport=VIEWPORT)
        try:
            page = context.new_page()
            page.goto(secured.url)
            password = page.locator("input[type='password']")
            expect(password).to_be_visible(timeout=UI_MS)
            username = page.locator("input[type='text']").first
            login = page.get_by_role("button", name="Login")
            expect(page.locator("#brief-question")).to_have_count(0)
            # The app's API is closed too, not just the page.
            assert page.request.get(f"{secured.url}config").status in (401, 403)

            username.fill("reader")
            password.fill("wrong")
            login.click()
            expect(page.get_by_text(re.compile("incorrect credentials", re.I))).to_be_visible(timeout=UI_MS)
            expect(password).to_be_visible()
            expect(page.locator("#brief-question")).to_have_count(0)

            # The form may be reset after a failed attempt: fill both fields again.
            username.fill("reader")
            password.fill("secret")
            login.click()
            expect(page.locator("#brief-question textarea")).to_be_visible(timeout=UI_MS)
            expect(page.get_by_role("tab", name="Chat", exact=True)).to_have_attribute("aria-selected", "true")
        finally:
            context.close()
    assert not port_is_open(port)
