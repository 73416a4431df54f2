"""The chat-model brief writer: map cited notes over document groups, then reduce per section.

The model's sentences and [n] markers are only proposals; the pipeline's verifier keeps what
a passage supports and drops the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from brief.cite import parse_cited_text
from brief.generate.base import BriefDraft, DraftSentence
from brief.generate.context_budget import cost, fit_notes, fit_passages
from brief.generate.sections import SECTION_LIMITS, SECTIONS
from brief.prompts import format_sources, new_fence
from brief.types import Passage

# (prompt name, inputs) -> the model's reply text
Complete = Callable[[str, dict[str, str]], str]


def write_chat_brief(
    complete: Complete, topic: str, passages: list[Passage], backend: str, budget: int | None = None
) -> Iterator[str | BriefDraft]:
    """Map: cited notes per document group. Reduce: each section from the notes. Yields a
    progress line before each model call, then the BriefDraft. `budget`: tokens a prompt's
    sources and notes may take (a small model's context), the best-ranked kept; None: all."""
    fence = new_fence()
    groups: dict[str, list[int]] = {}
    for i, p in enumerate(passages):
        groups.setdefault(p.chunk.doc_id, []).append(i)
    if budget is not None:
        budget -= cost(topic)
    notes = []
    for number, members in enumerate(groups.values(), start=1):
        yield f"reading source group {number}/{len(groups)}"
        sources = format_sources(passages, fence, only=fit_passages(passages, budget, members))
        notes.append(complete("brief_map", {"topic": topic, "sources": sources, "fence": fence}).strip())
    # The notes come first (half the budget at most); the best passages fill what is left.
    notes = fit_notes(notes, None if budget is None else budget // 2)
    left = None if budget is None else budget - sum(cost(n) for n in notes)
    all_sources = format_sources(passages, fence, only=fit_passages(passages, left))
    sections: dict[str, list[DraftSentence]] = {}
    for key, title, _ in SECTIONS:
        yield f"writing {title.lower()}"
        inputs = {"topic": topic, "notes": "\n".join(notes), "sources": all_sources, "fence": fence}
        sections[key] = _section_items(complete(f"brief_{key}", inputs), key)[: SECTION_LIMITS[key][1]]
    yield BriefDraft(sections, backend)


def _section_items(text: str, key: str) -> list[DraftSentence]:
    """One draft sentence per sentence of the reply; perspectives lines start 'Speaker: ...'."""
    lines = [ln.strip(" -*•\t") for ln in text.splitlines() if ln.strip(" -*•\t")]
    items = []
    for line in lines:
        speaker, _, rest = line.partition(": ") if key == "perspectives" else ("", "", line)
        for sentence in parse_cited_text(rest or line):
            sentence.speaker = speaker.strip("* ") if rest else ""
            items.append(sentence)
    return items
