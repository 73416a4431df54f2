"""embed_every: only some chunks of a document are embedded, the others share their vector,
and retrieval ranks chunks that share a vector by their words."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from conftest import SEED, assert_store_consistent, copy_small_set, make_library

from brief.ingest.chunking import ChunkingOptions, chunk_article, settings_recipe
from brief.ingest.loaders import load_file
from brief.ingestion import embedding_texts
from brief.retrieve import shared_ranks
from brief.settings import Settings
from brief.status import library_status
from brief.vector_sharing import owners, vector_owner


def test_first_chunk_and_every_nth_after_it_own_a_vector_the_others_share_the_nearest() -> None:
    assert [vector_owner(i, 1, 5) for i in range(5)] == [0, 1, 2, 3, 4]
    # Chunk 2 is one chunk from chunk 3 and two from chunk 0; the last chunks have no owner after.
    assert [vector_owner(i, 3, 8) for i in range(8)] == [0, 0, 3, 3, 3, 6, 6, 6]
    assert [vector_owner(i, 3, 6) for i in range(6)] == [0, 0, 3, 3, 3, 3]
    # A tie goes to the earlier owner.
    assert [vector_owner(i, 2, 5) for i in range(5)] == [0, 0, 2, 2, 4]
    assert [vector_owner(i, 4, 9) for i in range(9)] == [0, 0, 0, 4, 4, 4, 4, 8, 8]
    # Positions in the list handed over, not chunk indexes; an owner may come after its sharers.
    assert owners([0, 1, 2, 3, 4, 5, 6], 3) == [0, 0, 3, 3, 3, 6, 6]
    assert owners([0, 1, 2], 1) == [0, 1, 2]
    # Every owner owns itself.
    shared = owners(list(range(11)), 3)
    assert all(shared[owner] == owner for owner in shared)
    # A chunk whose owner is not among those handed over is embedded itself.
    assert owners([4, 5], 3) == [0, 1]
    assert owners([4, 5, 6], 3) == [0, 2, 2]  # chunk 5's nearest owner, chunk 6, is there
    assert owners([], 3) == []


def test_equal_scores_share_a_rank() -> None:
    ranked = [("a", 0.9), ("b", 0.9), ("c", 0.9 - 5e-7), ("d", 0.8), ("e", 0.7), ("f", 0.7)]
    assert shared_ranks(ranked) == [0, 0, 0, 3, 4, 4]
    assert shared_ranks([("a", 0.5), ("b", 0.4), ("c", 0.3)]) == [0, 1, 2]
    assert shared_ranks([]) == []


def test_recipe_names_the_sharing() -> None:
    assert settings_recipe(Settings(embed_every=3)) == "chunks 400/480/1; embeds 64+64; every 3 nearest"
    assert settings_recipe(Settings(embed_every=1)) == settings_recipe(Settings())
    assert settings_recipe(Settings(embedder="openai", embed_every=2)) == "chunks 400/480/1; every 2 nearest"


def _vectors_by_chunk(store) -> dict[str, np.ndarray]:  # noqa: ANN001
    return {cid: np.asarray(v, dtype=np.float32) for cid, _, _, v in store.iter_chunks(include_vectors=True)}


def test_shared_vectors_are_stored_and_undone_when_the_setting_changes(
    settings_factory, embedder, tmp_path: Path
) -> None:
    folder = copy_small_set(tmp_path / "articles")
    (folder / SEED.name).write_bytes(SEED.read_bytes())
    small = {"chunk_target_tokens": 60, "chunk_max_tokens": 80}
    sharing = settings_factory(embed_every=3, **small)
    library = make_library(sharing, embedder)
    report = library.ingest([folder])
    assert report.ok, report.errors
    docs = library.store.documents()
    assert {r.recipe for r in docs.values()} == {f"chunks 60/80/1; embeds {embedder.reads}; every 3 nearest"}
    seed_id = next(d for d, r in docs.items() if r.paths[0].endswith(SEED.name))
    assert docs[seed_id].chunks >= 7  # long enough for three owners
    vectors = _vectors_by_chunk(library.store)
    for doc_id, record in docs.items():
        for i in range(record.chunks):
            mine = vectors[f"{doc_id}:{i:04d}"]
            owner = vectors[f"{doc_id}:{vector_owner(i, 3, record.chunks):04d}"]
            assert np.array_equal(mine, owner), (doc_id, i)
    # Chunk 2 of the long article uses chunk 3's vector, not chunk 0's.
    assert np.array_equal(vectors[f"{seed_id}:0002"], vectors[f"{seed_id}:0003"])
    assert not np.array_equal(vectors[f"{seed_id}:0002"], vectors[f"{seed_id}:0000"])
    owned = [vectors[f"{seed_id}:{i:04d}"] for i in range(0, docs[seed_id].chunks, 3)]
    assert len({v.tobytes() for v in owned}) == len(owned)  # each owner embedded its own text
    # The local index holds the same shared vectors as Chroma.
    assert_store_consistent(library.store)

    # Under the default settings these documents are what an archive import makes: up to date.
    assert library_status(settings_factory(**small), library.store)["other_settings"] == 0
    # Every chunk in every ingest (archive imports off): the next ingest embeds each chunk again.
    every = settings_factory(archive_mb=None, **small)
    assert library_status(every, library.store)["other_settings"] == len(docs)
    library = make_library(every, embedder)
    again = library.ingest([folder])
    assert again.ok and again.rechunked == len(docs)
    vectors = _vectors_by_chunk(library.store)
    seed_vectors = [vectors[f"{seed_id}:{i:04d}"].tobytes() for i in range(docs[seed_id].chunks)]
    # One vector per distinct text again (tiny chunks of this article repeat a few texts).
    article = load_file(SEED).articles[0]
    texts = embedding_texts(chunk_article(article, seed_id, ChunkingOptions(60, 80, 1)))
    assert len(texts) == len(seed_vectors) and len(set(texts)) > docs[seed_id].chunks // 3 + 1
    assert len(set(seed_vectors)) == len(set(texts))


def test_words_rank_chunks_that_share_a_vector(settings_factory, embedder, tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / SEED.name).write_bytes(SEED.read_bytes())
    # Every chunk shares the first one's vector: the dense side cannot tell them apart.
    library = make_library(settings_factory(embed_every=100, chunk_target_tokens=60, chunk_max_tokens=80), embedder)
    assert library.ingest([folder]).ok
    passages = library.searcher.search("Are the designated companies' US-based assets frozen?", 3).passages
    assert passages and "frozen" in passages[0].chunk.text
    assert passages[0].chunk.index > 0  # found by its words, not by the shared vector's owner
