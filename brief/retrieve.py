"""Hybrid retrieval: dense and lexical (BM25) candidates from the store's local search index,
fused by reciprocal rank, diversified, widened to complete passages. `brief.retriever` exposes
it as a LangChain retriever."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from brief.errors import BriefError
from brief.ingest.metadata import parse_any_date
from brief.language import PRONOUN_OPENING, checked_statement
from brief.lexical import LexicalFilter
from brief.recency import FORTNIGHT, age_in_days, freshness, news_window
from brief.search_index import SearchIndex
from brief.store import Store
from brief.text import asked_sentence, split_question
from brief.types import Chunk, DocumentRecord, Passage, date_to_int, day_of

if TYPE_CHECKING:  # the embedder is handed in: no need to load its module here
    from brief.embed import OpenAIEmbedder
    from brief.minilm import MiniLM


class FilterError(BriefError, ValueError):
    """A filter names something that does not exist (a source, a document) or a bad date."""


@dataclass(frozen=True)
class SearchFilters:
    """Restrict retrieval to outlets, a date range (inclusive, ISO dates) and documents."""

    sources: tuple[str, ...] = ()
    since: str = ""
    until: str = ""
    doc_ids: tuple[str, ...] = ()
    # The date the question is asked on (default: today): the articles of the days before it
    # are preferred ("this week": 8 days; a question that names no span: 14). It filters
    # nothing: on the real-news development set, leaving out articles dated after it lost more
    # answers (reports dated a day or two after a quiz's date) than it saved.
    as_of: str = ""

    def is_empty(self) -> bool:
        return not (self.sources or self.since or self.until or self.doc_ids)

    def describe(self) -> str:
        parts = []
        if self.sources:
            parts.append("sources: " + ", ".join(self.sources))
        if self.since or self.until:
            parts.append(f"dates: {self.since or '…'} to {self.until or '…'}")
        if self.doc_ids:
            parts.append(f"{len(self.doc_ids)} selected document(s)")
        if self.as_of:
            parts.append(f"as of {self.as_of}")
        return "; ".join(parts) or "whole library"


@dataclass(frozen=True)
class _ResolvedFilters(LexicalFilter):
    """Filters matched to the library: exact outlet names, full ids, dates as YYYYMMDD."""

    as_of: int = 0  # what "this week" is read from; not a filter

    def admits(self, record: DocumentRecord) -> bool:
        date = date_to_int(record.date)
        return (
            (not self.sources or record.source in self.sources)
            and (not self.doc_ids or record.doc_id in self.doc_ids)
            and (not self.since or date >= self.since)
            and (not self.until or 0 < date <= self.until)
        )


def resolve_filters(filters: SearchFilters, docs: dict[str, DocumentRecord]) -> _ResolvedFilters:
    """Match user-given outlets (case-insensitively) and id prefixes to what the library holds."""
    sources: set[str] = set()
    # Only when asked: reading every record's outlet costs ~10 ms per 10k documents.
    known_sources = sorted({d.source for d in docs.values() if d.source}) if filters.sources else []
    for wanted in filters.sources:
        exact = [s for s in known_sources if s.lower() == wanted.strip().lower()]
        partial = [s for s in known_sources if wanted.strip().lower() in s.lower()]
        matched = exact or partial
        if not matched:
            raise FilterError(f"no source matches '{wanted}' (known: {', '.join(known_sources) or 'none'})")
        sources.update(matched)
    doc_ids: set[str] = set()
    for wanted in filters.doc_ids:
        matched = [d for d in docs if d == wanted or (len(wanted) >= 4 and d.startswith(wanted))]
        if not matched:
            raise FilterError(f"no document with id '{wanted}' (see: brief docs)")
        doc_ids.update(matched)
    return _ResolvedFilters(
        frozenset(sources),
        frozenset(doc_ids),
        _date(filters.since, "since"),
        _date(filters.until, "until"),
        _date(filters.as_of, "as-of"),
    )


def _date(value: str, name: str) -> int:
    if not value:
        return 0
    iso = parse_any_date(value)
    if not iso:
        raise FilterError(f"--{name}: '{value}' is not a date (use YYYY-MM-DD)")
    return date_to_int(iso)


@dataclass
class RetrievalResult:
    passages: list[Passage]
    candidates: int = 0


# Cosine similarities closer than this are the same vector (rounding apart).
_SAME_SCORE = 1e-6


def shared_ranks(ranked: list[tuple[str, float]]) -> list[int]:
    """Ranks of a best-first list where equal scores share the first rank: chunks that share a
    vector (a syndicated copy, or embed_every) are equally close, and BM25 decides among them."""
    ranks: list[int] = []
    for i, (_, score) in enumerate(ranked):
        tied = i > 0 and abs(ranked[i - 1][1] - score) <= _SAME_SCORE
        ranks.append(ranks[-1] if tied else i)
    return ranks


class HybridSearcher:
    """Dense and BM25 candidates, fused with reciprocal rank fusion, capped per document; every
    question prefers the articles from just before its date, over the span it asks for."""

    # Added to the fused score of a chunk dated inside the recency window: about what the
    # first rank of one retriever is worth (1 / (rrf_k + 1)).
    recency_boost = 1.0 / 61
    # A question whose words ask for no span prefers the articles of the fortnight before its
    # date, as "latest" does: fact recall 0.680 -> 0.696 and MRR@10 0.694 -> 0.716 on the
    # real-news development set (k=6). 0 switches it off (benchmarks/newsqa.py --variants).
    background_window = FORTNIGHT

    def __init__(
        self,
        store: Store,
        embedder: MiniLM | OpenAIEmbedder,
        candidates: int = 40,
        rrf_k: int = 60,
        per_doc_cap: int = 3,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.candidates = candidates
        self.rrf_k = rrf_k
        self.per_doc_cap = per_doc_cap

    def search(self, query: str, k: int, filters: SearchFilters | None = None) -> RetrievalResult:
        """The k best passages for the query; a two-part question searches for each part too, and
        one with a lead-in for the question sentence alone: the lead-in's words ("The ferry strike
        ended on Monday.") can fill all k places with passages that never reach what is asked."""
        parts = split_question(query)
        if len(parts) == 1:
            # "... True or false?" asks about the whole statement, not about its last words.
            asked = "" if checked_statement(query) else asked_sentence(query)
            parts = [asked] if asked else []
        result = self._search_one(query, k, filters)
        if not parts:
            return result
        seen = {p.chunk.chunk_id for p in result.passages}
        extra = [p for part in parts for p in self._search_one(part, 2, filters).passages]
        for passage in extra:
            if passage.chunk.chunk_id not in seen:
                result.passages.append(passage)
                seen.add(passage.chunk.chunk_id)
        return result

    def _search_one(self, query: str, k: int, filters: SearchFilters | None) -> RetrievalResult:
        snapshot = self.store.snapshot()
        docs = snapshot.documents
        filters = filters or SearchFilters()
        resolved = resolve_filters(filters, docs)
        # Without filters every ready document is admitted: no need to walk the registry.
        admitted = docs if filters.is_empty() else {d: r for d, r in docs.items() if resolved.admits(r)}
        if not admitted or not query.strip():
            return RetrievalResult([], 0)
        pool = min(self.candidates, max(k, snapshot.chunks))
        vector = self.embedder.encode([query])[0]
        index = self.store.search_index(snapshot)  # only ready documents' rows are live in it
        dense = index.dense(vector, pool, resolved)
        lexical = index.search(query, pool, resolved)

        fused: dict[str, float] = {}
        for ranked_ids, ranks in ((dense, shared_ranks(dense)), (lexical, range(len(lexical)))):
            for rank, (chunk_id, _score) in zip(ranks, ranked_ids, strict=True):
                fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (self.rrf_k + rank + 1)
        chunks = {chunk.chunk_id: chunk for chunk in index.get_chunks(list(fused))}
        self._prefer_recent(fused, chunks, query, day_of(resolved.as_of) or date.today())
        ranked = sorted((c for c in fused if c in chunks and chunks[c].doc_id in admitted), key=lambda c: -fused[c])

        picked = self._diversify([chunks[c] for c in ranked], k)
        passages = self._widen(index, [(c, fused[c.chunk_id]) for c in picked])
        return RetrievalResult(passages, len(ranked))

    def _prefer_recent(self, fused: dict[str, float], chunks: dict[str, Chunk], query: str, as_of: date) -> None:
        """Raise the fused score of chunks published shortly before the question's date, the
        newer the more: over the window its words ask for ("this week"), else the fortnight."""
        window = news_window(query, self.background_window)
        if not window or not self.recency_boost:
            return
        for chunk_id in fused:
            chunk = chunks.get(chunk_id)
            if chunk is not None:
                fused[chunk_id] += self.recency_boost * freshness(age_in_days(chunk.date, as_of), window)

    def _diversify(self, ranked: list[Chunk], k: int) -> list[Chunk]:
        """At most `per_doc_cap` chunks per document while other documents have hits left."""
        picked: list[Chunk] = []
        overflow: list[Chunk] = []
        per_doc: dict[str, int] = {}
        for chunk in ranked:
            if per_doc.get(chunk.doc_id, 0) < self.per_doc_cap:
                picked.append(chunk)
                per_doc[chunk.doc_id] = per_doc.get(chunk.doc_id, 0) + 1
            else:
                overflow.append(chunk)
            if len(picked) == k:
                return picked
        return picked + overflow[: k - len(picked)]

    def _widen(self, index: SearchIndex, hits: list[tuple[Chunk, float]]) -> list[Passage]:
        """Add the neighbouring chunk where the hit's text depends on it (colon, pronoun)."""
        wanted: dict[str, str] = {}
        for chunk, _ in hits:
            if chunk.text.rstrip().endswith(":"):
                wanted[chunk.chunk_id] = f"{chunk.doc_id}:{chunk.index + 1:04d}"
            elif chunk.index > 0 and PRONOUN_OPENING.match(chunk.text):
                wanted[chunk.chunk_id] = f"{chunk.doc_id}:{chunk.index - 1:04d}"
        neighbours = {c.chunk_id: c for c in index.get_chunks(sorted(set(wanted.values())))}
        hit_ids = {c.chunk_id for c, _ in hits}
        passages = []
        for chunk, score in hits:
            other = neighbours.get(wanted.get(chunk.chunk_id, ""))
            if other is None or other.chunk_id in hit_ids or other.section != chunk.section:
                passages.append(Passage(chunk, score, chunk.text, chunk.start, chunk.end))
            else:
                passages.append(_merge(chunk, other, score))
        return passages


def _merge(chunk: Chunk, other: Chunk, score: float) -> Passage:
    """One passage covering two chunks of the same section (they may overlap by a sentence)."""
    first, second = (chunk, other) if chunk.start <= other.start else (other, chunk)
    if second.start <= first.end:
        text = first.text + second.text[first.end - second.start :]
    else:
        text = f"{first.text} {second.text}"
    return Passage(chunk, score, text, first.start, max(first.end, second.end))
