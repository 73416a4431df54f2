"""The preference for recent news in retrieval (brief.retrieve.HybridSearcher._prefer_recent):
pure score arithmetic on hand-made chunks, no store needed."""

from __future__ import annotations

import datetime as dt

import pytest

from brief.retrieve import HybridSearcher
from brief.types import Chunk

AS_OF = dt.date(2025, 3, 12)


def _chunk(name: str, date: str) -> Chunk:
    return Chunk(f"{name}:0000", name, 0, "text", 0, 4, "", name, "Outlet", date)


def _boosts(query: str, background_window: int = 14) -> dict[str, float]:
    searcher = HybridSearcher(store=None, embedder=None)  # type: ignore[arg-type]
    searcher.background_window = background_window
    chunks = {
        c.chunk_id: c
        for c in (
            _chunk("two-days", "2025-03-10"),
            _chunk("ten-days", "2025-03-02"),
            _chunk("twenty-days", "2025-02-20"),
            _chunk("after", "2025-03-13"),
            _chunk("undated", ""),
        )
    }
    fused = dict.fromkeys(chunks, 0.5)
    searcher._prefer_recent(fused, chunks, query, AS_OF)
    return {chunk_id.split(":")[0]: score - 0.5 for chunk_id, score in fused.items()}


def test_a_question_without_a_span_prefers_the_fortnight_before_its_date_the_newer_the_more() -> None:
    boosts = _boosts("Who leads the pilots' union?")
    boost = HybridSearcher.recency_boost
    assert boosts["two-days"] == pytest.approx(boost * (1 - 2 / 15))
    assert boosts["ten-days"] == pytest.approx(boost * (1 - 10 / 15))
    # Older than the fortnight, dated after the question, or undated: no preference.
    assert boosts["twenty-days"] == boosts["after"] == boosts["undated"] == 0.0


def test_this_week_keeps_its_own_shorter_window() -> None:
    boosts = _boosts("Who led the pilots' strike this week?")
    boost = HybridSearcher.recency_boost
    assert boosts["two-days"] == pytest.approx(boost * (1 - 2 / 9))
    assert boosts["ten-days"] == 0.0  # outside the 8 days "this week" reaches


def test_this_month_reaches_past_the_fortnight() -> None:
    boosts = _boosts("Who led the pilots' strike this month?")
    assert boosts["twenty-days"] == pytest.approx(HybridSearcher.recency_boost * (1 - 20 / 32))


def test_without_a_background_window_only_questions_asking_for_news_prefer_it() -> None:
    assert set(_boosts("Who leads the pilots' union?", background_window=0).values()) == {0.0}
    assert _boosts("What is the latest on the pilots?", background_window=0)["ten-days"] > 0.0
