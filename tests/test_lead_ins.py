"""A picked sentence that refers back ("She said ...") comes with the sentence before it; one that
names its subject in the same breath ("The new conductor, Ilse Varga, will ...") reads alone and
takes no lead-in, so it leaves the answer's last place to a sentence that says something."""

from __future__ import annotations

import datetime as dt

import pytest

from brief.generate.extractive import _with_antecedents
from brief.generate.sentence_pool import SentencePool
from brief.language import NAMES_ITS_SUBJECT
from brief.types import Chunk, Passage


@pytest.mark.parametrize(
    ("sentence", "names"),
    [
        ("The new conductor, Ilse Varga, will start in May.", True),
        ("“The ferry operator, Brinemoor Lines, said the crossing would reopen.", True),
        ("This season's opener, Symphony of the Harbour, sold out in a day.", True),
        ("The new conductor, who grew up in Vienna, will start in May.", False),
        ("The conductor, 41, will start in May.", False),
        ("She will start in May.", False),
    ],
)
def test_which_sentences_name_their_subject(sentence: str, names: bool) -> None:
    assert bool(NAMES_ITS_SUBJECT.match(sentence)) is names


def _passage(text: str) -> Passage:
    chunk = Chunk("orch:0", "orch", 0, text, 0, len(text), "", "", "Arts Desk", "2024-05-02")
    return Passage(chunk, 1.0, text, 0, len(text))


ORCHESTRA = _passage(
    "The Harbour Philharmonic named its next music director on Monday after a two-year search. "
    "The new conductor, Ilse Varga, will start in September. "
    "She said her first season would open with a new work by a local composer. "
    "The new conductor, who grew up in Vienna, has led orchestras in Graz and Lyon."
)


def test_a_sentence_that_names_its_subject_takes_no_lead_in(embedder: object) -> None:
    pool = SentencePool([ORCHESTRA], embedder, dt.date(2024, 5, 3))
    named, she, who = 1, 2, 3
    assert [c.text[:12] for c in pool.candidates] == ["The Harbour ", "The new cond", "She said her", "The new cond"]
    assert all(pool.candidates[i].refers_back for i in (named, she, who))
    assert _with_antecedents(pool, [named], 1, 4) == [named]
    # "She ..." and "The new conductor, who ..." still need the sentence before them.
    assert _with_antecedents(pool, [she], 1, 4) == [named, she]
    assert _with_antecedents(pool, [who], 1, 4) == [she, who]
    # The place a needless lead-in took goes to the next pick.
    assert _with_antecedents(pool, [named, 0, she, who], 1, 3) == [named, 0, she]
