"""Citation verification: every sentence is checked against the passages it cites.

A citation stands only if its passage supports the sentence; otherwise it is replaced
by the passage that does, or dropped. A sentence no passage supports is marked
unsupported. Numbers that point at no passage are discarded. Citations are then
renumbered 1..n in order of first use, so the reader never sees a gap or a stray number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from brief.generate.base import BriefDraft, Draft, DraftSentence, neutralize_markers
from brief.generate.verdict import confirmation
from brief.language import metadata_statements, verdict_statement
from brief.text import best_window, content_words, sentence_spans
from brief.types import Citation, Passage, Sentence

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_CITATION = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_LEADING_CITATIONS = re.compile(r"^(?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])+\s*")

# Support thresholds: lexical recall of the sentence's content words in the passage,
# and cosine similarity with the passage's closest sentence.
RECALL_ALONE = 0.7
RECALL_WITH_MEANING = 0.35
MEANING_WITH_RECALL = 0.6
MEANING_ALONE = 0.8
# A claim of fewer content words than this ("PWNED", "Yes") is supported only by meaning:
# shared words alone prove nothing for it.
MIN_CLAIM_WORDS = 3
WINDOW = 3  # consecutive passage sentences that may jointly support one sentence
WIDEN_GAIN = 0.15  # recall a wider window must add to be preferred
# The quote span of a statement about the article itself (its author, date, outlet): the
# citation quotes the article's metadata line. And of the article's headline, quoted as it is.
METADATA_SPAN = (-1, -1)
HEADLINE_SPAN = (-2, -2)


@dataclass
class Support:
    supported: bool
    score: float
    quote_span: tuple[int, int]  # offsets of the best-matching sentence(s) in the passage text


@dataclass
class _PassageView:
    passage: Passage
    words: set[str]
    spans: list[tuple[int, int]]
    span_words: list[set[str]]
    vectors: np.ndarray | None = None


@dataclass
class SupportJudge:
    """Decides whether a passage supports a sentence: shared words, numbers, and meaning."""

    embedder: object | None = None  # anything with encode(list[str]) -> unit vectors
    _views: dict[int, _PassageView] = field(default_factory=dict)

    def view(self, index: int, passage: Passage) -> _PassageView:
        if index not in self._views:
            spans = sentence_spans(passage.text)
            self._views[index] = _PassageView(
                passage,
                set(content_words(passage.text)),
                spans,
                [set(content_words(passage.text[s:e])) for s, e in spans],
            )
        return self._views[index]

    def judge(self, sentence: str, index: int, passage: Passage) -> Support:
        """Support must be local: the words of the sentence have to come from a window of at
        most WINDOW consecutive sentences of the passage, not be scattered over all of it."""
        chunk = passage.chunk
        if sentence in metadata_statements(chunk.title, chunk.author, chunk.source, chunk.date).values():
            return Support(True, 1.0, METADATA_SPAN)
        if chunk.headline and " ".join(sentence.split()) == neutralize_markers(chunk.headline):
            return Support(True, 1.0, HEADLINE_SPAN)  # the article's headline, quoted
        statement = verdict_statement(sentence)
        if statement:  # "True: ..." stands exactly where the writer's own test found it borne out
            found = confirmation(statement, passage)
            return Support(True, found.share, found.span) if found else Support(False, 0.0, (0, 0))
        view = self.view(index, passage)
        words = set(content_words(sentence))
        if not words or not view.spans:
            return Support(False, 0.0, (0, 0))
        # The best single sentence, widened to two or three consecutive ones only where that
        # covers clearly more of the claim (a quote is kept tight).
        recall, first, last = best_window(words, view.span_words, WINDOW, widen_gain=WIDEN_GAIN)
        window_text = passage.text[view.spans[first][0] : view.spans[last][1]]
        numbers_ok = all(_number_in(n, window_text) for n in _NUMBER.findall(sentence))
        meaning = 0.0
        if recall < RECALL_ALONE and self.embedder is not None and recall >= 0.15:
            sims = self._similarities(sentence, view)
            meaning = float(sims.max())
            if recall < RECALL_WITH_MEANING or sims[first : last + 1].max() < meaning:
                first = last = int(np.argmax(sims))  # the sentence that means the same
                window_text = passage.text[view.spans[first][0] : view.spans[first][1]]
                numbers_ok = all(_number_in(n, window_text) for n in _NUMBER.findall(sentence))
        if len(words) < MIN_CLAIM_WORDS:
            if self.embedder is not None and meaning == 0.0:
                meaning = float(self._similarities(sentence, view).max())
            supported = numbers_ok and meaning >= MEANING_ALONE
        else:
            supported = numbers_ok and (
                recall >= RECALL_ALONE
                or (recall >= RECALL_WITH_MEANING and meaning >= MEANING_WITH_RECALL)
                or meaning >= MEANING_ALONE
            )
        return Support(supported, 0.6 * recall + 0.4 * meaning, (view.spans[first][0], view.spans[last][1]))

    def _similarities(self, sentence: str, view: _PassageView) -> np.ndarray:
        if view.vectors is None:
            texts = [view.passage.text[s:e] for s, e in view.spans]
            view.vectors = self.embedder.encode(texts)  # type: ignore[union-attr]
        vector = self.embedder.encode([sentence])[0]  # type: ignore[union-attr]
        return view.vectors @ vector


def _number_in(number: str, text: str) -> bool:
    plain = number.replace(",", "")
    return number in text or plain in text.replace(",", "")


def parse_cited_text(text: str) -> list[DraftSentence]:
    """Split generated text into sentences with the [n] markers each carries (0-based)."""
    sentences: list[DraftSentence] = []
    body = text.strip()
    for start, end in sentence_spans(body):
        piece = body[start:end]
        # "Claim. [2] Next claim." - a marker after the full stop belongs to the claim before it.
        leading = _LEADING_CITATIONS.match(piece)
        if leading and sentences:
            sentences[-1].cited.extend(_numbers(leading.group(0)))
            piece = piece[leading.end() :]
        clean = _CITATION.sub("", piece).strip()
        if clean:
            sentences.append(DraftSentence(clean, _numbers(piece)))
    return sentences


def _numbers(text: str) -> list[int]:
    """0-based passage indexes of the [n] markers in text."""
    return [int(n) - 1 for group in _CITATION.findall(text) for n in re.split(r"[,;]", group) if int(n) > 0]


@dataclass
class Verification:
    """Checked sentences, the citations they use, and how the generator's own citations fared."""

    sentences: list[Sentence]
    citations: list[Citation]
    proposed: int = 0  # citations the generator wrote that point at a real passage
    confirmed: int = 0  # of those, how many the verifier kept
    invented: int = 0  # citation numbers that pointed at no passage

    def stats(self) -> dict[str, int]:
        return {"proposed": self.proposed, "confirmed": self.confirmed, "invented": self.invented}


def verify_draft(draft: Draft, passages: list[Passage], judge: SupportJudge) -> Verification:
    """Check every sentence against its cited passages; renumber citations 1..n by first use."""
    if draft.declined:
        return Verification([Sentence(s.text, [], True) for s in draft.sentences], [])
    result = Verification([], [])
    numbering: dict[int, int] = {}
    quotes: dict[int, list[tuple[int, int]]] = {}
    for sentence in draft.sentences:
        unique = list(dict.fromkeys(sentence.cited))
        cited = [i for i in unique if 0 <= i < len(passages)]
        result.invented += len(unique) - len(cited)
        result.proposed += len(cited)
        kept, confirmed = supporting(sentence, passages, judge)
        result.confirmed += confirmed
        for i, support in kept:
            numbering.setdefault(i, len(numbering) + 1)
            quotes.setdefault(i, []).append(support.quote_span)
        result.sentences.append(Sentence(sentence.text, [numbering[i] for i, _ in kept], bool(kept)))
    result.citations = [
        _citation(numbering[i], passages[i], quotes[i]) for i in sorted(numbering, key=numbering.__getitem__)
    ]
    return result


def supporting(
    sentence: DraftSentence, passages: list[Passage], judge: SupportJudge
) -> tuple[list[tuple[int, Support]], int]:
    """The passages that support the sentence: those it cites that do, or else the one other
    passage that supports it best (or none). Also returns how many of its own citations held."""
    cited = [i for i in dict.fromkeys(sentence.cited) if 0 <= i < len(passages)]
    kept = [(i, support) for i in cited if (support := judge.judge(sentence.text, i, passages[i])).supported]
    confirmed = len(kept)
    if not kept:
        best = _best_support(sentence.text, passages, judge)
        kept = [best] if best is not None else []
    return kept, confirmed


@dataclass
class CheckedItem:
    """A brief's sentence that a passage supports: which passage, and the supporting span."""

    text: str
    passage: int
    quote_span: tuple[int, int]
    speaker: str = ""


def verify_brief(draft: BriefDraft, passages: list[Passage], judge: SupportJudge) -> dict[str, list[CheckedItem]]:
    """Keep only sentences a passage supports, each pointed at its (best) supporting passage."""
    checked: dict[str, list[CheckedItem]] = {}
    for key, sentences in draft.sections.items():
        checked[key] = []
        for sentence in sentences:
            kept, _ = supporting(sentence, passages, judge)
            if kept:
                index, support = kept[0]
                checked[key].append(CheckedItem(sentence.text, index, support.quote_span, sentence.speaker))
    return checked


def _best_support(sentence: str, passages: list[Passage], judge: SupportJudge) -> tuple[int, Support] | None:
    best: tuple[int, Support] | None = None
    for i, passage in enumerate(passages):
        support = judge.judge(sentence, i, passage)
        if support.supported and (best is None or support.score > best[1].score):
            best = (i, support)
    return best


def _citation(n: int, passage: Passage, spans: list[tuple[int, int]]) -> Citation:
    """The citation with the exact sentences of the passage that support its claims."""
    pieces = []
    if HEADLINE_SPAN in spans:
        pieces.append(passage.chunk.headline)
    if METADATA_SPAN in spans:
        pieces.append(_metadata_line(passage))
    merged: list[list[int]] = []
    for start, end in sorted({span for span in spans if span[0] >= 0}):
        if merged and start <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], end)  # overlapping or touching: one span
        else:
            merged.append([start, end])
    quote = " … ".join(pieces + [passage.text[s:e] for s, e in merged])
    return Citation(
        n=n,
        doc_id=passage.chunk.doc_id,
        chunk_id=passage.chunk.chunk_id,
        title=passage.chunk.title,
        source=passage.chunk.source,
        date=passage.chunk.date,
        url=passage.chunk.url,
        quote=quote,
    )


def _metadata_line(passage: Passage) -> str:
    chunk = passage.chunk
    return " · ".join(
        x for x in (chunk.title, f"by {chunk.author}" if chunk.author else "", chunk.source, chunk.date) if x
    )


def render_answer(sentences: list[Sentence]) -> str:
    """Answer text with [n] after each sentence; unsupported sentences are flagged."""
    parts = []
    for s in sentences:
        marks = "".join(f"[{n}]" for n in s.citations)
        flag = "" if s.supported else " [unsupported]"
        parts.append(f"{s.text}{' ' + marks if marks else ''}{flag}")
    return " ".join(parts)
