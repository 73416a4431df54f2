"""A long ingest moves MiniLM to a process of its own: same vectors, a clear error if that
process dies, nothing half-written, and the process gone when the ingest ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import SEED, assert_store_consistent, copy_small_set, make_library

from brief.embed_process import EmbeddingProcess, IngestEmbedder
from brief.minilm import EmbeddingError, MiniLM

TEXTS = [
    "The finance ministry said the sanctions would not change its plans.",
    "A rare green comet passed close to the Earth this week.",
    "Egg prices rose again after an outbreak of bird flu.",
    "x",
    "Tornadoes tore through three states overnight, officials said. " * 40,  # longer than read
]


def test_the_model_process_gives_the_same_vectors_as_this_one(embedder) -> None:  # noqa: ANN001
    here = embedder.encode(TEXTS)
    ingest = IngestEmbedder(embedder, after=0)
    try:
        there = ingest.encode(TEXTS)
        assert ingest.in_child
        assert there.dtype == np.float32 and there.shape == (len(TEXTS), 384)
        assert np.array_equal(here, there)  # the same model, the same word pieces: the same bits
        assert np.array_equal(ingest.encode(TEXTS[:2]), here[:2])  # and again, on the same process
    finally:
        ingest.release()
    assert not ingest.in_child


def test_the_model_process_is_built_with_every_setting_of_this_one(tmp_path: Path) -> None:
    model = MiniLM(quantized=False, workers=1, cache_dir=tmp_path, max_tokens=64, read_ends=False)
    args = model.constructor_args()
    assert args == {"quantized": False, "workers": 1, "cache_dir": str(tmp_path), "max_tokens": 64, "read_ends": False}
    assert MiniLM(**args).constructor_args() == args


def test_a_short_ingest_never_starts_a_process(embedder) -> None:  # noqa: ANN001
    ingest = IngestEmbedder(embedder, after=10)
    ingest.encode(TEXTS)  # 5 texts: still under 10
    ingest.encode(TEXTS)  # 10 embedded here by the end of this call
    assert not ingest.in_child and ingest.embedded_here == 10
    ingest.encode(TEXTS[:1])
    assert ingest.in_child  # the 11th text went to the process
    ingest.release()
    never = IngestEmbedder(embedder, after=None)
    for _ in range(3):
        never.encode(TEXTS)
    assert not never.in_child and never.embedded_here == 15


def test_an_ingest_that_cannot_start_the_process_embeds_here(embedder, monkeypatch, tmp_path: Path) -> None:  # noqa: ANN001
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-such-python"))
    ingest = IngestEmbedder(embedder, after=0)
    assert np.array_equal(ingest.encode(TEXTS), embedder.encode(TEXTS))
    assert not ingest.in_child and ingest.after is None and ingest.embedded_here == len(TEXTS)
    ingest.release()


def test_a_killed_model_process_is_a_clear_error_not_a_hang(embedder) -> None:  # noqa: ANN001
    process = EmbeddingProcess(embedder)
    try:
        assert process.encode(TEXTS[:1]).shape == (1, 384)
        os.kill(process.pid, signal.SIGKILL)
        process._process.wait(60)
        with pytest.raises(EmbeddingError, match=r"embedding process stopped \(exit code -9\) while embedding 2"):
            process.encode(TEXTS[:2])
    finally:
        process.close()
    assert not process.alive


def _ingest_home(settings_factory, tmp_path: Path, **overrides):  # noqa: ANN001, ANN202
    folder = copy_small_set(tmp_path / "articles")
    (folder / SEED.name).write_bytes(SEED.read_bytes())
    small = {"chunk_target_tokens": 60, "chunk_max_tokens": 80, "ingest_group_chunks": 8}
    return folder, settings_factory(**small, **overrides)


def _vectors(store) -> dict[str, bytes]:  # noqa: ANN001
    return {cid: np.asarray(v, np.float32).tobytes() for cid, _, _, v in store.iter_chunks(include_vectors=True)}


def test_an_ingest_that_moves_the_model_stores_what_one_that_does_not_would(
    settings_factory, embedder, tmp_path: Path
) -> None:
    folder, moved = _ingest_home(settings_factory, tmp_path, embed_process_after=5, home=tmp_path / "moved")
    library = make_library(moved, embedder)
    report = library.ingest([folder])
    assert report.ok, report.errors
    assert_store_consistent(library.store)
    _, stays = _ingest_home(settings_factory, tmp_path / "b", embed_process_after=None, home=tmp_path / "stays")
    other = make_library(stays, embedder)
    assert other.ingest([folder]).ok
    assert _vectors(library.store) == _vectors(other.store)
    # The moved store answers like the other.
    question = "Are the designated companies' US-based assets frozen?"
    assert [p.chunk.chunk_id for p in library.searcher.search(question, 3).passages] == [
        p.chunk.chunk_id for p in other.searcher.search(question, 3).passages
    ]


def test_a_model_process_killed_mid_ingest_stops_it_cleanly(settings_factory, embedder, tmp_path: Path) -> None:
    folder, settings = _ingest_home(settings_factory, tmp_path, embed_process_after=0)
    library = make_library(settings, embedder)
    calls = []
    original = EmbeddingProcess.encode

    def killed_at_the_third_group(self, texts):  # noqa: ANN001, ANN202
        calls.append(len(texts))
        if len(calls) == 3:  # two groups are stored by now; the child dies before this one
            os.kill(self.pid, signal.SIGKILL)
            self._process.wait(60)
        return original(self, texts)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(EmbeddingProcess, "encode", killed_at_the_third_group)
        with pytest.raises(EmbeddingError, match=r"embedding process stopped \(exit code -9\)"):
            library.ingest([folder])
    assert len(calls) == 3
    # Nothing half-written: what was stored is whole and ready, the rest is not there.
    stored = library.store.documents()
    assert 0 < len(stored) < len(list(folder.iterdir()))
    assert_store_consistent(library.store)
    # The next ingest, with the model in this process, stores everything.
    again = make_library(replace(settings, embed_process_after=None), embedder)
    report = again.ingest([folder])
    assert report.ok, report.errors
    assert_store_consistent(again.store)
    assert len(again.store.documents()) == len(list(folder.iterdir()))


def test_the_model_process_ends_when_its_parent_is_killed(tmp_path: Path) -> None:
    # A parent that starts the model's process, prints its pid, then waits to be killed.
    script = (
        "import sys, time\n"
        "from brief.embed_process import EmbeddingProcess\n"
        "from brief.minilm import MiniLM\n"
        "process = EmbeddingProcess(MiniLM())\n"
        "process.encode(['ready'])\n"
        "print(process.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())  # type: ignore[union-attr]
        assert _alive(child)
        os.kill(parent.pid, signal.SIGKILL)  # the parent alone, not its process group
        parent.wait(60)
        deadline = time.monotonic() + 120  # generous: a busy machine
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(child), "the model process outlived its killed parent"
    finally:
        parent.kill()


def _alive(pid: int) -> bool:
    """Running and not a zombie (an orphan is reaped by init, but not at once)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_script_without_a_main_guard_runs_once(tmp_path: Path) -> None:
    # A user's script that ingests at top level: the model's process must not run it again.
    marker = tmp_path / "runs.txt"
    script = tmp_path / "user_script.py"
    script.write_text(
        "from pathlib import Path\n"
        "from brief.embed_process import IngestEmbedder\n"
        "from brief.minilm import MiniLM\n"
        f"with open({str(marker)!r}, 'a') as f:\n"
        "    f.write('ran\\n')\n"
        "ingest = IngestEmbedder(MiniLM(), after=0)\n"
        "print(ingest.encode(['one text', 'another']).shape, ingest.in_child)\n"
        "ingest.release()\n",
        encoding="utf-8",
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(2, 384) True"
    assert marker.read_text(encoding="utf-8") == "ran\n"
