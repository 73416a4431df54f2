"""One-page briefs: sections and limits, word budget, one-page PDF, verified citations, sources,
content on the seed corpus, speakers, escaping of hostile article text, output formats, empty scope."""

from __future__ import annotations

import io
import json
import re
import shutil
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pypdf
import pytest
from click.testing import CliRunner
from conftest import ARTICLES, CORPUS, FIXTURES, clean_settings, make_library, run_cli

from brief.cite import SupportJudge
from brief.cli import main
from brief.export import ExportError, to_html, to_json, to_markdown, to_pdf, write_brief
from brief.library import Library
from brief.report import SECTION_LIMITS, SECTIONS
from brief.retrieve import SearchFilters
from brief.types import Brief, BriefItem, Passage

SEED_TOPIC = "US sanctions on Pakistan's missile program and the China angle"
WORLD_TOPIC = "Orrin River water dispute between Veridia and Saldria"
# "Harlow Bridge" alone gives a brief without the hostile sentences (the extractive writer prefers
# the reopening facts); these words pull the widget and photo-caption sentences in, so that the
# escaping checks below have something to escape.
HOSTILE_TOPIC = "Harlow Bridge live page widget and photo caption"
MAX_WORDS = 550
SECTION_KEYS = ["bottom_line", "key_points", "background", "perspectives", "watch"]


# ----- shared libraries (one per corpus for the whole module) ----------------------------------


def _library_of(tmp_path_factory: pytest.TempPathFactory, embedder, name: str, *paths: Path) -> Library:
    root = tmp_path_factory.mktemp(name)
    library = make_library(clean_settings(root / "home", root / "work"), embedder)
    report = library.ingest(list(paths))
    assert report.ok, report.errors
    assert library.documents()
    return library


@pytest.fixture(scope="module")
def seed_library(tmp_path_factory, embedder) -> Library:
    return _library_of(tmp_path_factory, embedder, "seed", CORPUS)


@pytest.fixture(scope="module")
def world_library(tmp_path_factory, embedder) -> Library:
    return _library_of(tmp_path_factory, embedder, "world", ARTICLES)


@pytest.fixture(scope="module")
def hostile_library(tmp_path_factory, embedder) -> Library:
    folder = tmp_path_factory.mktemp("hostile-src")
    shutil.copy(FIXTURES / "hostile" / "xss.md", folder / "xss.md")
    return _library_of(tmp_path_factory, embedder, "hostile", folder)


@pytest.fixture(scope="module")
def seed_brief(seed_library: Library) -> Brief:
    return seed_library.report(SEED_TOPIC, backend="extractive")


@pytest.fixture(scope="module")
def world_brief(world_library: Library) -> Brief:
    return world_library.report(WORLD_TOPIC, backend="extractive")


@pytest.fixture(scope="module")
def hostile_brief(hostile_library: Library) -> Brief:
    return hostile_library.report(HOSTILE_TOPIC, backend="extractive")


@pytest.fixture(params=["seed", "world"])
def case(request, seed_library, seed_brief, world_library, world_brief) -> tuple[Library, Brief]:
    return {"seed": (seed_library, seed_brief), "world": (world_library, world_brief)}[request.param]


def body_items(brief: Brief) -> Iterator[tuple[str, BriefItem]]:
    for section in brief.sections:
        for item in section.items:
            yield section.key, item


def body_text(brief: Brief) -> str:
    return "\n".join(f"{item.speaker} {item.text}" for _, item in body_items(brief))


def pdf_pages_and_text(data: bytes) -> tuple[int, str]:
    assert data.startswith(b"%PDF")
    reader = pypdf.PdfReader(io.BytesIO(data))
    return len(reader.pages), "\n".join(page.extract_text() or "" for page in reader.pages)


# ----- structure and budget ------------------------------------------------------------------------


def test_sections_present_in_order_within_limits(case) -> None:
    _, brief = case
    assert [s.key for s in brief.sections] == SECTION_KEYS
    assert [(s.key, s.title, s.bulleted) for s in brief.sections] == SECTIONS
    for section in brief.sections:
        low, high = SECTION_LIMITS[section.key]
        # Both corpora have plenty to say on their topic: every section is filled within its limits.
        assert low <= len(section.items) <= high, (section.key, len(section.items))
    assert brief.backend == "extractive"
    assert brief.documents_considered >= 1
    assert brief.title.startswith("Brief: ")


def test_word_budget(case) -> None:
    _, brief = case
    words = brief.word_count()
    assert 0 < words <= MAX_WORDS
    assert brief.to_dict()["word_count"] == words
    # word_count counts the sentences and the speaker labels, nothing else.
    assert words == sum(len(f"{i.speaker} {i.text}".split()) for _, i in body_items(brief))


def test_pdf_is_one_page_via_export(case) -> None:
    _, brief = case
    data, printed = to_pdf(brief)
    pages, text = pdf_pages_and_text(data)
    assert pages == 1
    # The section titles are set in capitals by the stylesheet (text-transform), so the PDF's text
    # layer holds "BOTTOM LINE".
    assert "bottom line" in text.lower()
    # What was printed is the brief or a trimmed copy of it: same order, nothing new, still cited.
    assert printed.word_count() <= brief.word_count() <= MAX_WORDS
    for original, kept in zip(brief.sections, printed.sections, strict=True):
        assert [i.text for i in kept.items] == [i.text for i in original.items][: len(kept.items)]
    assert printed.sections[0].items, "the bottom line must survive trimming"
    numbers = {n for _, i in body_items(printed) for n in i.citations}
    assert numbers == set(range(1, len(printed.sources) + 1))
    # The printed text really is on the page (first words of the bottom line).
    first = printed.sections[0].items[0].text.split()[:4]
    assert " ".join(first) in " ".join(text.split())
    # The input brief is left untouched.
    assert brief.word_count() == sum(len(f"{i.speaker} {i.text}".split()) for _, i in body_items(brief))


def test_pdf_via_cli_is_one_page(seed_library: Library, tmp_path: Path) -> None:
    out = tmp_path / "x.pdf"
    result = run_cli("report", SEED_TOPIC, "-o", str(out), home=seed_library.settings.home, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert re.search(r"wrote .*x\.pdf \(\d+ words, \d+ sources, extractive", result.stdout), result.stdout
    pages, text = pdf_pages_and_text(out.read_bytes())
    assert pages == 1
    assert "bottom line" in text.lower()
    assert "Sources".lower() in text.lower()
    assert "New US sanctions will push Pakistan toward China" in " ".join(text.split())


# ----- citations ----------------------------------------------------------------------------------


def test_every_item_is_cited_and_supported_by_its_stored_passage(case, embedder) -> None:
    library, brief = case
    by_n = {s.n: s for s in brief.sources}
    checked = 0
    for key, item in body_items(brief):
        assert item.citations, f"{key}: uncited item {item.text!r}"
        assert all(n in by_n for n in item.citations), (key, item.citations)
        assert item.refs, f"{key}: no passage reference for {item.text!r}"
        for ref in item.refs:
            (chunk,) = library.store.get_chunks([ref["chunk_id"]])
            # The quote is the exact text of the stored passage...
            assert ref["quote"], (key, item.text)
            assert ref["quote"] in chunk.text, (key, ref["chunk_id"], ref["quote"], chunk.text)
            # ...the cited source is that passage's document...
            assert chunk.doc_id in {by_n[n].doc_id for n in item.citations}, (key, item.text)
            # ...and an independent check confirms that the passage supports the sentence.
            passage = Passage(chunk, 0.0, chunk.text, chunk.start, chunk.end)
            support = SupportJudge(embedder).judge(item.text, checked, passage)
            assert support.supported, (key, item.text, chunk.text)
            checked += 1
    assert checked >= 8


def test_sources_are_the_cited_documents_numbered_in_order(case) -> None:
    library, brief = case
    numbers = [s.n for s in brief.sources]
    assert numbers == list(range(1, len(brief.sources) + 1))
    used_in_order = list(dict.fromkeys(n for _, item in body_items(brief) for n in item.citations))
    # Only cited documents are listed, and they are numbered by first citation in the text.
    assert used_in_order == numbers
    assert len({s.doc_id for s in brief.sources}) == len(brief.sources)
    docs = library.store.documents()
    for source in brief.sources:
        assert source.doc_id in docs, source
        record = docs[source.doc_id]
        assert (source.title, source.source, source.date) == (record.title, record.source, record.date)
    # The text's numbers point at the document its quote came from.
    by_n = {s.n: s for s in brief.sources}
    for _, item in body_items(brief):
        chunk_docs = {ref["chunk_id"].split(":")[0] for ref in item.refs}
        assert chunk_docs == {by_n[n].doc_id for n in item.citations}
    # The Markdown uses exactly these numbers and lists exactly these sources.
    markdown = to_markdown(brief)
    body, _, listing = markdown.partition("\n## Sources\n")
    assert {int(n) for n in re.findall(r"(?<!\\)\[(\d+)\]", body)} == set(numbers)
    assert [int(n) for n in re.findall(r"^(\d+)\. ", listing, re.M)] == numbers


def test_world_brief_draws_on_several_documents(world_brief: Brief) -> None:
    assert len(world_brief.sources) >= 2
    assert world_brief.documents_considered >= len(world_brief.sources)


# ----- content on the seed corpus -------------------------------------------------------------------


def test_seed_brief_names_the_essentials(seed_brief: Brief) -> None:
    text = body_text(seed_brief)
    assert "National Development Complex" in text or "NDC" in text, text
    assert "Finer" in text, text
    assert "Foreign Ministry" in text or "unfortunate and biased" in text, text
    assert any(p in text for p in ("Chinese camp", "China's embrace", "China’s embrace", "toward China")), text


def test_perspectives_carry_speakers_from_the_text(case) -> None:
    library, brief = case
    (perspectives,) = [s for s in brief.sections if s.key == "perspectives"]
    assert perspectives.items
    for item in perspectives.items:
        assert item.speaker.strip(), item.text
        name = item.speaker.split(",")[0].strip()
        (chunk,) = library.store.get_chunks([item.refs[0]["chunk_id"]])
        document = " ".join(c.text for c in library.store.get_chunks(sorted(library.store.chunk_ids_of(chunk.doc_id))))
        assert name in document, (item.speaker, item.text)
        assert name[:1].isupper()
    # Each voice appears once.
    names = [i.speaker.split(",")[0] for i in perspectives.items]
    assert len(names) == len(set(names))


def test_seed_perspectives_name_the_people(seed_brief: Brief) -> None:
    (perspectives,) = [s for s in seed_brief.sections if s.key == "perspectives"]
    speakers = " | ".join(i.speaker for i in perspectives.items)
    assert "Abdullah Khan" in speakers or "Finer" in speakers, speakers
    assert len(perspectives.items) >= 2, speakers


def test_speaker_roles_are_not_truncated(seed_brief: Brief, seed_library: Library) -> None:
    """A role in a speaker label must be the article's full title for that person: the seed calls
    Jon Finer "US Deputy National Security Advisor"; a label that says "National Security Advisor"
    promotes him."""
    document = " ".join(
        c.text
        for doc in seed_library.store.documents()
        for c in seed_library.store.get_chunks(sorted(seed_library.store.chunk_ids_of(doc)))
    )
    for _, item in body_items(seed_brief):
        if ", " not in item.speaker:
            continue
        name, role = item.speaker.split(", ", 1)
        for match in re.finditer(re.escape(f"{role} {name}"), document):
            before = document[: match.start()].split()
            previous = before[-1] if before else ""
            assert not (previous[:1].isupper() and not previous.endswith((".", ",", ":"))), (
                f"label {item.speaker!r} drops {previous!r} from the title in "
                f"{document[max(0, match.start() - 40) : match.end()]!r}"
            )


# ----- escaping ----------------------------------------------------------------------------------------


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


SAFE_TAGS = set("html head meta title style body h1 h2 p ul li sup a ol b span".split())


def assert_safe_html(page: str) -> None:
    parser = _Tags()
    parser.feed(page)
    for tag, attrs in parser.tags:
        assert tag in SAFE_TAGS, f"unexpected <{tag}> in the HTML"
        for name, value in attrs:
            assert not name.lower().startswith("on"), f"event handler {name} on <{tag}>"
            if name.lower() == "href":
                assert (value or "").startswith(("#src-", "http://", "https://")), value
    assert "<script" not in page.lower()
    assert "<img" not in page.lower()
    assert not re.search(r"<[^>]*\bonerror\s*=", page, re.I)


def test_hostile_brief_contains_the_hostile_text(hostile_brief: Brief) -> None:
    text = body_text(hostile_brief)
    assert "<script>" in text and "onerror=" in text, text


def test_html_escapes_article_text(hostile_brief: Brief) -> None:
    page = to_html(hostile_brief)
    assert "&lt;script&gt;" in page
    assert "&lt;img src=x onerror=" in page
    assert_safe_html(page)


def test_markdown_escapes_article_text(hostile_brief: Brief) -> None:
    markdown = to_markdown(hostile_brief)
    assert "&lt;script&gt;" in markdown
    assert "<script" not in markdown and "<img" not in markdown
    assert "&lt;img src=x onerror=" in markdown
    # No link can be formed from article text: brackets are escaped.
    assert not re.search(r"(?<!\\)\]\(javascript:", markdown)


def test_exports_escape_every_field() -> None:
    """Titles, speakers, outlets and links of sources are article data too."""
    from brief.types import BriefSection, BriefSource

    evil = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    brief = Brief(
        title=f"Brief: {evil}",
        topic=evil,
        generated="2025-01-01",
        scope="whole library",
        documents_considered=1,
        backend="extractive",
        sections=[
            BriefSection(key, title, [BriefItem(f"Text {evil} [1](javascript:alert(3))", [1], speaker=evil)], bulleted)
            for key, title, bulleted in SECTIONS
        ],
        sources=[
            BriefSource(1, "d" * 20, f"Title {evil}", f"Outlet {evil}", evil, "2025-01-01", "javascript:alert(4)")
        ],
    )
    page = to_html(brief)
    assert_safe_html(page)
    assert not any("javascript" in href for href in re.findall(r'href="([^"]*)"', page))
    markdown = to_markdown(brief)
    assert "<script" not in markdown and "<img" not in markdown
    assert not re.search(r"(?<!\\)\]\(javascript:", markdown)
    data = json.loads(to_json(brief))
    assert data["sections"][0]["items"][0]["speaker"] == evil  # JSON keeps the data as it is


# ----- output formats through the CLI --------------------------------------------------------------


@pytest.fixture
def hostile_cli(hostile_library: Library, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("BRIEF_HOME", str(hostile_library.settings.home))
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False)

    return invoke


@pytest.mark.parametrize("suffix", [".md", ".html", ".json"])
def test_cli_writes_each_format(hostile_cli, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / "out" / f"brief{suffix}"
    result = hostile_cli("report", HOSTILE_TOPIC, "-o", str(out))
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.stdout
    text = out.read_text(encoding="utf-8")
    if suffix == ".md":
        assert text.startswith("# Brief: Harlow Bridge")
        assert "## Bottom line" in text and "## Sources" in text
        assert "&lt;script&gt;" in text and "<script" not in text
    elif suffix == ".html":
        assert text.startswith("<!DOCTYPE html>")
        assert "<h2>Bottom line</h2>" in text
        assert "&lt;script&gt;" in text
        assert_safe_html(text)
    else:
        data = json.loads(text)
        assert [s["key"] for s in data["sections"]] == SECTION_KEYS
        items = [i for s in data["sections"] for i in s["items"]]
        assert items and all(i["text"] and i["citations"] and i["refs"] for i in items)
        assert all({"chunk_id", "quote"} <= set(r) for i in items for r in i["refs"])
        assert [s["n"] for s in data["sources"]] == list(range(1, len(data["sources"]) + 1))
        assert {"title", "doc_id", "source", "date", "url"} <= set(data["sources"][0])
        assert data["word_count"] == sum(len(f"{i['speaker']} {i['text']}".split()) for i in items)
        assert any("<script>" in i["text"] for i in items)  # JSON holds the text unchanged


def test_cli_without_output_prints_markdown(hostile_cli) -> None:
    result = hostile_cli("report", HOSTILE_TOPIC)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# Brief: Harlow Bridge")
    assert "&lt;script&gt;" in result.stdout and "<script" not in result.stdout


def test_cli_unknown_extension_is_a_clear_error(hostile_cli, tmp_path: Path) -> None:
    out = tmp_path / "brief.docx"
    result = hostile_cli("report", HOSTILE_TOPIC, "-o", str(out))
    assert result.exit_code == 1
    assert "unknown output format '.docx'" in result.stderr
    assert ".md, .html, .pdf or .json" in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()


def test_write_brief_unknown_extension(hostile_brief: Brief, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"unknown output format '\.txt'"):
        write_brief(hostile_brief, tmp_path / "brief.txt")
    written = write_brief(hostile_brief, tmp_path / "BRIEF.HTML")  # the extension is case-blind
    assert written is hostile_brief
    assert (tmp_path / "BRIEF.HTML").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


# ----- a scope that matches nothing -------------------------------------------------------------------


def test_filter_matching_nothing_gives_an_empty_valid_brief(world_library: Library, tmp_path: Path) -> None:
    brief = world_library.report(WORLD_TOPIC, SearchFilters(since="2030-01-01"), backend="extractive")
    assert [s.key for s in brief.sections] == SECTION_KEYS
    assert all(not s.items for s in brief.sections)
    assert brief.sources == [] and brief.word_count() == 0
    assert brief.documents_considered == 0
    assert "2030-01-01" in brief.scope
    assert brief.notice == "no article in the library matches this topic and these filters"
    # Every format renders it.
    assert "## Sources" in to_markdown(brief)
    assert_safe_html(to_html(brief))
    assert json.loads(to_json(brief))["sources"] == []
    data, _ = to_pdf(brief)
    assert pdf_pages_and_text(data)[0] == 1


def test_cli_filter_matching_nothing_does_not_crash(world_library: Library, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BRIEF_HOME", str(world_library.settings.home))
    runner = CliRunner()
    out = tmp_path / "empty.md"
    result = runner.invoke(main, ["report", WORLD_TOPIC, "--since", "2030-01-01", "-o", str(out)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith("# Brief: Orrin River")
    assert "note: no article in the library matches" in result.stderr
    # A filter naming an outlet the library does not hold is a one-line error, not a traceback.
    result = runner.invoke(main, ["report", WORLD_TOPIC, "--source", "No Such Outlet"])
    assert result.exit_code == 1
    assert "no source matches 'No Such Outlet'" in result.stderr
    assert "Traceback" not in result.output
