"""Small text utilities shared by chunking, extractive answering and citation checks."""

from __future__ import annotations

import functools
import re

# Words after which a period does not end a sentence.
_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof st gen sen rep gov lt col capt sgt maj jr sr inc ltd co corp vs etc no
    nos fig jan feb mar apr jun jul aug sep sept oct nov dec u.s u.k u.n e.g i.e a.m p.m
    approx est dept univ mt""".split()
)

# A sentence ends at . ! or ? (plus closing quotes/brackets), before whitespace and a
# character that can start a sentence.
_BOUNDARY = re.compile(r"""[.!?]+["'”’)\]]*(?=\s+["'“‘(\[]?[A-Z0-9])""")
_LINE = re.compile(r"[^\n]+")
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")
_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)
_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each few
    for from further had has have having he her here hers herself him himself his how i if
    in into is it its itself just me might more most must my myself no nor not now of off on
    once only or other our ours ourselves out over own said same says she should so some
    such than that the their theirs them themselves then there these they this those through
    to too under until up very was we were what when where which while who whom why will
    with would you your yours yourself yourselves new one two according also may many much
    well like tell tells told""".split()
)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of each sentence in `text`, whitespace trimmed.

    A line break always ends a sentence: paragraphs and list items stand alone."""
    spans: list[tuple[int, int]] = []
    for line in _LINE.finditer(text):
        _line_sentences(text, line.start(), line.end(), spans)
    return spans


def _line_sentences(text: str, start: int, stop: int, spans: list[tuple[int, int]]) -> None:
    for match in _BOUNDARY.finditer(text, start, stop):
        end = match.end()
        if _is_abbreviation(text[start : match.start() + 1]):
            continue
        _append_trimmed(spans, text, start, end)
        start = end
    _append_trimmed(spans, text, start, stop)


def split_sentences(text: str) -> list[str]:
    """The sentences of `text`."""
    return [text[s:e] for s, e in sentence_spans(text)]


def _is_abbreviation(before: str) -> bool:
    if not before.endswith("."):
        return False
    match = _WORD_BEFORE.search(before[:-1])
    if not match:
        return False
    word = match.group(1).lower()
    # Initials ("F.M. Shakil", "J. Smith") and known abbreviations do not end sentences.
    initials = all(len(part) == 1 for part in word.split("."))  # "J", "F.M", "U.S"
    return word in _ABBREVIATIONS or initials


def _append_trimmed(spans: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


def estimate_tokens(text: str) -> int:
    """A cheap estimate of BERT word pieces: words and punctuation, plus long-word splits."""
    tokens = _TOKEN.findall(text)
    return len(tokens) + sum(len(t) // 8 for t in tokens if len(t) > 8)


def content_words(text: str) -> list[str]:
    """Lower-cased words without stopwords, lightly stemmed, for lexical overlap."""
    return [stem(w) for w in _WORD.findall(text.lower()) if w not in STOPWORDS and len(w) > 1]


@functools.lru_cache(maxsize=1 << 17)  # a news vocabulary repeats: most words are seen before
def stem(word: str) -> str:
    """A tiny suffix stripper: enough to match 'sanctions'/'sanctioned'/'sanction'."""
    word = word.replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    for suffix in ("ingly", "edly", "ing", "ed", "ies", "es", "s", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            if suffix == "ies":
                return word[:-3] + "y"
            return word[: -len(suffix)]
    return word


def normalize_space(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


_PART_SPLIT = re.compile(
    r",?\s+and\s+(?=(?:by\s+|in\s+|to\s+|on\s+)?(?:what|how|when|which|who|whom|where|why)\b)", re.I
)


MAX_QUESTION_PARTS = 4


def split_question(question: str) -> list[str]:
    """'When did X happen, and how full was Y?' -> ['When did X happen', 'how full was Y?'].

    At most MAX_QUESTION_PARTS parts: a run-on input must not multiply the work."""
    parts = [p.strip() for p in _PART_SPLIT.split(question) if p.strip()]
    if len(parts) > MAX_QUESTION_PARTS:
        parts = parts[: MAX_QUESTION_PARTS - 1] + [" and ".join(parts[MAX_QUESTION_PARTS - 1 :])]
    return parts if len(parts) > 1 else [question]


MAX_QUESTION_CHARS = 2000


def clean_question(text: str) -> str:
    """User input made safe to process: valid Unicode (lone surrogates from undecodable
    command-line bytes replaced), no control characters, bounded length."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    text = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in text)
    return " ".join(text.split())[:MAX_QUESTION_CHARS]
