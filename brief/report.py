"""One-page briefs around the writers: gather passages broadly, assemble the verified items
into sections with numbered sources, and trim to one page.

The pipeline (`brief.pipeline.BriefPipeline`) runs: gather -> write (any writer under
`brief.generate`) -> verify (`brief.cite.verify_brief`) -> assemble -> fit the word budget.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from brief.cite import CheckedItem
from brief.generate.base import neutralize_markers
from brief.generate.sections import SECTION_LIMITS, SECTIONS, TRIM_ORDER
from brief.retrieve import HybridSearcher, SearchFilters
from brief.types import Brief, BriefItem, BriefSection, BriefSource, Passage

__all__ = ["SECTIONS", "SECTION_LIMITS", "BriefAssembler", "ReportOptions", "fit_to_budget", "prune_sources"]

# Extra searches that find background, voices and what comes next beside the topic itself.
_ANGLES = ("background timeline what happened", "said according to response", "next steps future")
# Longest title before it is shortened: the page must hold the brief, not the question.
_TITLE_CHARS = 90


@dataclass(frozen=True)
class ReportOptions:
    max_words: int = 550
    passages: int = 18  # retrieved for the topic; per-section queries add a few more


class BriefAssembler:
    """Gathers passages for a brief and turns verified items into a `Brief` that fits a page."""

    def __init__(self, options: ReportOptions | None = None) -> None:
        self.options = options or ReportOptions()

    def gather(self, searcher: HybridSearcher, topic: str, filters: SearchFilters) -> list[Passage]:
        """Broad retrieval: the topic, plus angles for background, voices and what comes next."""
        passages = list(searcher.search(topic, self.options.passages, filters).passages)
        seen = {p.chunk.chunk_id for p in passages}
        for angle in _ANGLES:
            for p in searcher.search(f"{topic} {angle}", 4, filters).passages:
                if p.chunk.chunk_id not in seen:
                    passages.append(p)
                    seen.add(p.chunk.chunk_id)
        return passages

    def assemble(
        self,
        topic: str,
        filters: SearchFilters,
        passages: list[Passage],
        checked: dict[str, list[CheckedItem]],
        backend: str,
    ) -> Brief:
        """Sections of cited items (at most each section's limit) and their numbered sources."""
        numbering: dict[str, int] = {}
        sources: list[BriefSource] = []
        sections = []
        for key, title, bulleted in SECTIONS:
            items = []
            for pick in checked.get(key, [])[: SECTION_LIMITS[key][1]]:
                chunk = passages[pick.passage].chunk
                if chunk.doc_id not in numbering:
                    numbering[chunk.doc_id] = len(numbering) + 1
                    sources.append(
                        BriefSource(
                            numbering[chunk.doc_id],
                            chunk.doc_id,
                            chunk.title,
                            chunk.source,
                            chunk.author,
                            chunk.date,
                            chunk.url,
                        )
                    )
                start, end = pick.quote_span
                quote = passages[pick.passage].text[start:end] if end > start else pick.text
                items.append(
                    BriefItem(
                        text=neutralize_markers(pick.text),
                        citations=[numbering[chunk.doc_id]],
                        speaker=pick.speaker,
                        refs=[{"chunk_id": chunk.chunk_id, "quote": quote}],
                    )
                )
            sections.append(BriefSection(key, title, items, bulleted))
        return Brief(
            title=_title_for(topic),
            topic=topic,
            generated=date.today().isoformat(),
            scope=filters.describe(),
            documents_considered=len({p.chunk.doc_id for p in passages}),
            backend=backend,
            sections=sections,
            sources=sources,
        )

    def fit_budget(self, brief: Brief) -> None:
        """Drop items, least essential section first, until the body fits the word budget."""
        fit_to_budget(brief, lambda b: b.word_count() <= self.options.max_words)


def fit_to_budget(brief: Brief, fits: Callable[[Brief], bool]) -> None:
    """Remove items until `fits` holds: one at a time, round robin over the sections above their
    minimum (least essential first), so that no section is gutted while another stays full."""
    by_key = {s.key: s for s in brief.sections}
    while not fits(brief):
        trimmable = [k for k in TRIM_ORDER if len(by_key[k].items) > SECTION_LIMITS[k][0]]
        if not trimmable:
            # Every section is at its minimum: give up optional sections' last items.
            trimmable = [k for k in TRIM_ORDER[:3] if by_key[k].items]
            if not trimmable:
                break
        # The fullest section (relative to its minimum) gives up its last item first.
        key = max(trimmable, key=lambda k: len(by_key[k].items) - SECTION_LIMITS[k][0])
        by_key[key].items.pop()
    prune_sources(brief)


def prune_sources(brief: Brief) -> None:
    """Keep only cited sources, renumbered 1..n in order of first citation."""
    order: dict[int, int] = {}
    for section in brief.sections:
        for item in section.items:
            for n in item.citations:
                order.setdefault(n, len(order) + 1)
    for section in brief.sections:
        for item in section.items:
            item.citations = [order[n] for n in item.citations]
    kept = [s for s in brief.sources if s.n in order]
    for source in kept:
        source.n = order[source.n]
    brief.sources = sorted(kept, key=lambda s: s.n)


def shorten(text: str, limit: int = 200) -> str:
    """The text on one line, cut at a word boundary with an ellipsis when longer than limit."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _title_for(topic: str) -> str:
    topic = shorten(topic, _TITLE_CHARS).rstrip("?.!")
    return f"Brief: {topic[:1].upper()}{topic[1:]}" if topic else "Brief"
