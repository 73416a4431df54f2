"""Loaders: metadata and clean text for every format, boilerplate removed, bad files refused."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import ARTICLES, FIXTURES, PDF_KEY, SEED

from brief.ingest.loaders import LoadError, find_files, load_file, scan_inputs
from brief.types import Article

# The section headings each fixture's cleaned body must have, in order.
EXPECTED_HEADINGS = {
    "veridia-fills-tessaly-reservoir.txt": [
        "A dam years in the making",
        "Downstream fears",
        "Calls for mediation",
    ],
    "port-calloway-strike-begins.txt": [
        "Automation at the heart of the dispute",
        "Exporters brace for delays",
    ],
    "orrin-talks-collapse.md": [
        "The numbers that divided the room",
        "A drought with no end in sight",
        "What comes next",
    ],
    "central-bank-rate-hike.md": ["Why the bank moved", "Pain for homebuyers", "Builders brace"],
    "port-strike-ends.md": ["What the deal contains", "A costly standoff", "Clearing the backlog"],
    "orrin-delta-farmers.html": [
        "Salt in the fields",
        "A government under pressure",
        "Upstream, a different story",
    ],
    "aldermoor-factory-delay.html": [
        "Machines stuck on the quay",
        "Hiring slowed",
        "Questions about the supply chain",
    ],
    "veridia-news-feed.jsonl#1": ["Buyers step back", "The bank holds its fire", "Builders cut back"],
    "veridia-news-feed.jsonl#2": ["Ramping up", "Solar fills a hydro gap", "Price pressure ahead"],
    "veridia-news-feed.jsonl#3": ["Power bills climb", "The central bank responds", "Relief for households"],
    PDF_KEY: ["Why Brennick", "A bet on sunshine after a dry year"],
}


def load_bad_files_module() -> Any:
    spec = importlib.util.spec_from_file_location("make_bad_files", FIXTURES / "make_bad_files.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_fixture(key: str, pdf_article: Path) -> Article:
    """The article an expected_articles.json key names ("file", "file.jsonl#N" or the PDF source)."""
    if key == PDF_KEY:
        result = load_file(pdf_article)
        assert len(result.articles) == 1
        return result.articles[0]
    name, _, number = key.partition("#")
    result = load_file(ARTICLES / name)
    assert result.errors == []
    if number:
        assert len(result.articles) == 3
        article = result.articles[int(number) - 1]
        assert article.record == f"line {number}"
        return article
    assert len(result.articles) == 1
    return result.articles[0]


def headings(article: Article) -> list[str]:
    return [b.text for b in article.blocks if b.kind == "heading"]


# ----- the seed article --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed() -> Article:
    result = load_file(SEED)
    assert result.errors == []
    assert len(result.articles) == 1
    return result.articles[0]


def test_seed_metadata(seed: Article) -> None:
    assert seed.title == "New US sanctions will push Pakistan toward China"
    assert seed.author == "F.M. Shakil"
    assert seed.date == "2024-12-29"
    assert seed.language == "en"
    assert seed.source == "afgazad.com"  # the site whose masthead the file carries
    assert seed.url == ""
    assert seed.path == str(SEED)


def test_seed_boilerplate_removed(seed: Article) -> None:
    text = seed.text
    # The Persian masthead and verses: no Arabic-script letter is left anywhere.
    assert not re.search(r"[\u0600-\u06ff\ufb50-\ufdff\ufe70-\ufeff]", text)
    for junk in (
        "افغانستان",
        "AA-AA",
        "www.",
        "afgazad",
        "@gmail.com",
        "mailto:",
        "European Languages",
        "Photo Credit",
        "DEC 25, 2024",
        "29.12.2024",
        "F.M. Shakil",
        "***",
        "**",
        "###",
    ):
        assert junk not in text, junk
    # The title is metadata, not repeated as the body's first line.
    assert seed.title not in text


def test_seed_body_is_the_article(seed: Article) -> None:
    text = seed.text
    assert text.startswith(
        "While fresh US sanctions against Pakistan's missile program are intended to impede "
        "Islamabad's growing defense ties with Beijing"
    )
    assert text.endswith("even if it means defying US-imposed restrictions on dealing with Iran.")
    assert (
        "“Direct sanctions against a government entity have further deepened the mistrust between "
        "the US and Pakistan." in text
    )
    assert "Criticizing the move, Abdullah Khan, managing director of the Pakistan Institute" in text
    assert headings(seed) == [
        "A new low in US–Pakistan relations",
        "South Asia's uneven nuclear playing field",
        "Concerns over Pakistan’s military ties with China",
        "Why does the US perceive a former non-NATO ally as a threat?",
    ]
    # Emphasis markers are gone from quotes ("*The Cradle*" -> "The Cradle").
    assert "tells The Cradle:" in text
    assert "*" not in text


# ----- every fixture format ----------------------------------------------------------------------

with (ARTICLES.parent / "expected_articles.json").open(encoding="utf-8") as _handle:
    _EXPECTED_KEYS = sorted(json.load(_handle))


def test_expected_covers_every_format() -> None:
    suffixes = {Path(k.partition("#")[0]).suffix for k in _EXPECTED_KEYS}
    assert suffixes == {".txt", ".md", ".html", ".jsonl"}
    assert PDF_KEY in _EXPECTED_KEYS
    assert set(EXPECTED_HEADINGS) == set(_EXPECTED_KEYS)


@pytest.mark.parametrize("key", _EXPECTED_KEYS)
def test_fixture_metadata(key: str, expected: dict, pdf_article: Path) -> None:
    article = load_fixture(key, pdf_article)
    want = expected[key]
    got = {field: getattr(article, field) for field in ("title", "author", "source", "date", "url", "language")}
    assert got == {field: want[field] for field in got}


@pytest.mark.parametrize("key", _EXPECTED_KEYS)
def test_fixture_text(key: str, expected: dict, pdf_article: Path) -> None:
    article = load_fixture(key, pdf_article)
    text = article.text
    for snippet in expected[key]["must_contain"]:
        assert snippet in text, f"missing: {snippet!r}"
    for snippet in expected[key]["must_not_contain"]:
        assert snippet not in text, f"boilerplate left in: {snippet!r}"
    assert headings(article) == EXPECTED_HEADINGS[key]
    # The title is not repeated inside the body, and no block is empty.
    assert article.title not in text
    assert all(block.text.strip() == block.text and block.text for block in article.blocks)
    assert article.blocks[0].kind == "paragraph"


def test_pdf_paragraphs_are_rebuilt(pdf_article: Path) -> None:
    """Lines of the rendered PDF are joined into the source's paragraphs, not one per line."""
    article = load_file(pdf_article).articles[0]
    paragraphs = [b.text for b in article.blocks if b.kind == "paragraph"]
    assert len(paragraphs) == 11  # as many as the <p> elements of the HTML source
    assert paragraphs[0] == (
        "Aldermoor Energy will build a solar panel factory in the northern Veridian town of Brennick, "
        "the company announced on 19 February 2024, in what would be the country's largest single "
        "investment in clean-energy manufacturing."
    )


def test_jsonl_records_keep_their_line(fixture_articles: Path) -> None:
    result = load_file(fixture_articles / "veridia-news-feed.jsonl")
    assert [a.record for a in result.articles] == ["line 1", "line 2", "line 3"]
    assert {a.path for a in result.articles} == {str(fixture_articles / "veridia-news-feed.jsonl")}


def test_json_array_gives_one_article_per_record(tmp_path: Path) -> None:
    records = [
        {
            "headline": "Lake Varn Ferry Resumes After Winter Break",
            "byline": "Ada Quist",
            "outlet": "Varn Post",
            "date": "March 3, 2025",
            "link": "https://varn.test/ferry",
            "text": "The Lake Varn ferry resumed service on Monday after a three-month winter break. "
            "Operators said bookings were up 12 percent on last year.",
        },
        {
            "title": "Varn Council Approves New Harbour Wall",
            "author": ["Ben Oduya", "Cleo Marsh"],
            "source": "Varn Post",
            "published_at": "2025-03-04T09:15:00+01:00",
            "body": "The Varn town council approved a new harbour wall on Tuesday. The wall will cost "
            "3.2 million crowns and take two years to build.",
        },
    ]
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    result = load_file(path)
    assert result.errors == []
    first, second = result.articles
    assert (first.title, first.author, first.source, first.date, first.url, first.record) == (
        "Lake Varn Ferry Resumes After Winter Break",
        "Ada Quist",
        "Varn Post",
        "2025-03-03",
        "https://varn.test/ferry",
        "record 1",
    )
    assert first.text.startswith("The Lake Varn ferry resumed service on Monday")
    assert (second.title, second.author, second.date, second.record) == (
        "Varn Council Approves New Harbour Wall",
        "Ben Oduya, Cleo Marsh",
        "2025-03-04",
        "record 2",
    )


def test_plain_text_header_lines_are_metadata(tmp_path: Path) -> None:
    """Title, byline, outlet, date and URL stacked on consecutive lines of a .txt file."""
    path = tmp_path / "stacked.txt"
    path.write_text(
        "Tram Line Opens in Harrowgate\n"
        "By Mira Volk\n"
        "Source: Harrowgate Times\n"
        "March 5, 2025\n"
        "https://harrowgate.test/tram\n"
        "\n"
        "The new tram line in Harrowgate opened on Tuesday. It links the station with the\n"
        "hospital and was built by the city for 80 million crowns.\n",
        encoding="utf-8",
    )
    article = load_file(path).articles[0]
    assert (article.title, article.author, article.source, article.date, article.url) == (
        "Tram Line Opens in Harrowgate",
        "Mira Volk",
        "Harrowgate Times",
        "2025-03-05",
        "https://harrowgate.test/tram",
    )
    # The wrapped paragraph is one paragraph again.
    assert article.text == (
        "The new tram line in Harrowgate opened on Tuesday. It links the station with the "
        "hospital and was built by the city for 80 million crowns."
    )


# ----- bad files -----------------------------------------------------------------------------------

_BAD = load_bad_files_module().EXPECTED_REASONS


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    folder = tmp_path_factory.mktemp("bad")
    reasons = load_bad_files_module().make_bad_files(folder)
    return folder, reasons


@pytest.mark.parametrize("name", sorted(_BAD))
def test_bad_file_is_refused_with_reason(name: str, bad_files: tuple[Path, dict[str, str]]) -> None:
    folder, reasons = bad_files
    path = folder / name
    with pytest.raises(LoadError) as info:
        load_file(path)
    error = info.value
    message = str(error)
    assert str(path) in message
    assert error.path.startswith(str(path))
    assert reasons[name].lower() in error.reason.lower(), message
    assert "\n" not in message  # one line


def test_broken_link_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "gone.md"
    path.symlink_to(tmp_path / "missing-target.md")
    with pytest.raises(LoadError) as info:
        load_file(path)
    assert str(path) in str(info.value)
    assert "no such file" in info.value.reason


def test_invalid_front_matter_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad-front.md"
    path.write_text("---\ntitle: [unclosed\n---\n\nSome text of the article.\n", encoding="utf-8")
    with pytest.raises(LoadError) as info:
        load_file(path)
    assert str(path) in str(info.value)
    assert "front matter" in info.value.reason


def test_jsonl_good_and_bad_records(tmp_path: Path) -> None:
    good = {
        "title": "Harbour Ferry Fares Rise by Ten Percent",
        "author": "Ola Brandt",
        "source": "Calloway Courier",
        "published_at": "2025-02-01",
        "url": "https://calloway.test/ferry-fares",
        "body": "Ferry fares across the harbour will rise by ten percent from March, the operator said.",
    }
    no_body = {"title": "A Record Without Text", "author": "Nobody", "published_at": "2025-02-02"}
    bad_date = dict(good, title="Bad Date", published_at="sometime soon")
    path = tmp_path / "feed.jsonl"
    path.write_text(
        "\n".join([json.dumps(good), json.dumps(no_body), "{not json", json.dumps(bad_date)]) + "\n",
        encoding="utf-8",
    )
    result = load_file(path)
    # An article is never refused for its date (issue 11): the record is read, its date left
    # empty, and a warning names the line and the value.
    assert [a.title for a in result.articles] == ["Harbour Ferry Fares Rise by Ten Percent", "Bad Date"]
    assert [a.date for a in result.articles] == ["2025-02-01", ""]
    assert [a.record for a in result.articles] == ["line 1", "line 4"]
    assert len(result.errors) == 2
    missing, broken = (str(e) for e in result.errors)
    assert str(path) in missing and "line 2" in missing and "'body'" in missing
    assert str(path) in broken and "line 3" in broken and "JSON" in broken
    assert result.warnings == [f"{path} (line 4): the date 'sometime soon' could not be read; stored without a date"]


def test_find_files_skips_hidden_and_unsupported(tmp_path: Path) -> None:
    (tmp_path / "b.md").write_text("x", encoding="utf-8")
    (tmp_path / "a.txt").write_text("x", encoding="utf-8")
    # .docx is read since issue 12; a type brief does not read stands in for it.
    (tmp_path / "notes.xyz").write_bytes(b"PK")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "c.md").write_text("x", encoding="utf-8")
    (tmp_path / ".hidden" / "e.xyz").write_text("x", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "d.HTML").write_text("x", encoding="utf-8")
    explicit = tmp_path / "notes.xyz"
    found = list(find_files([tmp_path, explicit]))
    assert found == [tmp_path / "a.txt", tmp_path / "b.md", tmp_path / "sub" / "d.HTML", explicit]
    # What a folder scan leaves out for its type is listed, so ingest can name it.
    _, skipped = scan_inputs([tmp_path, explicit])
    assert [(s.path, s.reason, s.problem) for s in skipped] == [
        (str(tmp_path / "notes.xyz"), "unsupported type", False)
    ]
