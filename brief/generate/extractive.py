"""Query-focused extractive answering: no model beyond the embedder, quotes stay verbatim.

Each sentence of the retrieved passages is scored for relevance to the question (meaning,
shared rare words, what the question asks for), picked greedily with a novelty penalty
(maximal marginal relevance), ordered as the articles tell it, and cited. When nothing is
relevant enough, it declines.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from brief.generate.base import DECLINE_TEXT, Draft, DraftSentence, History, neutralize_markers
from brief.text import content_words, sentence_spans, split_question
from brief.types import Passage

_DATE_CUE = re.compile(
    r"\b(?:\d{4}|\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*|"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\s+\d{1,2}|monday|tuesday|"
    r"wednesday|thursday|friday|saturday|sunday|yesterday|last (?:week|month|year))\b",
    re.I,
)
# A figure, not a digit inside a name such as "Shaheen-3" or "Agni-V".
_NUMBER_CUE = re.compile(r"(?<![\w-])\d[\d,.]*(?![\w-])|\bpercent\b|%")
_CAUSE_CUE = re.compile(
    r"\b(?:because|since|due to|as a result|lead(?:s|ing)? to|led to|push(?:es|ed)?|drive[sn]?|"
    r"caus(?:e|es|ed)|reason|so that|in order to|aim(?:s|ed)? to|intended to|deepen(?:ed|s)?|"
    r"mistrust|threat|fuel(?:s|ed|led)?|coerc\w*|therefore|will)\b",
    re.I,
)
_CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w'’-]*")
_QUANTITY_WORDS = (
    r"rate|rise|increase|raise|cut|share|level|flow|price|cost|value|amount|size|number|percentage|"
    r"total|range|figure|budget|sum|grant|loss|losses|pay|wage|capacity|output|population|toll|height|distance"
)


@dataclass(frozen=True)
class ExtractiveOptions:
    max_sentences: int = 4
    # Decline when the best sentence's meaning-similarity and word overlap both fall short.
    min_relevance: float = 0.5
    keep_ratio: float = 0.75  # keep further sentences scoring at least this share of the best
    novelty_weight: float = 0.35


@dataclass
class _Candidate:
    passage: int
    start: int
    end: int
    text: str
    words: set[str]
    context: str = ""  # what is embedded: the sentence, led by the one before if it is short
    relevance: float = 0.0


class ExtractiveGenerator:
    """Selects, orders and cites verbatim sentences from the passages."""

    name = "extractive"

    def __init__(self, embedder: object, options: ExtractiveOptions | None = None) -> None:
        self.embedder = embedder
        self.options = options or ExtractiveOptions()

    def generate(self, question: str, passages: list[Passage], history: History) -> Draft:
        candidates = self._candidates(passages)
        if not candidates:
            return _declined()
        focus = self.standalone_question(question, history)
        passage_words = [_passage_words(p) for p in passages]
        # Names and figures the question is about must appear where the answer comes from.
        if question_anchors(focus) - set().union(*passage_words):
            return _declined()  # the question names something no passage mentions
        self._embed(candidates)
        # A two-part question ("X, and how long did Y?") gets the best sentence for each part.
        chosen: list[int] = []
        for part in split_question(focus):
            relevance = self._relevance(part, candidates, passages, passage_words)
            best = int(np.argmax(relevance))
            if relevance[best] >= self.options.min_relevance and best not in chosen:
                wants = _question_wants(part)
                if not ({"number", "date"} & wants) or _has_wanted(candidates[best].text, wants):
                    chosen.append(best)
        if not chosen:
            return _declined()
        relevance = self._relevance(focus, candidates, passages, passage_words)
        for i, c in enumerate(candidates):
            c.relevance = float(relevance[i])
        picked = [candidates[i] for i in self._select(chosen)]
        picked.sort(key=lambda c: (self._document_order(c, passages), passages[c.passage].start + c.start))
        return Draft([DraftSentence(neutralize_markers(c.text), [c.passage]) for c in picked], self.name)

    def stream(self, question: str, passages: list[Passage], history: History) -> Iterator[str | Draft]:
        draft = self.generate(question, passages, history)
        for sentence in draft.sentences:
            yield sentence.text + " "
        yield draft

    def standalone_question(self, question: str, history: History) -> str:
        """Follow-ups ("when did that happen?") borrow the key terms of the previous question."""
        if not history:
            return question
        own = set(content_words(question))
        previous = history[-1][0]
        extra = [w for w in dict.fromkeys(_plain_words(previous)) if w.lower() not in own]
        return f"{question} {' '.join(extra[:8])}".strip()

    # ----- scoring ---------------------------------------------------------------------------

    def _candidates(self, passages: list[Passage]) -> list[_Candidate]:
        seen: set[str] = set()
        candidates = []
        for i, passage in enumerate(passages):
            previous = ""
            for start, end in sentence_spans(passage.text):
                text = passage.text[start:end]
                key = " ".join(text.split()).lower()
                words = set(content_words(text))
                # A short sentence or list item often needs its lead-in to be understood.
                context = f"{previous} {text}" if previous and len(text.split()) < 16 else text
                previous = text
                if key in seen or len(words) < 3:
                    continue  # overlapping chunks repeat sentences; fragments say too little
                seen.add(key)
                candidates.append(_Candidate(i, start, end, text, words, context))
        self._candidates_cache = candidates
        return candidates

    def _embed(self, candidates: list[_Candidate]) -> None:
        self._vectors = self.embedder.encode([c.context for c in candidates])  # type: ignore[attr-defined]

    def _relevance(
        self, query: str, candidates: list[_Candidate], passages: list[Passage], passage_words: list[set[str]]
    ) -> np.ndarray:
        """Relevance of each candidate to `query`: meaning, rare shared words, answer type, names."""
        query_vector = self.embedder.encode([query])[0]  # type: ignore[attr-defined]
        similarities = self._vectors @ query_vector
        query_words = set(content_words(query))
        df: dict[str, int] = {}
        for c in candidates:
            for w in c.words & query_words:
                df[w] = df.get(w, 0) + 1
        idf = {w: math.log(1 + (len(candidates) + 1) / (1 + df.get(w, 0))) for w in query_words}
        total = sum(idf.values()) or 1.0
        asked = {w.lower() for w in re.findall(r"[\w'’-]+", query)}
        wants = _question_wants(query)
        anchors = question_anchors(query)
        scores = np.empty(len(candidates), dtype=np.float32)
        for i, c in enumerate(candidates):
            overlap = sum(idf[w] for w in c.words & query_words) / total
            bonus = 0.0
            if "date" in wants and _new_matches(_DATE_CUE, c.text, asked):
                bonus += 0.1
            if "number" in wants:
                bonus += 0.12 * min(1.0, _new_matches(_NUMBER_CUE, c.text, asked) / 3)
            if "cause" in wants and _CAUSE_CUE.search(c.text):
                bonus += 0.05
            if "name" in wants:
                # Which/who questions are answered by names the question does not already contain.
                bonus += 0.15 * min(1.0, _new_matches(_CAPITALISED, c.text, asked) / 8)
            if c.text.rstrip().endswith(":"):
                bonus -= 0.1  # "... tells The Cradle:" introduces a quote, answers nothing
            if anchors:
                bonus -= 0.15 * len(anchors - passage_words[c.passage]) / len(anchors)
            rank_prior = 0.03 / (1 + c.passage)
            scores[i] = 0.6 * float(similarities[i]) + 0.4 * overlap + bonus + rank_prior
        return scores

    def _select(self, chosen: list[int]) -> list[int]:
        """Fill up with maximal marginal relevance: relevant, and not a repeat of what is chosen."""
        candidates = self._candidates_cache
        best = max(c.relevance for c in candidates)
        chosen = list(chosen)
        while len(chosen) < self.options.max_sentences:
            scored = []
            for i, c in enumerate(candidates):
                if i in chosen or c.relevance < self.options.keep_ratio * best:
                    continue
                redundancy = max(float(self._vectors[i] @ self._vectors[j]) for j in chosen)
                scored.append((c.relevance - self.options.novelty_weight * redundancy, i))
            if not scored:
                break
            value, pick = max(scored)
            if value < self.options.keep_ratio * best - self.options.novelty_weight:
                break
            chosen.append(pick)
        return chosen

    @staticmethod
    def _document_order(candidate: _Candidate, passages: list[Passage]) -> int:
        """Documents in the order retrieval ranked them; sentences in article order within."""
        doc = passages[candidate.passage].chunk.doc_id
        return next(i for i, p in enumerate(passages) if p.chunk.doc_id == doc)


def _question_wants(question: str) -> set[str]:
    """What kind of information answers the question: a date, a number, a cause, names."""
    q = question.lower()
    wants = set()
    if re.search(r"\bwhen\b|\b(?:what|which) (?:date|day|year|month)\b|\bhow long ago\b", q):
        wants.add("date")
    if re.search(
        rf"\bhow (?:many|much|big|large|high|far|long|fast)\b|\b(?:what|which)\b(?:\s+\w+){{0,2}}?\s+(?:{_QUANTITY_WORDS})\b",
        q,
    ):
        wants.add("number")
    if re.search(r"\bwhy\b|\breasons?\b|\bcauses?\b|\bhow (?:might|could|would|will)\b", q):
        wants.add("cause")
    if re.search(r"\bwho\b|\bwhom\b|\bwhich\b", q):
        wants.add("name")
    return wants


def _new_matches(pattern: re.Pattern[str], text: str, asked: set[str]) -> int:
    """Matches in text that the question itself does not already contain."""
    return sum(1 for m in pattern.finditer(text) if m.group(0).lower() not in asked)


def _has_wanted(text: str, wants: set[str]) -> bool:
    return ("number" in wants and bool(_NUMBER_CUE.search(text))) or (
        "date" in wants and bool(_DATE_CUE.search(text))
    )


def question_anchors(question: str) -> set[str]:
    """Proper names and figures in the question (stemmed), e.g. {'saldria', '2023'}."""
    names = " ".join(m.group(0) for m in _CAPITALISED.finditer(question.strip()))
    figures = " ".join(_NUMBER_CUE.findall(question))
    return {w for w in content_words(f"{names} {figures}") if w not in _QUESTION_WORDS}


def _passage_words(passage: Passage) -> set[str]:
    chunk = passage.chunk
    return set(content_words(f"{chunk.title} {chunk.section} {chunk.source} {chunk.date} {passage.text}"))


_QUESTION_WORDS = frozenset("what which who whom when where why how did does do is are was were".split())


def _plain_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[A-Za-z][\w'-]+", text) if w.lower() not in _COMMON and len(w) > 2]


_COMMON = frozenset(
    "what which who whom when where why how did does do is are was were the and for with that this "
    "about from into they them their there have has had been will would could should might".split()
)


def _declined() -> Draft:
    return Draft([DraftSentence(DECLINE_TEXT)], ExtractiveGenerator.name, declined=True)
