"""One-page cited briefs: gather passages broadly, write each section, verify, fit one page.

Stages (the shape of STORM's pipeline, at memo scale): curate passages -> write sections ->
verify every sentence -> trim to the word budget. The extractive writer selects verbatim
sentences per section; LLM writers map notes over groups of passages and reduce them into
each section, and anything the verifier cannot support is dropped.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from brief.cite import SupportJudge, parse_cited_text
from brief.generate.attribution import find_speaker, same_speaker
from brief.generate.base import Generator, neutralize_markers
from brief.generate.chat import ChatGenerator, GenerationError
from brief.generate.sentence_pool import DATE_CUE, SentencePool
from brief.prompts import format_sources, new_fence
from brief.retrieve import HybridSearcher, SearchFilters
from brief.types import Brief, BriefItem, BriefSection, BriefSource, Passage

ProgressCallback = Callable[[str], None]

SECTIONS = [
    ("bottom_line", "Bottom line", False),
    ("key_points", "Key points", True),
    ("background", "Background", False),
    ("perspectives", "Perspectives", True),
    ("watch", "What to watch", True),
]
# (minimum, maximum) items per section; trimming for the word budget never goes below the minimum.
SECTION_LIMITS = {
    "bottom_line": (1, 3),
    "key_points": (3, 6),
    "background": (2, 3),
    "perspectives": (1, 4),
    "watch": (1, 3),
}
# Trim order when over budget: the least essential section first.
TRIM_ORDER = ["watch", "perspectives", "background", "key_points", "bottom_line"]

_FUTURE_CUE = re.compile(
    r"\b(?:will|would|could|might|may|expected|expects|plans?|planned|faces|decision|whether|next|"
    r"upcoming|likely|possible|risk|warn(?:s|ed)?|pending|deadline|intends?|aims?)\b",
    re.I,
)
_EVENT_CUE = re.compile(
    r"\b(?:imposed|imposes|announced|announces|sanctioned|signed|launched|began|begun|started|ended|"
    r"voted|raised|cut|approved|rejected|filed|opened|closed|shipped|agreed|collapsed|struck|issued)\b",
    re.I,
)
_QUESTION_MARK = re.compile(r"\?\s*[”\"]?$")


@dataclass(frozen=True)
class ReportOptions:
    max_words: int = 550
    passages: int = 18  # retrieved for the topic; per-section queries add a few more


@dataclass
class _Picked:
    """A chosen sentence: the passage it came from and its offsets there."""

    passage: int
    text: str
    start: int
    end: int
    speaker: str = ""


class ReportWriter:
    """Writes Brief objects from a library's searcher and generators."""

    def __init__(
        self,
        searcher: HybridSearcher,
        judge_embedder: Any,
        generator_for: Callable[[str], Generator],
        options: ReportOptions | None = None,
    ) -> None:
        self.searcher = searcher
        self.judge_embedder = judge_embedder
        self.generator_for = generator_for
        self.options = options or ReportOptions()

    def write(
        self,
        topic: str,
        filters: SearchFilters | None = None,
        backend: str = "extractive",
        progress: ProgressCallback | None = None,
    ) -> Brief:
        say = progress or (lambda _stage: None)
        filters = filters or SearchFilters()
        started = time.perf_counter()
        say("gathering passages")
        passages = self._gather(topic, filters)
        timings = {"retrieve": _ms(started)}
        generator = self.generator_for(backend)
        notice = ""
        say(f"writing sections ({generator.name})")
        write_started = time.perf_counter()
        picks: dict[str, list[_Picked]]
        if isinstance(generator, ChatGenerator):
            try:
                picks = self._write_with_llm(topic, passages, generator, say)
            except GenerationError as exc:
                notice = f"{exc}; the brief was written extractively instead"
                picks = self._write_extractive(topic, passages)
        else:
            picks = self._write_extractive(topic, passages)
        timings["write"] = _ms(write_started)
        say("verifying citations")
        picks = self._verified(picks, passages)
        brief = self._assemble(topic, filters, passages, picks, generator.name if not notice else "extractive")
        if not passages:
            notice = notice or "no article in the library matches this topic and these filters"
        brief.notice = notice
        self._fit_budget(brief)
        timings["total"] = _ms(started)
        brief.timings_ms = {k: round(v, 1) for k, v in timings.items()}
        return brief

    # ----- gathering ---------------------------------------------------------------------------

    def _gather(self, topic: str, filters: SearchFilters) -> list[Passage]:
        """Broad retrieval: the topic, plus angles for background, voices and what comes next."""
        passages = list(self.searcher.search(topic, self.options.passages, filters).passages)
        seen = {p.chunk.chunk_id for p in passages}
        for angle in ("background timeline what happened", "said according to response", "next steps future"):
            for p in self.searcher.search(f"{topic} {angle}", 4, filters).passages:
                if p.chunk.chunk_id not in seen:
                    passages.append(p)
                    seen.add(p.chunk.chunk_id)
        return passages

    # ----- extractive writer -------------------------------------------------------------------

    def _write_extractive(self, topic: str, passages: list[Passage]) -> dict[str, list[_Picked]]:
        pool = SentencePool(passages, self.judge_embedder)
        if not len(pool):
            return {key: [] for key, _, _ in SECTIONS}
        relevance = pool.relevance(topic)
        statements = np.array([0.0 if _is_statement(c.text) else -0.25 for c in pool.candidates])
        # A memo line should carry facts (names, figures) and stay short.
        density = np.array([_density(c.text) for c in pool.candidates])
        used: set[int] = set()

        def take(scores: np.ndarray, limit: int, keep: float, novelty: float, eligible: np.ndarray) -> list[int]:
            eligible = eligible & ~np.isin(np.arange(len(pool)), list(used))  # each sentence used once
            masked = np.where(eligible, scores, -1.0)
            if masked.max() <= 0:
                return []
            start = [int(np.argmax(masked))]
            excluded = used | {i for i in range(len(pool)) if not eligible[i]}
            chosen = pool.select(masked, start, limit, keep, novelty, exclude=excluded)
            used.update(chosen)
            return chosen

        everything = np.ones(len(pool), dtype=bool)
        bottom = take(relevance + statements, 2, 0.85, 0.4, everything)
        # Voices before key points, so that a quoted position lands under its speaker.
        speakers = self._speakers(pool)
        perspectives = self._perspectives(pool, relevance, speakers, used)
        used.update(perspectives)

        # Background is events: dated sentences, or sentences saying who did what.
        dated = np.array([bool(DATE_CUE.search(c.text) or _EVENT_CUE.search(c.text)) for c in pool.candidates])
        background_scores = pool.relevance(f"{topic}: what happened, who announced or imposed what, and when")
        background = take(background_scores + statements + density, 3, 0.7, 0.45, dated)
        key_points = take(relevance + statements + density, 5, 0.6, 0.5, everything)

        future = np.array([bool(_FUTURE_CUE.search(c.text)) for c in pool.candidates])
        watch = take(pool.relevance(f"{topic} what happens next") + statements, 3, 0.7, 0.45, future)

        def picked(indexes: list[int], ordered: bool = True, with_speaker: bool = False) -> list[_Picked]:
            order = pool.reading_order(indexes) if ordered else indexes
            out = []
            for i in order:
                c = pool.candidates[i]
                out.append(_Picked(c.passage, c.text, c.start, c.end, speakers.get(i, "") if with_speaker else ""))
            return out

        return {
            "bottom_line": picked(bottom),
            "key_points": picked(key_points, ordered=False),
            "background": picked(background),
            "perspectives": picked(perspectives, ordered=False, with_speaker=True),
            "watch": picked(watch, ordered=False),
        }

    @staticmethod
    def _speakers(pool: SentencePool) -> dict[int, str]:
        """Speaker label per candidate sentence, where the text names one."""
        labels: dict[int, str] = {}
        known: list[str] = []
        for i, c in enumerate(pool.candidates):
            passage_text = pool.passages[c.passage].text
            before = passage_text[: c.start].rstrip()
            previous = re.split(r"(?<=[.!?:”\"])\s+", before)[-1] if before else ""
            speaker = find_speaker(c.text, previous)
            if speaker is None:
                continue
            label = speaker.label()
            # "Iqbal" after "Dr Abdul Rauf Iqbal" is the same person: use the fuller label.
            fuller = next((k for k in known if same_speaker(k.split(",")[0], speaker.name)), None)
            if fuller and len(fuller) >= len(label):
                label = fuller
            elif len(speaker.name.split()) == 1:
                continue  # a lone word ("Washington claims") is a place as often as a person
            else:
                known.append(label)
            labels[i] = label
        return labels

    def _perspectives(
        self, pool: SentencePool, relevance: np.ndarray, speakers: dict[int, str], used: set[int]
    ) -> list[int]:
        """Each named speaker's most relevant attributed sentence, most relevant speakers first."""
        best_by_speaker: dict[str, int] = {}
        for i, label in speakers.items():
            if i in used:
                continue
            name = label.split(",")[0]
            key = next((k for k in best_by_speaker if same_speaker(k, name)), name)
            if key not in best_by_speaker or relevance[i] > relevance[best_by_speaker[key]]:
                best_by_speaker[key] = i
        ranked = sorted(best_by_speaker.values(), key=lambda i: -relevance[i])
        floor = 0.6 * float(relevance.max()) if len(relevance) else 0.0
        return [i for i in ranked if relevance[i] >= floor][: SECTION_LIMITS["perspectives"][1]]

    # ----- LLM writer (map-reduce) ------------------------------------------------------------

    def _write_with_llm(
        self, topic: str, passages: list[Passage], generator: ChatGenerator, say: ProgressCallback
    ) -> dict[str, list[_Picked]]:
        """Map: cited notes per document group. Reduce: each section from the notes."""
        fence = new_fence()
        groups: dict[str, list[int]] = {}
        for i, p in enumerate(passages):
            groups.setdefault(p.chunk.doc_id, []).append(i)
        notes = []
        for number, members in enumerate(groups.values(), start=1):
            say(f"reading source group {number}/{len(groups)}")
            sources = format_sources(passages, fence, only=members)
            notes.append(generator.complete("brief_map", {"topic": topic, "sources": sources, "fence": fence}).strip())
        all_sources = format_sources(passages, fence)
        picks: dict[str, list[_Picked]] = {}
        for key, title, _ in SECTIONS:
            say(f"writing {title.lower()}")
            inputs = {"topic": topic, "notes": "\n".join(notes), "sources": all_sources, "fence": fence}
            text = generator.complete(f"brief_{key}", inputs)
            lines = [ln.strip(" -*•\t") for ln in text.splitlines() if ln.strip(" -*•\t")]
            items = []
            for line in lines:
                speaker, _, rest = line.partition(": ") if key == "perspectives" else ("", "", line)
                for sentence in parse_cited_text(rest or line):
                    cited = sentence.cited[0] if sentence.cited else -1
                    items.append(_Picked(cited, sentence.text, 0, 0, speaker.strip("* ") if rest else ""))
            picks[key] = items[: SECTION_LIMITS[key][1]]
        return picks

    # ----- verification and assembly -------------------------------------------------------------

    def _verified(self, picks: dict[str, list[_Picked]], passages: list[Passage]) -> dict[str, list[_Picked]]:
        """Keep only sentences a passage supports; re-point each at its best supporting passage."""
        judge = SupportJudge(self.judge_embedder)
        checked: dict[str, list[_Picked]] = {}
        for key, items in picks.items():
            kept = []
            for item in items:
                candidates = [item.passage] if 0 <= item.passage < len(passages) else []
                candidates += [i for i in range(len(passages)) if i not in candidates]
                for i in candidates:
                    support = judge.judge(item.text, i, passages[i])
                    if support.supported:
                        start, end = support.quote_span
                        kept.append(_Picked(i, item.text, start, end, item.speaker))
                        break
            checked[key] = kept
        return checked

    def _assemble(
        self,
        topic: str,
        filters: SearchFilters,
        passages: list[Passage],
        picks: dict[str, list[_Picked]],
        backend: str,
    ) -> Brief:
        numbering: dict[str, int] = {}
        sources: list[BriefSource] = []
        sections = []
        for key, title, bulleted in SECTIONS:
            items = []
            for pick in picks.get(key, []):
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
                quote = passages[pick.passage].text[pick.start : pick.end] if pick.end > pick.start else pick.text
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

    def _fit_budget(self, brief: Brief) -> None:
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


def _density(text: str) -> float:
    """Bonus for names and figures, penalty for length beyond ~35 words."""
    words = text.split()
    facts = sum(1 for w in words[1:] if w[:1].isupper() or w[:1].isdigit())
    return 0.08 * min(1.0, facts / 8) - 0.004 * max(0, len(words) - 35)


def _is_statement(text: str) -> bool:
    """A declarative sentence (not a question, not a lead-in to a quote)."""
    stripped = text.strip()
    return not (_QUESTION_MARK.search(stripped) or stripped.endswith(":"))


def _title_for(topic: str) -> str:
    topic = topic.strip().rstrip("?.!")
    return f"Brief: {topic[:1].upper()}{topic[1:]}" if topic else "Brief"


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0
