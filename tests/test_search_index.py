"""The local search index: segment files against a single BM25 index and brute-force cosine,
live rows from the registry's versions, damage detection, and the store keeping it current
(another process's writes, deleted documents, a Chroma server, no chromadb on the query path)."""

from __future__ import annotations

import json
import logging
import shutil
import sys
import textwrap
import zlib
from pathlib import Path

import numpy as np
import pytest
from conftest import ARTICLES, SEED, copy_small_set, make_library, run_cli

from brief import store as store_module
from brief.ingest.chunking import ChunkingOptions, chunk_article
from brief.ingest.loaders import find_files, load_file
from brief.ingestion import document_id
from brief.lexical import LexicalFilter, LexicalIndex
from brief.search_index import DamagedIndex, IndexFolder, lexical_text
from brief.types import Chunk, date_to_int

QUERIES = [
    "sanctions Pakistan ballistic missile",
    "port strike dockworkers wages",
    "central bank interest rate inflation",
    "Orrin talks collapse farmers water",
    "reservoir",
    "zzzz-no-such-word",
]


@pytest.fixture(scope="module")
def docs() -> dict[str, list[Chunk]]:
    """The fixture articles' chunks by document, in a fixed order."""
    out: dict[str, list[Chunk]] = {}
    for path in [SEED, *find_files([ARTICLES])]:
        for article in load_file(path).articles:
            doc_id = document_id(article)
            out[doc_id] = chunk_article(article, doc_id, ChunkingOptions())
    return out


def vectors_for(chunks: list[Chunk]) -> np.ndarray:
    """Deterministic stand-in vectors (not unit length: the index must normalise them)."""
    seeds = [zlib.crc32(c.chunk_id.encode()) for c in chunks]
    return np.array([np.random.default_rng(s).standard_normal(16) * 3 for s in seeds], dtype=np.float32)


def reference(chunks: list[Chunk]) -> LexicalIndex:
    """One BM25 index over the same rows (itself checked against bm25s in test_lexical)."""
    metas = [c.metadata() for c in chunks]
    texts = [lexical_text(c.title, c.section, c.text) for c in chunks]
    return LexicalIndex.build("ref", [c.chunk_id for c in chunks], texts, metas)


def write(folder: IndexFolder, docs: dict[str, list[Chunk]], names: list[str], version: str = "1") -> None:
    chunks = [c for d in names for c in docs[d]]
    folder.append(chunks, vectors_for(chunks), {d: version for d in names})


def assert_same_bm25(index, chunks: list[Chunk], where: LexicalFilter | None = None) -> None:
    ref = reference(chunks)
    for query in QUERIES:
        got, want = index.search(query, 8, where), ref.search(query, 8, where)
        assert [c for c, _ in got] == [c for c, _ in want], query
        assert [s for _, s in got] == pytest.approx([s for _, s in want], rel=1e-5), query


def test_segments_search_like_one_index_and_compaction_changes_nothing(docs, tmp_path: Path) -> None:
    names = sorted(docs)
    folder = IndexFolder(tmp_path / "index")
    write(folder, docs, names[:3])
    write(folder, docs, names[3:6])
    write(folder, docs, names[6:])
    versions = {d: "1" for d in names}
    index = folder.open(versions, "fp")
    assert len(index.segments) == 3 and index.missing == [] and index.fingerprint == "fp"
    chunks = [c for d in names for c in docs[d]]
    assert sorted(index.chunk_ids) == sorted(c.chunk_id for c in chunks)
    assert_same_bm25(index, chunks)
    # Dense search is exact cosine: the same order and scores as brute force.
    matrix = vectors_for(chunks)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    query = np.random.default_rng(5).standard_normal(16).astype(np.float32)
    cosine = matrix @ (query / np.linalg.norm(query))
    want = [chunks[i].chunk_id for i in np.argsort(-cosine)[:7]]
    got = index.dense(query, 7)
    assert [c for c, _ in got] == want
    assert [s for _, s in got] == pytest.approx(sorted(cosine, reverse=True)[:7], abs=1e-5)

    merged = folder.compact(versions, "fp")
    assert len(merged.segments) == 1 and merged.dead_rows == 0
    assert_same_bm25(merged, chunks)
    assert merged.dense(query, 7) == [(c, pytest.approx(score, abs=1e-5)) for c, score in got]
    # Chunks come back whole, with their document's fields.
    original = docs[names[0]][1]
    (back,) = merged.get_chunks([original.chunk_id])
    assert back == original
    assert merged.get_chunks(["nope:0001", f"{names[0]}:9999"]) == []


def test_deleted_and_replaced_documents_vanish(docs, tmp_path: Path) -> None:
    names = sorted(docs)
    folder = IndexFolder(tmp_path / "index")
    write(folder, docs, names)
    gone, replaced = names[0], names[1]
    # The registry no longer holds `gone`; `replaced` was written again (new version, fewer chunks).
    shorter = docs[replaced][:1]
    folder.append(shorter, vectors_for(shorter), {replaced: "2"})
    versions = {d: "1" for d in names[2:]} | {replaced: "2"}
    index = folder.open(versions)
    live = set(index.chunk_ids)
    assert not any(c.startswith(gone) for c in live)
    assert {c for c in live if c.startswith(replaced)} == {shorter[0].chunk_id}
    kept = [c for d in names[2:] for c in docs[d]] + shorter
    assert_same_bm25(index, kept)
    assert not any(c.startswith(gone) for c, _ in index.dense(vectors_for(docs[gone])[0], 50))
    assert index.get_chunks([docs[gone][0].chunk_id, docs[replaced][1].chunk_id]) == []
    # A document the registry holds but the index does not is reported missing.
    assert folder.open(versions | {"d-new": "1"}).missing == ["d-new"]
    merged = folder.compact(versions)
    assert merged.dead_rows == 0 and sorted(merged.chunk_ids) == sorted(live)
    assert_same_bm25(merged, kept)


@pytest.mark.parametrize("blocks", [None, (5, 3)], ids=["one-block", "tiny-blocks"])
def test_a_merge_writes_what_one_segment_of_the_live_rows_would(docs, tmp_path: Path, monkeypatch, blocks) -> None:
    """The streamed merge (vocabulary k-way merged, postings and vectors copied in blocks) gives
    the very files that writing the surviving chunks as one segment gives."""
    import brief.search_index as search_index

    if blocks:  # many blocks: every boundary case of the block loops is crossed
        monkeypatch.setattr(search_index, "_MERGE_POSTINGS", blocks[0])
        monkeypatch.setattr(search_index, "_MERGE_VECTOR_ROWS", blocks[1])
    names = sorted(docs)
    folder = IndexFolder(tmp_path / "index")
    write(folder, docs, names[:4])
    write(folder, docs, names[4:7])
    write(folder, docs, names[7:])
    gone, replaced = names[1], names[5]
    shorter = docs[replaced][1:3]
    folder.append(shorter, vectors_for(shorter), {replaced: "2"})
    versions = {d: "1" for d in names if d not in (gone, replaced)} | {replaced: "2"}
    merged = folder.compact(versions)
    kept = [c for d in names[:4] if d != gone for c in docs[d]]
    kept += [c for d in names[4:7] if d != replaced for c in docs[d]]
    kept += [c for d in names[7:] for c in docs[d]] + shorter
    direct = IndexFolder(tmp_path / "direct")
    direct.append(kept, vectors_for(kept), versions)
    (got,), (want,) = merged.segments, direct.open(versions).segments
    for name in ("vocab.bin", "vocab_offsets.npy", "term_start.npy", "post_rows.npy", "post_tf.npy"):
        assert np.array_equal(_load(got.folder / name), _load(want.folder / name)), name
    for name in ("texts.bin", "sections.bin"):
        assert (got.folder / name).read_bytes() == (want.folder / name).read_bytes(), name
    assert np.array_equal(got.ints, want.ints) and np.array_equal(got.lengths, want.lengths)
    assert np.allclose(got.vectors, want.vectors, atol=1e-6)
    assert got.docs == want.docs
    assert_same_bm25(merged, kept)


def test_a_writers_merge_takes_only_the_newest_small_segments(docs, tmp_path: Path) -> None:
    """An ingest's periodic merge: the large segment first is kept as it is (same folder, never
    copied again), the small ones after it become one, and search is what it was."""
    names = sorted(docs)
    folder = IndexFolder(tmp_path / "index")
    write(folder, docs, names[:4])
    for name in names[4:]:
        write(folder, docs, [name])
    gone, replaced = names[5], names[1]  # a small segment's document deleted; a large one's replaced
    shorter = docs[replaced][:1]
    folder.append(shorter, vectors_for(shorter), {replaced: "2"})
    versions = {d: "1" for d in names if d not in (gone, replaced)} | {replaced: "2"}
    before = folder.open(versions)
    large = before.segments[0]
    kept = [c for d in names if d not in (gone, replaced) for c in docs[d]] + shorter
    query = np.random.default_rng(9).standard_normal(16).astype(np.float32)

    folder.merge_recent(versions, small_rows=large.rows)
    merged = folder.open(versions)
    assert [seg.name for seg in merged.segments][0] == large.name and len(merged.segments) == 2
    assert sorted(p.name for p in (tmp_path / "index").iterdir()) == sorted(
        [*(seg.name for seg in merged.segments), "manifest.json"]
    )
    assert sorted(merged.chunk_ids) == sorted(c.chunk_id for c in kept)
    assert merged.dead_rows == len(docs[replaced])  # the large segment keeps its dead rows until a full merge
    assert_same_bm25(merged, kept)
    assert merged.dense(query, 9) == [(c, pytest.approx(x, abs=1e-5)) for c, x in before.dense(query, 9)]

    # One small segment after the large ones: nothing worth a partial merge, so all become one.
    assert merged.segments[1].rows >= large.rows  # the merged one counts as large now
    write(folder, docs, [gone], version="3")
    versions[gone] = "3"
    kept += docs[gone]
    folder.merge_recent(versions, small_rows=large.rows)
    whole = folder.open(versions)
    assert len(whole.segments) == 1 and whole.dead_rows == 0
    assert_same_bm25(whole, kept)


def _load(path: Path) -> np.ndarray:
    return np.load(path) if path.suffix == ".npy" else np.frombuffer(path.read_bytes(), dtype=np.uint8)


def test_filters_restrict_both_searches(docs, tmp_path: Path) -> None:
    names = sorted(docs)
    folder = IndexFolder(tmp_path / "index")
    write(folder, docs, names)
    index = folder.open({d: "1" for d in names})
    chunks = [c for d in names for c in docs[d]]
    source = next(c.source for c in chunks if c.source)
    dated = sorted({date_to_int(c.date) for c in chunks if date_to_int(c.date)})
    filters = [
        LexicalFilter(sources=frozenset({source})),
        LexicalFilter(doc_ids=frozenset(names[:2])),
        LexicalFilter(since=dated[len(dated) // 2]),
        LexicalFilter(until=dated[len(dated) // 2]),
    ]
    for where in filters:
        admitted = {
            c.chunk_id
            for c in chunks
            if (not where.sources or c.source in where.sources)
            and (not where.doc_ids or c.doc_id in where.doc_ids)
            and (not where.since or date_to_int(c.date) >= where.since)
            and (not where.until or 0 < date_to_int(c.date) <= where.until)
        }
        assert admitted and len(admitted) < len(chunks)
        dense = index.dense(np.ones(16, np.float32), 500, where)
        assert {c for c, _ in dense} == admitted
        assert_same_bm25(index, chunks, where)
        assert all(c in admitted for q in QUERIES for c, _ in index.search(q, 20, where))


def test_damaged_files_are_detected_never_misread(docs, tmp_path: Path) -> None:
    names = sorted(docs)
    folder = IndexFolder(tmp_path / "index")
    write(folder, docs, names)
    versions = {d: "1" for d in names}
    (segment,) = folder.open(versions).segments
    vectors = segment.folder / "vectors.npy"
    data = vectors.read_bytes()
    vectors.write_bytes(data[: len(data) // 2])  # a write cut short
    with pytest.raises(DamagedIndex):
        folder.open(versions)
    vectors.write_bytes(data)
    texts = segment.folder / "texts.bin"
    texts.write_bytes(texts.read_bytes()[:-10])
    with pytest.raises(DamagedIndex):
        folder.open(versions)
    (segment.folder / "meta.json").write_text("{not json")
    with pytest.raises(DamagedIndex):
        folder.open(versions)
    # A manifest from another format, or half written, is no index at all: everything is missing.
    (folder.folder / "manifest.json").write_text('{"format": 99, "segments": []}')
    assert folder.open(versions).missing == sorted(names)


def test_an_index_of_another_format_is_rebuilt_with_a_note(
    settings_factory, embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # An index written by another brief version (its manifest's format differs) is no index: the
    # store copies every document in again from Chroma, and says so, since that takes a while
    # for a large library (the note's threshold is lowered for this small one).
    settings = settings_factory()
    library = make_library(settings, embedder)
    library.ingest([copy_small_set(tmp_path / "src")])
    question = "How long did the Port Calloway strike last?"
    before = [p.chunk.chunk_id for p in library.searcher.search(question, 4).passages]
    documents = len(library.store.search_index().segments[0].doc_ids)
    manifest = library.store.index_folder.folder / "manifest.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "format": 1}))
    monkeypatch.setattr(store_module, "REBUILD_NOTE_DOCS", 1)
    caplog.set_level(logging.INFO, logger="brief")
    fresh = make_library(settings, embedder)
    assert [p.chunk.chunk_id for p in fresh.searcher.search(question, 4).passages] == before
    notes = [r.getMessage() for r in caplog.records if r.name == "brief.store"]
    assert notes[0] == f"copying {documents} documents from Chroma into this machine's search index (once)"
    assert notes[1].startswith("search index ready in ")
    # Once rebuilt, nothing more to copy and nothing more to say.
    caplog.clear()
    make_library(settings, embedder).searcher.search(question, 4)
    assert not [r for r in caplog.records if r.name == "brief.store"]


def test_store_rebuilds_a_damaged_index_from_chroma(settings_factory, embedder, tmp_path: Path) -> None:
    settings = settings_factory()
    library = make_library(settings, embedder)
    library.ingest([copy_small_set(tmp_path / "src")])
    question = "How long did the Port Calloway strike last?"
    before = [p.chunk.chunk_id for p in library.searcher.search(question, 4).passages]
    (segment,) = library.store.search_index().segments
    (segment.folder / "post_rows.npy").write_bytes(b"\x93NUMPY garbage")
    fresh = make_library(settings, embedder)
    assert [p.chunk.chunk_id for p in fresh.searcher.search(question, 4).passages] == before
    rebuilt = fresh.store.search_index()
    assert rebuilt.missing == [] and len(rebuilt) == library.store.count_chunks()


def test_another_process_writes_and_a_long_lived_reader_follows(settings_factory, embedder, tmp_path: Path) -> None:
    """The writer appends its batch to the index: the reader sees it at the next generation
    without fetching anything from Chroma; a removal elsewhere hides the document at once."""
    settings = settings_factory()
    library = make_library(settings, embedder)
    library.ingest([copy_small_set(tmp_path / "src")])
    question = "How full is the Tessaly reservoir that Veridia filled?"
    assert library.searcher.search(question, 6).passages

    before = set(library.store.documents())
    fetched: list[str] = []
    real_fetch = library.store._fetch_into_index
    library.store._fetch_into_index = lambda ids, snap: fetched.extend(ids) or real_fetch(ids, snap)
    newcomer = tmp_path / "later" / "veridia-fills-tessaly-reservoir.txt"
    newcomer.parent.mkdir()
    newcomer.write_bytes((ARTICLES / newcomer.name).read_bytes())
    result = run_cli("ingest", "--json", str(newcomer.parent), home=settings.home, cwd=tmp_path)
    assert result.returncode == 0, result.stderr

    hits = library.searcher.search(question, 6).passages
    (new_doc,) = set(library.store.documents()) - before
    assert hits[0].chunk.doc_id == new_doc
    assert fetched == []  # the writer's own segment made it searchable

    removed = run_cli("rm", new_doc[:10], home=settings.home, cwd=tmp_path)
    assert removed.returncode == 0, removed.stderr
    assert new_doc not in {p.chunk.doc_id for p in library.searcher.search(question, 6).passages}
    assert not any(c.startswith(new_doc) for c in library.store.search_index().chunk_ids)


_QUERY_PATH = textwrap.dedent(
    """
    import json, sys
    from brief.library import Library
    library = Library()
    status = library.status()
    answer = library.ask("How long did the Port Calloway strike last?", backend="extractive")
    print(json.dumps({
        "chromadb": sorted(m for m in sys.modules if m.split(".")[0] == "chromadb"),
        "documents": status["documents"], "stored": status["stored_chunks"], "chunks": status["chunks"],
        "cited": len(answer.citations),
    }))
    """
)


def test_the_query_path_of_an_embedded_store_does_not_import_chromadb(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ingest = run_cli("ingest", "-q", str(copy_small_set(tmp_path / "src")), home=home, cwd=tmp_path)
    assert ingest.returncode == 0, ingest.stderr
    result = run_cli(home=home, cwd=tmp_path, command=(sys.executable, "-c", _QUERY_PATH))
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["chromadb"] == []
    assert seen["documents"] == 3 and seen["stored"] == seen["chunks"] > 0 and seen["cited"] > 0
    status = run_cli("status", "--json", home=home, cwd=tmp_path)
    assert status.returncode == 0 and json.loads(status.stdout)["documents"] == 3


def test_a_store_written_before_the_index_existed_is_indexed_once(settings_factory, embedder, tmp_path) -> None:
    """No index and no generation file (an older brief wrote the store): the first reader builds
    both from Chroma; the next process reads neither Chroma's registry nor its chunks."""
    settings = settings_factory()
    library = make_library(settings, embedder)
    library.ingest([copy_small_set(tmp_path / "src")])
    question = "How long did the Port Calloway strike last?"
    want = [p.chunk.chunk_id for p in library.searcher.search(question, 4).passages]
    shutil.rmtree(settings.home / "index")
    for generation in settings.home.glob("cache/*/generation"):
        generation.unlink()
    first = make_library(settings, embedder)
    assert [p.chunk.chunk_id for p in first.searcher.search(question, 4).passages] == want
    assert list(settings.home.glob("cache/*/generation"))
    second = make_library(settings, embedder)
    second.store._fetch_into_index = lambda *_: pytest.fail("fetched from Chroma again")
    assert [p.chunk.chunk_id for p in second.searcher.search(question, 4).passages] == want
    assert second.store._parts is None  # Chroma was never opened


@pytest.mark.server
def test_two_machines_share_a_chroma_server(settings_factory, embedder, chroma_server: str, tmp_path) -> None:
    """Each machine keeps its own index: the second fills its index from the server, and sees
    the first one's removal at its next question (the server's generation is asked each time)."""
    collection = f"t{tmp_path.name[-8:].replace('-', '')}x"
    first = make_library(settings_factory(chroma_url=chroma_server, collection=collection), embedder)
    first.ingest([copy_small_set(tmp_path / "src")])
    other_home = tmp_path / "other-machine"
    second_settings = settings_factory(chroma_url=chroma_server, collection=collection, home=other_home)
    second = make_library(second_settings, embedder)
    question = "How long did the Port Calloway strike last?"
    want = [p.chunk.chunk_id for p in first.searcher.search(question, 4).passages]
    assert [p.chunk.chunk_id for p in second.searcher.search(question, 4).passages] == want
    assert list(other_home.glob("index/*/manifest.json"))
    top_doc = want[0].split(":")[0]
    first.remove(top_doc)
    assert top_doc not in {p.chunk.doc_id for p in second.searcher.search(question, 4).passages}
    assert second.status()["stored_chunks"] == first.store.count_chunks()
