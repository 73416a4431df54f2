"""A "what year" question is answered by a year: a weekday or a month is a date, but not the one
it asks for (real MiniLM, no store needed)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from brief.generate.extractive import ExtractiveGenerator, answer_pool
from brief.generate.sentence_pool import answer_eligible, has_wanted, question_wants
from brief.types import Chunk, Passage


@pytest.mark.parametrize(
    ("question", "year"),
    [
        ("In what year did the guild last strike?", True),
        ("Which year saw the last walkout?", True),
        ("When did the guild last strike?", False),  # any date answers "when"
        ("On what day did the strike begin?", False),
        ("How many years ago did the guild last strike?", False),  # a count, not a year
    ],
)
def test_what_year_asks_for_a_year(question: str, year: bool) -> None:
    wants = question_wants(question)
    assert "date" in wants or "number" in wants
    assert ("year" in wants) is year


@pytest.mark.parametrize(
    ("text", "holds"),
    [
        ("The guild walked off for 100 days in 2007 and 2008.", True),
        ("During the 2007-08 strike, reality shows boomed.", True),
        ("The guild went on strike at 12:01 a.m. on Tuesday.", False),
        ("Talks broke down on May 1 after six weeks.", False),
        ("The fund paid $2019 to each member.", False),
        ("About 11,500 writers walked off the job.", False),
    ],
)
def test_only_a_year_answers_a_what_year_question(text: str, holds: bool) -> None:
    assert has_wanted(text, {"date", "year"}) is holds
    # Any date answers a plain date question.
    assert has_wanted("The guild went on strike at 12:01 a.m. on Tuesday.", {"date"})


def _passage(doc: str, text: str) -> Passage:
    chunk = Chunk(f"{doc}:0", doc, 0, text, 0, len(text), "", "Screenwriters strike", "Studio Wire", "2023-05-03")
    return Passage(chunk, 1.0, text, 0, len(text))


STRIKE = _passage(
    "strike",
    "At 12:01 a.m. on Tuesday, the Screenwriters Guild, the union of most film and television writers, "
    "went on strike and halted production. "
    "Picket lines formed outside the studios on Tuesday morning. "
    "The strike comes 15 years after the guild last walked off the job, for 100 days in 2007 and 2008.",
)
QUESTION = "The Screenwriters Guild went on strike this week. In what year did its members last hit the picket lines?"


def test_the_sentence_with_the_year_is_the_best_answer(embedder: object) -> None:
    pool = answer_pool([STRIKE], embedder, dt.date(2023, 5, 5))
    relevance = np.where(answer_eligible(pool, question_wants(QUESTION)), pool.answer_probability(QUESTION), 0.0)
    best = pool.candidates[int(np.argmax(relevance))].text
    assert "2007" in best
    # The sentences that give only the weekday are no answer to it.
    tuesday = [i for i, c in enumerate(pool.candidates) if "Tuesday" in c.text and not c.headline]
    assert tuesday and all(relevance[i] == 0.0 for i in tuesday)
    draft = ExtractiveGenerator(embedder).generate(QUESTION, [STRIKE], [], dt.date(2023, 5, 5))
    assert not draft.declined and any("2007" in s.text for s in draft.sentences)
