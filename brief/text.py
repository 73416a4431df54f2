"""Small text utilities shared by chunking, extractive answering and citation checks."""

from __future__ import annotations

import functools
import re

from brief.language import ABBREVIATIONS, QUESTION_PART_SPLIT, STOPWORDS, american_spelling, canonical_text

__all__ = ["STOPWORDS", "content_words", "sentence_spans", "split_sentences", "stem"]

# A sentence ends at . ! or ? (plus closing quotes/brackets), before whitespace and a
# character that can start a sentence.
_BOUNDARY = re.compile(r"""[.!?]+["'”’)\]]*(?=\s+["'“‘(\[]?[A-Z0-9])""")
_LINE = re.compile(r"[^\n]+")
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")
_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)
_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
_HYPHENATED = re.compile(r"(?<![\w-])[a-z0-9]+(?:-[a-z0-9]+)+(?![\w-])")


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


def best_window(
    words: set[str],
    sentence_words: list[set[str]],
    size: int,
    given: frozenset[str] = frozenset(),
    widen_gain: float = 0.0,
) -> tuple[float, int, int]:
    """(share, first, last): the run of at most `size` consecutive sentences (given as their
    words) that holds the largest share of `words`, counting `given` (a headline's words) as
    held too. A longer run must hold `widen_gain` more to be preferred, so a window stays tight;
    of equal shares the shorter, earlier run wins. (-1.0, 0, 0) when there is no sentence."""
    best = (-1.0, 0, 0)
    for length in range(1, min(size, len(sentence_words)) + 1):
        for first in range(len(sentence_words) - length + 1):
            held = given.union(*sentence_words[first : first + length]) & words
            share = len(held) / len(words)
            if share > best[0] + (widen_gain if length > 1 and best[0] >= 0 else 1e-9):
                best = (share, first, first + length - 1)
    return best


def _is_abbreviation(before: str) -> bool:
    if not before.endswith("."):
        return False
    match = _WORD_BEFORE.search(before[:-1])
    if not match:
        return False
    word = match.group(1).lower()
    # Initials ("F.M. Shakil", "J. Smith") and known abbreviations do not end sentences.
    initials = all(len(part) == 1 for part in word.split("."))  # "J", "F.M", "U.S"
    return word in ABBREVIATIONS or initials


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
    """Lower-cased words without stopwords, lightly stemmed, for lexical overlap. Every
    spelling of a country is one word ("US", "United States", "American": `usa`), and a
    one-letter name ("X", "X's") is a word like any other. A hyphenated word gives its parts
    and the parts joined ("e-bikes": e, bike, ebike), so either spelling matches."""
    lower = canonical_text(text).lower()
    words = [stem(w) for w in _WORD.findall(lower) if w not in STOPWORDS]
    if "-" in lower:
        words += [stem(m.group(0).replace("-", "")) for m in _HYPHENATED.finditer(lower)]
    return words


# A news vocabulary repeats: the 32k most recent words answer 95% of the lookups over 2,000 real
# articles (2^17: 96%, at the same speed), and hold ~5 MB where 2^17 held ~19 MB.
@functools.lru_cache(maxsize=1 << 15)
def stem(word: str) -> str:
    """A tiny suffix stripper: enough to match 'protests'/'protested'/'protest', and the short
    verbs in -ie ('died'/'dies'/'dying'/'die', 'tied', 'lies'), too short for the rule below.
    British spellings are read as American ones first ('criticised' as 'criticized')."""
    word = word.replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    word = american_spelling(word)
    if len(word) == 4 and word.endswith(("ied", "ies")):
        return word[0] + "ie"
    if len(word) == 5 and word.endswith("ying"):
        return word[0] + "ie"
    for suffix in ("ingly", "edly", "ing", "ed", "ies", "es", "s", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            if suffix == "ies":
                return word[:-3] + "y"
            return word[: -len(suffix)]
    return word


# Curly quotes and dashes as their plain forms: "McDonald’s" and "McDonald's" are one word.
_PLAIN_MARKS = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"})


def plain_marks(text: str) -> str:
    """The text with typographic quotes and dashes replaced by plain ones (same length)."""
    return text.translate(_PLAIN_MARKS)


MAX_QUESTION_PARTS = 4


def split_question(question: str) -> list[str]:
    """'When did X happen, and how full was Y?' -> ['When did X happen', 'how full was Y?'].

    At most MAX_QUESTION_PARTS parts: a run-on input must not multiply the work."""
    parts = [p.strip() for p in QUESTION_PART_SPLIT.split(question) if p.strip()]
    if len(parts) > MAX_QUESTION_PARTS:
        parts = parts[: MAX_QUESTION_PARTS - 1] + [" and ".join(parts[MAX_QUESTION_PARTS - 1 :])]
    return parts if len(parts) > 1 else [question]


def asked_sentence(question: str) -> str:
    """The question itself when a lead-in comes first ("The ferry strike ended on Monday. Who
    mediated the talks?" -> the second sentence); '' for a question of one sentence, or when the
    last sentence asks nothing."""
    sentences = split_sentences(question)
    if len(sentences) < 2:
        return ""
    last = sentences[-1].strip()
    return last if last.endswith(("?", ":")) and len(content_words(last)) >= 2 else ""


MAX_QUESTION_CHARS = 2000


def clean_question(text: str) -> str:
    """User input made safe to process: valid Unicode (lone surrogates from undecodable
    command-line bytes replaced), no control characters, bounded length."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    text = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in text)
    return " ".join(text.split())[:MAX_QUESTION_CHARS]
