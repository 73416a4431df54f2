"""True-or-false questions: the answer says "True: ..." only where a passage bears the statement
out, the citation check holds that sentence to the same test, and a statement the sources do not
bear out gets no verdict but a notice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import ARTICLES
from test_answer import assert_quotes_verbatim, assert_well_numbered, isolated_library, passages_by_chunk

from brief.cite import SupportJudge
from brief.generate.base import UNCONFIRMED_NOTICE
from brief.generate.verdict import confirmation, confirming_passage
from brief.language import checked_statement, verdict_sentence, verdict_statement
from brief.types import Chunk, Passage


@pytest.mark.parametrize(
    ("question", "statement"),
    [
        ("True or false: The ferry resumed service on Monday.", "The ferry resumed service on Monday."),
        ("True or False? The ferry resumed service", "The ferry resumed service."),
        ("The ferry resumed service on Monday. True or false?", "The ferry resumed service on Monday."),
        ("The ferry resumed service (true or false)", "The ferry resumed service."),
        ("True/false: the ferry resumed service", "the ferry resumed service."),
        ("Is it true that the ferry resumed service?", "the ferry resumed service."),
        ("When did the ferry resume service?", ""),
        ("Is the ferry running?", ""),
        ("What is true about the ferry?", ""),
    ],
)
def test_the_statement_a_question_asks_about(question: str, statement: str) -> None:
    assert checked_statement(question) == statement


def test_a_verdict_sentence_names_its_statement() -> None:
    sentence = verdict_sentence("The ferry resumed service.")
    assert sentence == "True: The ferry resumed service."
    assert verdict_statement(sentence) == "The ferry resumed service."
    assert verdict_statement("True to form, the ferry was late.") == ""


def _passage(text: str, title: str = "Tidewater ferry back in service", date: str = "2024-03-04") -> Passage:
    chunk = Chunk("ferry:0", "ferry", 0, text, 0, len(text), "", title, "Coast Wire", date)
    return Passage(chunk, 1.0, text, 0, len(text))


FERRY = _passage(
    "The harbour was quiet on Sunday. "
    "The Tidewater ferry resumed service on Monday after a three-week repair to its engines. "
    "Operator Brinemoor Lines said the crossing would run every hour."
)


def test_a_passage_that_states_it_confirms_it() -> None:
    found = confirmation("The Tidewater ferry resumed service on Monday.", FERRY)
    assert found is not None and found.share == 1.0
    # The confirmation points at the sentence that states it, not at the whole passage.
    assert FERRY.text[found.span[0] : found.span[1]].startswith("The Tidewater ferry resumed service")


def test_the_headline_counts_as_the_articles_words() -> None:
    passage = _passage("It resumed service on Monday after a long repair.", title="Tidewater ferry resumes service")
    assert confirmation("The Tidewater ferry resumed service on Monday.", passage) is not None
    assert confirmation("The Tidewater ferry resumed service on Monday.", _passage(passage.text, title="")) is None


@pytest.mark.parametrize(
    "statement",
    [
        # The same claim about another operator or another day is not this passage's claim.
        "The Calder ferry resumed service on Monday.",
        "The Tidewater ferry resumed service on Monday after 5 weeks.",
        # Negated where the passage is not, and the other way round.
        "The Tidewater ferry did not resume service on Monday.",
        # Too little of it is there.
        "The Tidewater ferry was sold to a rival company for scrap metal on Monday.",
    ],
)
def test_a_passage_that_does_not_state_it_confirms_nothing(statement: str) -> None:
    assert confirmation(statement, FERRY) is None


def test_a_negated_statement_needs_a_negated_passage() -> None:
    halted = _passage("The Tidewater ferry did not sail on Monday because of the storm.")
    assert confirmation("The Tidewater ferry did not sail on Monday.", halted) is not None
    assert confirmation("The Tidewater ferry sailed on Monday.", halted) is None


def test_this_weeks_statement_needs_this_weeks_article() -> None:
    statement = "The Tidewater ferry resumed service this week."
    old = _passage(FERRY.text, date="2023-01-10")
    assert confirmation(statement, old) is not None  # the words are all there ...
    asked = dt.date(2024, 3, 7)
    assert confirming_passage(statement, [old], [], asked) is None  # ... but a year too early
    assert confirming_passage(statement, [old, FERRY], [], asked) == 1
    # Without "this week", any date confirms it, and the answer's own passages come first.
    assert confirming_passage("The Tidewater ferry resumed service.", [old, FERRY], [1], asked) == 1


def test_the_citation_check_holds_a_verdict_to_the_same_test(embedder: Any) -> None:
    judge = SupportJudge(embedder)
    borne_out = judge.judge(verdict_sentence("The Tidewater ferry resumed service on Monday."), 0, FERRY)
    assert borne_out.supported
    assert FERRY.text[borne_out.quote_span[0] : borne_out.quote_span[1]].startswith("The Tidewater ferry resumed")
    # Close in meaning but about another operator: a verdict the passage does not bear out is
    # unsupported, whatever the embedding says.
    other = verdict_sentence("The Calder ferry resumed service on Monday.")
    assert not judge.judge(other, 0, FERRY).supported
    assert judge.judge("The Calder ferry resumed service on Monday.", 0, FERRY).score > 0


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Iterator[Any]:
    home = tmp_path_factory.mktemp("verdict") / "home"
    yield isolated_library(home, embedder, [ARTICLES], backend="extractive")


def test_a_true_statement_is_answered_true_and_cited(library: Any) -> None:
    question = "True or false: Dockworkers at Port Calloway returned to work after a 17-day strike."
    answer = library.ask(question)
    assert not answer.declined and not answer.notice
    first = answer.sentences[0]
    assert first.text == "True: Dockworkers at Port Calloway returned to work after a 17-day strike."
    assert first.supported and first.citations
    quote = next(c.quote for c in answer.citations if c.n == first.citations[0])
    assert "returned to work on the morning of Tuesday 18 June, ending a 17-day strike" in quote
    # The evidence follows the verdict.
    assert any("17-day strike" in s.text for s in answer.sentences[1:])
    assert_well_numbered(answer.to_dict())
    assert_quotes_verbatim(answer.citations, passages_by_chunk(library, question))


@pytest.mark.parametrize(
    "question",
    [
        # Another port's name: the fixture articles mention Halden Bay, but not this of it.
        "True or false: Dockworkers at Halden Bay returned to work after a 17-day strike.",
        # The union voted for the deal; the statement says the opposite.
        "Is it true that the union did not vote in favour of the deal with Saltmarsh Terminals?",
    ],
)
def test_a_statement_the_articles_do_not_bear_out_gets_no_verdict(library: Any, question: str) -> None:
    answer = library.ask(question)
    assert "True:" not in answer.answer
    assert answer.notice == UNCONFIRMED_NOTICE
    assert_well_numbered(answer.to_dict())


def test_other_questions_get_no_verdict_and_no_notice(library: Any) -> None:
    answer = library.ask("How long did the Port Calloway strike last?")
    assert "17" in answer.answer and "True:" not in answer.answer and not answer.notice
