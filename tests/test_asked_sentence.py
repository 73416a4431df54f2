"""A question with a lead-in ("X happened this week. Who ...?") is also searched by its question
sentence alone, so the lead-in's words cannot fill every place with passages about the lead-in."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conftest import ARTICLES
from test_answer import isolated_library

from brief.text import asked_sentence


@pytest.mark.parametrize(
    ("question", "asked"),
    [
        (
            "Harry Vale died this week at 96. He was the first singer to receive which award?",
            "He was the first singer to receive which award?",
        ),
        ("The strike is over. Its deal runs until:", "Its deal runs until:"),
        ("Who mediated the Port Calloway talks?", ""),  # one sentence: nothing to add
        ("The port reopened on Tuesday. Tell me more.", ""),  # the last sentence asks nothing
        ("The port reopened. Why?", ""),  # too little to search by itself
    ],
)
def test_the_question_after_its_lead_in(question: str, asked: str) -> None:
    assert asked_sentence(question) == asked


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Iterator[Any]:
    home = tmp_path_factory.mktemp("asked") / "home"
    yield isolated_library(home, embedder, [ARTICLES], backend="extractive")


def test_the_question_sentence_brings_its_own_passage(library: Any) -> None:
    question = (
        "Dockworkers at Port Calloway walked off the job over pay and automated cranes, and dozens of "
        "container ships waited at anchor. Who led the four days of talks as mediator?"
    )
    searcher = library.searcher
    # The lead-in alone decides the best passage: it is about the walkout, not the mediator ...
    alone = searcher._search_one(question, 1, None).passages
    assert alone and "Joelle Anstruther" not in alone[0].text
    # ... and the question sentence's own search brings the passage that names her.
    passages = searcher.search(question, 1).passages
    assert passages[0].chunk.chunk_id == alone[0].chunk.chunk_id
    assert any("Joelle Anstruther" in p.text for p in passages[1:])
    answer = library.ask(question)
    assert not answer.declined and "Joelle Anstruther" in answer.answer
