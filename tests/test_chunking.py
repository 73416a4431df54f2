"""Chunking: exact offsets, whole sentences, sections from headings, bounded overlap and size."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ARTICLES, SEED
from tokenizers import Tokenizer

from brief.embed import MINILM_TOKENIZER, MiniLMEmbedder
from brief.ingest.chunking import ChunkingOptions, chunk_article
from brief.ingest.loaders import load_file
from brief.ingestion import embedding_text
from brief.settings import Settings
from brief.text import sentence_spans, split_sentences
from brief.types import Article, Block, Chunk

HOSTILE = ARTICLES.parent / "hostile"


def default_options() -> ChunkingOptions:
    settings = Settings()
    return ChunkingOptions(
        target_tokens=settings.chunk_target_tokens,
        max_tokens=settings.chunk_max_tokens,
        overlap_sentences=settings.chunk_overlap_sentences,
    )


@pytest.fixture(scope="module")
def articles(pdf_article: Path) -> dict[str, Article]:
    """Every fixture article by name: all formats, the rendered PDF, the seed, the hostile ones."""
    found: dict[str, Article] = {}
    paths = [p for p in sorted(ARTICLES.iterdir()) if p.is_file() and p.suffix != ".json"]
    for path in [*paths, pdf_article, SEED, *sorted(HOSTILE.iterdir())]:
        result = load_file(path)
        assert result.errors == []
        for article in result.articles:
            found[f"{path.name}{'#' + article.record if article.record else ''}"] = article
    assert len(found) == 14
    return found


@pytest.fixture(scope="module")
def wordpieces() -> Tokenizer:
    """The MiniLM tokenizer without truncation, so long texts are counted in full."""
    tokenizer = Tokenizer.from_file(str(MINILM_TOKENIZER))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def sentence_bounds(article: Article) -> tuple[set[int], set[int], list[tuple[int, int]]]:
    """Starts, ends and spans of every sentence of every paragraph, as offsets into article.text."""
    starts, ends, spans = set(), set(), []
    for block, offset, _ in article.block_spans():
        if block.kind != "paragraph":
            continue
        for s, e in sentence_spans(block.text):
            starts.add(offset + s)
            ends.add(offset + e)
            spans.append((offset + s, offset + e))
    return starts, ends, spans


def heading_at(article: Article, position: int) -> str:
    section = ""
    for block, start, _ in article.block_spans():
        if start > position:
            break
        if block.kind == "heading":
            section = block.text
    return section


def test_offsets_map_back_to_the_text(articles: dict[str, Article]) -> None:
    for name, article in articles.items():
        chunks = chunk_article(article, "doc", default_options())
        assert chunks, name
        for chunk in chunks:
            assert 0 <= chunk.start < chunk.end <= len(article.text)
            assert article.text[chunk.start : chunk.end] == chunk.text, (name, chunk.index)
            assert chunk.text == chunk.text.strip()


def test_chunk_fields(articles: dict[str, Article]) -> None:
    article = articles[SEED.name]
    chunks = chunk_article(article, "0123456789abcdef0123", default_options())
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert [c.chunk_id for c in chunks] == [f"0123456789abcdef0123:{i:04d}" for i in range(len(chunks))]
    for chunk in chunks:
        assert (chunk.doc_id, chunk.title, chunk.author, chunk.date, chunk.source, chunk.url) == (
            "0123456789abcdef0123",
            "New US sanctions will push Pakistan toward China",
            "F.M. Shakil",
            "2024-12-29",
            "afgazad.com",
            "",
        )
        meta = chunk.metadata()
        assert meta["date_int"] == 20241229
        assert (meta["start"], meta["end"], meta["section"]) == (chunk.start, chunk.end, chunk.section)
        assert "text" not in meta and "chunk_id" not in meta


def test_chunks_hold_whole_sentences(articles: dict[str, Article]) -> None:
    for name, article in articles.items():
        starts, ends, spans = sentence_bounds(article)
        assert all(e - s <= 900 for s, e in spans), name  # no run-on text that must be cut
        for chunk in chunk_article(article, "doc", default_options()):
            assert chunk.start in starts, (name, chunk.index, chunk.text[:60])
            assert chunk.end in ends, (name, chunk.index, chunk.text[-60:])


def test_every_sentence_is_in_a_chunk(articles: dict[str, Article]) -> None:
    for name, article in articles.items():
        chunks = chunk_article(article, "doc", default_options())
        _, _, spans = sentence_bounds(article)
        for s, e in spans:
            assert any(c.start <= s and e <= c.end for c in chunks), (name, article.text[s:e])


def test_sections_are_the_headings(articles: dict[str, Article]) -> None:
    for name, article in articles.items():
        chunks = chunk_article(article, "doc", default_options())
        heading_spans = [(s, e) for b, s, e in article.block_spans() if b.kind == "heading"]
        for chunk in chunks:
            assert chunk.section == heading_at(article, chunk.start), (name, chunk.index)
            # A chunk never runs across a heading into the next section.
            assert not any(chunk.start <= s < chunk.end for s, _ in heading_spans), (name, chunk.index)
        headings = [b.text for b in article.blocks if b.kind == "heading"]
        sections = list(dict.fromkeys(c.section for c in chunks))
        assert sections == ([""] if article.blocks[0].kind == "paragraph" else []) + headings, name


def test_seed_sections(articles: dict[str, Article]) -> None:
    chunks = chunk_article(articles[SEED.name], "doc", default_options())
    assert list(dict.fromkeys(c.section for c in chunks)) == [
        "",
        "A new low in US–Pakistan relations",
        "South Asia's uneven nuclear playing field",
        "Concerns over Pakistan’s military ties with China",
        "Why does the US perceive a former non-NATO ally as a threat?",
    ]
    first = next(c for c in chunks if c.section == "South Asia's uneven nuclear playing field")
    assert first.text.startswith("On 21 December, Pakistan’s Foreign Ministry called the US decision")


def _sentences_in(chunk: Chunk, spans: list[tuple[int, int]]) -> set[int]:
    return {i for i, (s, e) in enumerate(spans) if chunk.start <= s and e <= chunk.end}


@pytest.mark.parametrize("overlap", [0, 1, 2])
def test_overlap_is_bounded(articles: dict[str, Article], overlap: int) -> None:
    options = ChunkingOptions(target_tokens=120, max_tokens=160, overlap_sentences=overlap)
    overlaps = []
    for name, article in articles.items():
        _, _, spans = sentence_bounds(article)
        chunks = chunk_article(article, "doc", options)
        for before, after in zip(chunks, chunks[1:], strict=False):
            assert after.start > before.start, name  # always moving forward
            shared = _sentences_in(before, spans) & _sentences_in(after, spans)
            if before.section != after.section:
                assert after.start > before.end, name  # no overlap across sections
                continue
            assert len(shared) <= overlap, (name, before.index)
            if shared:
                # The shared sentences are the tail of one chunk and the head of the next.
                assert after.start < before.end
                assert article.text[after.start : before.end] in before.text
            overlaps.append(len(shared))
    if overlap == 0:
        assert set(overlaps) == {0}
    else:
        # Overlap is really used where a section needs more than one chunk.
        assert overlaps.count(overlap) >= len(overlaps) // 2


def test_sizes_follow_the_settings_and_the_model_reads_each_heading(
    articles: dict[str, Article], wordpieces: Tokenizer, embedder: MiniLMEmbedder
) -> None:
    # Chunks (~400 word pieces) are longer than what MiniLM reads of them (128, by choice:
    # measured on the real-news set), which it takes from both ends: the opening must be the
    # whole heading and still some passage text, the end the chunk's own last words. Lexical
    # search reads the whole chunk.
    options = default_options()
    assert embedder.max_tokens == Settings().embed_max_tokens < options.target_tokens
    assert embedder.read_ends
    head = embedder.max_tokens // 2
    sizes = []
    for name, article in articles.items():
        for chunk in chunk_article(article, "doc", options):
            size = len(wordpieces.encode(chunk.text).ids)  # with [CLS] and [SEP]
            assert size <= options.max_tokens, (name, chunk.index, size)
            assert embedder.count_tokens(chunk.text) == size
            whole = wordpieces.encode(embedding_text(chunk)).ids
            read = [int(i) for i in embedder._read_window(whole)]
            assert len(read) == min(len(whole), embedder.max_tokens)
            assert read[-head:] == whole[-head:]  # the last words are read, ending in [SEP]
            heading = " - ".join(p for p in (chunk.title, chunk.section) if p)
            if heading:
                heading_ids = wordpieces.encode(heading).ids[:-1]  # without [SEP]
                assert read[: len(heading_ids)] == heading_ids, (name, chunk.index)
                assert len(heading_ids) <= head // 2, (name, len(heading_ids))
            sizes.append(size)
    in_range = [s for s in sizes if 100 <= s <= options.max_tokens]
    assert len(in_range) >= 0.75 * len(sizes), sorted(sizes)
    assert sum(sizes) / len(sizes) >= 120


def test_long_paragraph_is_split_near_target(wordpieces: Tokenizer) -> None:
    sentences = [
        f"Sentence number {i} reports that the harbour authority moved {i * 7} containers on day {i}."
        for i in range(1, 81)
    ]
    article = Article(blocks=[Block("heading", "Long section", 2), Block("paragraph", " ".join(sentences))], title="T")
    options = default_options()
    chunks = chunk_article(article, "doc", options)
    assert len(chunks) > 3
    sizes = [len(wordpieces.encode(c.text).ids) for c in chunks]
    assert max(sizes) <= options.max_tokens, sizes
    assert all(s >= 0.75 * options.target_tokens for s in sizes[:-1]), sizes
    assert all(c.section == "Long section" for c in chunks)
    assert all(c.text.startswith("Sentence number") and c.text.endswith(".") for c in chunks)


def test_empty_sections_make_no_chunks() -> None:
    article = Article(
        blocks=[
            Block("heading", "Empty", 2),
            Block("heading", "Full", 2),
            Block("paragraph", "Only this section has text. It has two sentences."),
        ],
        title="T",
    )
    chunks = chunk_article(article, "doc", default_options())
    assert [(c.section, c.text) for c in chunks] == [("Full", "Only this section has text. It has two sentences.")]


def test_chunking_is_deterministic(articles: dict[str, Article]) -> None:
    article = articles["port-strike-ends.md"]
    first = chunk_article(article, "doc", default_options())
    again = chunk_article(load_file(ARTICLES / "port-strike-ends.md").articles[0], "doc", default_options())
    assert first == again


# ----- the sentence splitter -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Dr. Ghulam Ali disagreed. He said so on Monday.",
            ["Dr. Ghulam Ali disagreed.", "He said so on Monday."],
        ),
        (
            "Dr Ghulam Ali disagreed. Mr. Khan did not.",
            ["Dr Ghulam Ali disagreed.", "Mr. Khan did not."],
        ),
        (
            "The U.S. Treasury imposed sanctions on Tuesday. China objected.",
            ["The U.S. Treasury imposed sanctions on Tuesday.", "China objected."],
        ),
        (
            "Sanctions were imposed by the U.S. on Tuesday. Pakistan called them biased.",
            ["Sanctions were imposed by the U.S. on Tuesday.", "Pakistan called them biased."],
        ),
        (
            "The article by F.M. Shakil appeared in December. It drew wide comment.",
            ["The article by F.M. Shakil appeared in December.", "It drew wide comment."],
        ),
        (
            "J. R. Smith wrote it. Nobody replied.",
            ["J. R. Smith wrote it.", "Nobody replied."],
        ),
        (
            '"We will not yield," he said. "Never." The minister then left.',
            ['"We will not yield," he said.', '"Never."', "The minister then left."],
        ),
        (
            "“Direct sanctions have deepened the mistrust.” Khan said the move was a mistake.",
            ["“Direct sanctions have deepened the mistrust.”", "Khan said the move was a mistake."],
        ),
        (
            "Is this the end? Not yet! Talks resume (on Monday.) Then a vote.",
            ["Is this the end?", "Not yet!", "Talks resume (on Monday.)", "Then a vote."],
        ),
        (
            "Prices rose 2.5 percent in Jan. 2025 compared with No. 10 estimates. Rates held.",
            ["Prices rose 2.5 percent in Jan. 2025 compared with No. 10 estimates.", "Rates held."],
        ),
        (
            "The ships left at 6 a.m. on Saturday. Ten more followed.",
            ["The ships left at 6 a.m. on Saturday.", "Ten more followed."],
        ),
        ("No final punctuation here", ["No final punctuation here"]),
        ("", []),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_sentence_spans_are_trimmed_offsets() -> None:
    text = "  First one.   Second one!\n\nThird?  "
    spans = sentence_spans(text)
    assert [text[s:e] for s, e in spans] == ["First one.", "Second one!", "Third?"]
    assert spans[0][0] == 2


def test_expected_fixture_set_is_loaded(articles: dict[str, Article]) -> None:
    names = json.loads((ARTICLES.parent / "expected_articles.json").read_text(encoding="utf-8"))
    assert len(names) + len(list(HOSTILE.iterdir())) + 1 == len(articles)
