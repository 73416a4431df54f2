"""Helpers for the browser tests of the Gradio app (tests/test_ui.py): starting the app on a free
port, launching Debian's Chromium through Playwright, and reading chat answers out of the page."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, Playwright, expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MODEL_WORK_MS = 120_000  # answers, briefs and ingestion on a slow 2-core machine
UI_MS = 30_000  # plain UI updates (tab switches, page loads, table refreshes)
VIEWPORT = {"width": 1280, "height": 900}
DECLINE_TEXT = "The sources do not say."


@dataclass
class RunningApp:
    """The app started by `brief.ui.app.launch(..., block=False)`."""

    server: Any  # gradio.routes.App (FastAPI), the first element launch() returns
    url: str
    share_url: str | None
    port: int

    @property
    def blocks(self) -> Any:
        return self.server.get_blocks()

    def close(self) -> None:
        self.blocks.close(verbose=False)


def port_is_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def running_app(library: Any, port: int) -> Iterator[RunningApp]:
    """The real launch code path, non-blocking, closed (and its port freed) at the end."""
    from brief.ui.app import launch

    result = launch(library, "127.0.0.1", port, block=False)
    server, local_url, share_url = result
    app = RunningApp(server, local_url, share_url, port)
    try:
        yield app
    finally:
        app.close()


def launch_chromium(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium for one test module (import this fixture into the module)."""
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


def normalize(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def strip_markers(text: str) -> str:
    """Answer text without its [n] citation markers."""
    return normalize(re.sub(r"\s*\[\d+\]", "", text or ""))


def open_app(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.locator("#brief-question textarea")).to_be_visible(timeout=UI_MS)


def open_tab(page: Page, name: str) -> None:
    page.get_by_role("tab", name=name, exact=True).click()


def bot_messages(page: Page) -> Locator:
    return page.locator("#brief-chat [data-testid='bot']")


def user_messages(page: Page) -> Locator:
    return page.locator("#brief-chat [data-testid='user']")


def send_question(page: Page, question: str) -> int:
    """Type a question and click Ask; returns how many final answers were shown before."""
    before = page.locator("#brief-chat .brief-footer").count()
    page.locator("#brief-question textarea").fill(question)
    page.locator("#brief-ask").click()
    return before


def wait_for_answer(page: Page, before: int) -> Locator:
    """The newest bot message once its final (verified, cited) form has replaced the draft."""
    footers = page.locator("#brief-chat .brief-footer")
    expect(footers).to_have_count(before + 1, timeout=MODEL_WORK_MS)
    return bot_messages(page).last


def ask(page: Page, question: str) -> Locator:
    return wait_for_answer(page, send_question(page, question))


def answer_text(message: Locator) -> str:
    """The answer's own sentences: the message without citation markers, passages or footer."""
    return normalize(
        message.locator(".brief-answer").evaluate(
            """el => { const c = el.cloneNode(true);
                       c.querySelectorAll('details.brief-cite').forEach(n => n.remove());
                       return c.textContent; }"""
        )
    )


def passage_parts(passage: Locator) -> tuple[str, str]:
    """(meta line, quote) of an opened citation passage; the quote without the added “ ”."""
    meta = normalize(passage.locator(".brief-meta").text_content() or "")
    quote = normalize(
        passage.evaluate(
            """el => { const c = el.cloneNode(true);
                       c.querySelectorAll('.brief-meta').forEach(n => n.remove());
                       return c.textContent; }"""
        )
    )
    if quote.startswith("“") and quote.endswith("”"):
        quote = quote[1:-1]
    return meta, quote


def injected_script_present(page: Page) -> bool:
    """Whether any <script> in the document carries the hostile article's payload."""
    return bool(
        page.evaluate("() => [...document.querySelectorAll('script')].some(s => s.textContent.includes('__xss'))")
    )


def assert_no_xss(page: Page, where: str) -> None:
    # Give an injected <img onerror> (which fires asynchronously) the chance to run before checking.
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.__xss") is None, f"script from an article ran ({where})"
    assert not injected_script_present(page), f"a <script> with the payload is in the page ({where})"
    assert page.locator("img[onerror]").count() == 0, f"an <img onerror> is in the page ({where})"
    assert page.locator("[onerror], [onload]:not(body):not(iframe)").count() == 0, f"event handler ({where})"
    hrefs = page.evaluate("() => [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))")
    assert not [h for h in hrefs if h.strip().lower().startswith(("javascript:", "data:"))], (where, hrefs)


def save_screenshot(page: Page, folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def clean_environment(mp: pytest.MonkeyPatch) -> None:
    """Like conftest's per-test isolation, for a module-scoped app: no developer settings."""
    for name in list(os.environ):
        if name.startswith("BRIEF_") or name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
            mp.delenv(name)
    mp.setenv("ORT_DISABLE_TELEMETRY", "1")
    mp.setenv("ANONYMIZED_TELEMETRY", "False")
