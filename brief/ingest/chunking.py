"""Structure-aware chunking: sections from headings, whole sentences, small overlap."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from brief.settings import minilm_reads
from brief.text import estimate_tokens, sentence_spans
from brief.types import Article, Chunk
from brief.vector_sharing import SHARING_RULE

if TYPE_CHECKING:
    from brief.settings import Settings


@dataclass(frozen=True)
class ChunkingOptions:
    target_tokens: int = 400
    max_tokens: int = 480
    overlap_sentences: int = 1

    @classmethod
    def from_settings(cls, settings: Settings) -> ChunkingOptions:
        return cls(settings.chunk_target_tokens, settings.chunk_max_tokens, settings.chunk_overlap_sentences)

    @property
    def recipe(self) -> str:
        """These options in a few characters, stored with every document chunked by them."""
        return f"chunks {self.target_tokens}/{self.max_tokens}/{self.overlap_sentences}"


def index_recipe(options: ChunkingOptions, reads: str | None, every: int = 1) -> str:
    """How documents are chunked and embedded, stored with each; a stored document with
    another recipe is chunked again by the next ingest that reads it. `reads`: which word
    pieces of a long chunk the embedder reads ("128", "64+64"), where it reads fewer than all;
    `every`: one chunk in `every` has a vector of its own (brief.vector_sharing)."""
    recipe = f"{options.recipe}; embeds {reads}" if reads else options.recipe
    return f"{recipe}; every {every} {SHARING_RULE}" if every > 1 else recipe


# Documents stored before recipes were recorded were made with the defaults of that time.
_LEGACY_OPTIONS = ChunkingOptions(200, 240, 1)
_LEGACY_READS = "256"


def made_alike(stored: str, current: str) -> bool:
    """Whether a document stored with recipe `stored` ("" = before recipes) is made as
    `current` asks, so that an ingest can keep it as it is."""
    if not stored:
        stored = index_recipe(_LEGACY_OPTIONS, _LEGACY_READS if "; embeds " in current else None)
    return stored == current


def settings_recipe(settings: Settings, every: int | None = None) -> str:
    """The recipe an ingest under `settings` writes (`every`: the ingest's own plan, when it is
    an archive import)."""
    reads = minilm_reads(settings.embed_max_tokens, settings.embed_read_ends) if settings.embedder == "minilm" else None
    every = settings.embed_every if every is None else every
    return index_recipe(ChunkingOptions.from_settings(settings), reads, every)


def settings_recipes(settings: Settings) -> tuple[str, ...]:
    """Every recipe an ingest under `settings` may write: an ordinary ingest's, and an archive
    import's when that embeds fewer chunks. A document made by either is up to date."""
    return tuple(settings_recipe(settings, every) for every in sharing_plans(settings))


def sharing_plans(settings: Settings) -> tuple[int, ...]:
    """One chunk in how many an ingest under `settings` may embed: an ordinary ingest's
    `embed_every`, and an archive import's when that differs."""
    plans = {settings.embed_every}
    if archive_applies(settings):
        plans.add(max(settings.embed_every, settings.archive_embed_every))
    return tuple(sorted(plans))


def archive_applies(settings: Settings) -> bool:
    """Archive imports share vectors only for the bundled MiniLM, whose CPU time they save."""
    return settings.embedder == "minilm" and settings.archive_mb is not None


@dataclass(frozen=True)
class _Sentence:
    start: int
    end: int
    tokens: int
    paragraph: int


def chunk_article(article: Article, doc_id: str, options: ChunkingOptions) -> list[Chunk]:
    """Split an article into chunks that never cross a section or split a sentence.

    A chunk closes once it reaches the target size (or would pass the maximum) and at
    paragraph ends once it is reasonably full; the next chunk repeats the last sentence(s)
    for context. Offsets index `article.text`, so `text[start:end]` is the chunk.
    """
    text = article.text
    chunks: list[Chunk] = []
    for section, sentences in _sections(article):
        for first, last in _pack(sentences, options):
            start, end = sentences[first].start, sentences[last].end
            chunks.append(
                Chunk(
                    chunk_id=f"{doc_id}:{len(chunks):04d}",
                    doc_id=doc_id,
                    index=len(chunks),
                    text=text[start:end],
                    start=start,
                    end=end,
                    section=section,
                    title=article.title,
                    source=article.source,
                    date=article.date,
                    author=article.author,
                    url=article.url,
                )
            )
    return chunks


def _sections(article: Article) -> list[tuple[str, list[_Sentence]]]:
    """Sentences grouped by the heading they stand under ("" before the first heading)."""
    sections: list[tuple[str, list[_Sentence]]] = [("", [])]
    for number, (block, start, _end) in enumerate(article.block_spans()):
        if block.kind == "heading":
            sections.append((block.text, []))
            continue
        for s, e in sentence_spans(block.text):
            for piece_start, piece_end in _split_overlong(block.text, s, e):
                sections[-1][1].append(
                    _Sentence(
                        start + piece_start,
                        start + piece_end,
                        estimate_tokens(block.text[piece_start:piece_end]),
                        number,
                    )
                )
    return [(title, sents) for title, sents in sections if sents]


def _split_overlong(text: str, start: int, end: int, limit: int = 900) -> list[tuple[int, int]]:
    """Cut a run-on 'sentence' (tables, lists without punctuation) at spaces near `limit` chars."""
    pieces = []
    while end - start > limit:
        cut = text.rfind(" ", start, start + limit)
        cut = cut if cut > start else start + limit
        pieces.append((start, cut))
        start = cut + 1
    pieces.append((start, end))
    return pieces


def _pack(sentences: list[_Sentence], options: ChunkingOptions) -> list[tuple[int, int]]:
    """Index ranges (first, last) of sentences making up each chunk."""
    ranges: list[tuple[int, int]] = []
    first, tokens = 0, 0
    for i, sentence in enumerate(sentences):
        if tokens and tokens + sentence.tokens > options.max_tokens:
            ranges.append((first, i - 1))
            first = max(first + 1, i - options.overlap_sentences)
            tokens = sum(s.tokens for s in sentences[first:i])
        tokens += sentence.tokens
        paragraph_ends = i + 1 == len(sentences) or sentences[i + 1].paragraph != sentence.paragraph
        if tokens >= options.target_tokens or (paragraph_ends and tokens >= options.target_tokens * 0.75):
            ranges.append((first, i))
            first = max(i + 1 - options.overlap_sentences, first + 1)
            first = i + 1 if first > i else first
            tokens = sum(s.tokens for s in sentences[first : i + 1])
    if first < len(sentences) and (not ranges or ranges[-1][1] < len(sentences) - 1):
        ranges.append((first, len(sentences) - 1))
    return ranges
