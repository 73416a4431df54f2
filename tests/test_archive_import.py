"""An archive import: an ingest whose input passes `archive_mb` embeds one chunk in
`archive_embed_every`; smaller ingests embed every chunk, and a document made either way is up
to date for both (real MiniLM, real embedded Chroma, the real CLI)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from conftest import ARTICLES, SEED, assert_store_consistent, make_library, run_cli

from brief.ingest.chunking import settings_recipe, settings_recipes
from brief.settings import Settings
from brief.status import library_status
from brief.vector_sharing import every_for_ingest, vector_owner

SMALL_CHUNKS = {"chunk_target_tokens": 60, "chunk_max_tokens": 80}


def test_the_plan_follows_the_size_of_the_input() -> None:
    assert every_for_ingest(1, 3, 8_000_000, 8_000_000) == 1  # at the limit: an ordinary ingest
    assert every_for_ingest(1, 3, 8_000_000, 8_000_001) == 3
    assert every_for_ingest(1, 3, None, 10**12) == 1  # archive imports switched off
    assert every_for_ingest(5, 3, 10, 11) == 5  # never more vectors than embed_every asks for
    assert every_for_ingest(2, 4, 10, 5) == 2


def test_both_plans_are_current_recipes() -> None:
    default = Settings()
    assert settings_recipes(default) == (settings_recipe(default), settings_recipe(default) + "; every 3 nearest")
    assert settings_recipes(Settings(archive_mb=None)) == (settings_recipe(default),)
    # The plan saves the bundled model's CPU; an OpenAI embedder embeds every chunk.
    assert settings_recipes(Settings(embedder="openai")) == ("chunks 400/480/1",)
    assert settings_recipes(Settings(embed_every=3)) == (settings_recipe(Settings(embed_every=3)),)


def _vectors(store) -> dict[str, bytes]:  # noqa: ANN001
    return {cid: np.asarray(v, dtype=np.float32).tobytes() for cid, _, _, v in store.iter_chunks(include_vectors=True)}


def test_an_archive_import_shares_vectors_and_a_small_ingest_does_not(
    settings_factory, embedder, tmp_path: Path
) -> None:
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / SEED.name).write_bytes(SEED.read_bytes())
    later = tmp_path / "later"
    later.mkdir()
    for name in ("port-strike-ends.md", "port-calloway-strike-begins.txt"):
        (later / name).write_bytes((ARTICLES / name).read_bytes())
    limit_mb = (SEED.stat().st_size - 1) / 1_000_000  # the seed article alone is "an archive"
    assert sum(p.stat().st_size for p in later.iterdir()) < limit_mb * 1_000_000
    settings = settings_factory(archive_mb=limit_mb, **SMALL_CHUNKS)
    library = make_library(settings, embedder)

    report = library.ingest([archive])
    assert report.ok, report.errors
    assert report.embed_every == 3 and report.archive
    assert "archive import: one chunk in 3 embedded" in report.summary()
    docs = library.store.documents()
    (seed_id,) = docs
    record = docs[seed_id]
    assert record.recipe == f"chunks 60/80/1; embeds {embedder.reads}; every 3 nearest"
    assert record.chunks >= 7
    vectors = _vectors(library.store)
    for i in range(record.chunks):
        assert vectors[f"{seed_id}:{i:04d}"] == vectors[f"{seed_id}:{vector_owner(i, 3, record.chunks):04d}"]
    assert len({vectors[f"{seed_id}:{i:04d}"] for i in range(record.chunks)}) == len(range(0, record.chunks, 3))

    # A later, small ingest into the same library embeds every chunk of what it adds ...
    small = library.ingest([later])
    assert small.ok and small.embed_every == 1 and not small.archive and "embedded" not in small.summary()
    vectors = _vectors(library.store)
    for doc_id, rec in library.store.documents().items():
        if doc_id == seed_id:
            continue
        assert rec.recipe == f"chunks 60/80/1; embeds {embedder.reads}"
        assert len({vectors[f"{doc_id}:{i:04d}"] for i in range(rec.chunks)}) > 1 or rec.chunks == 1
    # ... and neither plan's documents count as made under other settings, nor are redone.
    assert library_status(settings, library.store)["other_settings"] == 0
    again = library.ingest([archive, later])
    assert again.ok and again.rechunked == 0 and again.count("unchanged") == 3 and again.chunks_written == 0
    assert_store_consistent(library.store)

    # Archive imports switched off: every chunk is embedded, and the shared article is redone.
    every = settings_factory(archive_mb=None, **SMALL_CHUNKS)
    assert library_status(every, library.store)["other_settings"] == 1
    library = make_library(every, embedder)
    redone = library.ingest([archive])
    assert redone.ok and redone.rechunked == 1 and redone.embed_every == 1
    vectors = _vectors(library.store)
    assert len({vectors[f"{seed_id}:{i:04d}"] for i in range(record.chunks)}) > len(range(0, record.chunks, 3))
    assert_store_consistent(library.store)


def test_the_cli_says_when_an_ingest_is_an_archive_import(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / SEED.name).write_bytes(SEED.read_bytes())
    env = {"BRIEF_ARCHIVE_MB": "0.001", "BRIEF_PROGRESS_INTERVAL": "0.01"}
    result = run_cli("ingest", str(archive), home=tmp_path / "home", cwd=tmp_path, extra_env=env)
    assert result.returncode == 0, result.stderr
    assert "; archive import: one chunk in 3 embedded" in result.stdout
    # Progress lines (not a terminal) say it too, from the first one on.
    lines = [line for line in result.stderr.splitlines() if line.startswith("ingest:")]
    assert lines and all("(archive import: one chunk in 3 embedded)" in line for line in lines)

    as_json = run_cli("ingest", "--json", str(archive), home=tmp_path / "home2", cwd=tmp_path, extra_env=env)
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout)["embed_every"] == 3 and json.loads(as_json.stdout)["archive"]
    plain = run_cli("ingest", "--json", str(archive), home=tmp_path / "home3", cwd=tmp_path)
    assert json.loads(plain.stdout)["embed_every"] == 1 and not json.loads(plain.stdout)["archive"]
    # One in three asked for by the settings is no archive import, and is not called one.
    chosen = run_cli(
        "ingest", str(archive), home=tmp_path / "home4", cwd=tmp_path, extra_env={"BRIEF_EMBED_EVERY": "3"}
    )
    assert chosen.returncode == 0, chosen.stderr
    assert "; one chunk in 3 embedded" in chosen.stdout and "archive" not in chosen.stdout


def test_pdf_and_office_files_do_not_count_towards_an_archive_import(
    settings_factory, embedder, pdf_article: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / pdf_article.name).write_bytes(pdf_article.read_bytes())
    limit_mb = (SEED.stat().st_size - 1) / 1_000_000
    assert pdf_article.stat().st_size > limit_mb * 1_000_000  # larger than the limit, yet a few pages
    library = make_library(settings_factory(archive_mb=limit_mb, **SMALL_CHUNKS), embedder)
    report = library.ingest([folder])
    assert report.ok, report.errors
    assert report.count("added") == 1 and report.embed_every == 1 and not report.archive
    # The same limit with a text file beside it: the text's own size decides.
    (folder / SEED.name).write_bytes(SEED.read_bytes())
    both = library.ingest([folder])
    assert both.ok and both.count("added") == 1 and both.embed_every == 3 and both.archive
