"""A fresh process over a Chroma server store reads the registry's token, the embedder and the
chunk count over plain HTTP (brief.chroma_probe), without importing chromadb, and sees every
write another process makes. Against a real `chroma run` server."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from uuid import uuid4

import pytest
from conftest import copy_small_set, free_port, make_library, run_cli

from brief.chroma_probe import MissingCollection, ServerProbe
from brief.settings import minilm_name
from brief.store import EmbedderMismatch, Store, StoreError

pytestmark = pytest.mark.server

# A question, the chromadb modules loaded afterwards, and the first passage's title.
_ASK_IN_A_FRESH_PROCESS = """
import json, sys
from brief.library import Library
library = Library()
passages = library.searcher.search(sys.argv[1], 3).passages
print(json.dumps({"chromadb": "chromadb" in sys.modules, "title": passages[0].chunk.title if passages else "",
                  "documents": len(library.store.snapshot().documents), "chunks": library.store.stored_chunks()}))
"""


def _collection() -> str:
    return f"p{uuid4().hex[:10]}"


def test_a_fresh_process_answers_from_a_server_store_without_the_chromadb_client(
    chroma_server: str, tmp_path: Path
) -> None:
    home, env = tmp_path / "home", {"BRIEF_CHROMA_URL": chroma_server, "BRIEF_COLLECTION": _collection()}
    folder = copy_small_set(tmp_path / "src")
    ingested = run_cli("ingest", "--json", str(folder), home=home, cwd=tmp_path, extra_env=env)
    assert ingested.returncode == 0, ingested.stderr
    written = json.loads(ingested.stdout)["chunks_written"]

    command = (sys.executable, "-c", _ASK_IN_A_FRESH_PROCESS)
    asked = run_cli("What ended the strike?", home=home, cwd=tmp_path, extra_env=env, command=command)
    assert asked.returncode == 0, asked.stderr
    seen = json.loads(asked.stdout)
    assert seen == {"chromadb": False, "title": seen["title"], "documents": 3, "chunks": written}
    assert "strike" in seen["title"].lower()

    status = run_cli("status", "--json", home=home, cwd=tmp_path, extra_env=env)
    assert json.loads(status.stdout)["stored_chunks"] == written


def test_a_write_by_another_process_is_seen_through_the_probe(
    chroma_server: str, settings_factory, embedder, tmp_path: Path
) -> None:
    name = _collection()
    writer = make_library(settings_factory(chroma_url=chroma_server, collection=name), embedder)
    folder = copy_small_set(tmp_path / "src")
    files = sorted(folder.iterdir())
    assert writer.ingest(files[:1]).ok
    reader = make_library(settings_factory(chroma_url=chroma_server, collection=name, home=tmp_path / "r"), embedder)
    assert reader.store._probe is not None  # the collections exist: the reader probes them
    before = reader.store.generation()
    assert before == writer.store._chroma_generation()  # the probe reads the client's token
    assert len(reader.documents()) == 1

    assert writer.ingest(files[1:]).ok
    assert reader.store.generation() != before
    assert len(reader.documents()) == 3
    assert reader.store.stored_chunks() == writer.store.count_chunks()


def test_a_collection_of_another_embedder_is_refused_by_the_probe(chroma_server: str, settings_factory) -> None:
    settings = settings_factory(chroma_url=chroma_server, collection=_collection())
    Store(settings, minilm_name(quantized=True)).generation()  # makes the collections
    with pytest.raises(EmbedderMismatch):
        Store(settings, minilm_name(quantized=False))


def test_the_probe_says_when_a_collection_is_missing(chroma_server: str) -> None:
    probe = ServerProbe(chroma_server, _collection(), timeout=30)
    try:
        with pytest.raises(MissingCollection):
            probe.generation()
        with pytest.raises(MissingCollection):
            probe.embedder()
    finally:
        probe.close()


def test_a_server_that_is_down_is_one_clear_error_from_the_probe(settings_factory) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(StoreError) as info:
        Store(settings_factory(chroma_url=url, collection=_collection()), minilm_name(quantized=True))
    assert f"cannot connect to the Chroma server at {url}" in str(info.value)
    assert "chroma run" in str(info.value)


def test_the_probe_reconnects_when_the_server_closed_its_kept_alive_connection(tmp_path: Path) -> None:
    # A restarted server (or one that drops idle connections) leaves the probe's kept-alive
    # connection dead: the next read opens a new one instead of failing.
    from test_store_timeouts import _kill, _start_chroma

    data, port = tmp_path / "chroma-data", free_port()
    server = _start_chroma(data, port)
    probe = ServerProbe(f"http://127.0.0.1:{port}", _collection(), timeout=30)
    try:
        with pytest.raises(MissingCollection):
            probe.embedder()  # a request, and the connection is kept
        assert probe._connection is not None
        _kill(server)
        server = _start_chroma(data, port)
        with pytest.raises(MissingCollection):
            probe.embedder()  # answered by the new server, not a connection error
    finally:
        probe.close()
        _kill(server)
