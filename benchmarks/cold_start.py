"""Cold start at scale: what a fresh process pays before its first answer (issue 16, item 5).

    python benchmarks/cold_start.py [--root DIR] [--chunks 66000] [--baseline REF] [--runs 3]

Builds once (kept in --root, reused by later runs) a synthetic store of about --chunks chunks:
`make_corpus.py` articles parsed and chunked by brief, with the hashed stand-in vectors of
`run.py` (embedding 66k chunks with MiniLM takes ~15 min; the timings here do not depend on
what the vectors mean), written through `Store.write_documents` by this checkout, then
`prepare_search()`. Then, for this checkout and for the baseline (a commit exported into a
temporary folder, default `main`), each in fresh processes on the same store:

- first retrieval: `library.searcher.search(question, 6)` once the embedder is loaded, and the
  median of 10 warm ones after it;
- `brief status` wall time (median of --runs processes);
- a one-shot `brief ask` on the sample corpus (`corpus/`) wall time, warm model cache.

The baseline reads the same Chroma collections; its own derived files (the BM25 index) are
built by a warm-up call before anything is timed, as after its own ingest. `measure()` returns
the figures for `benchmarks/run.py`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

import cli_startup  # noqa: E402 - a sibling script: its Tree runs the CLI of a checkout

QUESTION = "What did the central bank say about interest rates and inflation?"
FIRST_RETRIEVAL_TARGET_MS = 150.0
STATUS_TARGET_S = 0.5
ASK_TARGET_S = 1.0
COLLECTION = "coldstart"


def _settings_env(home: Path, collection: str = COLLECTION) -> dict[str, str]:
    return {
        "BRIEF_HOME": str(home),
        "BRIEF_COLLECTION": collection,
        "BRIEF_BACKEND": "extractive",
        "BRIEF_EMBEDDER": "minilm",
    }


def build_store(root: Path, chunks: int) -> Path:
    """The synthetic store (built once; a `built.json` marks it complete)."""
    home = root / "home"
    if (root / "built.json").exists():
        return home
    corpus = root / "corpus"
    if not (corpus / ".manifest.json").exists():
        subprocess.run(
            [sys.executable, str(BENCH / "make_corpus.py"), "--chunks", str(chunks), "--out", str(corpus)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    env = os.environ | {"PYTHONPATH": str(REPO)} | _settings_env(home)
    started = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--child-build", str(corpus)], env=env, check=True)
    (root / "built.json").write_text(json.dumps({"seconds": time.perf_counter() - started}), encoding="utf-8")
    return home


def _child_build(corpus: Path) -> None:
    import run as bench  # the stand-in embedder and corpus preparation of benchmarks/run.py

    from brief.settings import Settings
    from brief.store import Store

    settings = Settings()
    prepared = bench.prepare(corpus, settings, bench.HashedEmbedder())
    store = Store(settings, settings.embedder_name())  # stand-in vectors under MiniLM's name
    with store.write_lock():
        bench.write_store(store, prepared, sample_docs=0, group_chunks=256)
        getattr(store, "prepare_search", store.lexical)()
    print(f"built {store.count_chunks()} chunks", file=sys.stderr)


def _child_first() -> None:
    """In a fresh process: first and warm retrieval, once the embedder is loaded."""
    from brief.library import Library

    library = Library()
    library.embedder.encode(["load the model"])
    started, cpu = time.perf_counter(), time.process_time()
    library.searcher.search(QUESTION, 6)
    first = (time.perf_counter() - started) * 1000
    first_cpu = (time.process_time() - cpu) * 1000  # less sensitive to other processes' load
    warm = []
    for i in range(10):
        started = time.perf_counter()
        library.searcher.search(f"{QUESTION} {i}", 6)
        warm.append((time.perf_counter() - started) * 1000)
    loaded = "chromadb" in sys.modules
    figures = {"first_ms": first, "first_cpu_ms": first_cpu, "warm_ms": statistics.median(warm)}
    print(json.dumps(figures | {"chromadb_loaded": loaded}))


def _run_child(tree: cli_startup.Tree, home: Path, collection: str, flag: str) -> dict[str, Any]:
    env = tree.env(home) | _settings_env(home, collection)
    done = subprocess.run(
        [sys.executable, __file__, flag], env=env, capture_output=True, text=True, timeout=1800, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{tree.label}: {flag} failed: {done.stderr[-800:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _cli_seconds(tree: cli_startup.Tree, home: Path, collection: str, args: list[str], runs: int) -> float:
    env = tree.env(home) | _settings_env(home, collection)

    def once() -> float:
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "brief.cli", *args],
            cwd=tree.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{tree.label}: brief {' '.join(args)} failed: {done.stderr[-800:]}")
        return time.perf_counter() - started

    once()  # warm-up: derived files of this tree built, byte-compiled files, page cache
    return statistics.median(once() for _ in range(runs))


def measure_tree(tree: cli_startup.Tree, home: Path, collection: str, sample_home: Path, runs: int) -> dict[str, Any]:
    # Warm-up: derived files of this tree brought up to date (the baseline builds its BM25 index).
    _run_child(tree, home, collection, "--child-first")
    firsts = [_run_child(tree, home, collection, "--child-first") for _ in range(runs)]
    cli_startup.Tree.run(tree, ["ingest", str(REPO / "corpus"), "-q"], sample_home)
    return {
        "first_retrieval_ms": statistics.median(f["first_ms"] for f in firsts),
        "first_retrieval_cpu_ms": statistics.median(f["first_cpu_ms"] for f in firsts),
        "warm_retrieval_ms": statistics.median(f["warm_ms"] for f in firsts),
        "chromadb_loaded": any(f["chromadb_loaded"] for f in firsts),
        "status_s": _cli_seconds(tree, home, collection, ["status"], runs),
        "ask_s": _cli_seconds(tree, sample_home, "brief", ["ask", cli_startup.QUESTION], runs),
    }


def measure(
    root: Path,
    chunks: int = 66000,
    baseline: str = "main",
    runs: int = 3,
    home: Path | None = None,
    collection: str = COLLECTION,
) -> dict[str, Any]:
    """Figures for this checkout and the baseline ref, on one synthetic store of ~`chunks` (or on
    an existing store: `home` and its `collection`)."""
    root.mkdir(parents=True, exist_ok=True)
    if home is None:
        home, collection = build_store(root, chunks), COLLECTION
    results: dict[str, Any] = {"store_chunks": _count_chunks(home, collection), "load": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory(prefix="brief-coldstart-") as tmp:
        work = Path(tmp)
        (work / "old").mkdir()
        trees = [cli_startup.Tree("now", REPO), cli_startup.baseline_tree(baseline, work / "old")]
        trees[1].label = f"baseline {baseline}"
        for tree in trees:
            sample_home = work / f"sample-{tree.label.split()[0]}"
            results[tree.label] = measure_tree(tree, home, collection, sample_home, runs)
    return results


def _count_chunks(home: Path, collection: str) -> int:
    """Chunks in the store, from its registry (read with this checkout)."""
    env = os.environ | {"PYTHONPATH": str(REPO)} | _settings_env(home, collection)
    script = "from brief.status import library_status as s; from brief.settings import Settings as S; "
    script += "from brief.store import Store; c = S(); print(s(c, Store(c, c.embedder_name()))['chunks'])"
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    return int(done.stdout.strip())


def report(results: dict[str, Any]) -> list[str]:
    (now_label, now), (old_label, old) = [(k, v) for k, v in results.items() if isinstance(v, dict)]
    rows = [
        ("first retrieval (ms)", "first_retrieval_ms", FIRST_RETRIEVAL_TARGET_MS, "{:.0f}"),
        ("first retrieval, CPU time (ms)", "first_retrieval_cpu_ms", None, "{:.0f}"),
        ("warm retrieval (ms)", "warm_retrieval_ms", None, "{:.0f}"),
        ("brief status (s wall)", "status_s", STATUS_TARGET_S, "{:.2f}"),
        ("one-shot brief ask, sample (s wall)", "ask_s", ASK_TARGET_S, "{:.2f}"),
    ]
    lines = [
        f"cold start at ~{results['store_chunks']} chunks ({os.cpu_count()} cores, load {results['load']:.1f})",
    ]
    for label, key, target, fmt in rows:
        verdict = "" if target is None else ("PASS" if now[key] <= target else "MISS")
        goal = "" if target is None else f"target <= {target:g}"
        lines.append(
            f"{label:<38} {fmt.format(now[key]):>7}   {old_label}: {fmt.format(old[key]):>7}   {goal} {verdict}"
        )
    loaded = f"{now_label}: {now['chromadb_loaded']}, {old_label}: {old['chromadb_loaded']}"
    lines.append(f"chromadb imported by a search: {loaded}")
    return lines


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--child-build"]:
        _child_build(Path(argv[1]))
        return 0
    if argv[:1] == ["--child-first"]:
        _child_first()
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(tempfile.gettempdir()) / "brief-coldstart")
    parser.add_argument("--chunks", type=int, default=66000)
    parser.add_argument("--baseline", default="main", help="git ref to compare with")
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per figure (median)")
    parser.add_argument("--home", type=Path, help="measure this existing store instead of building one")
    parser.add_argument("--collection", default=COLLECTION, help="the collection of --home")
    args = parser.parse_args(argv)
    results = measure(args.root, args.chunks, args.baseline, args.runs, args.home, args.collection)
    print("\n".join(report(results)))
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
