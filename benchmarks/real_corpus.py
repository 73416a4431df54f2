"""Ingest and first-query figures on a real news corpus (a development-set folder), with the
peak memory of a small slice of the same corpus measured in the same run.

    python benchmarks/real_corpus.py DEV [--first 378] [--before REF] [--json OUT] [--keep-home DIR]
    python benchmarks/real_corpus.py DEV --chroma-server   # the vectors in a `chroma run` server
    python benchmarks/run.py --real DEV          # the same lines inside the main table

DEV is a folder made by ../shared/tools/newsqa_dev.py (DEV/corpus/articles.jsonl, DEV/dev.yaml).
Its texts carry no licence: keep DEV outside the repository. For each tree (this checkout, and
with --before an older commit exported by `git archive`), every step runs in a fresh child
process with its own BRIEF_HOME under a temporary folder:

1. `brief ingest` of the first N articles (default 378) and of the whole corpus: wall time,
   CPU seconds, chunks, chunks/s and peak RSS (the child's ru_maxrss), and the ratio of the
   two peaks (memory that grows with the corpus shows here);
   Beside the peak RSS, the peak of anonymous memory (RssAnon, sampled every 0.2 s): RSS also
   counts the touched pages of the memory-mapped index files, which the kernel can drop;
2. a fresh process over the whole store: the first retrieval (`searcher.search`, k=6, after the
   model is loaded) and the median of the next ten, on the development set's questions;
3. `brief status`, wall time of a fresh process (median of three).

With --chroma-server every ingest writes to its own fresh `chroma run` server (the store users
move to when one machine's memory is not enough): brief's process and the server's peak memory
are then measured apart (the server's VmHWM from /proc).

Nothing here asserts; targets print PASS or MISS.
"""

from __future__ import annotations

import os

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import argparse  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import textwrap  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from chroma_server import ChromaServer  # noqa: E402 - a sibling script (run.py puts this folder on the path)

REPO = Path(__file__).resolve().parents[1]
FIRST_RETRIEVAL_TARGET_MS = 150.0
STATUS_TARGET_S = 0.5
INGEST_TARGET_S = 8 * 60.0  # the 4,295-article Jan-Jun 2023 set on 2 cores
MEMORY_RATIO_TARGET = 1.2

_INGEST_CHILD = textwrap.dedent(
    """
    import json, os, resource, sys, threading, time
    from pathlib import Path
    from brief.library import Library
    # A long ingest runs the model in a child process of its own: memory and CPU count both.
    # ru_maxrss counts the touched pages of memory-mapped index files too, which the kernel
    # can drop at will; the peak of anonymous memory (heap, model, Chroma) is sampled apart,
    # summed over this process and its children.
    peak_anon = [0, 0]  # this process alone, this process and its children together
    # A spawned child's ru_maxrss includes its parent's pages from before its exec; VmHWM is
    # the peak of the child's own memory since then.
    child_hwm = {}
    def status_kb(pid):  # RssAnon and VmHWM of a process in kB, one read (0 once it has ended)
        found = {"RssAnon:": 0, "VmHWM:": 0}
        try:
            for line in open(f"/proc/{pid}/status"):
                key = line.split(maxsplit=1)[0] if line.strip() else ""
                if key in found:
                    found[key] = int(line.split()[1])
        except OSError:
            pass  # the child ended meanwhile
        return found["RssAnon:"], found["VmHWM:"]
    def children():
        pids = set()
        for task in os.listdir("/proc/self/task"):
            try:
                pids.update(open(f"/proc/self/task/{task}/children").read().split())
            except OSError:
                pass
        return pids
    def sample_anon():
        while True:
            mine = status_kb("self")[0]
            total = mine
            for pid in children():
                anon, hwm = status_kb(pid)
                total += anon
                child_hwm[pid] = max(child_hwm.get(pid, 0), hwm)
            peak_anon[0], peak_anon[1] = max(peak_anon[0], mine), max(peak_anon[1], total)
            time.sleep(0.2)
    threading.Thread(target=sample_anon, daemon=True).start()
    started, cpu = time.perf_counter(), time.process_time()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    report = Library().ingest([Path(sys.argv[1])])
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the model's process has ended by now
    child_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    own_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_rss = max(child_hwm.values(), default=0) / 1024
    print(json.dumps({
        "peak_anon_mb": peak_anon[1] / 1024,
        "own_peak_anon_mb": peak_anon[0] / 1024,
        "seconds": seconds,
        "cpu_seconds": time.process_time() - cpu + child_cpu,
        "model_process_cpu_seconds": child_cpu,
        "chunks": report.chunks_written,
        "documents": sum(len(f.doc_ids) for f in report.files),
        "errors": len(report.errors),
        # The two peaks added: an upper bound of the two processes' peak together.
        "peak_rss_mb": own_rss + child_rss,
        "own_peak_rss_mb": own_rss,
        "model_process_peak_rss_mb": child_rss,
    }))
    """
)

_QUERY_CHILD = textwrap.dedent(
    """
    import json, statistics, sys, time
    from brief.library import Library
    questions = json.loads(sys.argv[1])
    started = time.perf_counter()
    library = Library()
    library.embedder.encode(["warm up the model"])  # model load is not retrieval
    ready = time.perf_counter() - started
    timings = []
    for question in questions:
        t = time.perf_counter()
        library.searcher.search(question, 6)
        timings.append((time.perf_counter() - t) * 1000)
    print(json.dumps({"model_ready_s": ready, "first_ms": timings[0], "warm_ms": statistics.median(timings[1:])}))
    """
)


# Settings a run passes on to its children (e.g. the chunk sizes being compared); the rest of
# BRIEF_* is dropped so that the measurement does not depend on the caller's own setup.
_PASSED_ON = (
    "BRIEF_CHUNK_TARGET_TOKENS",
    "BRIEF_CHUNK_MAX_TOKENS",
    "BRIEF_EMBED_MAX_TOKENS",
    "BRIEF_EMBED_READ_ENDS",
    "BRIEF_EMBED_EVERY",
    "BRIEF_ARCHIVE_MB",
    "BRIEF_ARCHIVE_EMBED_EVERY",
    "BRIEF_EMBED_PROCESS_AFTER",
    "BRIEF_CHUNK_SHARD_ROWS",
)


def _env(tree: Path, home: Path, collection: str | None, chroma_url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEF_") or k in _PASSED_ON}
    env.update(BRIEF_HOME=str(home), PYTHONPATH=str(tree), ORT_DISABLE_TELEMETRY="1", ANONYMIZED_TELEMETRY="False")
    if collection:
        env["BRIEF_COLLECTION"] = collection
    if chroma_url:
        env["BRIEF_CHROMA_URL"] = chroma_url
    return env


def child(
    tree: Path,
    script: str,
    args: list[str],
    home: Path,
    cwd: Path,
    collection: str | None = None,
    chroma_url: str | None = None,
) -> dict[str, Any]:
    env = _env(tree, home, collection, chroma_url)
    done = subprocess.run(
        [sys.executable, "-c", script, *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"child failed ({done.returncode}): {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def status_seconds(
    tree: Path, home: Path, cwd: Path, collection: str | None = None, runs: int = 3, chroma_url: str | None = None
) -> float:
    env = _env(tree, home, collection, chroma_url)
    # As an installed package runs: pip writes the bytecode at install time, so a user's command
    # does not compile brief's modules. A sandbox may set PYTHONDONTWRITEBYTECODE, which made
    # every timed run compile them (~0.1-0.15 s); one untimed run writes the bytecode first.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    command = [sys.executable, "-m", "brief.cli", "status"]
    times = []
    for attempt in range(runs + 1):
        started = time.perf_counter()
        subprocess.run(command, cwd=cwd, env=env, capture_output=True, check=True)
        if attempt:  # the first run writes the bytecode
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def first_articles(corpus: Path, count: int, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    with corpus.open("rb") as source, target.open("wb") as out:
        for number, line in enumerate(source):
            if number >= count:
                break
            out.write(line)
    return target


def questions(dev: Path, count: int = 11) -> list[str]:
    import yaml

    items = yaml.safe_load((dev / "dev.yaml").read_text(encoding="utf-8")) or []
    return [q["question"] for q in items if q.get("answerable")][:count]


def eval_home(dev: Path, base: Path) -> tuple[Path, str]:
    """Where `brief eval` (and benchmarks/newsqa.py with --home BASE) keeps the store of DEV's corpus:
    putting the whole-corpus store there lets the quality run reuse it instead of embedding again."""
    import hashlib

    from brief.evaluate import corpus_of
    from brief.settings import Settings

    # The corpus as the question file names it (DEV/corpus/articles.jsonl), as _library_for keys it.
    corpus = corpus_of(dev / "dev.yaml")
    key = hashlib.sha1(f"{corpus}|{Settings(home=base).embedder_name()}".encode()).hexdigest()[:10]
    return base / "eval" / key, "eval"


def measure_tree(
    tree: Path, label: str, dev: Path, first: int, work: Path, keep: Path | None = None, server: bool = False
) -> dict[str, Any]:
    corpus = dev / "corpus" / "articles.jsonl"
    out: dict[str, Any] = {"label": label, "machine": machine()}
    small = first_articles(corpus, first, work / "slice" / "articles.jsonl")
    log(f"[{label}] ingest of the first {first} articles" + (" into a fresh chroma server" if server else ""))
    slice_server = ChromaServer(work / f"{label}-slice-chroma") if server else None
    try:
        url = slice_server.start(120) if slice_server else None
        out["slice"] = child(tree, _INGEST_CHILD, [str(small)], work / f"{label}-slice-home", work, chroma_url=url)
        if slice_server:
            out["slice"]["server_peak_rss_mb"] = slice_server.peak_rss_mb()
    finally:
        if slice_server:
            slice_server.stop()
    log(f"[{label}] ingest of the whole corpus ({corpus.stat().st_size / 1e6:.0f} MB)")
    home, collection = eval_home(dev, keep) if keep and label == "now" else (work / f"{label}-home", None)
    full_server = ChromaServer(work / f"{label}-chroma") if server else None
    try:
        url = full_server.start(120) if full_server else None
        out["full"] = child(tree, _INGEST_CHILD, [str(dev / "corpus")], home, work, collection, url)
        if full_server:
            out["full"]["server_peak_rss_mb"] = full_server.peak_rss_mb()
        out["memory_ratio"] = out["full"]["peak_rss_mb"] / out["slice"]["peak_rss_mb"]
        log(f"[{label}] first retrieval in a fresh process")
        out["query"] = child(tree, _QUERY_CHILD, [json.dumps(questions(dev))], home, work, collection, url)
        out["status_s"] = status_seconds(tree, home, work, collection, chroma_url=url)
    finally:
        if full_server:
            full_server.stop()
    return out


def lines(results: list[dict[str, Any]]) -> list[tuple[str, str, str, bool | None]]:
    """(what, value, target, passed) rows: each tree's figures, targets judged on this checkout's."""
    rows: list[tuple[str, str, str, bool | None]] = []
    for r in results:
        now = r["label"] == "now"
        server = "server_peak_rss_mb" in r["full"]
        full, part, query = r["full"], r["slice"], r["query"]
        rows.append(
            (
                f"real corpus ingest [{r['label']}]",
                f"{full['seconds']:.0f} s wall, {full['cpu_seconds']:.0f} s CPU, {full['chunks']} chunks, "
                f"{full['chunks'] / full['seconds']:.1f} chunks/s",
                f"<= {INGEST_TARGET_S / 60:.0f} min",
                full["seconds"] <= INGEST_TARGET_S if now else None,
            )
        )
        rows.append(
            (
                f"real corpus peak memory [{r['label']}]" + (" (brief; vectors in a server)" if server else ""),
                f"{full['peak_rss_mb']:.0f} MB whole vs {part['peak_rss_mb']:.0f} MB first slice "
                f"({part['chunks']} chunks): {r['memory_ratio']:.2f}x"
                + (
                    f"; anonymous {full['peak_anon_mb']:.0f} vs {part['peak_anon_mb']:.0f} MB: "
                    f"{full['peak_anon_mb'] / part['peak_anon_mb']:.2f}x"
                    if "peak_anon_mb" in full
                    else ""
                )
                + (
                    f" (brief {full['own_peak_rss_mb']:.0f} + model process "
                    f"{full['model_process_peak_rss_mb']:.0f} MB, peaks added)"
                    if full.get("model_process_peak_rss_mb")
                    else ""
                ),
                f"<= {MEMORY_RATIO_TARGET}x",
                r["memory_ratio"] <= MEMORY_RATIO_TARGET if now else None,
            )
        )
        if server:
            rows.append(
                (
                    f"chroma server peak memory [{r['label']}]",
                    f"{full['server_peak_rss_mb']:.0f} MB whole vs {part['server_peak_rss_mb']:.0f} MB first slice",
                    "",
                    None,
                )
            )
        rows.append(
            (
                f"real corpus first retrieval [{r['label']}]",
                f"{query['first_ms']:.0f} ms first, {query['warm_ms']:.0f} ms warm (fresh process, k=6)",
                f"< {FIRST_RETRIEVAL_TARGET_MS:.0f} ms",
                query["first_ms"] < FIRST_RETRIEVAL_TARGET_MS if now else None,
            )
        )
        rows.append(
            (
                f"real corpus brief status [{r['label']}]",
                f"{r['status_s']:.2f} s",
                f"< {STATUS_TARGET_S} s",
                r["status_s"] < STATUS_TARGET_S if now else None,
            )
        )
    return rows


def before_tree(ref: str, target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", ref], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def run(
    dev: Path, first: int, before: str | None, work: Path, keep: Path | None = None, server: bool = False
) -> list[dict[str, Any]]:
    trees = [(REPO, "now")]
    if before:
        trees.append((before_tree(before, work / "before-tree"), f"before {before}"))
    return [measure_tree(tree, label, dev, first, work, keep, server) for tree, label in trees]


def machine() -> str:
    """The CPU and the settings passed on: the same code takes ~20% longer on some 2-core
    machines than on others, so a figure is compared only with one measured on the same."""
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    settings = " ".join(f"{k}={os.environ[k]}" for k in _PASSED_ON if k in os.environ) or "defaults"
    return f"{model or 'unknown CPU'}, {os.cpu_count()} cores; {settings}"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dev", type=Path, help="a development-set folder (corpus/articles.jsonl, dev.yaml)")
    parser.add_argument("--first", type=int, default=378, help="articles in the slice whose peak memory is compared")
    parser.add_argument("--before", help="also measure this git ref (exported with git archive)")
    parser.add_argument("--json", type=Path, help="write every figure as JSON")
    parser.add_argument(
        "--keep-home",
        type=Path,
        help="keep the whole-corpus store where `benchmarks/newsqa.py DEV --home DIR` looks for it",
    )
    parser.add_argument(
        "--chroma-server", action="store_true", help="store the vectors in fresh `chroma run` servers (memory apart)"
    )
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="brief-real-"))
    try:
        keep = args.keep_home.resolve() if args.keep_home else None
        results = run(args.dev.resolve(), args.first, args.before, work, keep, args.chroma_server)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{'machine':45} {results[0]['machine']}")
    for what, value, target, passed in lines(results):
        verdict = "" if passed is None else ("PASS" if passed else "MISS")
        print(f"{what:45} {value:90} {target:12} {verdict}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
