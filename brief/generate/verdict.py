"""Whether a passage bears out a statement the question hands over ("True or false: ...").

The extractive writer says "True: ..." only where a passage does, and the citation check
accepts that sentence by the same test, so a verdict can never outrun its evidence. A statement
the passages do not bear out gets no verdict either way: the sources failing to say it is not
the sources saying it is false.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from brief.generate.sentence_pool import topic_anchors
from brief.language import NEGATION, recency_window
from brief.recency import age_in_days
from brief.text import best_window, content_words, sentence_spans
from brief.types import Passage

# The share of the statement's words that a few consecutive sentences of one article (with its
# headline) must hold. It is the citation judge's bar for a claim on its words alone; on the 17
# true-or-false questions of RealTime QA's Jan-Jun 2023 weeks it confirms 10 of the 13 true
# statements and none of the 4 false ones (0.6 would confirm a false one, 0.8 loses 3 true).
CONFIRM_SHARE = 0.7
WINDOW = 3  # consecutive sentences that may bear a statement out together


@dataclass(frozen=True)
class Confirmation:
    span: tuple[int, int]  # offsets of the sentences that bear the statement out
    share: float  # of the statement's words, how many they (and the headline) hold


def confirmation(statement: str, passage: Passage) -> Confirmation | None:
    """How the passage bears the statement out, or None. Every name and figure of the statement
    must be there (the right claim about another company is no confirmation), most of its other
    words too, and the sentence closest to it must be negated exactly when the statement is."""
    words = set(content_words(statement))
    spans = sentence_spans(passage.text)
    if not words or not spans:
        return None
    headline = frozenset(content_words(passage.chunk.headline))
    sentences = [set(content_words(passage.text[s:e])) for s, e in spans]
    share, first, last = best_window(words, sentences, WINDOW, given=headline)
    held = headline.union(*sentences[first : last + 1])
    if share < CONFIRM_SHARE or not topic_anchors(statement) <= held:
        return None
    closest = max(range(first, last + 1), key=lambda i: len(sentences[i] & words))
    closest_text = passage.text[spans[closest][0] : spans[closest][1]]
    if bool(NEGATION.search(statement)) != bool(NEGATION.search(closest_text)):
        return None
    return Confirmation((spans[first][0], spans[last][1]), share)


def confirming_passage(
    statement: str, passages: list[Passage], preferred: list[int], as_of: dt.date | None = None
) -> int | None:
    """The first passage that bears the statement out: those in `preferred` first (the answer's
    own), then the rest in their retrieval order. A statement about "this week" is borne out
    only by an article of that week: last year's report of a plan is not this week's news."""
    window = recency_window(statement)
    order = dict.fromkeys([*preferred, *range(len(passages))])
    for i in order:
        if not 0 <= i < len(passages):
            continue
        age = age_in_days(passages[i].chunk.date, as_of or dt.date.today())
        if window and (age is None or age > window):
            continue
        if confirmation(statement, passages[i]):
            return i
    return None
