"""The BM25 index: scores against bm25s as a reference, incremental updates, and the store's
use of them (only new documents are fetched from Chroma)."""

from __future__ import annotations

import shutil
from pathlib import Path

import bm25s
import numpy as np
import pytest
from conftest import ARTICLES, SEED, assert_store_consistent, copy_small_set, make_library

from brief.ingest.chunking import ChunkingOptions, chunk_article
from brief.ingest.loaders import find_files, load_file
from brief.ingestion import document_id
from brief.lexical import LexicalFilter, LexicalIndex
from brief.text import content_words

QUERIES = [
    "sanctions Pakistan ballistic missile",
    "port strike dockworkers wages",
    "central bank interest rate inflation",
    "Orrin talks collapse farmers water",
    "solar factory opening delayed",
    "China",
    "zzzz-no-such-word",
]


@pytest.fixture(scope="module")
def rows() -> list[tuple[str, str, dict]]:
    out = []
    for path in [SEED, *find_files([ARTICLES])]:
        for article in load_file(path).articles:
            doc_id = document_id(article)
            for chunk in chunk_article(article, doc_id, ChunkingOptions()):
                meta = chunk.metadata() | {"date_int": int((chunk.date or "0").replace("-", "") or 0)}
                out.append((chunk.chunk_id, f"{chunk.title}\n{chunk.section}\n{chunk.text}", meta))
    return out


def build(rows: list[tuple[str, str, dict]], fingerprint: str = "f") -> LexicalIndex:
    return LexicalIndex.build(fingerprint, [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])


def test_scores_match_bm25s(rows) -> None:
    index = build(rows)
    reference = bm25s.BM25()  # its default: Lucene BM25, k1 1.5, b 0.75
    reference.index([content_words(text) for _, text, _ in rows], show_progress=False)
    vocab = reference.vocab_dict
    for query in QUERIES:
        ours = index.search(query, 8)
        tokens = [t for t in dict.fromkeys(content_words(query)) if t in vocab]
        if not tokens:
            assert ours == []
            continue
        scores = np.asarray(reference.get_scores(tokens))
        assert len(ours) > 0, query
        for chunk_id, score in ours:
            assert score == pytest.approx(scores[[r[0] for r in rows].index(chunk_id)], rel=1e-4), query
        best = sorted(scores[scores > 0], reverse=True)[: len(ours)]
        assert [s for _, s in ours] == pytest.approx(best, rel=1e-4), query


def test_an_update_equals_a_fresh_build(rows) -> None:
    docs = sorted({r[2]["doc_id"] for r in rows})
    first, later = set(docs[: len(docs) // 2 + 1]), set(docs[len(docs) // 2 :])
    old = build([r for r in rows if r[2]["doc_id"] in first], "old")
    added = [r for r in rows if r[2]["doc_id"] in later - first]
    new = old.updated("new", first & later, [r[0] for r in added], [r[1] for r in added], [r[2] for r in added])
    fresh = build([r for r in rows if r[2]["doc_id"] in later], "fresh")
    assert sorted(new.chunk_ids) == sorted(fresh.chunk_ids) and len(new) == len(fresh)
    for query in QUERIES:
        got, want = new.search(query, 10), fresh.search(query, 10)
        assert [s for _, s in got] == pytest.approx([s for _, s in want], rel=1e-5), query
        assert {c for c, _ in got} == {c for c, _ in want}, query
    # Words only the dropped documents had no longer match anything.
    gone = [r for r in rows if r[2]["doc_id"] in first - later]
    only_gone = set(content_words(" ".join(r[1] for r in gone))) - set(
        content_words(" ".join(r[1] for r in rows if r[2]["doc_id"] in later))
    )
    assert only_gone and all(new.search(word, 5) == [] for word in list(only_gone)[:20])


def test_filters_restrict_hits(rows) -> None:
    index = build(rows)
    seed_doc = rows[0][2]["doc_id"]
    hits = index.search("sanctions", 20, LexicalFilter(doc_ids=frozenset({seed_doc})))
    assert hits and all(c.startswith(seed_doc) for c, _ in hits)
    assert index.search("sanctions", 20, LexicalFilter(since=20300101)) == []


def test_save_and_load_round_trip(rows, tmp_path: Path) -> None:
    index = LexicalIndex.build(
        "fp1", [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], versions={"d": "3|now"}
    )
    index.save(tmp_path / "lex")
    loaded = LexicalIndex.load(tmp_path / "lex")
    assert loaded is not None and loaded.fingerprint == "fp1" and loaded.versions == {"d": "3|now"}
    for query in QUERIES:
        assert loaded.search(query, 6) == index.search(query, 6)
    # Damaged or foreign files are not misread: load says "none", and the store rebuilds.
    (tmp_path / "lex" / "brief-lexical.json").write_text('{"format": 1}')
    assert LexicalIndex.load(tmp_path / "lex") is None
    (tmp_path / "lex" / "brief-lexical.json").write_text("{not json")
    assert LexicalIndex.load(tmp_path / "lex") is None


def test_store_fetches_only_new_documents(settings_factory, embedder, tmp_path: Path, monkeypatch) -> None:
    settings = settings_factory()
    library = make_library(settings, embedder)
    folder = copy_small_set(tmp_path / "src")
    library.ingest([folder])
    store = library.store

    def no_full_scan(*_args, **_kwargs):
        raise AssertionError("the BM25 index was rebuilt from every chunk")

    monkeypatch.setattr(store, "iter_chunks", no_full_scan)
    shutil.copy(ARTICLES / "central-bank-rate-hike.md", folder)
    report = library.ingest([folder])
    assert report.count("added") == 1
    assert any("rate" in store.get_chunks([c])[0].text.lower() for c, _ in store.lexical().search("rate hike", 3))
    (removed,) = [d for d, r in store.documents().items() if "port-strike-ends" in r.paths[0]]
    library.remove(removed)
    monkeypatch.undo()
    assert_store_consistent(store)
    assert all(not c.startswith(removed) for c in store.lexical().chunk_ids)
    # Another process (a fresh Store) agrees without rebuilding: the saved index is current.
    fresh = make_library(settings, embedder).store
    monkeypatch.setattr(fresh, "iter_chunks", no_full_scan)
    assert sorted(fresh.lexical().chunk_ids) == sorted(store.lexical().chunk_ids)


def test_document_written_again_with_other_chunks_is_reindexed(settings_factory, embedder, tmp_path: Path) -> None:
    folder = copy_small_set(tmp_path / "src")
    library = make_library(settings_factory(), embedder)
    library.ingest([folder])
    before = set(library.store.lexical().chunk_ids)
    (doc,) = [d for d, r in library.store.documents().items() if r.paths[0].endswith(".md")]
    # Deleted by another process sharing the Chroma server: this machine's saved index
    # still holds the old rows when the document comes back.
    library.store.delete_document(doc)
    # Same article, same doc id, smaller chunks: the index must hold the new chunks only.
    small = make_library(settings_factory(chunk_target_tokens=60, chunk_max_tokens=80), embedder)
    small.ingest([folder])
    assert small.store.documents()[doc].chunks > sum(1 for c in before if c.startswith(doc))
    assert_store_consistent(small.store)


def test_registry_read_is_shared_through_its_generation(
    settings_factory, embedder, tmp_path: Path, monkeypatch
) -> None:
    """A new process reuses the registry another one read at the same generation; any write
    makes it read Chroma again; a damaged cache file is ignored."""
    from brief.store import Store

    settings = settings_factory()
    library = make_library(settings, embedder)
    folder = copy_small_set(tmp_path / "src")
    library.ingest([folder])
    expected = library.store.documents()

    def no_read(*_args, **_kwargs):
        raise AssertionError("the registry was read from Chroma")

    fresh = Store(settings, embedder.name)
    monkeypatch.setattr(fresh, "_read_records", no_read)
    assert fresh.documents() == expected
    monkeypatch.undo()

    cache = fresh.cache_dir / "registry-columns.json"
    old_generation = cache.read_bytes()
    shutil.copy(ARTICLES / "central-bank-rate-hike.md", folder)
    library.ingest([folder])
    cache.write_bytes(old_generation)  # as if no process had read the registry since the write
    reads: list[int] = []
    stale = Store(settings, embedder.name)
    real_read = stale._read_records
    monkeypatch.setattr(stale, "_read_records", lambda statuses: reads.append(1) or real_read(statuses))
    assert len(stale.documents()) == 4 and reads == [1]  # the old file is not trusted
    cache.write_text('{"generation": "' + stale.generation() + '", "columns": {"doc_id": [1]}}')
    assert len(Store(settings, embedder.name).documents()) == 4  # a damaged file is ignored
