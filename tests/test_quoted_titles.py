"""Which quoted spans of a question are titles, and when a passage holds one (pure logic; the
end-to-end cases are in test_failure_classes.py)."""

from __future__ import annotations

import pytest

from brief.generate.sentence_pool import _phrase_form, quoted_titles


@pytest.mark.parametrize(
    ("question", "titles"),
    [
        ('Which film has dethroned "Inside Out 2" as the top animated movie?', ["Inside Out 2"]),
        ("Steve Martin said ‘Only Murders in the Building’ has started filming.", ["Only Murders in the Building"]),
        ("Who wrote “The Star-Spangled Banner?”", ["The Star-Spangled Banner"]),
        ("Who played Shirley in ‘Laverne & Shirley,’ the hit show?", ["Laverne & Shirley"]),
        ("“Ted Lasso” and “Succession” won what?", ["Ted Lasso", "Succession"]),
        # Scare quotes start in lower case; apostrophes open and close nothing.
        ("Which books are being revised to be more “palatable”?", []),
        ("Who is Z's content chief?", []),
        ("Which towns are in “America’s 100 Most Charming Towns”?", []),
        ("What is the 'rat czar' paid?", []),
        ('What did <a data-id="inline-link" href="https://x.example">', []),
    ],
)
def test_quoted_titles(question: str, titles: list[str]) -> None:
    assert quoted_titles(question) == titles


@pytest.mark.parametrize(
    ("title", "text"),
    [
        ("Super Mario Bros. Movie", "Chris Pratt voices Mario in The Super Mario Bros Movie, out in April."),
        ("Laverne & Shirley", "She starred in Laverne and Shirley for eight seasons."),
        ("The Star-Spangled Banner", "Francis Scott Key wrote Star Spangled Banner lyrics in 1814."),
        ("Inside Out 2", "INSIDE OUT 2 broke the record."),
        ("United States Open", "the US Open final"),  # a country in any spelling
    ],
)
def test_a_title_is_held_whatever_its_case_punctuation_and_glue_words(title: str, text: str) -> None:
    assert _phrase_form(title) in _phrase_form(text)


@pytest.mark.parametrize(
    ("title", "text"),
    [
        ("Inside Out 2", "Inside Out was the first film; a second is planned."),  # not in order, whole
        ("Inside Out 2", "Inside Out 22 is a fan title."),  # a word is whole or not there
        ("Crumb and Crust", "Crust, crumb and filling."),
    ],
)
def test_a_title_is_not_held_by_its_words_elsewhere(title: str, text: str) -> None:
    assert _phrase_form(title) not in _phrase_form(text)
