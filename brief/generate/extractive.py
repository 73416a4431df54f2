"""Query-focused extractive answering: no model beyond the embedder, quotes stay verbatim.

Each sentence of the retrieved passages is scored for relevance to the question (meaning,
shared rare words, what the question asks for), picked greedily with a novelty penalty
(maximal marginal relevance), ordered as the articles tell it, and cited. When nothing is
relevant enough, it declines.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from brief.generate.base import DECLINE_TEXT, BriefDraft, Draft, DraftSentence, History, neutralize_markers
from brief.generate.extractive_brief import write_extractive_brief
from brief.generate.sentence_pool import SentencePool, has_wanted, question_anchors, question_wants
from brief.text import content_words, split_question
from brief.types import Passage


@dataclass(frozen=True)
class ExtractiveOptions:
    max_sentences: int = 4
    min_relevance: float = 0.5  # below this, the best sentence does not answer: decline
    keep_ratio: float = 0.75  # keep further sentences scoring at least this share of the best
    novelty_weight: float = 0.35


class ExtractiveGenerator:
    """Selects, orders and cites verbatim sentences from the passages."""

    name = "extractive"

    def __init__(self, embedder: object, options: ExtractiveOptions | None = None) -> None:
        self.embedder = embedder
        self.options = options or ExtractiveOptions()

    def generate(self, question: str, passages: list[Passage], history: History) -> Draft:
        pool = SentencePool(passages, self.embedder)
        focus = self.standalone_question(question, history)
        # Names and figures the question is about must appear where the answer comes from.
        if not len(pool) or not pool.mentions(question_anchors(focus)):
            return _declined()
        # A two-part question ("X, and how long did Y?") gets the best sentence for each part.
        # The history's terms widen retrieval and the fill below; what the follow-up itself
        # asks ("when?") decides which sentence answers it.
        chosen: list[int] = []
        for part in split_question(question if history else focus):
            relevance = pool.relevance(part)
            best = int(np.argmax(relevance))
            wants = question_wants(part)
            if relevance[best] < self.options.min_relevance or best in chosen:
                continue
            if {"number", "date"} & wants and not has_wanted(pool.candidates[best].text, wants):
                continue  # asked for a figure or a date, and the best sentence has none
            chosen.append(best)
        if not chosen:
            return _declined()
        o = self.options
        picked = pool.select(pool.relevance(focus), chosen, o.max_sentences, o.keep_ratio, o.novelty_weight)
        sentences = [pool.candidates[i] for i in pool.reading_order(picked)]
        return Draft([DraftSentence(neutralize_markers(c.text), [c.passage]) for c in sentences], self.name)

    def stream(self, question: str, passages: list[Passage], history: History) -> Iterator[str | Draft]:
        draft = self.generate(question, passages, history)
        for sentence in draft.sentences:
            yield sentence.text + " "
        yield draft

    def write_brief(self, topic: str, passages: list[Passage]) -> Iterator[str | BriefDraft]:
        yield write_extractive_brief(topic, passages, self.embedder, self.name)

    def standalone_question(self, question: str, history: History) -> str:
        """Follow-ups ("when did that happen?") borrow the key terms of the previous question."""
        if not history:
            return question
        own = set(content_words(question))
        previous = history[-1][0]
        extra = [w for w in dict.fromkeys(_plain_words(previous)) if w.lower() not in own]
        return f"{question} {' '.join(extra[:8])}".strip()


def _plain_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[A-Za-z][\w'-]+", text) if w.lower() not in _COMMON and len(w) > 2]


_COMMON = frozenset(
    """what which who whom when where why how did does do is are was were the and for with that
    this about from into they them their there have has had been will would could should
    might""".split()
)


def _declined() -> Draft:
    return Draft([DraftSentence(DECLINE_TEXT)], ExtractiveGenerator.name, declined=True)
