"""Chunk shards of an embedded store, on a real embedded Chroma.

An ingest writes into the last chunk collection and starts a new one when a batch would take
it past `chunk_shard_rows` (closing its client, which drops the vector indexes it loaded). Each
document's record names its shard; reads, deletes, re-chunking and an index rebuilt from
Chroma must all find the chunks there, and nowhere else.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from conftest import ARTICLES, assert_store_consistent, make_library

from brief.settings import minilm_name
from brief.store import Store

ROWS = 12  # a fixture article makes 1-7 chunks: a few articles fill a shard


def _folders(root: Path, groups: int = 3, per_group: int = 2) -> list[Path]:
    """The fixture articles (plain files only) spread over `groups` folders."""
    files = sorted(p for p in ARTICLES.iterdir() if p.is_file() and p.suffix in {".md", ".txt", ".html"})
    assert len(files) >= groups * per_group
    folders = []
    for g in range(groups):
        folder = root / f"group{g}"
        folder.mkdir(parents=True)
        for path in files[g * per_group : (g + 1) * per_group]:
            (folder / path.name).write_bytes(path.read_bytes())
        folders.append(folder)
    return folders


def _chunks_by_shard(store: Store) -> dict[str, dict[int, int]]:
    """doc id -> {shard number: chunks of that document in it}, read from every shard."""
    found: dict[str, dict[int, int]] = {}
    for number, shard in enumerate(store._shards):
        for meta in shard.get(include=["metadatas"])["metadatas"]:
            per_doc = found.setdefault(meta["doc_id"], {})
            per_doc[number] = per_doc.get(number, 0) + 1
    return found


def _assert_each_document_in_its_shard(store: Store) -> None:
    records = store.documents()
    placed = _chunks_by_shard(store)
    assert set(placed) == set(records)
    for doc_id, record in records.items():
        assert placed[doc_id] == {record.shard: record.chunks}, (record.title, placed[doc_id], record.shard)


def test_ingests_fill_shards_in_turn_and_every_read_finds_them(settings_factory, embedder, tmp_path: Path) -> None:
    settings = settings_factory(chunk_shard_rows=ROWS)
    library = make_library(settings, embedder)
    for folder in _folders(tmp_path / "src"):
        assert library.ingest([folder]).ok
    store = library.store
    counts = [shard.count() for shard in store._shards]
    assert len(counts) >= 2, counts
    assert sum(counts) == store.snapshot().chunks == store.count_chunks()
    # A shard is closed once it holds something and the next batch would not fit.
    for count in counts[:-1]:
        assert count > 0
    assert [c.name for c in store._shards] == ["brief_chunks"] + [f"brief_chunks.{n}" for n in range(1, len(counts))]
    _assert_each_document_in_its_shard(store)
    assert_store_consistent(store)
    assert len({r.shard for r in store.documents().values()}) == len(counts)

    # Dense search over Chroma itself merges the shards: the same top 5 as exact cosine over all.
    query = embedder.encode(["port workers strike over pay"])[0]
    rows = list(store.iter_chunks(include_vectors=True))
    exact = sorted(rows, key=lambda row: -float(np.dot(row[3], query)))[:5]
    hits = store.query_dense(query, 5)
    assert [chunk.chunk_id for chunk, _ in hits] == [row[0] for row in exact]
    assert [score for _, score in hits] == sorted((score for _, score in hits), reverse=True)

    # Chunks by id come back from whichever shard holds them, in the order asked.
    some = [rows[0][0], rows[-1][0], "nowhere:0001"]
    assert [c.chunk_id for c in store.get_chunks(some)] == some[:2]

    # The local index rebuilt from Chroma alone holds every chunk of every shard.
    shutil.rmtree(settings.home / "index")
    fresh = Store(settings, minilm_name(quantized=True))
    index = fresh.prepare_search()
    assert sorted(index.chunk_ids) == sorted(row[0] for row in rows)


def test_rechunked_documents_move_to_the_open_shard_and_removal_finds_them(
    settings_factory, embedder, tmp_path: Path
) -> None:
    folders = _folders(tmp_path / "src")
    library = make_library(settings_factory(chunk_shard_rows=ROWS), embedder)
    for folder in folders:
        library.ingest([folder])
    first = {d.doc_id for d in library.documents() if d.shard == 0}
    assert first

    # Other chunk sizes: the first folder's documents are chunked again under the same ids, and
    # their old chunks leave the first shard.
    rechunking = make_library(
        settings_factory(chunk_shard_rows=ROWS, chunk_target_tokens=120, chunk_max_tokens=150), embedder
    )
    report = rechunking.ingest([folders[0]])
    assert report.ok and report.rechunked == len(first), report.summary()
    store = rechunking.store
    moved = {d.doc_id: d.shard for d in store.documents().values() if d.doc_id in first}
    last = len(store._shards) - 1
    assert set(moved.values()) == {last}
    _assert_each_document_in_its_shard(store)
    assert_store_consistent(store)

    # Removing a document deletes its chunks from its own shard.
    victim = next(d for d in store.documents().values() if d.shard != last)
    rechunking.remove(victim.doc_id)
    assert victim.doc_id not in _chunks_by_shard(store)
    _assert_each_document_in_its_shard(store)
    assert_store_consistent(store)


def test_a_server_store_keeps_one_chunk_collection(
    settings_factory, embedder, chroma_server: str, tmp_path: Path
) -> None:
    """A server holds its indexes in its own process: the setting does not apply there."""
    settings = settings_factory(chroma_url=chroma_server, collection="shardless", chunk_shard_rows=2)
    library = make_library(settings, embedder)
    for folder in _folders(tmp_path / "src", groups=2):
        assert library.ingest([folder]).ok
    store = library.store
    assert len(store._shards) == 1
    assert {d.shard for d in store.documents().values()} == {0}
    assert store._shards[0].count() == store.snapshot().chunks
    names = [c.name for c in store._client.list_collections()]
    assert not [n for n in names if n.startswith("shardless_chunks.")]
