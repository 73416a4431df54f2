"""A pool of candidate sentences from retrieved passages, scored for relevance to a query.

Shared by the extractive answerer and the extractive brief writer. One pool serves one
request: it holds that request's sentences and their vectors, so concurrent requests
never share state.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from brief.language import (
    BACK_REFERENCE,
    CAPITALISED,
    CAUSE_CUE,
    DATE_CUE,
    NUMBER_CUE,
    PHRASE_GLUE,
    QUESTION_WORDS,
    QUOTED_TITLE,
    SPELLED_NUMBER,
    WANTS_CAUSE,
    WANTS_COUNT,
    WANTS_DATE,
    WANTS_NAME,
    WANTS_NUMBER,
    WANTS_YEAR,
    YEAR_CUE,
    asked_kind,
    asked_place,
    canonical_text,
    demonym_roots,
    lower_words,
    new_names,
)
from brief.recency import age_in_days, freshness, news_window
from brief.text import content_words, sentence_spans, split_sentences
from brief.types import Passage

__all__ = [
    "DATE_CUE",
    "FEATURES",
    "SentencePool",
    "answer_eligible",
    "on_topic_sentences",
    "question_anchors",
    "question_figures",
    "question_wants",
]

# What the relevance of a sentence to a question is made of; the weights live in
# brief/data/fitted_answer.json, fitted on a development set of real news questions.
FEATURES = (
    "similarity",  # cosine of the sentence (with a short lead-in) and the question
    "overlap",  # share of the question's rare words the sentence holds (idf-weighted)
    "new_names",  # a who/which question: capitalised words the question does not contain
    "new_numbers",  # a how-many question: figures the question does not contain (counts also in words)
    "new_dates",  # a when question: a date the question does not contain
    "cause",  # a why question: a causal cue
    "ends_colon",  # "... told reporters:" introduces, answers nothing
    "anchors_missing",  # share of the question's names and figures absent from the passage
    "restates",  # share of the sentence's words already in the question: restating is no answer
    "rank_prior",  # the passage's retrieval rank, 1 for the first, shrinking after
    "newest_story",  # how new the passage is within the question's window ("this week"; else a fortnight)
    "lead",  # the sentence opens its article, where news stories put what happened
    "names_place",  # a which-country/state question: the sentence names one the question does not
    # A which-X / who question: how much less like an X the sentence's best new name is than
    # the best one of any sentence (0 for that sentence: the questions' cut-off stays comparable)
    "answer_kind",
)

# A news story's lead: its first two sentences or so.
LEAD_CHARS = 300


class _VectorCache:
    """Sentence vectors per embedder (held weakly) and text, the most recent kept: a brief's
    coverage check and its writer read the same passages, and follow-up questions the same
    articles, so their sentences are embedded once."""

    def __init__(self, size: int = 8192) -> None:
        self.size = size
        self._by_embedder: weakref.WeakKeyDictionary[object, OrderedDict[str, np.ndarray]] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def encode(self, embedder: object, texts: list[str]) -> np.ndarray:
        try:
            with self._lock:
                vectors = self._by_embedder.setdefault(embedder, OrderedDict())
        except TypeError:  # an embedder that cannot be referenced weakly is not cached
            return embedder.encode(texts)  # type: ignore[attr-defined]
        with self._lock:
            known = {t: vectors.get(t) for t in texts}
        missing = list(dict.fromkeys(t for t, v in known.items() if v is None))
        if missing:
            fresh = embedder.encode(missing)  # type: ignore[attr-defined]
            known.update(zip(missing, fresh, strict=True))
        with self._lock:
            for text in texts:
                vectors[text] = known[text]
                vectors.move_to_end(text)
            while len(vectors) > self.size:
                vectors.popitem(last=False)
        return np.stack([known[t] for t in texts]).astype(np.float32)


_VECTORS = _VectorCache()


# The brief writer's blend (same order as FEATURES).
# The features added for answers weigh nothing here.
BRIEF_WEIGHTS = np.array(
    [0.6, 0.4, 0.15, 0.12, 0.1, 0.05, -0.1, -0.15, 0.0, 0.03, 0.0, 0.0, 0.0, 0.0], dtype=np.float32
)


@dataclass
class Candidate:
    """One sentence of one passage; offsets index the passage text."""

    passage: int
    start: int
    end: int
    text: str
    words: set[str]
    context: str  # what is embedded: the sentence, led by the one before if it is short or refers back
    asks: bool = False  # the sentence is itself a question: it raises what it should answer
    # Words of the sentence before, when this one refers back to it ("Their assets are frozen"
    # is about the companies the one before named): they count as the sentence's own words.
    lead_words: frozenset[str] = frozenset()
    # The article's headline, not a sentence of the passage (its offsets are 0): news puts
    # the story's who and what there ("Vegas Golden Knights capture first Stanley Cup title")
    # where the passage may say only "the Golden Knights".
    headline: bool = False
    # Where its names are read from: a headline in Title Case capitalises every word, so none
    # of them can be told for a name ("Arlow Opens Its New Central Library").
    name_text: str | None = None

    @property
    def refers_back(self) -> bool:
        return bool(self.lead_words)

    @property
    def names_from(self) -> str:
        return self.text if self.name_text is None else self.name_text


class SentencePool:
    """Sentences of the passages (deduplicated), embedded once, scored against any query."""

    def __init__(
        self, passages: list[Passage], embedder: object, as_of: dt.date | None = None, headlines: bool = False
    ) -> None:
        """`as_of`: the day the question is asked on (default today), what "this week" counts from.
        `headlines`: each article's headline is a candidate too, before its first passage."""
        self.passages = passages
        self.embedder = embedder
        self.candidates = _candidates(passages, headlines)
        self.passage_words = [_passage_words(p) for p in passages]
        day = as_of or dt.date.today()
        self.ages = [age_in_days(p.chunk.date, day) for p in passages]  # None: undated, or not news yet
        texts = [c.context for c in self.candidates]
        self.vectors = _VECTORS.encode(embedder, texts) if texts else np.zeros((0, 1), np.float32)
        # A sentence that refers back is also embedded alone: its lead-in may be about
        # something else, and the sentence alone may be the closer match.
        self.alone = [i for i, c in enumerate(self.candidates) if c.refers_back and c.context != c.text]
        alone_texts = [self.candidates[i].text for i in self.alone]
        self.alone_vectors = _VECTORS.encode(embedder, alone_texts) if alone_texts else self.vectors[:0]
        self._rows: dict[str, np.ndarray] = {}  # features per query

    def __len__(self) -> int:
        return len(self.candidates)

    def lacks(self, anchors: set[str]) -> bool:
        """True if some anchor occurs in no passage (titles, dates and authors included), in
        any of its spellings."""
        return bool(missing_anchors(anchors, set().union(*self.passage_words))) if self.passage_words else bool(anchors)

    def lacks_phrases(self, phrases: list[str]) -> bool:
        """True if some phrase occurs in no passage (with its article's title), word for word
        whatever the case and punctuation ("Super Mario Bros. Movie" in "the Super Mario Bros
        movie")."""
        if not phrases:
            return False
        texts = [_phrase_form(f"{p.chunk.title} {p.text}") for p in self.passages]
        return any(not any(form in text for text in texts) for form in map(_phrase_form, phrases))

    def features(self, query: str) -> np.ndarray:
        """One row of FEATURES per sentence, for this query (read-only). Computed once per query:
        the answerer scores a one-part question for its part and again as the whole, and a brief
        reads its topic for the on-topic gate and for relevance."""
        rows = self._rows.get(query)
        if rows is None:
            rows = self._rows[query] = self._feature_rows(query)
            rows.flags.writeable = False
        return rows

    def _feature_rows(self, query: str) -> np.ndarray:
        n = len(self.candidates)
        if not n:
            return np.zeros((0, len(FEATURES)), dtype=np.float32)
        query_vector = self.embedder.encode([query])[0]  # type: ignore[attr-defined]
        similarities = self.vectors @ query_vector
        if self.alone:
            similarities[self.alone] = np.maximum(similarities[self.alone], self.alone_vectors @ query_vector)
        query_words = set(content_words(query))
        df: dict[str, int] = {}
        for c in self.candidates:
            for w in (c.words | c.lead_words) & query_words:
                df[w] = df.get(w, 0) + 1
        idf = {w: math.log(1 + (n + 1) / (1 + df.get(w, 0))) for w in query_words}
        total = sum(idf.values()) or 1.0
        asked = lower_words(query)
        wants = question_wants(query)
        anchors = question_anchors(query)
        window = news_window(query)  # the span asked for, else the fortnight before
        places = asked_place(query)
        named = {m.group(0).lower() for m in places.finditer(query)} if places else set()
        kind = asked_kind(query)
        kind_fit = self._kind_fit(kind, asked) if kind else None
        rows = np.zeros((n, len(FEATURES)), dtype=np.float32)
        for i, c in enumerate(self.candidates):
            row = rows[i]
            row[0] = float(similarities[i])
            row[1] = sum(idf[w] for w in (c.words | c.lead_words) & query_words) / total
            if "name" in wants:
                row[2] = min(1.0, new_matches(CAPITALISED, c.names_from, asked) / 8)
            if "number" in wants:
                row[3] = min(1.0, new_figures(c.text, asked, "count" in wants) / 3)
            if "date" in wants:
                row[4] = float(new_matches(YEAR_CUE if "year" in wants else DATE_CUE, c.text, asked) > 0)
            if "cause" in wants:
                row[5] = float(bool(CAUSE_CUE.search(c.text)))
            row[6] = float(c.text.rstrip().endswith(":"))
            if anchors:
                row[7] = len(missing_anchors(anchors, self.passage_words[c.passage])) / len(anchors)
            row[8] = len(c.words & query_words) / len(c.words) if c.words else 0.0
            row[9] = 1.0 / (1 + c.passage)
            row[10] = freshness(self.ages[c.passage], window)
            # A headline (offset 0) counts as the lead when its passage opens the article.
            row[11] = float(self.passages[c.passage].start == 0 and c.start < LEAD_CHARS)
            if places:
                row[12] = float(any(m.group(0).lower() not in named for m in places.finditer(c.text)))
            if kind_fit is not None:
                row[13] = kind_fit[i]
        return rows

    def _kind_fit(self, kind: str, asked: set[str]) -> np.ndarray:
        """Per sentence, the best cosine between the kind asked for ("automaker") and a name
        the sentence brings ("Ford"), 0 without one, less the best of all sentences. The
        embedder knows that Ford is a carmaker and Nepal a country, which no word list covers."""
        names = [new_names(c.names_from, asked) for c in self.candidates]
        unique = sorted({name for found in names for name in found})
        if not unique:
            return np.zeros(len(names), dtype=np.float32)
        vectors = _VECTORS.encode(self.embedder, [kind, *unique])
        fit = dict(zip(unique, (vectors[1:] @ vectors[0]).tolist(), strict=True))
        best = np.array([max((fit[n] for n in found), default=0.0) for found in names], dtype=np.float32)
        return best - best.max()

    def relevance(self, query: str) -> np.ndarray:
        """Relevance of each sentence to a brief's topic: the hand-set blend of FEATURES the
        brief writer's cut-offs were chosen for."""
        return self.features(query) @ BRIEF_WEIGHTS

    def answer_probability(self, query: str) -> np.ndarray:
        """For each sentence, the fitted probability that it answers the question (0-1)."""
        return answer_model().score(self.features(query))

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

    def reading_order(self, indexes: list[int], lead: list[int] | None = None) -> list[int]:
        """Documents in the order retrieval ranked them, except that those holding a `lead`
        sentence (the answer itself) come first, in the order of `lead`; sentences in article
        order within each document."""
        first_rank: dict[str, int] = {}
        for n, i in enumerate(lead or []):
            first_rank.setdefault(self.passages[self.candidates[i].passage].chunk.doc_id, n - len(self.passages))
        for rank, p in enumerate(self.passages):
            first_rank.setdefault(p.chunk.doc_id, rank)

        def key(i: int) -> tuple[int, int]:
            c = self.candidates[i]
            passage = self.passages[c.passage]
            return first_rank[passage.chunk.doc_id], -1 if c.headline else passage.start + c.start

        return sorted(indexes, key=key)


def _candidates(passages: list[Passage], headlines: bool = False) -> list[Candidate]:
    seen: set[str] = set()
    candidates = []
    articles: set[str] = set()
    for i, passage in enumerate(passages):
        if headlines and passage.chunk.doc_id not in articles:
            articles.add(passage.chunk.doc_id)
            headline = _headline(i, passage, seen)
            if headline is not None:
                candidates.append(headline)
        previous, previous_words = "", set()
        for start, end in sentence_spans(passage.text):
            text = passage.text[start:end]
            key = " ".join(text.split()).lower()
            words = set(content_words(text))
            # A short sentence or list item often needs its lead-in to be understood, and so
            # does one that goes on about what the one before named ("Their assets ...").
            refers_back = bool(previous and BACK_REFERENCE.match(text))
            context = f"{previous} {text}" if previous and (refers_back or len(text.split()) < 16) else text
            lead_words = frozenset(previous_words) if refers_back else frozenset()
            previous, previous_words = text, words
            if key in seen or len(words) < 3:
                continue  # overlapping chunks repeat sentences; fragments say too little
            seen.add(key)
            asks = text.rstrip(" \"'”’)]").endswith("?")
            candidates.append(Candidate(i, start, end, text, words, context, asks, lead_words))
    return candidates


def _headline(index: int, passage: Passage, seen: set[str]) -> Candidate | None:
    """The headline of passage `index`'s article as a candidate, unless it says too little or was
    seen (a body sentence that repeats it is then left out as seen)."""
    text = passage.chunk.headline
    key = text.lower()
    words = set(content_words(text))
    if key in seen or len(words) < 3:
        return None
    seen.add(key)
    names = "" if _title_case(text) else None
    return Candidate(index, 0, 0, text, words, text, text.endswith("?"), headline=True, name_text=names)


def _title_case(text: str) -> bool:
    """Most of the longer words capitalised, as in "Treasury Fines Calder Freight Over ..."."""
    words = _LONG_WORD.findall(text)
    return len(words) >= 3 and sum(w[0].isupper() for w in words) >= 0.8 * len(words)


_LONG_WORD = re.compile(r"(?<![\w'’-])[^\W\d_][\w'’-]{3,}")


def _passage_words(passage: Passage) -> set[str]:
    chunk = passage.chunk
    fields = f"{chunk.title} {chunk.section} {chunk.source} {chunk.date} {chunk.author}"
    return set(content_words(f"{fields} {passage.text}"))


def missing_anchors(anchors: set[str], words: set[str]) -> set[str]:
    """The anchors no word stands for: the same word, or the same place or people
    ("Kenyan" for "Kenya")."""
    missing = anchors - words
    if not missing:
        return missing
    roots = set().union(*(demonym_roots(w) for w in words)) if words else set()
    return {a for a in missing if not demonym_roots(a) & roots}


def question_wants(question: str) -> set[str]:
    """What kind of information answers the question: a date, a number, a cause, names."""
    q = question.lower()
    wants = set()
    if WANTS_DATE.search(q):
        wants.add("date")
    if WANTS_YEAR.search(q):
        wants.add("year")  # a date that must be a year
    if WANTS_NUMBER.search(q):
        wants.add("number")
    if WANTS_COUNT.search(q):
        wants.add("count")  # a figure that may be in words: "for eight years"
    if WANTS_CAUSE.search(q):
        wants.add("cause")
    # "In which month ...?" asks for a date and "which share ...?" for a figure, not for a name:
    # the words that asked for those do not count again.
    if WANTS_NAME.search(WANTS_NUMBER.sub(" ", WANTS_DATE.sub(" ", q))):
        wants.add("name")
    return wants


def answer_eligible(pool: SentencePool, wants: set[str]) -> np.ndarray:
    """Which sentences may answer a question wanting `wants`: never one that is itself a
    question ("How many times has X won?"), and for a figure or a date only one holding one."""
    return np.array(
        [not c.asks and (has_wanted(c.text, wants) if {"number", "date"} & wants else True) for c in pool.candidates],
        dtype=bool,
    )


def new_matches(pattern: re.Pattern[str], text: str, asked: set[str]) -> int:
    """Matches in text that the question itself does not already contain."""
    return sum(1 for m in pattern.finditer(text) if m.group(0).lower() not in asked)


def new_figures(text: str, asked: set[str], in_words: bool) -> int:
    """Figures in the text that the question lacks; with `in_words`, counts written out too
    ("for eight years")."""
    spelled = new_matches(SPELLED_NUMBER, text, asked) if in_words else 0
    return new_matches(NUMBER_CUE, text, asked) + spelled


def has_wanted(text: str, wants: set[str]) -> bool:
    """The text holds a figure (for a count, also in words: "for eight years") or a date, as wanted."""
    if "number" in wants and (NUMBER_CUE.search(text) or ("count" in wants and SPELLED_NUMBER.search(text))):
        return True
    return "date" in wants and bool((YEAR_CUE if "year" in wants else DATE_CUE).search(text))


def question_anchors(question: str) -> set[str]:
    """Proper names and figures in the question (stemmed), e.g. {'saldria', '2023'}."""
    # Countries first become one lower-case word ("U.S." -> "usa"): common, and never a veto.
    names = " ".join(m.group(0) for m in CAPITALISED.finditer(canonical_text(question.strip())))
    figures = " ".join(NUMBER_CUE.findall(question))
    return {w for w in content_words(f"{names} {figures}") if w not in QUESTION_WORDS}


def topic_anchors(topic: str) -> set[str]:
    """A brief topic's names and figures; unlike a question's, the first word counts too
    ("Bitcoin price outlook"), unless it is a common word ("The", "Why")."""
    words = topic.strip().split()
    first = set(content_words(words[0])) if words and words[0][:1].isupper() else set()
    return question_anchors(topic) | (first - QUESTION_WORDS)


def quoted_titles(question: str) -> list[str]:
    """The titles and names the question quotes (“Inside Out 2”)."""
    return [m.group(1) for m in QUOTED_TITLE.finditer(question)]


def _phrase_form(text: str) -> str:
    """Lower-case words between single spaces, padded: a phrase's form is inside a text's form
    only where its words are, whole and in order."""
    words = _PHRASE_WORD.findall(canonical_text(text).lower())
    return " " + " ".join(w for w in words if w not in PHRASE_GLUE) + " "


_PHRASE_WORD = re.compile(r"[^\W_]+")


def question_figures(question: str) -> set[str]:
    """The figures of the sentence that asks ("2023", "47"), as content words. A figure of a
    statement before it ("X retired after 47 years. How many titles did he win?") sets the
    scene: a passage that answers need not repeat it."""
    sentences = split_sentences(question.strip())
    asking = next((s for s in reversed(sentences) if s.rstrip().endswith("?")), question)
    return set(content_words(" ".join(NUMBER_CUE.findall(asking))))


@dataclass(frozen=True)
class AnswerModel:
    """A logistic model over FEATURES, and the probability below which nothing answers."""

    weights: np.ndarray
    bias: float
    min_relevance: float
    provenance: tuple[str, ...]  # one entry per fitting step, oldest first

    def score(self, rows: np.ndarray) -> np.ndarray:
        if not len(rows):
            return np.zeros(0, dtype=np.float32)
        return (1.0 / (1.0 + np.exp(-(rows @ self.weights + self.bias)))).astype(np.float32)


DATA_DIR = Path(__file__).resolve().parent.parent / "data"
FITTED_ANSWER_FILE = "fitted_answer.json"


@cache
def answer_model() -> AnswerModel:
    """The fitted answer model shipped in brief/data (see its `provenance`)."""
    return read_answer_model(DATA_DIR / FITTED_ANSWER_FILE)


def read_answer_model(path: Path) -> AnswerModel:
    """An answer model as benchmarks/fit_answer.py writes it."""
    data = json.loads(path.read_text(encoding="utf-8"))
    weights = np.array([data["weights"][name] for name in FEATURES], dtype=np.float32)
    steps = data.get("provenance", [])
    steps = [steps] if isinstance(steps, str) else steps  # a file written before the steps were a list
    return AnswerModel(weights, float(data["bias"]), float(data["min_relevance"]), tuple(map(str, steps)))


# A brief gathers around a topic, an answer must answer: a sentence is about the topic at this
# share of the fitted answering cut-off.
ON_TOPIC_SHARE = 0.5


def on_topic_sentences(pool: SentencePool, topic: str) -> np.ndarray:
    """Which sentences of the pool are about the topic (the fitted answer model, with the topic
    read as the question)."""
    if not len(pool):
        return np.zeros(0, dtype=bool)
    return pool.answer_probability(topic) >= ON_TOPIC_SHARE * answer_model().min_relevance
