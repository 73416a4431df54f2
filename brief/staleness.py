"""A question about recent news that only old articles match: the library lacks that news.

"Which former member of Congress died this week?", asked of an archive whose newest article on
the matter is two years old, is not answered by it: whatever those articles say, it is not this
week's news. Retrieval already prefers the newest articles for such questions
(`brief.retrieve`); this decides that none is new enough, before any writer runs.

The horizon is fitted on the real-news development set (README, "Real news"): of its 409
questions, 175 answerable and 9 unanswerable ones carry an explicit time cue
(`brief.language.NEWEST_NEWS`); a year's horizon finds all 9 unanswerable ones stale and 3
answerable ones, of which only one held a right answer (a 2021 article naming the country a
2023 question asked about). Half a year declines 13 answerable questions, three months 23, for
no more unanswerable ones; two years catches 7 of the 9.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from brief.language import NEWEST_NEWS
from brief.types import Passage, date_to_int, day_of

STALE_AFTER_DAYS = 365


@dataclass(frozen=True)
class StaleNews:
    """The newest article the passages come from, and the date the question is asked on."""

    newest: dt.date
    as_of: dt.date

    def notice(self, subject: str = "question") -> str:
        """Why nothing was written, for a question or a brief's topic."""
        return (
            f"the {subject} asks about recent news, and the newest of the articles found for it is from "
            f"{self.newest.isoformat()}, more than a year before {self.as_of.isoformat()}; "
            "to ask as of an earlier date, set it with --as-of (in the app: Filters, As of)"
        )


def asked_on(as_of: str, today: dt.date | None = None) -> dt.date:
    """The date a question is asked on: its `as_of` (an ISO date, checked by the filters), or today."""
    return day_of(date_to_int(as_of)) or today or dt.date.today()


def stale_news(question: str, passages: Sequence[Passage], as_of: dt.date) -> StaleNews | None:
    """StaleNews when the question asks for recent news and every passage's article is dated
    more than STALE_AFTER_DAYS before `as_of`; None otherwise. An undated article might be new,
    so one among the passages keeps the question answerable."""
    if not passages or not NEWEST_NEWS.search(question):
        return None
    dates = [day_of(date_to_int(p.chunk.date)) for p in passages]
    if any(d is None for d in dates):
        return None
    newest = max(d for d in dates if d is not None)
    if (as_of - newest).days <= STALE_AFTER_DAYS:
        return None
    return StaleNews(newest, as_of)
