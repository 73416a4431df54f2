"""The data that flows through brief: files -> Article -> Chunk -> store -> Answer/Brief."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Block:
    """One structural unit of a cleaned article: a heading or a paragraph."""

    kind: str  # "heading" or "paragraph"
    text: str
    level: int = 0  # heading level (1-6); 0 for paragraphs


@dataclass
class Article:
    """A parsed article: metadata plus its cleaned body as structural blocks.

    `text` is the cleaned text that chunk offsets point into; it is the blocks
    joined by blank lines, so it is derived, never edited on its own.
    """

    blocks: list[Block]
    title: str = ""
    author: str = ""
    source: str = ""  # outlet or site
    date: str = ""  # ISO 8601 (YYYY-MM-DD) or ""
    url: str = ""
    language: str = ""
    path: str = ""  # file the article came from
    record: str = ""  # position inside a multi-article file (jsonl line), else ""
    extra: dict[str, str] = field(default_factory=dict)
    # What the reader should know about how it was read (a date that could not be parsed).
    warnings: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return BLOCK_SEPARATOR.join(b.text for b in self.blocks)

    def block_spans(self) -> list[tuple[Block, int, int]]:
        """Each block with its start/end character offsets into `text`."""
        spans, pos = [], 0
        for block in self.blocks:
            spans.append((block, pos, pos + len(block.text)))
            pos += len(block.text) + len(BLOCK_SEPARATOR)
        return spans


BLOCK_SEPARATOR = "\n\n"
# The site's name a web page's title ends with after a bar ("... | CNN Politics"): at most six
# words, so a bar inside a headline's own words is left alone.
SITE_NAME_SUFFIX = re.compile(r"\s+\|\s+[^|\s]+(?:\s+[^|\s]+){0,5}$")


@dataclass(frozen=True)
class Chunk:
    """A passage of an article, with offsets into the article's cleaned text."""

    chunk_id: str
    doc_id: str
    index: int
    text: str
    start: int
    end: int
    section: str
    title: str
    source: str
    date: str
    author: str = ""
    url: str = ""

    @property
    def headline(self) -> str:
        """The article's title on one line, as an answer quotes it and its citation shows it:
        without the site's name that web pages add after a bar ("... January 1 | CNN")."""
        return SITE_NAME_SUFFIX.sub("", " ".join(self.title.split()))

    def metadata(self) -> dict[str, Any]:
        """Flat metadata as stored in Chroma (scalars only)."""
        meta = asdict(self)
        meta.pop("text")
        meta.pop("chunk_id")
        meta["date_int"] = date_to_int(self.date)
        return meta


def date_to_int(iso_date: str) -> int:
    """2024-12-29 -> 20241229, so stores that only compare numbers can filter ranges."""
    digits = iso_date[:10].replace("-", "")
    return int(digits) if len(digits) == 8 and digits.isdigit() else 0


def day_of(yyyymmdd: int) -> dt.date | None:
    """20241229 -> date(2024, 12, 29); None for 0 (no date) or a day that does not exist."""
    try:
        return dt.date(yyyymmdd // 10000, yyyymmdd // 100 % 100, yyyymmdd % 100) if yyyymmdd else None
    except ValueError:
        return None


@dataclass
class DocumentRecord:
    """What the store knows about one indexed document."""

    doc_id: str
    title: str
    author: str
    source: str
    date: str
    url: str
    language: str
    paths: list[str]
    chunks: int
    chars: int
    ingested_at: str
    # How its chunks and vectors were made (chunk sizes, words embedded): a document made
    # another way is chunked again by the next ingest that reads it. "" = before recipes.
    recipe: str = ""
    # Which of the store's chunk collections holds its chunks (0: the first). Set by the store
    # when it writes them; what a caller passes is not used.
    shard: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Passage:
    """A retrieved chunk with its retrieval score, as handed to generators."""

    chunk: Chunk
    score: float
    text: str  # may be widened with neighbouring chunks; defaults to chunk text
    start: int
    end: int


@dataclass
class Citation:
    n: int
    doc_id: str
    chunk_id: str
    title: str
    source: str
    date: str
    url: str
    quote: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Sentence:
    text: str
    citations: list[int]
    supported: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Answer:
    """The result of `ask`: the contract shared by the CLI's --json and the API."""

    question: str
    answer: str
    declined: bool
    backend: str
    citations: list[Citation]
    sentences: list[Sentence]
    retrieved: list[dict[str, Any]]
    timings_ms: dict[str, float]
    notice: str = ""  # e.g. a fallback explanation; empty when all went normally
    # How the generator's own citations fared in verification (proposed/confirmed/invented).
    citation_check: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = {
            "question": self.question,
            "answer": self.answer,
            "declined": self.declined,
            "backend": self.backend,
            "citations": [c.to_dict() for c in self.citations],
            "sentences": [s.to_dict() for s in self.sentences],
            "retrieved": self.retrieved,
            "timings_ms": self.timings_ms,
        }
        if self.notice:
            data["notice"] = self.notice
        data["citation_check"] = self.citation_check
        return data


@dataclass
class BriefItem:
    """One sentence or bullet of a brief, with the sources it cites (numbers into Brief.sources)."""

    text: str
    citations: list[int]
    speaker: str = ""  # for perspectives: who holds this position, as the article names them
    refs: list[dict[str, str]] = field(default_factory=list)  # [{"chunk_id", "quote"}]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class BriefSection:
    key: str  # bottom_line | key_points | background | perspectives | watch
    title: str
    items: list[BriefItem]
    bulleted: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "bulleted": self.bulleted,
            "items": [i.to_dict() for i in self.items],
        }


@dataclass
class BriefSource:
    n: int
    doc_id: str
    title: str
    source: str
    author: str
    date: str
    url: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Brief:
    """A one-page briefing: fixed sections, every sentence cited, the cited sources listed."""

    title: str
    topic: str
    generated: str  # ISO date of writing
    scope: str  # filters in words
    documents_considered: int
    backend: str
    sections: list[BriefSection]
    sources: list[BriefSource]
    timings_ms: dict[str, float] = field(default_factory=dict)
    notice: str = ""

    def word_count(self) -> int:
        """Words of body text: the sections' sentences and speaker labels (not titles or sources)."""
        return sum(len(f"{item.speaker} {item.text}".split()) for s in self.sections for item in s.items)

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "topic": self.topic,
            "generated": self.generated,
            "scope": self.scope,
            "documents_considered": self.documents_considered,
            "backend": self.backend,
            "word_count": self.word_count(),
            "sections": [s.to_dict() for s in self.sections],
            "sources": [s.to_dict() for s in self.sources],
            "timings_ms": self.timings_ms,
            "notice": self.notice,
        }
