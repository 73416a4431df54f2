"""Query-focused extractive answering: no model beyond the embedder, quotes stay verbatim.

Each sentence of the retrieved passages is scored for relevance to the question (meaning,
shared rare words, what the question asks for), picked greedily with a novelty penalty
(maximal marginal relevance), ordered as the articles tell it (the answer's own article
first), and cited. When nothing is relevant enough, it declines.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from brief.generate.base import (
    DECLINE_TEXT,
    UNCONFIRMED_NOTICE,
    BriefDraft,
    Draft,
    DraftSentence,
    History,
    neutralize_markers,
)
from brief.generate.extractive_brief import write_extractive_brief
from brief.generate.sentence_pool import (
    FEATURES,
    SentencePool,
    answer_eligible,
    answer_model,
    new_figures,
    new_matches,
    question_figures,
    question_wants,
    quoted_titles,
)
from brief.generate.verdict import confirming_passage
from brief.language import (
    BACK_REFERENCE,
    CAPITALISED,
    NAMES_ITS_SUBJECT,
    QUESTION_WORDS,
    STOPWORDS,
    asked_acronym,
    checked_statement,
    lower_words,
    metadata_kind,
    metadata_statements,
    spells_out,
    verdict_sentence,
)
from brief.text import content_words, split_question
from brief.types import Passage


@dataclass(frozen=True)
class ExtractiveOptions:
    max_sentences: int = 4
    # Below this fitted probability the best sentence does not answer: decline. None: the
    # cut-off stored with the fitted model (brief/data/fitted_answer.json).
    min_relevance: float | None = None
    keep_ratio: float = 0.75  # keep further sentences scoring at least this share of the best
    novelty_weight: float = 0.35
    # Decline outright when a figure of the question ("in 2023", "47 years") is in no passage.
    # Names do not veto: on the real-news development set a name veto declined 8 of 76
    # answerable questions (spellings, typos in the question) for 3 of 40 unanswerable ones
    # more; the fitted model weighs missing names instead.
    figure_veto: bool = True
    # Decline when a title the question quotes (“Inside Out 2”) is in no passage: the passages
    # are about something else. On the development set it declined 1 of the 40 unanswerable
    # questions and none of the 11 answerable ones that quote a title.
    title_veto: bool = True


class ExtractiveGenerator:
    """Selects, orders and cites verbatim sentences from the passages."""

    name = "extractive"

    def __init__(self, embedder: object, options: ExtractiveOptions | None = None) -> None:
        self.embedder = embedder
        self.options = options or ExtractiveOptions()

    def generate(self, question: str, passages: list[Passage], history: History, as_of: dt.date | None = None) -> Draft:
        draft = self._answer(question, passages, history, as_of)
        statement = checked_statement(question)
        return _with_verdict(draft, statement, passages, as_of) if statement else draft

    def _answer(self, question: str, passages: list[Passage], history: History, as_of: dt.date | None) -> Draft:
        pool = answer_pool(passages, self.embedder, as_of)
        focus = self.standalone_question(question, history)
        if not len(pool):
            return _declined()
        # A year or figure the question is about that no passage holds: the answer is not here.
        if self.options.figure_veto and pool.lacks(question_figures(focus)):
            return _declined()
        if self.options.title_veto and pool.lacks_phrases(quoted_titles(focus)):
            return _declined()
        kind = metadata_kind(focus)
        if kind:  # "Who wrote the article about ...?": the metadata of the best match answers
            for i, passage in enumerate(passages):
                chunk = passage.chunk
                statement = metadata_statements(chunk.title, chunk.author, chunk.source, chunk.date).get(kind)
                if statement:
                    return Draft([DraftSentence(statement, [i])], self.name)
        o = self.options
        cut_off = answer_model().min_relevance if o.min_relevance is None else o.min_relevance
        # A two-part question ("X, and how long did Y?") gets the best sentence for each part.
        # The history's terms widen retrieval and the fill below; what the follow-up itself
        # asks ("when?") decides which sentence answers it.
        chosen: list[int] = []
        # A headline made of the question's own words restates it ("Harbour City wins the Coastal
        # Cup final", asked why it won): it answers nothing, first or later.
        echoes = _headlines_echoing(pool, focus)
        for part in split_question(question if history else focus):
            wants = question_wants(part)
            # A question in the text does not answer one; asked for a figure or a date, only a
            # sentence holding one answers.
            eligible = answer_eligible(pool, wants)
            eligible[list(echoes)] = False
            relevance = np.where(eligible, pool.answer_probability(part), 0.0)
            # Asked what an abbreviation stands for, a sentence that writes it out answers, however
            # the model scores it; without one the model decides as for any question.
            defines = _spelling_out(pool, part)
            if defines.any():
                relevance = np.where(defines, relevance, 0.0)
            best = int(np.argmax(relevance))
            if (relevance[best] < cut_off and not defines[best]) or best in chosen:
                continue
            preceding = _preceding(pool, best)
            if preceding is not None and preceding not in chosen and _names_it(pool, best, preceding, part, wants):
                chosen.append(preceding)  # "The two-time champion, who ..." -> the one before names her
            chosen.append(best)
            following = _following(pool, best)
            if following is not None and following not in chosen and _lacks_answer(pool, best, following, part, wants):
                chosen.append(following)  # "... the popular show." -> the next sentence names it
        if not chosen:
            return _declined()
        questions = {i for i, c in enumerate(pool.candidates) if c.asks}
        picked = pool.select(
            pool.answer_probability(focus), chosen, o.max_sentences, o.keep_ratio, o.novelty_weight, questions | echoes
        )
        picked = _with_antecedents(pool, picked, len(chosen), o.max_sentences)
        # The answer's own article leads: asked "this week", the newest report's sentence comes
        # before an older report's, whatever retrieval ranked first.
        sentences = [pool.candidates[i] for i in pool.reading_order(picked, lead=chosen)]
        return Draft([DraftSentence(neutralize_markers(c.text), [c.passage]) for c in sentences], self.name)

    def stream(
        self, question: str, passages: list[Passage], history: History, as_of: dt.date | None = None
    ) -> Iterator[str | Draft]:
        draft = self.generate(question, passages, history, as_of)
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


def _with_verdict(draft: Draft, statement: str, passages: list[Passage], as_of: dt.date | None) -> Draft:
    """Asked whether a statement is true, the answer opens on "True: ..." when a passage bears it
    out (the answer's own passages first), cited to it; otherwise it says what the sources hold
    and notes that they do not confirm the statement."""
    own = [i for s in draft.sentences for i in s.cited]
    confirming = confirming_passage(statement, passages, own, as_of)
    if confirming is None:
        return replace(draft, notice=" ".join(n for n in (draft.notice, UNCONFIRMED_NOTICE) if n))
    verdict = DraftSentence(neutralize_markers(verdict_sentence(statement)), [confirming])
    return Draft([verdict, *([] if draft.declined else draft.sentences)], draft.backend)


def answer_pool(passages: list[Passage], embedder: object, as_of: dt.date | None = None) -> SentencePool:
    """What an answer is chosen from: the passages' sentences and their articles' headlines.
    benchmarks/fit_answer.py fits the answer model on this same pool."""
    return SentencePool(passages, embedder, as_of, headlines=True)


# The share of a headline's words that the question already holds at which it only restates the
# question: the `restates` feature. Fitted on the real-news development set, replaying the
# answerer: at 0.8 the rule touches the answers of 25 questions and costs no right answer (fact
# recall 0.724 either way); at 0.7 it touches 57 and costs one, at 0.9 or 1.0 it touches 6.
ECHO_SHARE = 0.8
_RESTATES = FEATURES.index("restates")


def _headlines_echoing(pool: SentencePool, question: str) -> set[int]:
    """The headlines whose words the question mostly holds already."""
    restates = pool.features(question)[:, _RESTATES]
    return {i for i, c in enumerate(pool.candidates) if c.headline and restates[i] >= ECHO_SHARE}


def _spelling_out(pool: SentencePool, question: str) -> np.ndarray:
    """Per sentence: does it write out the abbreviation the question asks about ("What does UAP
    stand for?")? All False when the question asks for no abbreviation."""
    acronym = asked_acronym(question)
    return np.array([bool(acronym) and spells_out(acronym, c.text) for c in pool.candidates], dtype=bool)


def _plain_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[A-Za-z][\w'-]+", text) if w.lower() not in _COMMON and len(w) > 2]


_COMMON = QUESTION_WORDS | STOPWORDS


def _following(pool: SentencePool, index: int) -> int | None:
    """The candidate that follows `index` in the same passage, if there is one (a headline is
    in no passage's run of sentences)."""
    after = index + 1
    if (
        after < len(pool)
        and not pool.candidates[index].headline
        and pool.candidates[after].passage == pool.candidates[index].passage
    ):
        return after
    return None


def _preceding(pool: SentencePool, index: int) -> int | None:
    """The candidate right before `index` in the same passage (nothing skipped between), if any."""
    before = index - 1
    if (
        before < 0
        or pool.candidates[before].headline
        or pool.candidates[before].passage != pool.candidates[index].passage
    ):
        return None
    text = pool.passages[pool.candidates[index].passage].text
    if text[pool.candidates[before].end : pool.candidates[index].start].strip():
        return None  # a fragment or a repeated sentence lies between: not the lead-in
    return before


def _with_antecedents(pool: SentencePool, picked: list[int], answers: int, limit: int) -> list[int]:
    """Picked sentences, each one that refers back ("It will ...", "They ...") led by the
    sentence it refers to, which a reader needs to know what "it" is; one that names its subject
    ("The show, Crumb and Crust, ...") reads alone. `picked` is in the order
    of choice and its first `answers` are the answer itself: those always stay; a later pick
    that no longer fits in `limit` with its lead-in is left out."""
    result: list[int] = []
    for n, index in enumerate(picked):
        unit = [index]
        candidate = pool.candidates[index]
        needs_lead_in = candidate.refers_back and not NAMES_ITS_SUBJECT.match(candidate.text)
        before = _preceding(pool, index) if needs_lead_in else None
        if before is not None and before not in result:
            unit.insert(0, before)
        if n < answers or len(result) + len(unit) <= limit:
            result.extend(i for i in unit if i not in result)
    return result


def _names_it(pool: SentencePool, index: int, preceding: int, question: str, wants: set[str]) -> bool:
    """A which/who question answered by a sentence that refers back ("The two-time champion,
    who ...", "It is ...") to the one before it, and that one brings a name neither the
    question nor the chosen sentence holds ("Julia Marsh is ready ...")."""
    text, before = pool.candidates[index].text, pool.candidates[preceding].text
    if "name" not in wants or not BACK_REFERENCE.match(text):
        return False
    asked = lower_words(question)
    known = asked | lower_words(text)
    return bool(new_matches(CAPITALISED, before, known))


def _lacks_answer(pool: SentencePool, index: int, following: int, question: str, wants: set[str]) -> bool:
    """The chosen sentence needs the next one: a how-many question answered with no new
    figure, or a which/who question whose next sentence goes on about the same thing ("The
    show, X, ...", "It ...") and brings a name that neither the question nor the chosen
    sentence holds ("a popular baking show" -> "The show, Crumb and Crust, ...")."""
    text, after = pool.candidates[index].text, pool.candidates[following].text
    asked = lower_words(question)
    if "number" in wants:
        in_words = "count" in wants
        return not new_figures(text, asked, in_words) and bool(new_figures(after, asked, in_words))
    if "name" in wants and BACK_REFERENCE.match(after):
        known = asked | lower_words(text)
        return bool(new_matches(CAPITALISED, after, known))
    return False


def _declined() -> Draft:
    return Draft([DraftSentence(DECLINE_TEXT)], ExtractiveGenerator.name, declined=True)
