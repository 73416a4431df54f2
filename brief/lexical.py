"""The lexical (BM25) side of hybrid retrieval, derived from the chunks stored in Chroma.

The index is a pure function of the committed chunks: it carries a fingerprint of the
document set it was built from, so any process can tell whether it is stale and
rebuild it from Chroma (the single source of truth).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from brief.text import content_words

_META_FILE = "brief-lexical.json"


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
    """BM25 over chunk texts (with their titles and sections), plus per-chunk filter fields."""

    def __init__(
        self,
        fingerprint: str,
        chunk_ids: list[str],
        doc_ids: list[str],
        sources: list[str],
        dates: list[int],
        retriever: object | None,
    ) -> None:
        self.fingerprint = fingerprint
        self.chunk_ids = chunk_ids
        self._doc_ids = np.array(doc_ids, dtype=object)
        self._sources = np.array(sources, dtype=object)
        self._dates = np.array(dates, dtype=np.int64)
        self._retriever = retriever
        self._vocab: dict[str, int] | None = None

    @classmethod
    def build(cls, fingerprint: str, chunk_ids: list[str], texts: list[str], metadatas: list[dict]) -> LexicalIndex:
        retriever = None
        if chunk_ids:
            import bm25s

            retriever = bm25s.BM25()
            # Empty token lists break bm25s; a placeholder token matches no query.
            corpus = [content_words(t) or ["\u0000"] for t in texts]
            retriever.index(corpus, show_progress=False)
        return cls(
            fingerprint,
            chunk_ids,
            [str(m.get("doc_id", "")) for m in metadatas],
            [str(m.get("source", "")) for m in metadatas],
            [int(m.get("date_int", 0) or 0) for m in metadatas],
            retriever,
        )

    def __len__(self) -> int:
        return len(self.chunk_ids)

    def search(self, query: str, k: int, where: LexicalFilter | None = None) -> list[tuple[str, float]]:
        """Top-k (chunk_id, bm25 score) with a positive score, best first."""
        if self._retriever is None or k <= 0:
            return []
        vocab = self._vocabulary()
        tokens = [t for t in dict.fromkeys(content_words(query)) if t in vocab]
        if not tokens:
            return []
        scores = np.asarray(self._retriever.get_scores(tokens), dtype=np.float32)  # type: ignore[attr-defined]
        if where is not None and not where.is_empty():
            scores = np.where(self._mask(where), scores, 0.0)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(self.chunk_ids[i], float(scores[i])) for i in top if scores[i] > 0]

    def _vocabulary(self) -> dict[str, int]:
        if self._vocab is None:
            self._vocab = dict(self._retriever.vocab_dict)  # type: ignore[attr-defined]
        return self._vocab

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

    def save(self, folder: Path) -> None:
        """Write the index atomically: into a temporary folder, then renamed into place."""
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if self._retriever is not None:
            self._retriever.save(str(tmp), show_progress=False)  # type: ignore[attr-defined]
        meta = {
            "fingerprint": self.fingerprint,
            "chunk_ids": self.chunk_ids,
            "doc_ids": self._doc_ids.tolist(),
            "sources": self._sources.tolist(),
            "dates": self._dates.tolist(),
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
        """The saved index, or None if there is none or it is unreadable."""
        try:
            meta = json.loads((folder / _META_FILE).read_text(encoding="utf-8"))
            retriever = None
            if meta["chunk_ids"]:
                import bm25s

                retriever = bm25s.BM25.load(str(folder), show_progress=False)
            return cls(
                meta["fingerprint"],
                meta["chunk_ids"],
                meta["doc_ids"],
                meta["sources"],
                meta["dates"],
                retriever,
            )
        except (OSError, ValueError, KeyError):
            return None
