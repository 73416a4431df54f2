"""A small model's context: the best-ranked sources that fit, their numbers kept (pure logic)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from brief.generate.chat_brief import write_chat_brief
from brief.generate.context_budget import (
    LOCAL_REPLY_TOKENS,
    PROMPT_RESERVE,
    SOURCE_OVERHEAD,
    cost,
    fit_notes,
    fit_passages,
    source_budget,
)
from brief.prompts import format_sources, new_fence
from brief.types import Chunk, Passage


def _passage(words: int, doc: str = "d1", index: int = 0) -> Passage:
    text = " ".join(f"word{n % 7}" for n in range(words)) + "."
    chunk = Chunk(f"{doc}:{index}", doc, index, text, 0, len(text), "", f"Title {doc}", "Outlet", "2024-01-02")
    return Passage(chunk, 1.0, text, 0, len(text))


def test_budget_leaves_room_for_the_reply_and_the_prompt() -> None:
    assert source_budget(4096) == 4096 - LOCAL_REPLY_TOKENS - PROMPT_RESERVE
    assert source_budget(512) == 0  # never negative


def test_best_ranked_passages_that_fit_are_kept_in_order() -> None:
    passages = [_passage(400), _passage(400, index=1), _passage(50, index=2), _passage(400, index=3)]
    one = cost(passages[0].text) + SOURCE_OVERHEAD
    short = cost(passages[2].text) + SOURCE_OVERHEAD
    assert fit_passages(passages, None) == [0, 1, 2, 3]
    assert fit_passages(passages, 2 * one) == [0, 1]
    # A shorter passage further down still fits where a long one would not.
    assert fit_passages(passages, one + short) == [0, 2]
    # The first is kept even when it alone is over: a prompt never goes without a source.
    assert fit_passages(passages, 10) == [0]
    assert fit_passages(passages, 2 * one, among=[3, 1, 2]) == [3, 1]
    assert fit_passages([], 100) == []


def test_format_keeps_the_numbers_of_the_passages_left_out() -> None:
    passages = [_passage(400), _passage(400, index=1), _passage(50, index=2)]
    one = cost(passages[0].text) + SOURCE_OVERHEAD
    short = cost(passages[2].text) + SOURCE_OVERHEAD
    text = format_sources(passages, new_fence(), only=fit_passages(passages, one + short))
    assert re.findall(r"^\[(\d+)\] source", text, re.M) == ["1", "3"]


def test_notes_are_kept_from_the_first_while_they_fit() -> None:
    notes = ["a b c d. " * 20, "e f g. " * 20, "h. " * 5]
    assert fit_notes(notes, None) == notes
    assert fit_notes(notes, cost(notes[0])) == notes[:1]
    assert fit_notes(notes, 0) == []


def test_every_brief_prompt_stays_inside_the_budget() -> None:
    """The brief writer's map and section prompts carry only what the budget allows."""
    passages = [_passage(380, doc=f"d{n // 3}", index=n % 3) for n in range(18)]
    budget = source_budget(4096)
    seen: list[dict[str, str]] = []

    def complete(prompt: str, inputs: dict[str, str]) -> str:
        seen.append(inputs)
        return "A note about the topic [1]. " * 30  # a long note from every map call

    steps: Iterator = write_chat_brief(complete, "the topic", passages, "local", budget)
    *_, draft = steps
    assert draft.sections and len(seen) == 6 + 5  # six document groups, five sections
    for inputs in seen:
        used = cost(inputs["sources"]) + cost(inputs.get("notes", "")) + cost(inputs["topic"])
        assert used <= budget * 1.1, used  # estimates of formatted text: metadata counted again
    section = seen[-1]
    assert "[1] source 1" in section["sources"] and "[18] source 18" not in section["sources"]
    # Without a budget every passage reaches every section prompt.
    seen.clear()
    *_, draft = write_chat_brief(complete, "the topic", passages, "openai")
    assert "[18] source 18" in seen[-1]["sources"]
