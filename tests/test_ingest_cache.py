"""Re-ingesting unchanged files skips parsing, and the shortcut never hides a real change."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import SEED, make_library

import brief.ingest.loaders as loaders


@pytest.fixture
def library(settings_factory, embedder, tmp_path: Path):
    folder = tmp_path / "articles"
    folder.mkdir()
    shutil.copy(SEED, folder / SEED.name)
    lib = make_library(settings_factory(), embedder)
    first = lib.ingest([folder])
    assert first.count("added") == 1
    return lib, folder


def test_unchanged_file_is_not_parsed_again(library, monkeypatch) -> None:
    lib, folder = library

    def refuse(source: loaders.SourceFile):  # any parse now would mean the shortcut did not work
        raise AssertionError(f"parsed {source.path} although its bytes did not change")

    monkeypatch.setattr(loaders.SourceFile, "items", refuse)
    again = lib.ingest([folder])
    assert again.count("unchanged") == 1 and again.chunks_written == 0
    assert again.files[0].doc_ids == [d.doc_id for d in lib.documents()]


def test_changed_bytes_are_parsed(library) -> None:
    lib, folder = library
    path = folder / SEED.name
    path.write_text(path.read_text(encoding="utf-8") + "\nA closing line was added later.\n", encoding="utf-8")
    report = lib.ingest([folder])
    assert report.count("updated") == 1 and report.chunks_written > 0
    assert len(lib.documents()) == 1


def test_cache_hit_is_not_trusted_when_the_document_is_gone(library) -> None:
    lib, folder = library
    (doc,) = lib.documents()
    lib.remove(doc.doc_id)
    report = lib.ingest([folder])  # same bytes, but the article is no longer stored
    assert report.count("added") == 1
    assert [d.doc_id for d in lib.documents()] == [doc.doc_id]


def test_corrupt_cache_file_only_costs_time(library) -> None:
    lib, folder = library
    cache = lib.store.cache_dir / "files.json"
    assert cache.exists()
    cache.write_text("{not json", encoding="utf-8")
    report = lib.ingest([folder])
    assert report.count("unchanged") == 1 and report.ok
