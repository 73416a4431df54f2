"""Which questions ask for recent news, and when the passages found are all too old to give it
(pure logic; the end-to-end cases are in test_failure_classes.py and test_ui_as_of.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from brief.staleness import STALE_AFTER_DAYS, StaleNews, asked_on, stale_news
from brief.types import Chunk, Passage


def passage(date: str, n: int = 0) -> Passage:
    chunk = Chunk(f"d{n}:0", f"d{n}", 0, "The pilots accepted a raise.", 0, 28, "", "Pay deal", "Courier", date)
    return Passage(chunk, 1.0, chunk.text, 0, len(chunk.text))


AS_OF = dt.date(2027, 3, 12)


@pytest.mark.parametrize(
    "question",
    [
        "What raise did the pilots accept this week?",
        "Who won the vote last week?",
        "What happened at the summit this weekend?",
        "Which bill passed the senate this month?",
        "How much have tax refunds grown this year?",
        "What did the minister say today?",
        "Who resigned yesterday?",
        "What is the latest on the strike?",
        "Which painting was recently targeted by protesters?",
        "Which is the newest model?",
        "What is the most recent figure?",
    ],
)
def test_a_time_cue_with_only_old_articles_is_stale(question: str) -> None:
    stale = stale_news(question, [passage("2025-03-10"), passage("2024-11-02", 1)], AS_OF)
    assert stale == StaleNews(dt.date(2025, 3, 10), AS_OF)  # the newest of the passages


@pytest.mark.parametrize(
    "question",
    [
        "What raise is in the pilots' new pay deal?",  # names a thing
        "When were the new sanctions imposed?",
        "Which airport was the worst for delays last year?",  # a named year, reported later
        "How much did the airline earn in 2024?",
        "Is the strike just?",
    ],
)
def test_no_time_cue_is_never_stale(question: str) -> None:
    assert stale_news(question, [passage("2019-01-01")], AS_OF) is None


def test_the_horizon_counts_from_the_newest_passage() -> None:
    question = "What happened this week?"
    within = (AS_OF - dt.timedelta(days=STALE_AFTER_DAYS)).isoformat()
    beyond = (AS_OF - dt.timedelta(days=STALE_AFTER_DAYS + 1)).isoformat()
    assert stale_news(question, [passage(within)], AS_OF) is None
    assert stale_news(question, [passage(beyond)], AS_OF) == StaleNews(dt.date.fromisoformat(beyond), AS_OF)
    # One recent passage among old ones is enough, and so is one dated after the question's date.
    assert stale_news(question, [passage(beyond), passage(within, 1)], AS_OF) is None
    assert stale_news(question, [passage(beyond), passage("2027-04-01", 1)], AS_OF) is None


def test_an_undated_article_might_be_new() -> None:
    question = "What happened this week?"
    assert stale_news(question, [passage("2020-05-05"), passage("", 1)], AS_OF) is None
    assert stale_news(question, [passage("2020-05-05"), passage("not a date", 1)], AS_OF) is None
    assert stale_news(question, [], AS_OF) is None


def test_asked_on_is_the_as_of_date_or_today() -> None:
    assert asked_on("2025-03-12") == dt.date(2025, 3, 12)
    assert asked_on("", today=dt.date(2026, 11, 29)) == dt.date(2026, 11, 29)
    assert asked_on("") == dt.date.today()


def test_the_notice_names_both_dates_and_the_way_out() -> None:
    notice = StaleNews(dt.date(2023, 6, 30), dt.date(2026, 11, 29)).notice()
    assert "2023-06-30" in notice and "2026-11-29" in notice and "as of" in notice
