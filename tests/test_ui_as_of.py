"""The "as of" date in the app's filters, in headless Chromium: it shows as a chip, a bad date is
refused with the CLI's message, and a "latest" question picks the newest article on or before
it (the same SearchFilters.as_of the CLI's --as-of sets); asked long after the newest article, it
is declined with the reason.

A library of one recurring story told on two dates (a library's opening hours, in March and in
June), started through the real `brief.ui.app.launch(..., block=False)` on a free loopback port.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conftest import free_port, make_library
from playwright.sync_api import Browser, Page, expect
from ui_support import (  # noqa: F401 - browser is a fixture
    MODEL_WORK_MS,
    UI_MS,
    VIEWPORT,
    RunningApp,
    answer_text,
    ask,
    browser,
    clean_environment,
    open_app,
    open_tab,
    running_app,
)

from brief.retrieve import FilterError, SearchFilters, resolve_filters
from brief.settings import Settings

pytestmark = pytest.mark.browser

MARCH = """---
title: Orrin Valley Library to Open on Sundays
author: Petra Lind
source: Orrin Valley Courier
date: 2025-03-03
---

The Orrin Valley public library will open on Sundays from April, the town council said on
Monday. Volunteers will staff the reading room from noon until five o'clock on Sundays.
"""
JUNE = """---
title: Orrin Valley Library to Stay Open Late on Weekdays
author: Petra Lind
source: Orrin Valley Courier
date: 2025-06-09
---

The Orrin Valley public library will stay open until nine o'clock on weekday evenings from July,
the town council said on Monday. The council hired two librarians for the evening hours.
"""
MARCH_TITLE = "Orrin Valley Library to Open on Sundays"
JUNE_TITLE = "Orrin Valley Library to Stay Open Late on Weekdays"
MARCH_LEAD = "The Orrin Valley public library will open on Sundays from April"
JUNE_LEAD = "The Orrin Valley public library will stay open until nine o'clock"
LATEST = "What is the latest news about the Orrin Valley library opening hours?"
BAD_DATE = "next Tuesday"


@pytest.fixture(scope="module")
def dated_library(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Iterator[Any]:
    with pytest.MonkeyPatch.context() as mp:
        clean_environment(mp)
        home = tmp_path_factory.mktemp("ui-as-of")
        files = []
        for name, text in (("march.md", MARCH), ("june.md", JUNE)):
            path = home / name
            path.write_text(text, encoding="utf-8")
            files.append(path)
        library = make_library(Settings(home=home / "home"), embedder)
        report = library.ingest(files)
        assert report.ok, report.errors
        yield library


@pytest.fixture(scope="module")
def app(dated_library: Any) -> Iterator[RunningApp]:
    with pytest.MonkeyPatch.context() as mp:
        clean_environment(mp)
        with running_app(dated_library, free_port()) as running:
            yield running


@pytest.fixture
def page(browser: Browser, app: RunningApp) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    open_app(page, app.url)
    yield page
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def _cli_message(as_of: str, library: Any) -> str:
    """What `brief ask --as-of AS_OF` says for this date (the CLI prints it after "error: ")."""
    docs = {d.doc_id: d for d in library.documents()}
    with pytest.raises(FilterError) as info:
        resolve_filters(SearchFilters(as_of=as_of), docs)
    return str(info.value)


def _first_source(page: Page) -> Any:
    """The heading of the article the answer cites first ([1]) in the sources panel."""
    return page.locator("#brief-sources .brief-source h4").first


def _set_as_of(page: Page, prefix: str, value: str) -> None:
    page.locator(f"#{prefix}-as-of textarea").fill(value)


def test_latest_question_picks_the_article_on_or_before_the_as_of_date(page: Page) -> None:
    chips = page.locator("#brief-chat-chips")
    page.locator("#brief-filters").get_by_text("Filters", exact=True).click()

    _set_as_of(page, "brief-chat", "2025-03-10")
    expect(chips.locator(".brief-chip", has_text="As of 2025-03-10")).to_be_visible(timeout=UI_MS)
    expect(chips).to_contain_text("2 of 2 documents")  # a date to ask from, not a filter
    march = answer_text(ask(page, LATEST))
    # The answer opens on the March article: its headline (an answer may quote it), then its lead.
    assert march.removeprefix(MARCH_TITLE).lstrip().startswith(MARCH_LEAD), march
    expect(_first_source(page)).to_have_text(MARCH_TITLE, timeout=UI_MS)

    # The same question asked as of a date after the June article: now June's is the latest.
    _set_as_of(page, "brief-chat", "2025-06-15")
    expect(chips.locator(".brief-chip", has_text="As of 2025-06-15")).to_be_visible(timeout=UI_MS)
    june = answer_text(ask(page, LATEST))
    assert june.removeprefix(JUNE_TITLE).lstrip().startswith(JUNE_LEAD), june
    expect(_first_source(page)).to_have_text(JUNE_TITLE, timeout=UI_MS)

    page.locator("#brief-chat-clear-filters").click()
    expect(chips).to_have_text("All 2 documents", timeout=UI_MS)
    expect(page.locator("#brief-chat-as-of textarea")).to_have_value("")


def test_a_latest_question_asked_long_after_the_newest_article_is_declined_with_the_reason(page: Page) -> None:
    chips = page.locator("#brief-chat-chips")
    page.locator("#brief-filters").get_by_text("Filters", exact=True).click()
    _set_as_of(page, "brief-chat", "2027-01-15")  # June 2025's article is 585 days old by then
    expect(chips.locator(".brief-chip", has_text="As of 2027-01-15")).to_be_visible(timeout=UI_MS)
    message = ask(page, LATEST)
    assert answer_text(message) == "The sources do not say."
    expect(message.locator(".brief-notice")).to_contain_text(
        "the newest of the articles found for it is from 2025-06-09, more than a year before 2027-01-15"
    )
    expect(message.locator(".brief-cite")).to_have_count(0)  # nothing is cited for news it lacks


def test_a_bad_as_of_date_is_refused_with_the_cli_message(page: Page, dated_library: Any) -> None:
    message = _cli_message(BAD_DATE, dated_library)
    assert "as-of" in message and BAD_DATE in message  # names the field and the value
    chips = page.locator("#brief-chat-chips")
    page.locator("#brief-filters").get_by_text("Filters", exact=True).click()
    _set_as_of(page, "brief-chat", BAD_DATE)
    expect(chips).to_contain_text(message, timeout=UI_MS)

    page.locator("#brief-question textarea").fill(LATEST)
    page.locator("#brief-ask").click()
    expect(page.locator("#brief-chat")).to_contain_text(message, timeout=MODEL_WORK_MS)
    expect(page.locator("#brief-chat .brief-footer")).to_have_count(0)  # nothing was answered

    open_tab(page, "Brief")
    page.locator("#brief-brief-filters").get_by_text("Filters", exact=True).click()
    _set_as_of(page, "brief-brief", BAD_DATE)
    expect(page.locator("#brief-brief-chips")).to_contain_text(message, timeout=UI_MS)
    page.locator("#brief-topic textarea").fill("Orrin Valley library hours")
    page.locator("#brief-generate").click()
    expect(page.locator("#brief-view")).to_contain_text(message, timeout=MODEL_WORK_MS)
