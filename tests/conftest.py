"""Shared fixtures: isolated settings, one embedder per session, fixture articles, a Chroma server."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from brief.embed import MiniLMEmbedder
from brief.settings import Settings

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
ARTICLES = FIXTURES / "articles"
CORPUS = REPO / "corpus"
SEED = CORPUS / "2024-12-29_new-us-sanctions-will-push-pakistan-toward-china.txt"
PDF_SOURCE = ARTICLES / "pdf_source" / "aldermoor-solar-factory.html"
PDF_KEY = "pdf_source/aldermoor-solar-factory.html"


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's BRIEF_* variables or a brief.toml in the working folder."""
    for name in list(os.environ):
        if name.startswith("BRIEF_") or name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ORT_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "False")
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def settings_factory(tmp_path: Path) -> Callable[..., Settings]:
    """Settings with their own BRIEF_HOME under tmp_path; keyword arguments override fields."""

    def make(**overrides: Any) -> Settings:
        overrides.setdefault("home", tmp_path / "home")
        return Settings(**overrides)

    return make


@pytest.fixture(scope="session")
def embedder() -> MiniLMEmbedder:
    model = MiniLMEmbedder()
    model.encode(["warm up"])  # load the ONNX session once for the whole run
    return model


@pytest.fixture(scope="session")
def fixture_articles() -> Path:
    return ARTICLES


@pytest.fixture(scope="session")
def expected() -> dict[str, dict[str, Any]]:
    return json.loads((ARTICLES.parent / "expected_articles.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def pdf_article(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pdf_source article rendered to a real PDF with WeasyPrint."""
    try:
        import weasyprint
    except ImportError as exc:  # the test install includes the [report] extra
        pytest.fail(f"weasyprint is needed to render the PDF fixture: {exc}")
    out = tmp_path_factory.mktemp("pdf") / "aldermoor-solar-factory.pdf"
    weasyprint.HTML(filename=str(PDF_SOURCE)).write_pdf(str(out))
    assert out.read_bytes().startswith(b"%PDF")
    return out


@pytest.fixture
def article_dir(tmp_path: Path, pdf_article: Path) -> Path:
    """A private copy of every fixture article, the rendered PDF and the seed article."""
    dest = tmp_path / "articles"
    dest.mkdir()
    for path in ARTICLES.iterdir():
        if path.is_file():
            (dest / path.name).write_bytes(path.read_bytes())
    (dest / pdf_article.name).write_bytes(pdf_article.read_bytes())
    (dest / SEED.name).write_bytes(SEED.read_bytes())
    return dest


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `chroma run` on a free loopback port for the session; yields its URL."""
    chroma = Path(sys.executable).parent / "chroma"
    if not chroma.exists():
        pytest.fail(f"the chroma executable is missing at {chroma} (chromadb is a dependency)")
    data = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    log = (data / "server.log").open("wb")
    env = dict(os.environ, ANONYMIZED_TELEMETRY="False")
    process = subprocess.Popen(
        [str(chroma), "run", "--path", str(data / "db"), "--port", str(port), "--host", "127.0.0.1"],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
        start_new_session=True,  # its own process group, so it can be stopped as a whole
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                log.flush()
                output = (data / "server.log").read_text(errors="replace")[-2000:]
                pytest.fail(f"chroma run exited with code {process.returncode}:\n{output}")
            try:
                with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2) as response:
                    if response.status == 200 and "heartbeat" in response.read().decode():
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"chroma run did not answer on {url}/api/v2/heartbeat within 60 s")
            time.sleep(0.2)
        yield url
    finally:
        _stop_group(process)
        log.close()


def _stop_group(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)
    except ProcessLookupError:
        pass


def run_cli(
    *args: str,
    home: Path,
    cwd: Path,
    extra_env: dict[str, str] | None = None,
    timeout: float = 180,
    command: tuple[str, ...] = (sys.executable, "-m", "brief.cli"),
) -> subprocess.CompletedProcess[str]:
    """`python -m brief.cli ARGS` (or another command) in a subprocess with its own BRIEF_HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEF_")}
    env.update(
        BRIEF_HOME=str(home),
        ORT_DISABLE_TELEMETRY="1",
        ANONYMIZED_TELEMETRY="False",
        # A slow ingest on a busy machine would print progress lines among the lines these tests
        # read; tests/test_ingest_progress.py sets its own interval to test them.
        BRIEF_PROGRESS_INTERVAL="3600",
    )
    env.pop("OPENAI_API_KEY", None)
    env.pop("OPENAI_BASE_URL", None)
    env.update(extra_env or {})
    return subprocess.run(
        [*command, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


# ----- shared checks for the ingest tests (embedded store and Chroma server) ---------------------


def make_library(settings: Settings, embedder: MiniLMEmbedder) -> Any:
    """A Library on these settings that reuses the session's loaded embedder."""
    from brief.library import Library

    library = Library(settings)
    library.embedder = embedder  # a cached_property: the instance attribute takes its place
    return library


def assert_store_consistent(store: Any) -> None:
    """Only ready documents; every chunk belongs to one, once; counts and the BM25 index agree."""
    docs = store.documents()
    assert set(store.document_statuses().values()) <= {"ready"}
    rows = list(store.iter_chunks())
    ids = [chunk_id for chunk_id, _, _, _ in rows]
    assert len(ids) == len(set(ids)), "duplicate chunk ids"
    assert store.count_chunks() == len(ids) == sum(d.chunks for d in docs.values())
    per_doc: dict[str, int] = {}
    for chunk_id, _, meta, _ in rows:
        per_doc[meta["doc_id"]] = per_doc.get(meta["doc_id"], 0) + 1
        assert chunk_id.startswith(f"{meta['doc_id']}:")
    assert per_doc == {doc_id: record.chunks for doc_id, record in docs.items() if record.chunks}
    assert sorted(store.lexical().chunk_ids) == sorted(ids)
    assert_saved_index_current(store, ids)


def assert_saved_index_current(store: Any, chunk_ids: list[str]) -> None:
    """The local search index saved by the last write is already in step: a new process finds no
    document missing from it (nothing to fetch from Chroma), and exactly these chunks live."""
    from brief.search_index import IndexFolder

    (folder,) = [p.parent for p in (store.settings.home / "index").glob("*/manifest.json")]
    snapshot = store.snapshot()
    saved = IndexFolder(folder).open(snapshot.searchable, snapshot.fingerprint)
    assert saved.missing == [] and saved.fingerprint == store.fingerprint()
    assert sorted(saved.chunk_ids) == sorted(chunk_ids)


def copy_small_set(dest: Path) -> Path:
    """Three short articles (md, txt, html) in a folder of their own."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("port-strike-ends.md", "port-calloway-strike-begins.txt", "orrin-delta-farmers.html"):
        (dest / name).write_bytes((ARTICLES / name).read_bytes())
    return dest


def ingest_update_remove_flow(settings: Settings, embedder: MiniLMEmbedder, folder: Path) -> None:
    """Ingest, re-ingest, update, list and remove on one store; checks every step."""
    from brief.ingestion import path_key

    copy_small_set(folder)
    library = make_library(settings, embedder)
    report = library.ingest([folder])
    assert report.ok, report.errors
    assert (report.count("added"), report.count("updated"), report.count("unchanged")) == (3, 0, 0)
    docs = {d.doc_id: d for d in library.documents()}
    assert sorted(d.title for d in docs.values()) == [
        "Dockworkers Walk Out at Port Calloway Over Pay and Automation",
        "Orrin Delta Farmers Count Losses as River Falls to Record Low",
        "Port Calloway Strike Ends After 17 Days With 9 Percent Pay Deal",
    ]
    assert report.chunks_written == sum(d.chunks for d in docs.values()) > 0
    assert_store_consistent(library.store)
    chunk_ids = sorted(cid for cid, _, _, _ in library.store.iter_chunks())

    again = library.ingest([folder])
    assert (again.count("added"), again.count("updated"), again.count("unchanged")) == (0, 0, 3)
    assert again.chunks_written == 0
    assert {d.doc_id for d in library.documents()} == set(docs)
    assert sorted(cid for cid, _, _, _ in library.store.iter_chunks()) == chunk_ids

    changed = folder / "port-strike-ends.md"
    old_id = next(d for d, r in docs.items() if path_key(changed) in r.paths)
    changed.write_text(
        changed.read_text(encoding="utf-8")
        + "\nThe port authority said on Friday that the last waiting ship had berthed.\n",
        encoding="utf-8",
    )
    updated = library.ingest([folder])
    assert (updated.count("added"), updated.count("updated"), updated.count("unchanged")) == (0, 1, 2)
    outcome = next(f for f in updated.files if f.path == str(changed))
    assert outcome.status == "updated"
    (new_id,) = outcome.doc_ids
    assert new_id != old_id
    assert library.store.chunk_ids_of(old_id) == []
    new_docs = {d.doc_id: d for d in library.documents()}
    assert set(new_docs) == (set(docs) - {old_id}) | {new_id}
    assert len(library.store.chunk_ids_of(new_id)) == new_docs[new_id].chunks == outcome.chunks
    texts = [c.text for c in library.store.get_chunks(library.store.chunk_ids_of(new_id))]
    assert any("the last waiting ship had berthed" in t for t in texts)
    # The lexical side finds the new sentence, and only in the new version.
    hits = library.store.lexical().search("last waiting ship berthed", 3)
    assert hits and hits[0][0].startswith(f"{new_id}:")
    assert not any(chunk_id.startswith(f"{old_id}:") for chunk_id, _ in hits)
    assert_store_consistent(library.store)

    removed = library.remove(new_id[:8])
    assert removed.doc_id == new_id
    assert new_id not in {d.doc_id for d in library.documents()}
    assert library.store.chunk_ids_of(new_id) == []
    assert_store_consistent(library.store)
    status = library.status()
    assert status["documents"] == 2
    assert status["chunks"] == status["stored_chunks"] == library.store.count_chunks()


def clean_settings(home: Path, workdir: Path) -> Settings:
    """Settings that read no developer BRIEF_* variables and no brief.toml (for module-scoped
    fixtures, which run before the autouse isolation fixture)."""
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith("BRIEF_") or name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
                mp.delenv(name)
        workdir.mkdir(parents=True, exist_ok=True)
        mp.chdir(workdir)
        return Settings(home=home)
