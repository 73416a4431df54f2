"""English rules as data (brief/language.py) and the pure logic built on them: one word per
country, demonyms, amounts across forms, dates, questions about the articles, recency, speakers."""

from __future__ import annotations

import pytest

from brief.evaluate import fact_found
from brief.generate.attribution import find_speaker
from brief.generate.sentence_pool import has_wanted, missing_anchors, new_figures, question_anchors, question_wants
from brief.ingest.metadata import parse_any_date
from brief.language import (
    asked_kind,
    metadata_kind,
    metadata_statements,
    new_names,
    number_values,
    recency_window,
)
from brief.text import content_words


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("the United States", "the US"),
        ("U.S. officials", "American officials"),
        ("the United Kingdom", "British"),
        ("Britain", "the U.K."),
        ("the European Union", "the EU"),
    ],
)
def test_every_spelling_of_a_country_is_one_word(a: str, b: str) -> None:
    assert set(content_words(a)) == set(content_words(b))


def test_the_pronoun_us_is_not_the_country() -> None:
    assert content_words("they told us") == []
    assert content_words("the US said") == ["usa"]


def test_one_letter_names_and_their_possessives_are_words() -> None:
    assert content_words("Z's content chief") == ["z", "content", "chief"]
    assert question_anchors("Who is Z's content chief?") == {"z"}


def test_hyphenated_words_match_their_joined_spelling() -> None:
    assert {"e", "bike", "ebik"} <= set(content_words("18,000 e-bikes"))
    assert "ebik" in content_words("How many ebikes")


def test_an_anchor_is_found_under_its_demonym() -> None:
    passage = set(content_words("Kenyan runners and Ukrainian grain and Japanese banks"))
    assert missing_anchors({"kenya", "ukraine", "japan", "peru"}, passage) == {"peru"}


@pytest.mark.parametrize(
    ("text", "value"),
    [("$12.6 million", 12_600_000.0), ("$12,600,000", 12_600_000.0), ("12.6m", 12_600_000.0), ("4.2bn", 4.2e9)],
)
def test_amounts_are_read_in_every_form(text: str, value: float) -> None:
    assert number_values(text) == [value]


def test_a_fact_matches_the_same_amount_written_differently() -> None:
    assert fact_found("$12.6 million", "The council spent $12,600,000 on the building.")
    assert fact_found("7 percent", "a 7 percent raise")
    assert not fact_found("7 percent", "7 flights were cancelled")
    assert not fact_found("$12.6 million", "The council spent $12,000,000.")


def test_a_fact_matches_a_name_without_its_leading_article() -> None:
    assert fact_found("The Windsor Framework", "Sunak hailed the so-called “Windsor framework” as a breakthrough.")
    assert fact_found("The Twin Towers", "The footage briefly showed the World Trade Center's Twin Towers.")
    assert not fact_found("The Road", "Officials closed a road near the border.")  # one word left says nothing
    assert not fact_found("The Windsor Framework", "Windsor Castle hosted the talks.")


def test_a_fact_matches_whatever_the_quotes_and_dashes() -> None:
    # A quiz writes "McDonald’s", the article "McDonald's": the same name.
    assert fact_found("McDonald’s", "McDonald's announced Thursday that it will use fresh beef.")
    assert fact_found("Guns N' Roses", "Guns N’ Roses played two encores.")
    assert fact_found("Jean-Luc Godard", "the director Jean–Luc Godard")
    assert fact_found("“Barbie”", 'The film "Barbie" opened on Friday.')
    assert not fact_found("McDonald’s", "McDonald said the talks would resume.")


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2022/06/12", "2022-06-12"),
        ("June 12, 2022", "2022-06-12"),
        ("12.06.2022", "2022-06-12"),
        ("Sun, 12 Jun 2022 08:00:00 +0000", "2022-06-12"),
        ("June 12, 2022 10:30 AM EST", "2022-06-12"),
        ("2022-06-12T08:00:00Z", "2022-06-12"),
        ("next Tuesday", ""),
        ("2022/13/40", ""),
    ],
)
def test_dates_in_the_forms_news_sites_use(text: str, iso: str) -> None:
    assert parse_any_date(text) == iso


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Who wrote the article about the new library?", "author"),
        ("When was the story about the strike published?", "date"),
        ("Which outlet published the article on the recall?", "source"),
        ("Who wrote the letter to the council?", ""),  # a question about the content
        ("Who won the election?", ""),
    ],
)
def test_questions_about_the_articles_themselves(question: str, kind: str) -> None:
    assert metadata_kind(question) == kind


def test_metadata_statements_name_the_article() -> None:
    statements = metadata_statements("Library Opens", "Dana Whitlow", "Arlow Courier", "2025-04-02")
    assert statements["author"] == "“Library Opens” was written by Dana Whitlow."
    assert statements["date"] == "“Library Opens” was published on 2025-04-02."
    assert metadata_statements("", "", "", "") == {}


@pytest.mark.parametrize(
    ("question", "days"),
    [
        ("Which team won the final this week?", 8),
        ("What is the latest on the strike?", 14),
        ("What did the council decide last month?", 31),
        ("Which team won the 2019 final?", 0),
        ("What did New Zealand announce?", 0),  # a capitalised "New" is a name, not recency
    ],
)
def test_recency_words_and_how_far_back_they_reach(question: str, days: int) -> None:
    assert recency_window(question) == days


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Which automaker recalled its trucks?", "automaker recalled"),  # stops at a common word
        ("A plane crashed in which South Asian country?", "south asian country"),
        ("Which country's prime minister resigned?", "country's prime minister"),
        ("In which city, the capital, did it happen?", "city"),  # a comma ends the kind
        ("Whose album topped the charts?", "album topped"),
        ("Who served as vice president?", "person"),
        ("Where was the first roller coaster built?", "place"),
        ("What is he accused of?", None),
        ("How many troops are stationed there?", None),
    ],
)
def test_the_kind_of_thing_a_question_asks_for(question: str, kind: str | None) -> None:
    assert asked_kind(question) == kind


def test_new_names_are_runs_of_capitalised_words_the_question_lacks() -> None:
    text = "Officials said the Bank of England and Robert F. Kennedy Jr. met in Washington on Monday."
    assert new_names(text, {"washington"}) == ["Bank of England", "Robert F. Kennedy Jr", "Monday"]
    # A capitalised word that only opens the sentence is no name; a name of the question is no news.
    assert new_names("Officials met Ford.", {"ford"}) == []


def test_speaker_named_after_the_role() -> None:
    speaker = find_speaker("The region's water minister, Ana Lopez, said the dam would stay shut.")
    assert speaker is not None and (speaker.name, speaker.role) == ("Ana Lopez", "The region's water minister")


def test_speaker_of_a_quote_that_goes_on_in_the_next_sentence() -> None:
    speaker = find_speaker("“We are not asking for charity.", "", "We want our river back,” said Ola Brandt.")
    assert speaker is not None and speaker.name == "Ola Brandt"
    # A quote closed in its own sentence does not borrow the next sentence's speaker.
    assert find_speaker("“We are done.”", "", "Later, Ola Brandt said the talks would resume.") is None


def test_an_organisation_speaks_under_its_full_name() -> None:
    speaker = find_speaker("A spokesperson for the Harbour Ministry of Port Affairs said the cranes were idle.")
    assert speaker is not None and (speaker.name, speaker.role) == ("Harbour Ministry of Port Affairs", "")


def test_sentence_vectors_are_embedded_once_per_embedder() -> None:
    import numpy as np

    from brief.generate.sentence_pool import _VectorCache

    class Counting:
        def __init__(self, value: float) -> None:
            self.value, self.seen = value, []

        def encode(self, texts: list[str]) -> np.ndarray:
            self.seen += texts
            return np.full((len(texts), 2), self.value, dtype=np.float32)

    cache, first, second = _VectorCache(size=3), Counting(1.0), Counting(2.0)
    assert cache.encode(first, ["a", "b", "a"]).tolist() == [[1.0, 1.0]] * 3
    cache.encode(first, ["b", "c"])
    assert first.seen == ["a", "b", "c"]  # "a" twice in one call and "b" again: embedded once
    assert cache.encode(second, ["a"]).tolist() == [[2.0, 2.0]]  # another embedder, its own vectors
    cache.encode(first, ["d"])  # over the size: the least recently used ("a") goes
    cache.encode(first, ["a"])
    assert first.seen == ["a", "b", "c", "d", "a"]


@pytest.mark.parametrize(
    ("question", "wants"),
    [
        ("Which public figure will plead guilty to tax charges?", {"name"}),
        ("What figure did the ministry give for the deficit?", {"number"}),
        ("Which share of voters backed the plan?", {"number"}),  # "which" asking for a figure
        ("On what day are heart attacks most likely?", {"date"}),
        ("After how many years did she resign?", {"number", "count"}),  # a count may be in words
        ("Miami is the first No. 8 seed to win a series since:", {"date"}),  # a blank to fill in
        ("What has changed since the war?", set()),
        # A measure asks for a figure ("7.8"), not for the name of anything.
        ("What was the magnitude of the quake that struck the region?", {"number"}),
        ("What top speed did the new train reach?", {"number"}),
    ],
)
def test_what_a_question_asks_for(question: str, wants: set[str]) -> None:
    assert question_wants(question) == wants


def test_counts_in_words_and_weekdays_in_the_plural_count() -> None:
    assert has_wanted("She led the movement for eight years.", {"number", "count"})
    assert not has_wanted("She led the movement for years.", {"number", "count"})
    # Asked for an amount ("how much", "what value"), "three companies" is no figure: news style
    # writes money and percentages in digits.
    assert not has_wanted("Sanctions hit three companies.", {"number"})
    text = "He won one Super Bowl and 4 MVP awards in ten seasons."
    assert new_figures(text, {"one"}, in_words=True) == 2  # "4", "ten"; "one" is the question's
    assert new_figures(text, {"one"}, in_words=False) == 1
    assert has_wanted("Mondays were the likeliest days.", {"date"})
