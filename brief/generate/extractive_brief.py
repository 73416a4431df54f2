"""The extractive brief writer: verbatim sentences of the passages, chosen per section.

Bottom line and key points are the sentences most relevant to the topic; background is events
(dated sentences, or who did what); perspectives are named speakers' attributed sentences; what
to watch is forward-looking sentences. Each sentence is used at most once.
"""

from __future__ import annotations

import re

import numpy as np

from brief.generate.attribution import find_speaker, same_speaker
from brief.generate.base import BriefDraft, DraftSentence
from brief.generate.sections import SECTION_LIMITS, empty_sections
from brief.generate.sentence_pool import DATE_CUE, SentencePool, on_topic_sentences
from brief.language import EVENT_CUE, FUTURE_CUE
from brief.types import Passage

_QUESTION_MARK = re.compile(r"\?\s*[”\"]?$")


def write_extractive_brief(topic: str, passages: list[Passage], embedder: object, backend: str) -> BriefDraft:
    """Sections of verbatim, cited sentences for the topic."""
    pool = SentencePool(passages, embedder)
    if not len(pool):
        return BriefDraft(empty_sections(), backend)
    relevance = pool.relevance(topic)
    on_topic = on_topic_sentences(pool, topic)  # nothing else enters the brief
    statements = np.array([0.0 if _is_statement(c.text) else -0.25 for c in pool.candidates])
    # A memo line should carry facts (names, figures) and stay short.
    density = np.array([_density(c.text) for c in pool.candidates])
    used: set[int] = set()

    def take(scores: np.ndarray, limit: int, keep: float, novelty: float, eligible: np.ndarray) -> list[int]:
        eligible = eligible & on_topic & ~np.isin(np.arange(len(pool)), list(used))  # each sentence used once
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
    speakers = _speakers(pool)
    perspectives = _perspectives(relevance, speakers, used | set(np.flatnonzero(~on_topic).tolist()))
    used.update(perspectives)

    # Background is events: dated sentences, or sentences saying who did what.
    dated = np.array([bool(DATE_CUE.search(c.text) or EVENT_CUE.search(c.text)) for c in pool.candidates])
    background_scores = pool.relevance(f"{topic}: what happened, who announced or imposed what, and when")
    background = take(background_scores + statements + density, 3, 0.7, 0.45, dated)
    key_points = take(relevance + statements + density, 5, 0.6, 0.5, everything)

    future = np.array([bool(FUTURE_CUE.search(c.text)) for c in pool.candidates])
    watch = take(pool.relevance(f"{topic} what happens next") + statements, 3, 0.7, 0.45, future)

    def drafted(indexes: list[int], ordered: bool = True, with_speaker: bool = False) -> list[DraftSentence]:
        order = pool.reading_order(indexes) if ordered else indexes
        return [
            DraftSentence(
                pool.candidates[i].text, [pool.candidates[i].passage], speakers.get(i, "") if with_speaker else ""
            )
            for i in order
        ]

    sections = {
        "bottom_line": drafted(bottom),
        "key_points": drafted(key_points, ordered=False),
        "background": drafted(background),
        "perspectives": drafted(perspectives, ordered=False, with_speaker=True),
        "watch": drafted(watch, ordered=False),
    }
    return BriefDraft(sections, backend)


def _speakers(pool: SentencePool) -> dict[int, str]:
    """Speaker label per candidate sentence, where the text names one."""
    labels: dict[int, str] = {}
    known: list[str] = []
    for i, c in enumerate(pool.candidates):
        passage_text = pool.passages[c.passage].text
        before = passage_text[: c.start].rstrip()
        previous = re.split(r"(?<=[.!?:”\"])\s+", before)[-1] if before else ""
        after = passage_text[c.end :].lstrip()
        following = re.split(r"(?<=[.!?”\"])\s+", after, maxsplit=1)[0] if after else ""
        speaker = find_speaker(c.text, previous, following)
        if speaker is None:
            continue
        label = speaker.label()
        # A surname alone after the full name is the same person: use the fuller label.
        fuller = next((k for k in known if same_speaker(k.split(",")[0], speaker.name)), None)
        if fuller and len(fuller) >= len(label):
            label = fuller
        elif len(speaker.name.split()) == 1:
            continue  # a lone word ("Washington claims") is a place as often as a person
        else:
            known.append(label)
        labels[i] = label
    return labels


def _perspectives(relevance: np.ndarray, speakers: dict[int, str], used: set[int]) -> list[int]:
    """Each named speaker's most relevant attributed sentence (on the topic: the caller leaves
    the rest out), most relevant speakers first. No floor relative to the best sentence: a
    quote is seldom the most relevant line, and it is what a reader wants from this section."""
    best_by_speaker: dict[str, int] = {}
    for i, label in speakers.items():
        if i in used:
            continue
        name = label.split(",")[0]
        key = next((k for k in best_by_speaker if same_speaker(k, name)), name)
        if key not in best_by_speaker or relevance[i] > relevance[best_by_speaker[key]]:
            best_by_speaker[key] = i
    ranked = sorted(best_by_speaker.values(), key=lambda i: -relevance[i])
    return ranked[: SECTION_LIMITS["perspectives"][1]]


def _density(text: str) -> float:
    """Bonus for names and figures, penalty for length beyond ~35 words."""
    words = text.split()
    facts = sum(1 for w in words[1:] if w[:1].isupper() or w[:1].isdigit())
    return 0.08 * min(1.0, facts / 8) - 0.004 * max(0, len(words) - 35)


def _is_statement(text: str) -> bool:
    """A declarative sentence (not a question, not a lead-in to a quote)."""
    stripped = text.strip()
    return not (_QUESTION_MARK.search(stripped) or stripped.endswith(":"))
