"""The local search index of one store: vectors, chunk texts and BM25 postings in files that a
new process memory-maps, so its first question is answered without loading Chroma.

Like the BM25 index before it, this is a per-machine cache derived from Chroma, never the
truth. It is a folder of immutable segments plus a manifest naming them:

- a writer appends one segment per written batch (searchable at once), and `compact` merges
  all segments into one, dropping the rows of deleted or replaced documents;
- each segment records the version of every document it holds (chunk count and ingest time,
  as in the registry), so a reader decides which rows are live from the registry snapshot
  alone: a row counts only while its document is ready at that version, and only in the last
  segment holding it. Documents the index lacks are listed, and the store fetches them;
- a segment is written into a temporary folder and renamed into place, and the manifest is
  replaced atomically, both under a lock: a crash leaves an unreferenced folder (removed by
  the next compaction), never a half-read one. A damaged file fails the shape checks in
  `Segment.open`, and the store rebuilds the index from Chroma.

Dense search is exact cosine: one matrix-vector product over unit vectors (~10 ms at 66k x
384). BM25 is Lucene's (k1 1.5, b 0.75) over the live rows of all segments together, so its
scores equal those of one index built from the same chunks.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import heapq
import json
import math
import os
import shutil
import uuid
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np

from brief.lexical import K1, B, LexicalFilter
from brief.memory import release_free_memory
from brief.text import content_words
from brief.types import Chunk, date_to_int

_FORMAT = 3  # 2: short -ie verbs stemmed (brief.text.stem); 3: British spellings read as American.
# An index of another format is rebuilt from Chroma.
_MANIFEST = "manifest.json"
_DOC_FIELDS = ("doc_id", "version", "title", "source", "date", "author", "url")
# Per-row integers, one column each: the row's document (in the segment's table), chunk index,
# start and end offsets in the article's text.
_DOC, _INDEX, _START, _END = range(4)


class DamagedIndex(Exception):
    """A file of the index is missing, truncated or of another format: rebuild, never misread."""


def lexical_text(title: str, section: str, text: str) -> str:
    """What BM25 indexes: title and section make a passage findable by what the article is about."""
    return f"{title}\n{section}\n{text}"


def split_chunk_id(chunk_id: str) -> tuple[str, int]:
    """`doc_id:0003` -> (doc_id, 3); (chunk_id, -1) for an id of another shape."""
    doc_id, _, index = chunk_id.rpartition(":")
    return (doc_id, int(index)) if doc_id and index.isdigit() else (chunk_id, -1)


class _Blob:
    """Strings stored as one UTF-8 file plus an offsets array. Read with one positioned read per
    string: a search touches a few dozen rows scattered over the file, and a read costs less
    than the page faults of a memory map would."""

    def __init__(self, path: Path, offsets: np.ndarray) -> None:
        self._file = open(path, "rb", buffering=0)  # noqa: SIM115 - open as long as the segment
        size = os.fstat(self._file.fileno()).st_size
        if len(offsets) == 0 or int(offsets[-1]) != size or int(offsets[0]) != 0:
            self._file.close()
            raise DamagedIndex(f"{path.name}: offsets do not match the file size")
        self.offsets = offsets

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def raw(self, i: int) -> bytes:
        start = int(self.offsets[i])
        return os.pread(self._file.fileno(), int(self.offsets[i + 1]) - start, start)

    def __getitem__(self, i: int) -> str:
        return self.raw(i).decode("utf-8")

    @staticmethod
    def write(path: Path, items: Iterable[bytes]) -> np.ndarray:
        """Write the strings one after another (streamed); returns their offsets."""
        lengths = array("q")  # 8 bytes a string, where a list of ints costs ~36
        with open(path, "wb") as handle:
            for item in items:
                handle.write(item)
                lengths.append(len(item))
        return np.concatenate([[0], np.cumsum(np.frombuffer(lengths, dtype=np.int64))]).astype(np.int64)


class Segment:
    """One immutable folder of rows (chunks): their vectors, texts and BM25 postings.

    The vocabulary is sorted, so a word's term id is found by binary search in the mapped file
    (nothing to load), and the postings of term t are rows post_rows[term_start[t]:term_start[t+1]].
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.name = folder.name
        try:
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
            if meta.get("format") != _FORMAT:
                raise DamagedIndex(f"{folder.name}: format {meta.get('format')}")
            # The document table by column (field -> one value per document): parsed fast.
            self.docs: dict[str, list[str]] = {f: meta["docs"][f] for f in _DOC_FIELDS}
            if len({len(column) for column in self.docs.values()}) != 1:
                raise DamagedIndex(f"{folder.name}: document table columns differ in length")
            rows, dim = int(meta["rows"]), int(meta["dim"])
            load = self._array
            self.ints = load("ints.npy", (rows, 4))
            self.vectors = load("vectors.npy", (rows, dim))
            self.lengths = load("lengths.npy", (rows,))
            self.texts = _Blob(folder / "texts.bin", load("text_offsets.npy", (rows + 1,)))
            self.sections = _Blob(folder / "sections.bin", load("section_offsets.npy", (rows + 1,)))
            vocab_size = int(meta["vocab"])
            self.vocab = _Blob(folder / "vocab.bin", load("vocab_offsets.npy", (vocab_size + 1,)))
            self.term_start = load("term_start.npy", (vocab_size + 1,))
            postings = int(self.term_start[-1]) if vocab_size else 0
            self.post_rows = load("post_rows.npy", (postings,))
            self.post_tf = load("post_tf.npy", (postings,))
        except DamagedIndex:
            raise
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DamagedIndex(f"{folder.name}: {exc}") from exc
        self.rows = rows
        self.doc_ids = self.docs["doc_id"]
        self.doc_rows = self.ints[:, _DOC] if rows else np.zeros(0, np.int32)
        if rows and (int(self.doc_rows.max()) >= len(self.doc_ids) or int(self.doc_rows.min()) < 0):
            raise DamagedIndex(f"{folder.name}: a row names a document the segment does not hold")
        # A document's rows are contiguous and ordered by chunk index: its first row finds them all.
        self.first_row = np.searchsorted(self.doc_rows, np.arange(len(self.doc_ids) + 1))

    @functools.cached_property
    def doc_dates(self) -> np.ndarray:
        """Each document's date as YYYYMMDD (0 when unknown), for date filters."""
        return np.array([date_to_int(d) for d in self.docs["date"]], dtype=np.int64)

    def document(self, doc_row: int) -> dict[str, str]:
        return {f: self.docs[f][doc_row] for f in _DOC_FIELDS}

    def _array(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        array = np.load(self.folder / name, mmap_mode="r", allow_pickle=False)
        if array.shape != shape:
            raise DamagedIndex(f"{self.folder.name}/{name}: shape {array.shape}, expected {shape}")
        return array.view(np.ndarray)  # the same mapped pages, without np.memmap's cost per index

    def term(self, word: str) -> int:
        """The term id of a word, or -1 when no row of this segment has it."""
        key = word.encode("utf-8")
        low, high = 0, len(self.vocab)
        while low < high:
            mid = (low + high) // 2
            if self.vocab.raw(mid) < key:
                low = mid + 1
            else:
                high = mid
        return low if low < len(self.vocab) and self.vocab.raw(low) == key else -1

    def chunk(self, row: int) -> Chunk:
        doc = self.document(int(self.doc_rows[row]))
        index = int(self.ints[row, _INDEX])
        return Chunk(
            chunk_id=f"{doc['doc_id']}:{index:04d}",
            doc_id=doc["doc_id"],
            index=index,
            text=self.texts[row],
            start=int(self.ints[row, _START]),
            end=int(self.ints[row, _END]),
            section=self.sections[row],
            title=doc["title"],
            source=doc["source"],
            date=doc["date"],
            author=doc["author"],
            url=doc["url"],
        )

    def chunk_id(self, row: int) -> str:
        return f"{self.doc_ids[int(self.doc_rows[row])]}:{int(self.ints[row, _INDEX]):04d}"

    def row_of(self, doc_row: int, index: int) -> int:
        """The row of a document's chunk by its index, or -1."""
        first, last = int(self.first_row[doc_row]), int(self.first_row[doc_row + 1])
        row = first + index
        if first <= row < last and int(self.ints[row, _INDEX]) == index:
            return row
        hits = np.flatnonzero(self.ints[first:last, _INDEX] == index)
        return first + int(hits[0]) if len(hits) else -1


# ----- writing segments ---------------------------------------------------------------------------


def _write_segment(folder: Path, chunks: Sequence[Chunk], vectors: np.ndarray, versions: Mapping[str, str]) -> None:
    """Write one segment into `folder` (a temporary name: the caller renames it into place)."""
    docs: dict[str, int] = {}
    for chunk in chunks:
        docs.setdefault(chunk.doc_id, len(docs))
    order = sorted(range(len(chunks)), key=lambda i: (docs[chunks[i].doc_id], chunks[i].index))
    rows = [chunks[i] for i in order]
    table: dict[str, list[str]] = {f: [] for f in _DOC_FIELDS}
    firsts = {}
    for chunk in rows:
        firsts.setdefault(chunk.doc_id, chunk)
    for doc_id, first in firsts.items():
        table["doc_id"].append(doc_id)
        table["version"].append(versions.get(doc_id, ""))
        for field in _DOC_FIELDS[2:]:
            table[field].append(getattr(first, field))
    dim = int(vectors.shape[1]) if vectors.ndim == 2 and len(vectors) else 0
    vecs = np.asarray(vectors, dtype=np.float32)[order] if len(order) else np.zeros((0, dim), np.float32)
    norms = np.linalg.norm(vecs, axis=1, keepdims=True) if len(vecs) else np.ones((0, 1), np.float32)
    vecs = (vecs / np.clip(norms, 1e-12, None)).astype(np.float32)  # cosine = dot of unit vectors
    ints = np.array([[docs[c.doc_id], c.index, c.start, c.end] for c in rows], dtype=np.int32).reshape(-1, 4)

    words = [content_words(lexical_text(c.title, c.section, c.text)) for c in rows]
    vocab = sorted({w for row in words for w in row})
    term_of = {w: i for i, w in enumerate(vocab)}
    lengths = np.array([len(r) for r in words], dtype=np.int32)
    tokens = np.fromiter((term_of[w] for r in words for w in r), dtype=np.int64, count=int(lengths.sum()))
    row_of = np.repeat(np.arange(len(rows), dtype=np.int64), lengths)
    # One sort gives every (term, row) pair once, grouped by term, with its count.
    pairs, counts = np.unique(tokens * max(len(rows), 1) + row_of, return_counts=True)
    terms = pairs // max(len(rows), 1)
    postings = (
        np.searchsorted(terms, np.arange(len(vocab) + 1)).astype(np.int64),
        (pairs % max(len(rows), 1)).astype(np.int32),
        counts.astype(np.float32),
    )
    blobs = ([c.text.encode("utf-8") for c in rows], [c.section.encode("utf-8") for c in rows])
    _save_segment(folder, table, ints, vecs, lengths, blobs, vocab, postings, dim)


def _save_segment(
    folder: Path,
    table: dict[str, list[str]],
    ints: np.ndarray,
    vectors: np.ndarray | None,
    lengths: np.ndarray,
    blobs: tuple[Iterable[bytes], Iterable[bytes]],
    vocab: Sequence[str] | None,
    postings: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
    dim: int,
    vocab_size: int = 0,
) -> None:
    """Write a segment's files; `vectors`, `vocab` and `postings` None: already written (a merge
    streams them), with `vocab_size` terms."""
    folder.mkdir(parents=True, exist_ok=True)
    texts, sections = blobs
    np.save(folder / "text_offsets.npy", _Blob.write(folder / "texts.bin", texts))
    np.save(folder / "section_offsets.npy", _Blob.write(folder / "sections.bin", sections))
    if vocab is not None:
        np.save(folder / "vocab_offsets.npy", _Blob.write(folder / "vocab.bin", [w.encode("utf-8") for w in vocab]))
        vocab_size = len(vocab)
    np.save(folder / "ints.npy", ints)
    if vectors is not None:
        np.save(folder / "vectors.npy", vectors)
    np.save(folder / "lengths.npy", lengths)
    if postings is not None:
        term_start, post_rows, post_tf = postings
        np.save(folder / "term_start.npy", term_start)
        np.save(folder / "post_rows.npy", post_rows)
        np.save(folder / "post_tf.npy", post_tf)
    meta = {"format": _FORMAT, "rows": len(ints), "dim": dim, "vocab": vocab_size, "docs": table}
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")  # last: a folder without it is unread


# ----- the searchable view ---------------------------------------------------------------------------


class SearchIndex:
    """The index's segments as seen at one registry state: which rows are live, and search.

    `versions` maps every ready document to its version; rows of other documents (deleted,
    replaced, pending) are never returned. `missing` lists ready documents the index lacks.
    """

    def __init__(self, segments: Sequence[Segment], versions: Mapping[str, str], fingerprint: str = "") -> None:
        self.segments = list(segments)
        seen: set[str] = set()
        self._where: dict[str, tuple[int, int]] = {}  # doc id -> (segment, doc row) of its live copy
        self._live: list[np.ndarray] = [np.zeros(0, bool)] * len(self.segments)
        for s in range(len(self.segments) - 1, -1, -1):  # the last segment holding a document wins
            seg = self.segments[s]
            live = [
                d
                for d, (doc_id, version) in enumerate(zip(seg.doc_ids, seg.docs["version"], strict=True))
                if versions.get(doc_id) == version and doc_id not in seen
            ]
            doc_live = np.zeros(len(seg.doc_ids), dtype=bool)
            doc_live[live] = True
            for d in live:
                seen.add(seg.doc_ids[d])
                self._where[seg.doc_ids[d]] = (s, d)
            self._live[s] = doc_live[seg.doc_rows] if seg.rows else np.zeros(0, bool)
        self.missing = sorted(set(versions) - seen)
        self.fingerprint = fingerprint if not self.missing else ""
        self._offsets = np.concatenate([[0], np.cumsum([seg.rows for seg in self.segments])]).astype(np.int64)
        live_rows = sum(int(m.sum()) for m in self._live)
        self._live_rows = live_rows
        total_length = sum(float(seg.lengths[m].sum()) for seg, m in zip(self.segments, self._live, strict=True))
        self._average_length = total_length / live_rows if live_rows and total_length > 0 else 1.0
        self._norms: list[np.ndarray] | None = None

    def __len__(self) -> int:
        return self._live_rows

    @property
    def dead_rows(self) -> int:
        return int(self._offsets[-1]) - self._live_rows

    @property
    def chunk_ids(self) -> list[str]:
        """Every live chunk id (for checks; a search never needs the list)."""
        return [
            seg.chunk_id(r) for seg, live in zip(self.segments, self._live, strict=True) for r in np.flatnonzero(live)
        ]

    # ----- filters --------------------------------------------------------------------------

    def _masks(self, where: LexicalFilter | None) -> list[np.ndarray]:
        if where is None or where.is_empty():
            return self._live
        masks = []
        for seg, live in zip(self.segments, self._live, strict=True):
            ok = np.ones(len(seg.doc_ids), dtype=bool)
            if where.sources:
                ok &= np.array([source in where.sources for source in seg.docs["source"]], dtype=bool)
            if where.doc_ids:
                ok &= np.array([d in where.doc_ids for d in seg.doc_ids], dtype=bool)
            if where.since:
                ok &= seg.doc_dates >= where.since
            if where.until:
                ok &= (seg.doc_dates <= where.until) & (seg.doc_dates > 0)
            masks.append(live & ok[seg.doc_rows] if seg.rows else live)
        return masks

    def _locate(self, row: int) -> tuple[Segment, int]:
        s = int(np.searchsorted(self._offsets, row, side="right")) - 1
        return self.segments[s], row - int(self._offsets[s])

    # ----- searching ------------------------------------------------------------------------

    def dense(
        self, vector: Sequence[float] | np.ndarray, n: int, where: LexicalFilter | None = None
    ) -> list[tuple[str, float]]:
        """Top-n (chunk_id, cosine similarity), best first."""
        if n <= 0 or not self._live_rows:
            return []
        query = np.asarray(vector, dtype=np.float32).ravel()
        query = query / max(float(np.linalg.norm(query)), 1e-12)
        parts = []
        every_row = (where is None or where.is_empty()) and not self.dead_rows
        for seg, mask in zip(self.segments, self._masks(where), strict=True):
            if not seg.rows:
                continue
            scores = seg.vectors @ query
            if not every_row:
                scores[~mask] = -np.inf
            parts.append(scores)
        if not parts:
            return []
        scores = np.concatenate(parts) if len(parts) > 1 else parts[0]
        n = min(n, len(scores) if every_row else int(np.isfinite(scores).sum()))
        if n <= 0:
            return []
        top = np.argpartition(scores, len(scores) - n)[len(scores) - n :]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self._chunk_id(int(r)), float(scores[r])) for r in top]

    def search(self, query: str, k: int, where: LexicalFilter | None = None) -> list[tuple[str, float]]:
        """Top-k (chunk_id, BM25 score) with a positive score, best first (ties by chunk id)."""
        if k <= 0 or not self._live_rows:
            return []
        found = []
        for word in dict.fromkeys(content_words(query)):
            hits = []
            df = 0
            for s, seg in enumerate(self.segments):
                term = seg.term(word) if seg.rows else -1
                if term < 0:
                    continue
                first, last = int(seg.term_start[term]), int(seg.term_start[term + 1])
                rows, tf = seg.post_rows[first:last], seg.post_tf[first:last]
                live = self._live[s][rows]
                df += int(live.sum())
                hits.append((s, rows[live], tf[live]))
            if df:
                found.append((math.log(1 + (self._live_rows - df + 0.5) / (df + 0.5)), hits))
        if not found:
            return []
        norms = self._length_norms()
        scores = [np.zeros(seg.rows, dtype=np.float32) for seg in self.segments]
        for idf, hits in found:
            for s, rows, tf in hits:
                scores[s][rows] += idf * tf / (tf + norms[s][rows])  # rows are unique per term
        masks = self._masks(where)
        flat = np.concatenate([np.where(m, sc, 0.0) for sc, m in zip(scores, masks, strict=True)])
        k = min(k, len(flat))
        kth = float(flat[np.argpartition(-flat, k - 1)[k - 1]])
        # Every row tying with the k-th, then ordered by score and chunk id: which of two equal
        # chunks makes the cut must not depend on the order the rows were added in.
        tied = np.flatnonzero(flat >= kth) if kth > 0 else np.flatnonzero(flat > 0)
        named = [(-float(flat[r]), self._chunk_id(int(r)), int(r)) for r in tied]
        return [(chunk_id, -neg) for neg, chunk_id, _ in sorted(named)[:k]]

    def _length_norms(self) -> list[np.ndarray]:
        """The length part of BM25's denominator, per row: fixed for this view."""
        if self._norms is None:
            average = self._average_length
            self._norms = [
                (K1 * (1 - B + B * np.asarray(seg.lengths, dtype=np.float32) / average)).astype(np.float32)
                for seg in self.segments
            ]
        return self._norms

    def _chunk_id(self, row: int) -> str:
        seg, local = self._locate(row)
        return seg.chunk_id(local)

    def get_chunks(self, chunk_ids: Sequence[str]) -> list[Chunk]:
        """Live chunks by id, in the order asked; unknown ids are left out."""
        out = []
        for chunk_id in chunk_ids:
            doc_id, index = split_chunk_id(chunk_id)
            where = self._where.get(doc_id)
            if where is None or index < 0:
                continue
            seg = self.segments[where[0]]
            row = seg.row_of(where[1], index)
            if row >= 0:
                out.append(seg.chunk(row))
        return out

    def documents(self) -> set[str]:
        return set(self._where)


# ----- the folder -------------------------------------------------------------------------------------


class IndexFolder:
    """The segments and manifest of one store's index on disk, and the lock that orders changes."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock_path = folder.with_name(folder.name + ".lock")

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Manifest changes (appends, compaction, reset) one at a time across processes."""
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        with open(self._lock_path, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def segment_names(self) -> list[str] | None:
        """The manifest's segments; None when there is no usable manifest."""
        try:
            data = json.loads((self.folder / _MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("format") != _FORMAT or not isinstance(data.get("segments"), list):
            return None
        return [str(name) for name in data["segments"]]

    def open(self, versions: Mapping[str, str], fingerprint: str = "") -> SearchIndex:
        """The index as the manifest names it, seen at this registry state. A segment removed by
        a compaction in another process between reading the manifest and opening it: read again."""
        for attempt in range(3):
            names = self.segment_names() or []
            try:
                return SearchIndex([Segment(self.folder / n) for n in names], versions, fingerprint)
            except DamagedIndex:
                if attempt == 2 or self.segment_names() == names:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def append(self, chunks: Sequence[Chunk], vectors: np.ndarray, versions: Mapping[str, str]) -> None:
        """Add one segment holding these chunks (several documents, complete)."""
        if not len(chunks):
            return
        tmp = self.folder / f".tmp-{uuid.uuid4().hex}"
        try:
            _write_segment(tmp, chunks, vectors, versions)
            with self.locked():
                name = f"s-{uuid.uuid4().hex[:16]}"
                tmp.rename(self.folder / name)
                self._write_manifest([*(self.segment_names() or []), name])
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def compact(self, versions: Mapping[str, str], fingerprint: str = "") -> SearchIndex:
        """Merge the live rows of every segment into one; remove everything else in the folder."""
        with self.locked():
            view = self.open(versions, fingerprint)
            if len(view.segments) > 1 or view.dead_rows:
                self._replace(view, 0)
            self._remove_unlisted()
            return self.open(versions, fingerprint)

    def merge_recent(self, versions: Mapping[str, str], small_rows: int = 8192) -> None:
        """Merge the newest run of small segments (each under `small_rows` rows) into one, and
        leave the larger ones before it as they are: what an ingest does every few dozen
        groups. Merging everything each time would copy the whole index again and again, and
        its memory would grow with the index; this merge's grows with `small_rows`. When no
        such run of two or more remains, everything is merged (`compact`). Nothing is opened
        after it: a writer searches at its own registry state, not this one."""
        with self.locked():
            view = self.open(versions)
            first = len(view.segments)
            while first > 0 and view.segments[first - 1].rows < small_rows:
                first -= 1
            if len(view.segments) - first < 2:
                first = 0  # nothing worth a partial merge
            if len(view.segments) - first > 1 or view.dead_rows:
                self._replace(view, first)
            self._remove_unlisted()

    def _replace(self, view: SearchIndex, first: int) -> None:
        """Write the live rows of `view`'s segments from `first` on as one segment and list it
        in their place (the caller holds the lock)."""
        tmp = self.folder / f".tmp-{uuid.uuid4().hex}"
        try:
            _merge(tmp, view.segments[first:], view._live[first:])
            name = f"s-{uuid.uuid4().hex[:16]}"
            tmp.rename(self.folder / name)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
            release_free_memory()  # the merge's blocks, freed by now
        self._write_manifest([seg.name for seg in view.segments[:first]] + [name])

    def _remove_unlisted(self) -> None:
        keep = set(self.segment_names() or []) | {_MANIFEST}
        for path in self.folder.iterdir():
            if path.name not in keep:
                shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)

    def reset(self) -> None:
        """Forget the whole index (damaged, or of another format)."""
        with self.locked():
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder.mkdir(parents=True, exist_ok=True)
            self._write_manifest([])

    def _write_manifest(self, names: list[str]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f"{_MANIFEST}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps({"format": _FORMAT, "segments": names}), encoding="utf-8")
        tmp.replace(self.folder / _MANIFEST)


# Postings (and vector rows) a merge handles at once, instead of every posting and vector: an
# ingest's periodic merge of ~8.5k rows peaks ~13 MB over the process (23 MB with blocks of
# 2^18 postings and 8,192 rows), whatever the index's size.
_MERGE_POSTINGS = 1 << 16
_MERGE_VECTOR_ROWS = 2048


def _merge(folder: Path, segments: Sequence[Segment], lives: Sequence[np.ndarray]) -> None:
    """Write one segment holding the live rows (`lives`) of `segments`, in segment order,
    streamed: vectors, vocabulary and postings go from the old segments' files to the new ones
    block by block."""
    table: dict[str, list[str]] = {f: [] for f in _DOC_FIELDS}
    ints_parts, length_parts = [], []
    kept_rows: list[np.ndarray] = []
    row_maps: list[np.ndarray] = []
    total = 0
    for seg, live in zip(segments, lives, strict=True):
        rows = np.flatnonzero(live)
        kept_rows.append(rows)
        row_map = np.full(seg.rows, -1, dtype=np.int32)
        row_map[rows] = np.arange(total, total + len(rows))
        row_maps.append(row_map)
        total += len(rows)
        docs = np.unique(seg.doc_rows[rows]) if len(rows) else np.zeros(0, np.int64)
        doc_map = np.full(len(seg.doc_ids), -1, dtype=np.int64)
        doc_map[docs] = np.arange(len(table["doc_id"]), len(table["doc_id"]) + len(docs))
        for field in _DOC_FIELDS:
            table[field].extend(seg.docs[field][int(d)] for d in docs)
        ints = np.array(seg.ints[rows], dtype=np.int32).reshape(-1, 4)
        ints[:, _DOC] = doc_map[ints[:, _DOC]]
        ints_parts.append(ints)
        length_parts.append(np.asarray(seg.lengths[rows], dtype=np.int32))
    dim = next((int(s.vectors.shape[1]) for s in segments if s.rows), 0)
    folder.mkdir(parents=True)
    _copy_vectors(folder / "vectors.npy", segments, kept_rows, total, dim)
    vocab_size = _merge_postings(folder, segments, row_maps)
    ints = np.concatenate(ints_parts) if ints_parts else np.zeros((0, 4), np.int32)
    lengths = np.concatenate(length_parts) if length_parts else np.zeros(0, np.int32)
    # Texts are copied row by row from the segments into the new files, never all held at once.
    texts = (seg.texts.raw(int(r)) for seg, rows in zip(segments, kept_rows, strict=True) for r in rows)
    sections = (seg.sections.raw(int(r)) for seg, rows in zip(segments, kept_rows, strict=True) for r in rows)
    _save_segment(folder, table, ints, None, lengths, (texts, sections), None, None, dim, vocab_size)


def _npy_writer(path: Path, dtype: type, shape: tuple[int, ...]):  # type: ignore[no-untyped-def]
    """An open .npy file whose header says `shape`; the caller writes the data after it."""
    handle = open(path, "wb")  # noqa: SIM115 - closed by the caller's `with`
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_2_0(handle, header)
    return handle


def _npy_data_offset(handle) -> int:  # type: ignore[no-untyped-def]
    """Where the data of an open .npy file starts."""
    version = np.lib.format.read_magic(handle)
    read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    read_header(handle)
    return handle.tell()


def _copy_vectors(
    path: Path, segments: Sequence[Segment], kept_rows: Sequence[np.ndarray], total: int, dim: int
) -> None:
    """The live rows' vectors, copied with plain reads and writes in blocks: a memory map of the
    old or the new file would count every page it touched as the process's own memory."""
    with _npy_writer(path, np.float32, (total, dim)) as out:
        for seg, rows in zip(segments, kept_rows, strict=True):
            if not len(rows):
                continue
            with open(seg.folder / "vectors.npy", "rb") as source:
                offset = _npy_data_offset(source)
                i = 0
                while i < len(rows):
                    first = int(rows[i])
                    end = int(np.searchsorted(rows, first + _MERGE_VECTOR_ROWS))
                    span = int(rows[end - 1]) - first + 1
                    source.seek(offset + first * dim * 4)
                    block = np.fromfile(source, dtype=np.float32, count=span * dim).reshape(span, dim)
                    out.write(np.ascontiguousarray(block[rows[i:end] - first]))  # its buffer, not a copy
                    i = end


def _read_slice(seg: Segment, name: str, start: int, end: int) -> np.ndarray:
    """Elements [start, end) of one of a segment's 1-D arrays, read rather than mapped: the
    pages of a map a merge walks through would all count as the process's memory (~50 MB at
    42k chunks) until the segment is closed."""
    dtype = getattr(seg, name).dtype
    with open(seg.folder / f"{name}.npy", "rb") as handle:
        handle.seek(_npy_data_offset(handle) + start * dtype.itemsize)
        return np.fromfile(handle, dtype=dtype, count=max(0, end - start))


def _merge_postings(folder: Path, segments: Sequence[Segment], row_maps: Sequence[np.ndarray]) -> int:
    """Write the merged vocabulary and postings; returns the vocabulary's size.

    Each segment's vocabulary is sorted, so a k-way merge of them gives the merged sorted
    vocabulary (UTF-8 byte order is code point order), and each segment's term ids map onto it
    in order. Terms only dead rows had are left out: they would match nothing. Postings are then
    written a block of merged terms at a time; a stable sort by merged term keeps each term's
    rows ascending across segments, as one index built from the same chunks would have them.
    """
    live_terms: list[np.ndarray] = []
    live_counts: list[np.ndarray] = []
    for seg, row_map in zip(segments, row_maps, strict=True):
        if not len(seg.post_rows):
            live_terms.append(np.zeros(0, np.int32))
            live_counts.append(np.zeros(0, np.int32))
            continue
        starts = _read_slice(seg, "term_start", 0, len(seg.vocab) + 1)
        kept = np.zeros(len(seg.post_rows) + 1, dtype=np.int64)
        np.cumsum(row_map[_read_slice(seg, "post_rows", 0, len(seg.post_rows))] >= 0, out=kept[1:])
        counts = kept[starts[1:]] - kept[starts[:-1]]
        # int32: these arrays, one per segment, are all held until the merge ends.
        live_terms.append(np.flatnonzero(counts).astype(np.int32))
        live_counts.append(counts[counts > 0].astype(np.int32))

    def words(s: int) -> Iterator[tuple[bytes, int, int]]:
        data = (segments[s].folder / "vocab.bin").read_bytes()
        offsets = segments[s].vocab.offsets
        for t in live_terms[s]:
            yield data[int(offsets[t]) : int(offsets[t + 1])], s, int(t)

    remaps = [np.full(len(seg.vocab), -1, dtype=np.int32) for seg in segments]
    vocab_size = 0

    def merged_words() -> Iterator[bytes]:  # streamed to the file: the merged vocabulary is never held
        nonlocal vocab_size
        last = None
        for word, s, t in heapq.merge(*(words(s) for s in range(len(segments)))):
            if word != last:
                yield word
                last = word
                vocab_size += 1
            remaps[s][t] = vocab_size - 1

    np.save(folder / "vocab_offsets.npy", _Blob.write(folder / "vocab.bin", merged_words()))

    per_term = np.zeros(vocab_size, dtype=np.int64)
    for s in range(len(segments)):
        np.add.at(per_term, remaps[s][live_terms[s]], live_counts[s])
    term_start = np.concatenate([[0], np.cumsum(per_term)]).astype(np.int64)
    np.save(folder / "term_start.npy", term_start)
    postings = int(term_start[-1])
    with (
        _npy_writer(folder / "post_rows.npy", np.int32, (postings,)) as rows_out,
        _npy_writer(folder / "post_tf.npy", np.float32, (postings,)) as tf_out,
    ):
        first_term = 0
        while first_term < vocab_size:
            end_term = int(np.searchsorted(term_start, term_start[first_term] + _MERGE_POSTINGS, side="right")) - 1
            end_term = min(vocab_size, max(end_term, first_term + 1))
            terms, rows, tfs = _postings_block(segments, row_maps, remaps, live_terms, first_term, end_term)
            order = np.argsort(terms, kind="stable")
            rows_out.write(np.ascontiguousarray(rows[order], dtype=np.int32))
            tf_out.write(np.ascontiguousarray(tfs[order], dtype=np.float32))
            first_term = end_term
    return vocab_size


def _postings_block(
    segments: Sequence[Segment],
    row_maps: Sequence[np.ndarray],
    remaps: Sequence[np.ndarray],
    live_terms: Sequence[np.ndarray],
    first_term: int,
    end_term: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The live postings of merged terms [first_term, end_term), in segment order."""
    terms_parts, rows_parts, tf_parts = [], [], []
    for seg, row_map, remap, live in zip(segments, row_maps, remaps, live_terms, strict=True):
        mapped = remap[live]  # ascending: the segment's live terms in merged order
        lo, hi = np.searchsorted(mapped, [first_term, end_term])
        if lo == hi:
            continue
        first_local, last_local = int(live[lo]), int(live[hi - 1])
        starts = _read_slice(seg, "term_start", first_local, last_local + 2)
        entry_terms = np.repeat(remap[first_local : last_local + 1], np.diff(starts))
        new_rows = row_map[_read_slice(seg, "post_rows", int(starts[0]), int(starts[-1]))]
        keep = new_rows >= 0  # a dead term in between has only dead rows
        terms_parts.append(entry_terms[keep])
        rows_parts.append(new_rows[keep])
        tf_parts.append(_read_slice(seg, "post_tf", int(starts[0]), int(starts[-1]))[keep])
    return np.concatenate(terms_parts), np.concatenate(rows_parts), np.concatenate(tf_parts)
