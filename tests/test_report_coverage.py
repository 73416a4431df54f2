"""Briefs keep to what the library covers (issue 11): a topic the library does not cover gets
a plain notice and no invented brief; an off-topic sentence never enters a brief; quoted
people are found as perspectives. A real embedded store with the bundled embedder, holding
the sample article and the fictional world articles together."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ARTICLES, CORPUS
from test_report import _library_of

from brief.cli import main
from brief.export import to_html, to_markdown
from brief.library import Library
from brief.pipeline import NOT_COVERED
from brief.retrieve import SearchFilters
from brief.types import Brief

UNCOVERED_TOPIC = "Bitcoin price outlook for 2026"
DROUGHT_TOPIC = "The drought on the Orrin River"


@pytest.fixture(scope="module")
def mixed_library(tmp_path_factory, embedder) -> Library:
    return _library_of(tmp_path_factory, embedder, "mixed", CORPUS, ARTICLES)


@pytest.fixture(scope="module")
def drought_brief(mixed_library: Library) -> Brief:
    return mixed_library.report(DROUGHT_TOPIC, backend="extractive")


def test_a_topic_the_library_does_not_cover_gets_a_notice_and_no_brief(mixed_library: Library) -> None:
    brief = mixed_library.report(UNCOVERED_TOPIC, backend="extractive")
    assert brief.notice == NOT_COVERED
    assert all(not section.items for section in brief.sections)
    assert brief.sources == [] and brief.word_count() == 0
    assert NOT_COVERED in to_markdown(brief) and NOT_COVERED in to_html(brief)


def test_cli_says_plainly_that_the_library_does_not_cover_the_topic(
    mixed_library: Library, monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BRIEF_HOME", str(mixed_library.settings.home))
    out = tmp_path / "bitcoin.md"
    result = CliRunner().invoke(main, ["report", UNCOVERED_TOPIC, "--backend", "extractive", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"note: {NOT_COVERED}" in result.stderr
    text = out.read_text(encoding="utf-8")
    assert NOT_COVERED in text and "## Bottom line" not in text


def test_a_topic_asking_for_recent_news_gets_no_brief_from_old_articles(mixed_library: Library) -> None:
    # Every article of this library is of 2024-2025: in 2030 none is "the latest" on anything.
    topic = "The latest on the drought on the Orrin River"
    brief = mixed_library.report(topic, filters=SearchFilters(as_of="2030-01-01"), backend="extractive")
    assert brief.notice.startswith("no brief was written: the topic asks about recent news")
    assert "more than a year before 2030-01-01" in brief.notice and "--as-of" in brief.notice
    assert all(not section.items for section in brief.sections)
    assert brief.sources == [] and brief.word_count() == 0
    assert brief.notice in to_markdown(brief)
    # The same topic without "latest", asked on the same day, is a brief as before.
    brief = mixed_library.report(DROUGHT_TOPIC, filters=SearchFilters(as_of="2030-01-01"), backend="extractive")
    assert not brief.notice and brief.word_count() > 0


def test_an_off_topic_article_stays_out_of_the_brief(drought_brief: Brief) -> None:
    assert not drought_brief.notice
    cited_titles = {s.title for s in drought_brief.sources}
    assert cited_titles and not any("Pakistan" in t for t in cited_titles)
    text = " ".join(item.text for section in drought_brief.sections for item in section.items)
    assert "Pakistan" not in text and "Islamabad" not in text
    assert "drought" in text.lower()


def test_sources_are_only_the_documents_kept_sentences_cite(drought_brief: Brief) -> None:
    cited = {n for section in drought_brief.sections for item in section.items for n in item.citations}
    assert cited == {s.n for s in drought_brief.sources}


def test_perspectives_find_the_people_quoted_on_the_topic(drought_brief: Brief) -> None:
    (section,) = [s for s in drought_brief.sections if s.key == "perspectives"]
    speakers = [item.speaker for item in section.items]
    assert len(speakers) >= 2 and all(speakers)
    quoted = {"Milan Verhoek", "Ilse Marchbank", "Ondřej Halas", "Renata Kovály", "Anselm Koriath", "Teodor Valsic",
              "Hedda Brask", "Corin Hallward", "Veridia's Ministry of Water Resources"}  # fmt: skip
    assert all(any(name in speaker for name in quoted) for speaker in speakers), speakers
