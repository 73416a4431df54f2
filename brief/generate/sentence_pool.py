"""A pool of candidate sentences from retrieved passages, scored for relevance to a query.

Shared by the extractive answerer and the extractive brief writer. One pool serves one
request: it holds that request's sentences and their vectors, so concurrent requests
never share state.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from brief.text import content_words, sentence_spans
from brief.types import Passage

DATE_CUE = re.compile(
    r"\b(?:\d{4}|\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*|"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\s+\d{1,2}|monday|tuesday|"
    r"wednesday|thursday|friday|saturday|sunday|yesterday|last (?:week|month|year))\b",
    re.I,
)
# A figure, not a digit inside a name such as "Shaheen-3" or "Agni-V".
NUMBER_CUE = re.compile(r"(?<![\w-])\d[\d,.]*(?![\w-])|\bpercent\b|%")
CAUSE_CUE = re.compile(
    r"\b(?:because|since|due to|as a result|lead(?:s|ing)? to|led to|push(?:es|ed)?|drive[sn]?|"
    r"caus(?:e|es|ed)|reason|so that|in order to|aim(?:s|ed)? to|intended to|deepen(?:ed|s)?|"
    r"mistrust|threat|fuel(?:s|ed|led)?|coerc\w*|therefore|will)\b",
    re.I,
)
CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w'’-]*")
QUANTITY_WORDS = (
    r"rate|rise|increase|raise|cut|share|level|flow|price|cost|value|amount|size|number|percentage|"
    r"total|range|figure|budget|sum|grant|loss|losses|pay|wage|capacity|output|population|toll|height|distance"
)


@dataclass
class Candidate:
    """One sentence of one passage; offsets index the passage text."""

    passage: int
    start: int
    end: int
    text: str
    words: set[str]
    context: str  # what is embedded: the sentence, led by the one before if it is short


class SentencePool:
    """Sentences of the passages (deduplicated), embedded once, scored against any query."""

    def __init__(self, passages: list[Passage], embedder: object) -> None:
        self.passages = passages
        self.embedder = embedder
        self.candidates = _candidates(passages)
        self.passage_words = [_passage_words(p) for p in passages]
        texts = [c.context for c in self.candidates]
        self.vectors = embedder.encode(texts) if texts else np.zeros((0, 1), np.float32)  # type: ignore[attr-defined]

    def __len__(self) -> int:
        return len(self.candidates)

    def mentions(self, words: set[str]) -> bool:
        """True if every word occurs somewhere in the passages (titles and dates included)."""
        return not (words - set().union(*self.passage_words)) if self.passage_words else not words

    def relevance(self, query: str) -> np.ndarray:
        """Relevance of each sentence to `query`: meaning, rare shared words, answer type, names."""
        if not self.candidates:
            return np.zeros(0, dtype=np.float32)
        query_vector = self.embedder.encode([query])[0]  # type: ignore[attr-defined]
        similarities = self.vectors @ query_vector
        query_words = set(content_words(query))
        df: dict[str, int] = {}
        for c in self.candidates:
            for w in c.words & query_words:
                df[w] = df.get(w, 0) + 1
        n = len(self.candidates)
        idf = {w: math.log(1 + (n + 1) / (1 + df.get(w, 0))) for w in query_words}
        total = sum(idf.values()) or 1.0
        asked = {w.lower() for w in re.findall(r"[\w'’-]+", query)}
        wants = question_wants(query)
        anchors = question_anchors(query)
        scores = np.empty(n, dtype=np.float32)
        for i, c in enumerate(self.candidates):
            overlap = sum(idf[w] for w in c.words & query_words) / total
            bonus = 0.0
            if "date" in wants and new_matches(DATE_CUE, c.text, asked):
                bonus += 0.1
            if "number" in wants:
                bonus += 0.12 * min(1.0, new_matches(NUMBER_CUE, c.text, asked) / 3)
            if "cause" in wants and CAUSE_CUE.search(c.text):
                bonus += 0.05
            if "name" in wants:
                # Which/who questions are answered by names the question does not already contain.
                bonus += 0.15 * min(1.0, new_matches(CAPITALISED, c.text, asked) / 8)
            if c.text.rstrip().endswith(":"):
                bonus -= 0.1  # "... tells The Cradle:" introduces a quote, answers nothing
            if anchors:
                bonus -= 0.15 * len(anchors - self.passage_words[c.passage]) / len(anchors)
            rank_prior = 0.03 / (1 + c.passage)
            scores[i] = 0.6 * float(similarities[i]) + 0.4 * overlap + bonus + rank_prior
        return scores

    def select(
        self,
        relevance: np.ndarray,
        chosen: list[int],
        limit: int,
        keep_ratio: float,
        novelty_weight: float,
        exclude: set[int] | None = None,
    ) -> list[int]:
        """Add sentences by maximal marginal relevance: relevant, and not a repeat of the chosen."""
        if not len(relevance):
            return list(chosen)
        best = float(relevance.max())
        chosen = list(chosen)
        exclude = exclude or set()
        while len(chosen) < limit:
            scored = []
            for i in range(len(self.candidates)):
                if i in chosen or i in exclude or relevance[i] < keep_ratio * best:
                    continue
                redundancy = max((float(self.vectors[i] @ self.vectors[j]) for j in chosen), default=0.0)
                scored.append((float(relevance[i]) - novelty_weight * redundancy, i))
            if not scored:
                break
            value, pick = max(scored)
            if value < keep_ratio * best - novelty_weight:
                break
            chosen.append(pick)
        return chosen

    def reading_order(self, indexes: list[int]) -> list[int]:
        """Documents in the order retrieval ranked them; sentences in article order within each."""
        first_rank: dict[str, int] = {}
        for rank, p in enumerate(self.passages):
            first_rank.setdefault(p.chunk.doc_id, rank)

        def key(i: int) -> tuple[int, int]:
            c = self.candidates[i]
            passage = self.passages[c.passage]
            return first_rank[passage.chunk.doc_id], passage.start + c.start

        return sorted(indexes, key=key)


def _candidates(passages: list[Passage]) -> list[Candidate]:
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
            candidates.append(Candidate(i, start, end, text, words, context))
    return candidates


def _passage_words(passage: Passage) -> set[str]:
    chunk = passage.chunk
    return set(content_words(f"{chunk.title} {chunk.section} {chunk.source} {chunk.date} {passage.text}"))


def question_wants(question: str) -> set[str]:
    """What kind of information answers the question: a date, a number, a cause, names."""
    q = question.lower()
    wants = set()
    if re.search(r"\bwhen\b|\b(?:what|which) (?:date|day|year|month)\b|\bhow long ago\b", q):
        wants.add("date")
    if re.search(
        rf"\bhow (?:many|much|big|large|high|far|long|fast)\b"
        rf"|\b(?:what|which)\b(?:\s+\w+){{0,2}}?\s+(?:{QUANTITY_WORDS})\b",
        q,
    ):
        wants.add("number")
    if re.search(r"\bwhy\b|\breasons?\b|\bcauses?\b|\bhow (?:might|could|would|will)\b", q):
        wants.add("cause")
    if re.search(r"\bwho\b|\bwhom\b|\bwhich\b", q):
        wants.add("name")
    return wants


def new_matches(pattern: re.Pattern[str], text: str, asked: set[str]) -> int:
    """Matches in text that the question itself does not already contain."""
    return sum(1 for m in pattern.finditer(text) if m.group(0).lower() not in asked)


def has_wanted(text: str, wants: set[str]) -> bool:
    return ("number" in wants and bool(NUMBER_CUE.search(text))) or ("date" in wants and bool(DATE_CUE.search(text)))


def question_anchors(question: str) -> set[str]:
    """Proper names and figures in the question (stemmed), e.g. {'saldria', '2023'}."""
    names = " ".join(m.group(0) for m in CAPITALISED.finditer(question.strip()))
    figures = " ".join(NUMBER_CUE.findall(question))
    return {w for w in content_words(f"{names} {figures}") if w not in _QUESTION_WORDS}


_QUESTION_WORDS = frozenset("what which who whom when where why how did does do is are was were".split())
