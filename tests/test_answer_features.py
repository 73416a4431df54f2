"""The answerer's newest-story, lead, asked-place and asked-kind features: what they measure on
passages, and that they decide between an old and a new report of a recurring story, and between
a sentence that restates a which-state or which-automaker question and one naming the state or
the carmaker (real MiniLM, no store needed)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest

from brief.generate import sentence_pool
from brief.generate.extractive import ExtractiveGenerator
from brief.generate.sentence_pool import FEATURES, SentencePool, question_wants
from brief.language import asked_kind
from brief.types import Chunk, Passage

NEWEST, LEAD = FEATURES.index("newest_story"), FEATURES.index("lead")


def _passage(doc: str, date: str, text: str, start: int = 0) -> Passage:
    chunk = Chunk(f"{doc}:0", doc, 0, text, start, start + len(text), "", f"{doc} report", "Daily Wire", date)
    return Passage(chunk, 1.0, text, start, start + len(text))


OLD_FINAL = (
    "Harbour City won the Coastal Cup final on Sunday, beating Ridgemont 2-1 in front of a full stadium. "
    "Fans celebrated late into the night across the city centre."
)
NEW_FINAL = (
    "Ridgemont Rovers won the Coastal Cup final on Sunday, beating Harbour City 3-0 at the national stadium. "
    "The club's supporters marched through the streets on Monday."
)


def _rows(pool: SentencePool, question: str) -> dict[str, np.ndarray]:
    rows = pool.features(question)
    return {c.text: rows[i] for i, c in enumerate(pool.candidates)}


ASKED = dt.date(2023, 3, 11)  # the day the question is asked on


def test_newest_story_marks_articles_from_just_before_the_day_asked(embedder: object) -> None:
    passages = [
        _passage("old", "2023-02-26", OLD_FINAL),  # a recurring story's earlier final, 13 days before
        _passage("new", "2023-03-10", NEW_FINAL),  # the day before
        _passage("mid", "2023-03-07", "Ridgemont's coach praised the squad after the final on Sunday evening."),
        _passage("undated", "", "Harbour City's manager said the final was a hard lesson for his players."),
        _passage("later", "2023-03-20", "Ridgemont Rovers paraded the Coastal Cup through the town on Saturday."),
    ]
    pool = SentencePool(passages, embedder, ASKED)
    rows = _rows(pool, "Which team won the Coastal Cup final this week?")
    # "This week" reaches 8 days back: a day old scores 1 - 1/9, four days old 1 - 4/9.
    assert rows[NEW_FINAL.split(". ")[0] + "."][NEWEST] == pytest.approx(8 / 9)
    assert rows[passages[2].text][NEWEST] == pytest.approx(5 / 9)
    assert rows[OLD_FINAL.split(". ")[0] + "."][NEWEST] == 0.0  # outside the window
    assert rows[passages[3].text][NEWEST] == 0.0  # undated: not known to be new
    assert rows[passages[4].text][NEWEST] == 0.0  # dated after the day asked: not news yet
    # A question that asks for no span reads the fortnight before the day asked: 14 days.
    plain = _rows(pool, "Which team won the Coastal Cup final?")
    assert plain[NEW_FINAL.split(". ")[0] + "."][NEWEST] == pytest.approx(14 / 15)
    assert plain[passages[2].text][NEWEST] == pytest.approx(11 / 15)
    assert plain[OLD_FINAL.split(". ")[0] + "."][NEWEST] == pytest.approx(2 / 15)  # 13 days: just inside
    assert plain[passages[3].text][NEWEST] == plain[passages[4].text][NEWEST] == 0.0
    # Without a date the question is asked today, long after all of them.
    today = _rows(SentencePool(passages, embedder), "Which team won the Coastal Cup final this week?")
    assert all(row[NEWEST] == 0.0 for row in today.values())


def test_lead_marks_the_opening_sentences_of_an_article_only(embedder: object) -> None:
    opening = _passage("a", "2023-03-10", NEW_FINAL)
    later = _passage("b", "2023-03-10", OLD_FINAL, start=2400)  # a passage from deep in its article
    pool = SentencePool([opening, later], embedder)
    rows = _rows(pool, "Who won the Coastal Cup final?")
    first, second = (s if s.endswith(".") else s + "." for s in NEW_FINAL.split(". "))
    assert rows[first][LEAD] == 1.0
    assert rows[second][LEAD] == 1.0  # the second sentence starts within the lead's 300 characters
    assert all(rows[s if s.endswith(".") else s + "."][LEAD] == 0.0 for s in OLD_FINAL.split(". "))


def _best_sentence(pool: SentencePool, question: str) -> str:
    return pool.candidates[int(np.argmax(pool.answer_probability(question)))].text


def _without_weight(monkeypatch: pytest.MonkeyPatch, feature: int) -> None:
    """The shipped answer model with one fitted weight zeroed: a check that rests on it fails."""
    fitted = sentence_pool.answer_model()
    weights = fitted.weights.copy()
    weights[feature] = 0.0
    monkeypatch.setattr(sentence_pool, "answer_model", lambda: dataclasses.replace(fitted, weights=weights))


def _best(embedder: object, question: str, as_of: dt.date = ASKED) -> str:
    # Retrieval ranked the old report first; both say "won the Coastal Cup final on Sunday".
    passages = [_passage("old", "2023-02-26", OLD_FINAL), _passage("new", "2023-03-10", NEW_FINAL)]
    return _best_sentence(SentencePool(passages, embedder, as_of), question)


def test_a_this_week_question_is_best_answered_by_the_newer_report(embedder: object) -> None:
    assert _best(embedder, "Which team won the Coastal Cup final this week?").startswith("Ridgemont Rovers won")
    # Asked without "this week", the fortnight before the day asked is preferred all the same:
    # the old final is 13 days old, the new one a day.
    assert _best(embedder, "Which team won the Coastal Cup final?").startswith("Ridgemont Rovers won")
    # Once both are older than a fortnight, the first-ranked report's sentence is the best one.
    month_after = dt.date(2023, 4, 11)
    assert _best(embedder, "Which team won the Coastal Cup final?", month_after).startswith("Harbour City won")
    # Asked the day after the old final, the new report is not written yet: the old one answers.
    day_after = dt.date(2023, 2, 27)
    assert _best(embedder, "Which team won the Coastal Cup final this week?", day_after).startswith("Harbour City")
    draft = ExtractiveGenerator(embedder).generate(
        "Which team won the Coastal Cup final this week?",
        [_passage("old", "2023-02-26", OLD_FINAL), _passage("new", "2023-03-10", NEW_FINAL)],
        [],
        ASKED,
    )
    # The answer leads with it, although retrieval ranked the old report first.
    assert draft.sentences[0].text.startswith("Ridgemont Rovers won") and draft.sentences[0].cited == [1]


def test_without_the_newest_story_weight_the_old_report_is_best(
    embedder: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check above rests on the fitted weight, not on luck of wording."""
    _without_weight(monkeypatch, NEWEST)
    assert _best(embedder, "Which team won the Coastal Cup final this week?").startswith("Harbour City won")


PLACE = FEATURES.index("names_place")
DRONE_BAN = (
    "A state became the first to ban drone deliveries over schools on Tuesday, after a year of debate. "
    "Governor Tina Kotek of Oregon signed the bill at a school in Salem."
)
DRONE_QUESTION = "Which state became the first to ban drone deliveries over schools?"


@pytest.mark.parametrize(
    ("question", "sentence", "value"),
    [
        ("Which country won the song contest?", "Sweden won with a power ballad.", 1.0),
        ("Which country beat Finland in the final?", "Finland lost the final on penalties.", 0.0),  # asked already
        ("Which nation hosted the summit?", "The summit met in the United Arab Emirates.", 1.0),
        ("Which US state’s governor vetoed the bill?", "The bill reached New York's governor.", 1.0),
        ("Which state passed the law?", "The law passed in Georgia, officials said.", 1.0),  # a state too
        ("Which state passed the law?", "The law passed after a long debate.", 0.0),
        ("Who won the song contest?", "Sweden won with a power ballad.", 0.0),  # no place asked for
    ],
)
def test_names_place_marks_a_place_of_the_asked_kind(
    embedder: object, question: str, sentence: str, value: float
) -> None:
    pool = SentencePool([_passage("a", "2023-03-10", sentence)], embedder)
    assert pool.features(question)[0][PLACE] == value


KIND = FEATURES.index("answer_kind")
RECALL = (
    "On Wednesday, Ford recalled 125,000 trucks over a faulty axle bolt. "
    "The recall was announced in Detroit after months of complaints. "
    "Regulators said the fault could cause crashes at speed."
)


def test_answer_kind_is_how_far_a_sentences_best_name_falls_short_of_the_asked_kind(embedder: object) -> None:
    pool = SentencePool([_passage("a", "2023-03-10", RECALL)], embedder)
    ford, detroit, regulators = (pool.features("Which automaker recalled the trucks?")[i][KIND] for i in range(3))
    assert ford == 0.0  # "Ford" is the name most like an automaker: the best sentence loses nothing
    assert regulators < detroit < 0.0  # a city is less like one; no name at all is least like one
    # A question that asks for no kind of name leaves the feature off everywhere.
    assert all(row[KIND] == 0.0 for row in pool.features("How many trucks were recalled?"))


AXLE_QUESTION = "Which automaker recalled trucks over a faulty axle bolt?"
AXLE = (
    "Owners in Texas said trucks with a faulty axle bolt could snap at speed. "
    "On Wednesday, Ford recalled 125,000 pickups to replace the part."
)


@pytest.mark.parametrize(
    ("text", "question", "feature", "answer", "restating"),
    [
        (DRONE_BAN, DRONE_QUESTION, PLACE, "Governor Tina Kotek of Oregon", "A state became the first"),
        # The restating sentence names a state; the answer names a carmaker.
        (AXLE, AXLE_QUESTION, KIND, "On Wednesday, Ford recalled", "Owners in Texas said"),
    ],
    ids=["which state: names_place", "which automaker: answer_kind"],
)
def test_the_sentence_naming_the_asked_thing_beats_the_one_restating_the_question(
    embedder: object,
    monkeypatch: pytest.MonkeyPatch,
    text: str,
    question: str,
    feature: int,
    answer: str,
    restating: str,
) -> None:
    pool = SentencePool([_passage("a", "2023-03-10", text, start=900)], embedder)
    assert _best_sentence(pool, question).startswith(answer)
    # Without the fitted weight the sentence restating the question wins: the check rests on it.
    _without_weight(monkeypatch, feature)
    assert _best_sentence(pool, question).startswith(restating)


LAUNCH = (
    "Officials said the first space mission failed after the Corvane rocket lost power. "
    "The airliner carrying the rocket took off from Lanmoor Airport in Westhaven."
)


def test_a_where_question_asks_for_the_name_of_a_place(embedder: object) -> None:
    """ "Where" asks for a place as "who" asks for a person: the sentence naming it answers,
    not the one restating the question."""
    question = "The country's first space mission failed after the Corvane rocket launched from where?"
    assert asked_kind(question) == "place" and "name" in question_wants(question)
    pool = SentencePool([_passage("a", "2023-01-10", LAUNCH, start=900)], embedder)
    assert _best_sentence(pool, question).startswith("The airliner carrying the rocket")
