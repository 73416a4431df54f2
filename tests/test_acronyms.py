"""What an abbreviation stands for: the question names it ("What does PICSS stand for?"), and the
sentence that writes it out beside it answers, even where the fitted model scores that sentence
under its cut-off (real MiniLM, no store needed; the seed corpus end to end in eval/sample.yaml)."""

from __future__ import annotations

import datetime as dt

import pytest

from brief.cite import SupportJudge, verify_draft
from brief.generate.extractive import ExtractiveGenerator
from brief.language import asked_acronym, spells_out
from brief.types import Chunk, Passage


@pytest.mark.parametrize(
    ("question", "acronym"),
    [
        ("What does NDC stand for?", "NDC"),
        ("The panel is studying UAPs, which stands for what?", "UAP"),
        ("What is MIRV short for?", "MIRV"),
        ("What does the acronym PICSS mean?", "PICSS"),
        ("Which abbreviation names the agency, and what is HVRA short for?", "HVRA"),
        ("Who leads NATO?", None),  # names one, asks for no expansion
        ("What does the label stand for?", None),  # asks for one, names none
    ],
)
def test_the_asked_abbreviation(question: str, acronym: str | None) -> None:
    assert asked_acronym(question) == acronym


@pytest.mark.parametrize(
    ("acronym", "text"),
    [
        ("NDC", "Sanctions hit Pakistan's National Development Complex (NDC), a defence body."),
        ("UAP", "The team was studying unidentified anomalous phenomena, or UAPs."),
        ("NDC", "The NDC (National Development Complex) said it would appeal."),
        ("FBI", "The Federal Bureau of Investigation (FBI) said so."),  # a small word between
        ("MIRV", "The Multiple Independently Targetable Re-entry Vehicles (MIRV) technology"),  # one left out
        ("ISSRA", "the Institute for Strategic Studies, Research and Analysis (ISSRA)"),
        ("AI", "Rules for artificial intelligence, or AI, were agreed."),
    ],
)
def test_a_sentence_that_writes_the_abbreviation_out(acronym: str, text: str) -> None:
    assert spells_out(acronym, text)


@pytest.mark.parametrize(
    ("acronym", "text"),
    [
        ("NDC", "NDC said it would appeal the ruling."),  # named, not written out
        ("AI", "AI is as interesting as it gets."),  # "as it": small words spell nothing
        ("UAP", "Interest in UAPs is high among pilots, and unidentified anomalous phenomena are studied too."),
        ("NDC", "The National Development Complex said it would appeal."),  # written out, never named
        ("MIRV", "Multiple Independently Targetable Re-entry Vehicles (MRV) are costly."),  # another one
        ("FBI", "The FBI and the Federal Reserve Bank issued a statement."),  # F, R, B: not in order
    ],
)
def test_no_spelling_out(acronym: str, text: str) -> None:
    assert not spells_out(acronym, text)


def _passage(doc: str, title: str, text: str) -> Passage:
    chunk = Chunk(f"{doc}:0", doc, 0, text, 0, len(text), "", title, "Valley Ledger", "2024-05-02")
    return Passage(chunk, 1.0, text, 0, len(text))


FLOOD = _passage(
    "flood",
    "Reservoir levels fall as dry spring continues",
    "Engineers lowered the reservoir by two metres on Tuesday after weeks without rain. "
    "Farmers downstream asked for an early release of water for the barley crop. "
    "Maria Okafor, a hydrologist with the Highland Valley Reservoir Authority (HVRA), said the lake would recover "
    "by autumn. The HVRA will publish new levels every Friday.",
)
MARKET = _passage(
    "market",
    "Barley prices climb at the county market",
    "Barley traded at its highest price in four years at the county market on Wednesday. "
    "Buyers blamed the dry spring and the late planting season for the rise.",
)
ASKED = dt.date(2024, 5, 3)


# An opinion column that plays on the letters ranks first and restates the question; on its own
# scores the model answered from it.
COLUMN = _passage(
    "column",
    "What the water board stands for",
    "Farmers say the HVRA stands for higher bills and lower lakes. "
    "The HVRA chair stands by its forecast for the summer.",
)


def test_the_sentence_that_writes_it_out_answers_and_is_cited(embedder: object) -> None:
    passages = [COLUMN, FLOOD, MARKET]
    draft = ExtractiveGenerator(embedder).generate("What does HVRA stand for?", passages, [], ASKED)
    assert not draft.declined
    assert "Highland Valley Reservoir Authority (HVRA)" in draft.sentences[0].text
    assert draft.sentences[0].cited == [1]
    verification = verify_draft(draft, passages, SupportJudge(embedder))
    assert verification.sentences[0].supported and verification.sentences[0].citations == [1]
    assert "Highland Valley Reservoir Authority (HVRA)" in verification.citations[0].quote


def test_a_question_that_only_names_the_abbreviation_is_answered_as_before(embedder: object) -> None:
    draft = ExtractiveGenerator(embedder).generate(
        "How often will the HVRA publish new reservoir levels?", [COLUMN, FLOOD, MARKET], [], ASKED
    )
    assert not draft.declined
    assert any("every Friday" in s.text for s in draft.sentences)
    assert not draft.sentences[0].text.startswith("Maria Okafor")
