"""Screenshots of every tab of the app, desktop (1366x900) and phone (390x844), for review.

Run by hand from the repository root (not collected by pytest):

    python tests/ui_screenshots.py [--out artifacts/screenshots]

It builds a library of the seed corpus and two fixture articles in a temporary BRIEF_HOME,
starts the real app on a free loopback port, drives Debian's Chromium through Playwright, and
writes small palette PNGs (one per tab and size, plus the reader view, filter chips and the
delete confirmation).
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402
from ui_support import MODEL_WORK_MS, UI_MS, launch_chromium, open_app, open_tab, running_app  # noqa: E402

SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
QUESTION = "Why might the new sanctions push Pakistan toward China?"
ARTICLES = REPO / "tests" / "fixtures" / "articles"


def _library(home: Path):  # type: ignore[no-untyped-def]
    from brief.library import Library
    from brief.settings import Settings

    library = Library(Settings(home=home))
    report = library.ingest([REPO / "corpus", ARTICLES / "port-strike-ends.md", ARTICLES / "central-bank-rate-hike.md"])
    assert report.ok, report.errors
    return library


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _shrink(path: Path) -> None:
    """Re-save as a 256-colour PNG: a UI screenshot stays legible at a fraction of the size."""
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def _shot(page: Page, out: Path, name: str) -> None:
    path = out / f"{name}.png"
    page.screenshot(path=str(path))
    _shrink(path)
    print(f"wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")


def _chat(page: Page, out: Path, size: str) -> None:
    page.locator("#brief-question textarea").fill(QUESTION)
    page.locator("#brief-ask").click()
    expect(page.locator("#brief-chat .brief-footer")).to_have_count(1, timeout=MODEL_WORK_MS)
    _shot(page, out, f"{size}-chat")
    page.locator("#brief-chat details.brief-cite summary").first.click()
    expect(page.locator("#brief-reader mark").first).to_be_visible(timeout=MODEL_WORK_MS)
    if size == "phone":
        page.locator("#brief-reader-wrap").scroll_into_view_if_needed()
    _shot(page, out, f"{size}-chat-reader")
    if size == "phone":
        page.locator("#brief-sources").scroll_into_view_if_needed()
        _shot(page, out, f"{size}-chat-sources")
        page.evaluate("() => window.scrollTo(0, 0)")
    page.locator("#brief-filters").get_by_text("Filters").first.click()
    page.locator("#brief-chat-since textarea").fill("2030-01-01")  # "Since": nothing is that new
    expect(page.locator("#brief-chat-chips")).to_contain_text("No documents match", timeout=UI_MS)
    page.locator("#brief-question textarea").fill(QUESTION)
    page.locator("#brief-ask").click()
    expect(page.locator("#brief-chat .brief-empty-scope")).to_be_visible(timeout=MODEL_WORK_MS)
    page.evaluate("() => window.scrollTo(0, 0)")
    _shot(page, out, f"{size}-chat-filters")


def _brief(page: Page, out: Path, size: str) -> None:
    open_tab(page, "Brief")
    page.locator("#brief-topic textarea").fill("Pakistan, China and the new sanctions")
    page.locator("#brief-generate").click()
    expect(page.locator("#brief-view")).to_contain_text("Bottom line", timeout=MODEL_WORK_MS)
    _shot(page, out, f"{size}-brief")


def _library_tab(page: Page, out: Path, size: str) -> None:
    open_tab(page, "Library")
    expect(page.locator("#brief-docs")).to_contain_text("Pakistan", timeout=UI_MS)
    _shot(page, out, f"{size}-library")
    picker = page.get_by_label("Document to delete")
    picker.click()
    page.get_by_role("option").first.click()
    page.locator("#brief-delete").click()
    expect(page.locator("#brief-delete-yes")).to_be_visible(timeout=UI_MS)
    page.locator("#brief-delete-yes").scroll_into_view_if_needed()
    _shot(page, out, f"{size}-library-delete")
    page.locator("#brief-delete-cancel").click()


def _evaluate(page: Page, out: Path, size: str) -> None:
    open_tab(page, "Evaluate")
    expect(page.locator("#brief-run-eval")).to_be_visible(timeout=UI_MS)
    _shot(page, out, f"{size}-evaluate")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "artifacts" / "screenshots")
    parser.add_argument("--size", choices=sorted(SIZES), action="append", help="only these sizes (default: all)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    os.chdir(REPO)  # the Evaluate tab lists ./eval
    with tempfile.TemporaryDirectory(prefix="brief-shots-") as home:
        library = _library(Path(home) / "home")
        with running_app(library, _free_port()) as app, sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            for size, viewport in SIZES.items():
                if args.size and size not in args.size:
                    continue
                context = browser.new_context(viewport=viewport, device_scale_factor=1)
                page = context.new_page()
                open_app(page, app.url)
                _shot(page, args.out, f"{size}-start")
                _chat(page, args.out, size)
                _brief(page, args.out, size)
                _library_tab(page, args.out, size)
                _evaluate(page, args.out, size)
                context.close()
            browser.close()


if __name__ == "__main__":
    main()
