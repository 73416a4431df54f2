"""BM25 as brief scores it, and brief's own filter terms.

`LexicalFilter` (outlets, documents, dates) is how every search is restricted, in brief's
terms, whatever the store. `K1`/`B` are the BM25 constants (Lucene's, as bm25s's default).
`LexicalIndex` is BM25 in one piece over a list of chunks, checked against bm25s in the tests:
the store's segmented search index (`brief.search_index`) is checked against it in turn. It
keeps each chunk's token ids, so an update only tokenizes the documents added since.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from brief.text import content_words

_META_FILE = "brief-lexical.json"
_ARRAYS_FILE = "brief-lexical.npz"
# 3: countries under one spelling, one-letter words kept (brief.language); 4: -ie verbs; 5: British
# spellings read as American (brief.text.stem).
_FORMAT = 5
K1, B = 1.5, 0.75


@dataclass(frozen=True)
class LexicalFilter:
    """Restrictions applied to candidates: allowed sources, doc ids, date range (YYYYMMDD)."""

    sources: frozenset[str] = frozenset()
    doc_ids: frozenset[str] = frozenset()
    since: int = 0
    until: int = 0

    def is_empty(self) -> bool:
        return not (self.sources or self.doc_ids or self.since or self.until)


class LexicalIndex:
    """BM25 over chunk texts (with their titles and sections), plus per-chunk filter fields.

    Rows are chunks. `tokens`/`starts` hold each row's term ids (row i is
    tokens[starts[i]:starts[i+1]]); the postings (for each term, the rows holding it and how
    often) are derived from them with one sort.
    """

    def __init__(
        self,
        fingerprint: str,
        chunk_ids: list[str],
        doc_ids: Sequence[str],
        sources: Sequence[str],
        dates: Sequence[int],
        vocab: list[str],
        tokens: np.ndarray,
        starts: np.ndarray,
        postings: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
        versions: dict[str, str] | None = None,
    ) -> None:
        self.fingerprint = fingerprint
        # doc id -> the version of it indexed here (its registry record's chunk count and
        # ingest time), so a document deleted and written again is not mistaken for the old.
        self.versions = versions or {}
        self.chunk_ids = chunk_ids
        self._doc_ids = np.array(doc_ids, dtype=object)
        self._sources = np.array(sources, dtype=object)
        self._dates = np.array(dates, dtype=np.int64)
        self._vocab = vocab
        self._term_of = {word: i for i, word in enumerate(vocab)}
        self._tokens = tokens.astype(np.int32, copy=False)
        self._starts = starts.astype(np.int64, copy=False)
        self._term_start, self._post_rows, self._post_tf = postings or self._postings()
        lengths = np.diff(self._starts).astype(np.float32)
        average = float(lengths.mean()) if len(lengths) and lengths.mean() > 0 else 1.0
        # The length part of BM25's denominator, per row: fixed until the rows change.
        self._length_norm = K1 * (1 - B + B * lengths / average)

    # ----- building ----------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        fingerprint: str,
        chunk_ids: list[str],
        texts: list[str],
        metadatas: list[dict],
        versions: dict[str, str] | None = None,
    ) -> LexicalIndex:
        empty = cls(fingerprint, [], [], [], [], [], np.zeros(0, np.int32), np.zeros(1, np.int64))
        return empty.updated(fingerprint, (), chunk_ids, texts, metadatas, versions)

    def updated(
        self,
        fingerprint: str,
        keep_doc_ids: Collection[str],
        chunk_ids: list[str],
        texts: list[str],
        metadatas: list[dict],
        versions: dict[str, str] | None = None,
    ) -> LexicalIndex:
        """A new index: this one's rows of `keep_doc_ids`, plus the given new chunks.
        `versions` gives the version of each document now indexed (see `versions`)."""
        keep_set = set(keep_doc_ids)  # a set lookup per row: np.isin sorts object arrays, 10x slower
        keep = np.fromiter((d in keep_set for d in self._doc_ids), dtype=bool, count=len(self.chunk_ids))
        lengths = np.diff(self._starts)
        kept_tokens = self._tokens[np.repeat(keep, lengths)]
        vocab, term_of = list(self._vocab), dict(self._term_of)
        new_rows: list[list[int]] = []
        for text in texts:
            row = []
            for word in content_words(text):
                term = term_of.get(word)
                if term is None:
                    term = term_of[word] = len(vocab)
                    vocab.append(word)
                row.append(term)
            new_rows.append(row)
        new_lengths = np.array([len(r) for r in new_rows], dtype=np.int64)
        all_lengths = np.concatenate([lengths[keep], new_lengths])
        flat_new = np.fromiter((t for r in new_rows for t in r), dtype=np.int32, count=int(new_lengths.sum()))
        return LexicalIndex(
            fingerprint,
            [c for c, k in zip(self.chunk_ids, keep, strict=True) if k] + list(chunk_ids),
            self._doc_ids[keep].tolist() + [str(m.get("doc_id", "")) for m in metadatas],
            self._sources[keep].tolist() + [str(m.get("source", "")) for m in metadatas],
            self._dates[keep].tolist() + [int(m.get("date_int", 0) or 0) for m in metadatas],
            vocab,
            np.concatenate([kept_tokens, flat_new]),
            np.concatenate([[0], np.cumsum(all_lengths)]),
            versions=versions,
        )

    def _postings(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rows = len(self.chunk_ids)
        if not len(self._tokens):
            return np.zeros(len(self._vocab) + 1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.float32)
        row_of = np.repeat(np.arange(rows, dtype=np.int64), np.diff(self._starts))
        # One sort gives every (term, row) pair once, grouped by term, with its count.
        pairs, counts = np.unique(self._tokens.astype(np.int64) * rows + row_of, return_counts=True)
        terms = pairs // rows
        term_start = np.searchsorted(terms, np.arange(len(self._vocab) + 1))
        return term_start, (pairs % rows).astype(np.int32), counts.astype(np.float32)

    def indexed_documents(self) -> set[str]:
        return set(self._doc_ids.tolist())

    # ----- searching ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.chunk_ids)

    def search(self, query: str, k: int, where: LexicalFilter | None = None) -> list[tuple[str, float]]:
        """Top-k (chunk_id, bm25 score) with a positive score, best first."""
        rows = len(self.chunk_ids)
        if not rows or k <= 0:
            return []
        terms = [self._term_of[t] for t in dict.fromkeys(content_words(query)) if t in self._term_of]
        scores = np.zeros(rows, dtype=np.float32)
        for term in terms:
            first, last = self._term_start[term], self._term_start[term + 1]
            df = last - first
            if not df:
                continue  # a word only removed documents had
            idf = math.log(1 + (rows - df + 0.5) / (df + 0.5))
            hit, tf = self._post_rows[first:last], self._post_tf[first:last]
            scores[hit] += idf * tf / (tf + self._length_norm[hit])  # rows are unique per term
        if where is not None and not where.is_empty():
            scores = np.where(self._mask(where), scores, 0.0)
        k = min(k, rows)
        kth = float(scores[np.argpartition(-scores, k - 1)[k - 1]])
        # Every row tying with the k-th, then ordered by score and chunk id: which of two equal
        # chunks makes the cut must not depend on the order the rows were added in.
        tied = np.flatnonzero(scores >= kth) if kth > 0 else np.flatnonzero(scores > 0)
        top = sorted(tied.tolist(), key=lambda i: (-float(scores[i]), self.chunk_ids[i]))[:k]
        return [(self.chunk_ids[i], float(scores[i])) for i in top]

    def _mask(self, where: LexicalFilter) -> np.ndarray:
        mask = np.ones(len(self.chunk_ids), dtype=bool)
        if where.sources:
            mask &= np.isin(self._sources, list(where.sources))
        if where.doc_ids:
            mask &= np.isin(self._doc_ids, list(where.doc_ids))
        if where.since:
            mask &= self._dates >= where.since
        if where.until:
            mask &= (self._dates <= where.until) & (self._dates > 0)
        return mask

    # ----- saving ------------------------------------------------------------------------------

    def save(self, folder: Path) -> None:
        """Write the index atomically: into a temporary folder, then renamed into place."""
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        np.savez(
            tmp / _ARRAYS_FILE,
            tokens=self._tokens,
            starts=self._starts,
            term_start=self._term_start,
            post_rows=self._post_rows,
            post_tf=self._post_tf,
            dates=self._dates,
        )
        meta = {
            "format": _FORMAT,
            "fingerprint": self.fingerprint,
            "chunk_ids": self.chunk_ids,
            "doc_ids": self._doc_ids.tolist(),
            "sources": self._sources.tolist(),
            "vocab": self._vocab,
            "versions": self.versions,
        }
        (tmp / _META_FILE).write_text(json.dumps(meta), encoding="utf-8")
        old = folder.with_name(folder.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if folder.exists():
            folder.rename(old)
        tmp.rename(folder)
        shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex | None:
        """The saved index, or None if there is none, or it is unreadable or of an older format."""
        try:
            meta = json.loads((folder / _META_FILE).read_text(encoding="utf-8"))
            if meta.get("format") != _FORMAT:
                return None
            with np.load(folder / _ARRAYS_FILE) as arrays:
                index = cls(
                    meta["fingerprint"],
                    meta["chunk_ids"],
                    meta["doc_ids"],
                    meta["sources"],
                    arrays["dates"].tolist(),
                    meta["vocab"],
                    arrays["tokens"],
                    arrays["starts"],
                    (arrays["term_start"], arrays["post_rows"], arrays["post_tf"]),
                    meta.get("versions") or {},
                )
            if len(index._starts) != len(index.chunk_ids) + 1 or len(index._term_start) != len(index._vocab) + 1:
                return None  # a damaged or hand-edited file: rebuild rather than misread it
            return index
        except (OSError, ValueError, KeyError, TypeError):
            return None
