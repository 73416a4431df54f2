"""The chromadb.HttpClient path: a real `chroma run` server, and one that is down."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import uuid4

import pytest
from conftest import copy_small_set, free_port, ingest_update_remove_flow, make_library, run_cli

from brief.settings import minilm_name
from brief.store import Store, StoreError

pytestmark = pytest.mark.server


def collection() -> str:
    return f"t{uuid4().hex[:10]}"


def test_flow_against_a_chroma_server(settings_factory, embedder, chroma_server: str, tmp_path: Path) -> None:
    settings = settings_factory(chroma_url=chroma_server, collection=collection())
    ingest_update_remove_flow(settings, embedder, tmp_path / "src")
    store = Store(settings, minilm_name(quantized=True))
    assert store.location == chroma_server
    # Nothing was stored locally: the chunks live on the server.
    assert not (settings.home / "chroma").exists()


def test_cli_against_a_chroma_server(chroma_server: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {"BRIEF_CHROMA_URL": chroma_server, "BRIEF_COLLECTION": collection()}
    folder = copy_small_set(tmp_path / "src")
    first = run_cli("ingest", "--json", str(folder), home=home, cwd=tmp_path, extra_env=env)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert (report["added"], report["unchanged"], report["failed"]) == (3, 0, 0)

    again = json.loads(run_cli("ingest", "--json", str(folder), home=home, cwd=tmp_path, extra_env=env).stdout)
    assert (again["added"], again["unchanged"], again["chunks_written"]) == (0, 3, 0)

    status = json.loads(run_cli("status", "--json", home=home, cwd=tmp_path, extra_env=env).stdout)
    assert (status["store"], status["location"], status["documents"]) == ("server", chroma_server, 3)
    assert status["chunks"] == status["stored_chunks"] == report["chunks_written"]

    docs = json.loads(run_cli("docs", "--json", home=home, cwd=tmp_path, extra_env=env).stdout)
    strike = next(d for d in docs if d["author"] == "Yusra Pell")
    assert (strike["date"], strike["source"]) == ("2024-06-19", "Harbour Gazette")
    removed = run_cli("rm", strike["doc_id"][:8], home=home, cwd=tmp_path, extra_env=env)
    assert removed.returncode == 0, removed.stderr
    status = json.loads(run_cli("status", "--json", home=home, cwd=tmp_path, extra_env=env).stdout)
    assert status["documents"] == 2
    assert status["chunks"] == status["stored_chunks"] == report["chunks_written"] - strike["chunks"]


def test_collections_on_one_server_are_separate(settings_factory, embedder, chroma_server: str, tmp_path: Path) -> None:
    first = make_library(settings_factory(chroma_url=chroma_server, collection=collection()), embedder)
    first.ingest([copy_small_set(tmp_path / "src")])
    other = make_library(
        settings_factory(chroma_url=chroma_server, collection=collection(), home=tmp_path / "other"), embedder
    )
    assert other.documents() == []
    assert other.store.count_chunks() == 0
    assert len(first.documents()) == 3


def test_server_down_raises_store_error(settings_factory) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    settings = settings_factory(chroma_url=url, collection=collection())
    with pytest.raises(StoreError) as info:
        Store(settings, minilm_name(quantized=True))
    message = str(info.value)
    assert url in message
    assert "chroma run" in message and "BRIEF_CHROMA_URL" in message
    assert "\n" not in message


def test_cli_with_server_down_is_one_line(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    folder = copy_small_set(tmp_path / "src")
    env = {"BRIEF_CHROMA_URL": url}
    for args in (["ingest", str(folder)], ["docs"], ["status"]):
        result = run_cli(*args, home=tmp_path / "home", cwd=tmp_path, extra_env=env, timeout=120)
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, (args, result.stderr)
        assert lines[0].startswith("error: ") and url in lines[0], lines[0]
