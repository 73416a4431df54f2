"""`brief ingest URL…` through the real CLI against a real server on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import run_cli
from web_support import (
    ARTICLE_PARAGRAPHS,
    ARTICLE_SENTENCE,
    ARTICLE_TITLE,
    CANONICAL,
    HIDDEN_MARKERS,
    WebServer,
    article_page,
    web_server,
)


@pytest.fixture(scope="module")
def server(pdf_article: Path) -> Iterator[WebServer]:
    with web_server(pdf=pdf_article.read_bytes()) as running:
        yield running


def docs_of(home: Path, cwd: Path) -> list[dict]:
    result = run_cli("docs", "--json", home=home, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def chunk_texts(home: Path) -> list[str]:
    from conftest import clean_settings

    from brief.store import Store

    settings = clean_settings(home, home.parent / "reader")
    store = Store(settings, settings.embedder_name())
    return [text for _, text, _, _ in store.iter_chunks()]


def test_links_become_documents_once(server: WebServer, tmp_path: Path) -> None:
    home = tmp_path / "home"
    article, notes, pdf = server.url("/article.html"), server.url("/notes.txt"), server.url("/report.pdf")
    first = run_cli("ingest", article, notes, pdf, home=home, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "Traceback" not in first.stderr
    assert "links: 3 added, 0 updated, 0 unchanged, 0 failed;" in first.stdout

    docs = {d["title"]: d for d in docs_of(home, tmp_path)}
    assert len(docs) == 3
    page = docs[ARTICLE_TITLE]
    # The page's canonical address is the document's URL; metadata comes from the page.
    assert (page["url"], page["author"], page["source"], page["date"], page["language"]) == (
        CANONICAL,
        "Mira Olsen",
        "Harbour News",
        "2025-03-04",
        "en",
    )
    text_doc = docs["Island Ferry Timetable Changes From April"]
    assert (text_doc["url"], text_doc["author"]) == (notes, "Jon Berg")
    assert docs["Aldermoor Energy to Build Solar Panel Factory in Brennick"]["url"] == pdf
    texts = chunk_texts(home)
    assert any(ARTICLE_SENTENCE in t for t in texts)
    assert not any("All rights reserved" in t or "Home | World" in t for t in texts)

    # The same article by another address, through a redirect, or saved as a file: one document.
    saved = tmp_path / "saved-page.html"
    saved.write_text(article_page(ARTICLE_TITLE, ARTICLE_PARAGRAPHS, canonical=CANONICAL), encoding="utf-8")
    again = run_cli(
        "ingest", article, server.url("/article-copy.html"), server.url("/old-article"), home=home, cwd=tmp_path
    )
    assert again.returncode == 0, again.stderr
    assert "links: 0 added, 0 updated, 3 unchanged, 0 failed; 0 chunks" in again.stdout
    as_file = run_cli("ingest", str(saved), home=home, cwd=tmp_path)
    assert as_file.returncode == 0, as_file.stderr
    assert as_file.stdout.startswith("0 added, 0 updated, 1 unchanged, 0 failed;"), as_file.stdout
    after = docs_of(home, tmp_path)
    assert len(after) == 3
    (merged,) = [d for d in after if d["title"] == ARTICLE_TITLE]
    assert merged["doc_id"] == page["doc_id"]
    assert len(merged["paths"]) == 4  # three addresses and the file, one document


def test_failures_are_one_line_each_and_store_nothing(server: WebServer, tmp_path: Path) -> None:
    home = tmp_path / "home"
    ok = run_cli("ingest", server.url("/notes.txt"), home=home, cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    before = docs_of(home, tmp_path)
    snapshots = sorted(p.name for p in (home / "web").iterdir())
    bad = {
        server.url("/missing"): "HTTP 404 Not Found",
        server.url("/image.png"): "unsupported content type 'image/png'",
        server.url("/slow.html"): "no answer within the 1 s read timeout",
        server.url("/endless.html"): "larger than the 100 kB limit; stopped reading",
        server.url("/empty.html"): "no article text",
        "ftp://127.0.0.1/file.txt": "only http and https links can be fetched",
    }
    result = run_cli(
        "ingest",
        *bad,
        home=home,
        cwd=tmp_path,
        extra_env={"BRIEF_FETCH_READ_TIMEOUT": "1", "BRIEF_FETCH_RETRIES": "0", "BRIEF_FETCH_MAX_BYTES": "100000"},
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == len(bad), lines
    for url, reason in bad.items():
        (line,) = [line for line in lines if line.startswith(f"error: {url}: ")]
        assert reason in line, line
    assert docs_of(home, tmp_path) == before
    # No snapshot, temporary file or partial body was left behind.
    assert sorted(p.name for p in (home / "web").iterdir()) == snapshots


def test_hidden_text_in_a_fetched_page_is_not_stored(server: WebServer, tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = run_cli("ingest", server.url("/hidden.html"), home=home, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    texts = "\n".join(chunk_texts(home))
    assert "nitrate levels in the river fell by 12 percent" in texts
    assert "Visible start." in texts and "Visible end of the sentence about the river." in texts
    for marker in HIDDEN_MARKERS:
        assert marker not in texts
