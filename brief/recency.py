"""How new an article is on the day a question is asked, and how much that counts: one
definition for retrieval's preference (`brief.retrieve`) and the answer model's newest_story
feature (`brief.generate.sentence_pool`), which were fitted together."""

from __future__ import annotations

import datetime as dt

from brief.language import recency_window
from brief.types import date_to_int, day_of

# Days back from its date that a question whose words ask for no span still prefers news from:
# news is mostly asked about while it is new. Fitted on the real-news development set; the
# README's "The fortnight's news" has the figures.
FORTNIGHT = 14


def news_window(query: str, otherwise: int = FORTNIGHT) -> int:
    """Days back from the question's date its news is preferred from: the span its words ask
    for ("this week": 8), else `otherwise`."""
    return recency_window(query) or otherwise


def age_in_days(date: str, as_of: dt.date) -> int | None:
    """How many days before `as_of` an article dated `date` (ISO) appeared; None when it is
    undated or dated after `as_of` (not news yet on the day asked)."""
    published = day_of(date_to_int(date or ""))
    return (as_of - published).days if published is not None and published <= as_of else None


def freshness(age: int | None, window: int) -> float:
    """1 for today's article, falling linearly to 1/(window + 1) at the window's last day; 0
    outside the window or for an unknown age: the newer, the more."""
    return 1.0 - age / (window + 1) if age is not None and age <= window else 0.0
