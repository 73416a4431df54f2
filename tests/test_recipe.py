"""Documents remember how they were chunked and embedded; changed settings redo them on the next ingest."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from conftest import SEED, assert_store_consistent, copy_small_set, make_library, run_cli

from brief.ingest.chunking import ChunkingOptions, index_recipe, made_alike, settings_recipe
from brief.settings import Settings
from brief.status import library_status


def _folder(tmp_path: Path) -> Path:
    folder = copy_small_set(tmp_path / "articles")
    (folder / SEED.name).write_bytes(SEED.read_bytes())  # a long article: chunk sizes show on it
    return folder


def test_recipe_names_chunking_and_embedded_words() -> None:
    options = ChunkingOptions(400, 480, 1)
    assert index_recipe(options, "64+64") == "chunks 400/480/1; embeds 64+64"
    assert index_recipe(options, None) == "chunks 400/480/1"
    assert index_recipe(ChunkingOptions(400, 480, 0), "64+64") != index_recipe(options, "64+64")
    assert index_recipe(options, "32+32") != index_recipe(options, "64+64")
    settings = Settings(chunk_target_tokens=300, chunk_max_tokens=360, chunk_overlap_sentences=2, embed_max_tokens=96)
    assert settings_recipe(settings) == "chunks 300/360/2; embeds 48+48"
    # Reading only a long chunk's opening makes other vectors than reading both its ends.
    assert settings_recipe(dataclasses.replace(settings, embed_read_ends=False)) == "chunks 300/360/2; embeds 96"
    assert settings_recipe(Settings()) == "chunks 400/480/1; embeds 64+64"
    openai = dataclasses.replace(settings, embedder="openai")
    assert settings_recipe(openai) == "chunks 300/360/2"


def test_documents_from_before_recipes_count_as_made_with_their_defaults() -> None:
    # Documents stored before recipes were made as 200/240 chunks read whole (256 word pieces):
    # the next ingest under other settings, today's defaults included, chunks them again.
    assert made_alike("", "chunks 200/240/1; embeds 256") and made_alike("", "chunks 200/240/1")
    assert not made_alike("", settings_recipe(Settings()))
    assert not made_alike("", "chunks 200/240/1; embeds 128")
    assert not made_alike("", "chunks 400/480/1; embeds 256")
    assert made_alike("chunks 400/480/1; embeds 64+64", "chunks 400/480/1; embeds 64+64")
    assert not made_alike("chunks 400/480/1; embeds 128", "chunks 400/480/1; embeds 64+64")


def test_changed_chunk_settings_rechunk_stored_documents(settings_factory, embedder, tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    small = settings_factory(chunk_target_tokens=60, chunk_max_tokens=80)
    library = make_library(small, embedder)
    first = library.ingest([folder])
    assert first.ok and first.count("added") == 4 and first.rechunked == 0
    before = library.store.documents()
    seed_id = next(d for d, r in before.items() if r.paths[0].endswith(SEED.name))
    assert {r.recipe for r in before.values()} == {f"chunks 60/80/1; embeds {embedder.reads}"}

    larger = settings_factory(chunk_target_tokens=400, chunk_max_tokens=480)
    assert library_status(larger, library.store)["other_settings"] == 4
    library = make_library(larger, embedder)
    second = library.ingest([folder])
    assert second.ok, second.errors
    assert (second.count("updated"), second.count("unchanged"), second.rechunked) == (4, 0, 4)
    assert "4 documents chunked again with the current settings" in second.summary()
    after = library.store.documents()
    assert set(after) == set(before)  # same documents, same ids: only their chunks were redone
    assert {r.recipe for r in after.values()} == {f"chunks 400/480/1; embeds {embedder.reads}"}
    assert after[seed_id].chunks < before[seed_id].chunks
    assert second.chunks_written == sum(r.chunks for r in after.values())
    assert_store_consistent(library.store)
    assert library_status(larger, library.store)["other_settings"] == 0
    # Questions see only the new chunks: every hit's chunk is one the new recipe made.
    passages = library.searcher.search("Why might sanctions push Pakistan toward China?", 6).passages
    assert passages and all(p.chunk.index < after[p.chunk.doc_id].chunks for p in passages)
    assert seed_id in {p.chunk.doc_id for p in passages}

    third = library.ingest([folder])
    assert (third.count("unchanged"), third.rechunked, third.chunks_written) == (4, 0, 0)


def test_status_names_documents_made_under_other_settings(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    home = tmp_path / "home"
    small = {"BRIEF_CHUNK_TARGET_TOKENS": "60", "BRIEF_CHUNK_MAX_TOKENS": "80"}

    def cli(*args: str, env: dict[str, str] | None = None):  # noqa: ANN202
        result = run_cli(*args, home=home, cwd=tmp_path, extra_env=env)
        assert result.returncode == 0, result.stderr
        return result

    cli("ingest", str(folder), env=small)
    assert json.loads(cli("status", "--json", env=small).stdout)["other_settings"] == 0
    assert "4 documents were chunked or embedded under other settings" in cli("status").stdout
    assert "4 documents chunked again with the current settings" in cli("ingest", str(folder)).stdout
    assert json.loads(cli("status", "--json").stdout)["other_settings"] == 0
    assert "under other settings" not in cli("status").stdout
