"""brief's benchmarks, with their baselines measured in the same run; prints one table.

    python benchmarks/run.py [--quick] [--json FILE] [--sizes 1000,10000,100000]

What is measured (details and formulas in benchmarks/README.md):

* ingest: brief's first ingest of a synthetic corpus vs a naive LangChain baseline
  (RecursiveCharacterTextSplitter 1000/100 + langchain_chroma.Chroma.add_documents, one
  file at a time, files read as plain text), both embedding with brief's MiniLMEmbedder;
  chunks/s, articles/s and the peak RSS of each run (every ingest runs in its own child
  process, so ru_maxrss is per run); then brief's re-ingest of the unchanged corpus.
* embedding: MiniLMEmbedder.encode on chunks of ~200 word pieces: chunks/s and achieved
  GFLOP/s, next to a float32 numpy matmul roofline measured in the same run.
* query latency: HybridSearcher.search p50/p95 per corpus size and Library.ask
  (extractive) p50, in the embedded store and against a real `chroma run` server.
  Sizes above --real-max chunks are built with a hashed stand-in embedder (see
  HashedEmbedder) written through brief's Store API; queries then pay the real MiniLM
  query-encoding cost on top of the stand-in vector, so latencies stay realistic.

Nothing here asserts: every line prints a number, and PASS/MISS where there is a target.
"""

from __future__ import annotations

import os

# Before any import that could load onnxruntime or chromadb.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"
os.environ["ANONYMIZED_TELEMETRY"] = "False"
for _name in [n for n in os.environ if n.startswith("BRIEF_")]:
    del os.environ[_name]  # a benchmark must not pick up the developer's store or settings

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import zlib  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import make_corpus  # noqa: E402
from chroma_server import ChromaServer  # noqa: E402

# ----- targets ----------------------------------------------------------------------------------

INGEST_TARGET = 2.0  # x the naive baseline's throughput, in chunks/s and in articles/s
REINGEST_TARGET = 50.0  # x faster than the first ingest
RETRIEVE_P50_TARGET_MS = 50.0  # stated for 100k chunks; shown for every size
ANSWER_P50_TARGET_MS = 1000.0  # stated for 10k chunks

# all-MiniLM-L6-v2 shape, for the FLOP estimate.
LAYERS, HIDDEN, INTERMEDIATE = 6, 384, 1536


def minilm_flops(tokens: int) -> float:
    """Multiply-adds x2 of one forward pass over a sequence of `tokens` word pieces.

    Per layer and token: Q, K, V and output projections 4*d*d, feed-forward 2*d*di
    (2 FLOPs per multiply-add), plus attention scores and the weighted sum of values,
    2*2*L*d. Embedding lookup, layer norms, softmax, GELU and pooling are left out (<2%).
    """
    per_token_per_layer = 2 * (4 * HIDDEN * HIDDEN + 2 * HIDDEN * INTERMEDIATE) + 2 * 2 * tokens * HIDDEN
    return float(LAYERS * tokens * per_token_per_layer)


# ----- the stand-in embedder ----------------------------------------------------------------------

_TOKEN = re.compile(r"[a-z0-9]+")


class HashedEmbedder:
    """A cheap deterministic stand-in for MiniLM: a random projection of bag-of-words.

    Each distinct lower-cased word (stopwords dropped) gets a fixed Gaussian 384-d vector
    seeded by its CRC32; a text's vector is the sum over its words, unit-normalised. Texts
    sharing words get similar vectors, so dense search still returns sensible neighbours.

    `charge`: an embedder whose encode() is also run (its result discarded), so that
    query-time latency includes the real model's query-encoding cost.
    """

    name = "standin:hashed-bow-rp-384"
    dim = 384

    def __init__(self, charge: Any | None = None, batch: int = 128) -> None:
        from brief.text import STOPWORDS

        self.charge = charge
        self.batch = batch
        self._stop = STOPWORDS
        self._ids: dict[str, int] = {}
        self._pending: list[np.ndarray] = []
        self._matrix = np.zeros((0, self.dim), np.float32)

    def _new_id(self, word: str) -> int:
        index = self._ids[word] = len(self._ids)
        rng = np.random.default_rng(zlib.crc32(word.encode()))
        self._pending.append(rng.standard_normal(self.dim, dtype=np.float32))
        return index

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if self.charge is not None:
            self.charge.encode(list(texts))
        out = np.zeros((len(texts), self.dim), np.float32)
        ids, stop = self._ids, self._stop
        for first in range(0, len(texts), self.batch):
            flat: list[int] = []
            starts: list[int] = []
            rows: list[int] = []
            for j, text in enumerate(texts[first : first + self.batch]):
                words = [w for w in _TOKEN.findall(text.lower()) if w not in stop]
                if not words:
                    continue
                starts.append(len(flat))
                rows.append(first + j)
                flat.extend([ids[w] if w in ids else self._new_id(w) for w in words])
            if not flat:
                continue
            if self._pending:
                self._matrix = np.vstack([self._matrix, np.asarray(self._pending)])
                self._pending = []
            out[rows] = np.add.reduceat(self._matrix[np.asarray(flat)], np.asarray(starts), axis=0)
        return out / np.clip(np.linalg.norm(out, axis=1, keepdims=True), 1e-12, None)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()


class PlainMiniLM:
    """The same bundled model file run the usual way, for the naive baseline.

    One onnxruntime session with default options (all cores), texts embedded in batches of
    32 in the order given, each batch padded to its longest text: what Chroma's own
    ONNXMiniLM_L6_V2 embedding function does. It shares brief's tokenizer file (the model
    package ships none), so both sides read exactly the same word pieces.
    """

    name = "plain:all-MiniLM-L6-v2-int8"
    dim = 384
    batch_size = 32

    def __init__(self) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        from brief.embed import MINILM_MAX_TOKENS, MINILM_TOKENIZER
        from brief.onnx_model import bundled_minilm_path

        self._tokenizer = Tokenizer.from_file(str(MINILM_TOKENIZER))
        self._tokenizer.enable_truncation(MINILM_MAX_TOKENS)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self._session = ort.InferenceSession(str(bundled_minilm_path()), providers=["CPUExecutionProvider"])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        for start in range(0, len(texts), self.batch_size):
            encodings = self._tokenizer.encode_batch(list(texts[start : start + self.batch_size]))
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = self._session.run(None, feeds)[0]
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            out[start : start + len(texts[start : start + self.batch_size])] = pooled
        return out / np.clip(np.linalg.norm(out, axis=1, keepdims=True), 1e-12, None)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()


# ----- small helpers ----------------------------------------------------------------------------------


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def current_rss_mb() -> float:
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return float("nan")


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if values else float("nan")


def make_settings(home: Path, **extra: Any) -> Any:
    from brief.settings import Settings

    fields: dict[str, Any] = dict(home=home, collection="bench", backend="extractive", embedder="minilm")
    fields.update(extra)
    return Settings(**fields)


@dataclass
class Row:
    name: str
    value: str
    target: str = ""
    status: str = ""  # PASS | MISS | "" (no target)


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def add(self, name: str, value: str, target: str = "", passed: bool | None = None) -> None:
        status = "" if passed is None else ("PASS" if passed else "MISS")
        self.rows.append(Row(name, value, target, status))
        log(f"{name}: {value}" + (f"  [{target}: {status}]" if target else ""))

    def table(self) -> str:
        if not self.rows:
            return "(no results)"
        headers = ("benchmark", "result", "target", "")
        widths = [
            max(len(headers[0]), *(len(r.name) for r in self.rows)),
            max(len(headers[1]), *(len(r.value) for r in self.rows)),
            max(len(headers[2]), *(len(r.target) for r in self.rows)),
        ]
        lines = [
            f"{headers[0]:<{widths[0]}}  {headers[1]:<{widths[1]}}  {headers[2]:<{widths[2]}}  status",
            "-" * (sum(widths) + 12),
        ]
        for r in self.rows:
            lines.append(f"{r.name:<{widths[0]}}  {r.value:<{widths[1]}}  {r.target:<{widths[2]}}  {r.status}".rstrip())
        return "\n".join(lines)


# ----- child processes: one ingest each, so that ru_maxrss is that run's peak -----------------------


def child_main(argv: list[str]) -> int:
    """`run.py _child KIND HOME CORPUS`: one ingest; prints one JSON line of measurements."""
    kind, home, corpus = argv[0], Path(argv[1]), Path(argv[2])
    from brief.embed import MiniLMEmbedder
    from brief.ingest.loaders import find_files

    # "baseline": the model run the usual way; "baseline-brief-embedder": the same naive
    # pipeline with brief's embedder, which isolates what brief's pipeline itself adds.
    embedder: Any = PlainMiniLM() if kind == "baseline" else MiniLMEmbedder()
    embedder.encode(["warm up the model"])  # model load is not ingest work, for either side
    files = list(find_files([corpus]))
    out: dict[str, Any] = {"kind": kind, "files": len(files)}
    if kind in ("brief", "brief-again"):
        from brief.library import Library

        library = Library(make_settings(home))
        library.embedder = embedder
        _ = library.store  # open the Chroma client and collections outside the timing
        out["rss_before_mb"] = current_rss_mb()
        cpu, started = cpu_seconds(), time.perf_counter()
        report = library.ingest([corpus])
        out["seconds"] = time.perf_counter() - started
        out["cpu_seconds"] = cpu_seconds() - cpu
        out["chunks"] = report.chunks_written
        out["added"] = report.count("added")
        out["unchanged"] = report.count("unchanged")
        out["failed"] = report.count("failed") + report.count("partial")
        out["articles"] = len(library.store.documents())
    elif kind in ("baseline", "baseline-brief-embedder"):
        from chromadb.config import Settings as ChromaSettings
        from langchain_chroma import Chroma
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=100)
        store = Chroma(
            collection_name="baseline",
            embedding_function=embedder,
            persist_directory=str(home / "chroma"),
            client_settings=ChromaSettings(anonymized_telemetry=False, is_persistent=True),
            collection_metadata={"hnsw:space": "cosine"},
        )
        out["rss_before_mb"] = current_rss_mb()
        cpu, started = cpu_seconds(), time.perf_counter()
        chunks = 0
        for path in files:
            text = path.read_text(encoding="utf-8", errors="replace")
            docs = splitter.create_documents([text], metadatas=[{"source": str(path)}])
            if docs:
                store.add_documents(docs)
            chunks += len(docs)
        out["seconds"] = time.perf_counter() - started
        out["cpu_seconds"] = cpu_seconds() - cpu
        out["chunks"] = chunks
        out["stored"] = store._collection.count()
    else:
        raise SystemExit(f"unknown child kind {kind}")
    out["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(out))
    return 0


class Children:
    """Runs child processes; kills any still running when the benchmark is interrupted."""

    def __init__(self) -> None:
        self.running: list[subprocess.Popen] = []

    def run(self, kind: str, home: Path, corpus: Path, cwd: Path, timeout: float) -> dict[str, Any]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEF_")}
        env.update(BRIEF_HOME=str(home), ORT_DISABLE_TELEMETRY="1", ANONYMIZED_TELEMETRY="False")
        # Every chunk embedded on both sides, as the baseline does: an archive import's sharing
        # is measured on real news (real_corpus.py), where its quality is known.
        env["BRIEF_ARCHIVE_MB"] = ""
        process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "_child", kind, str(home), str(corpus)],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        self.running.append(process)
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            self.running.remove(process)
        if process.returncode != 0:
            raise RuntimeError(f"ingest child '{kind}' failed ({process.returncode}):\n{stderr[-3000:]}")
        return json.loads(stdout.strip().splitlines()[-1])

    def kill_all(self) -> None:
        for process in list(self.running):
            if process.poll() is None:
                process.kill()


# ----- chroma server ----------------------------------------------------------------------------------


# ----- corpus preparation for stand-in stores ------------------------------------------------------


@dataclass
class Prepared:
    """A corpus parsed and chunked by brief (no embedding), with stand-in vectors."""

    docs: list[tuple[Any, list[Any]]]  # (DocumentRecord, chunks)
    vectors: np.ndarray
    chunks: int
    parse_seconds: float
    embed_seconds: float


def prepare(corpus: Path, settings: Any, standin: HashedEmbedder) -> Prepared:
    from brief.ingest.chunking import ChunkingOptions, chunk_article
    from brief.ingest.loaders import find_files, load_file
    from brief.ingestion import _record_for, document_id, embedding_text, path_key

    options = ChunkingOptions(settings.chunk_target_tokens, settings.chunk_max_tokens, settings.chunk_overlap_sentences)
    started = time.perf_counter()
    docs = []
    seen: set[str] = set()
    for path in find_files([corpus]):
        for article in load_file(path).articles:
            doc_id = document_id(article)
            if doc_id in seen:
                continue
            seen.add(doc_id)
            chunks = chunk_article(article, doc_id, options)
            docs.append((_record_for(article, doc_id, path_key(path), len(chunks)), chunks))
    parse_seconds = time.perf_counter() - started
    started = time.perf_counter()
    vectors = standin.encode([embedding_text(c) for _, chunks in docs for c in chunks])
    return Prepared(docs, vectors, len(vectors), parse_seconds, time.perf_counter() - started)


def write_store(
    store: Any, prepared: Prepared, group_chunks: int = 2000, sample_docs: int = 30, limit_chunks: int = 0
) -> dict[str, float]:
    """Write a prepared corpus with brief's `Store.write_documents`, then bring `store.lexical()`
    up to date (a full build: the store starts empty).

    The first `sample_docs` documents are written one per call and timed: the cost of a flush
    that holds a single document. The rest go in groups of ~group_chunks chunks, as brief's
    Ingestor flushes them (it groups ~128 chunks, which it embeds together).
    `limit_chunks` (>0) stops after about that many chunks.
    """
    t = {"sample": 0.0, "grouped": 0.0, "grouped_docs": 0}
    docs = prepared.docs
    offset = 0
    sampled = 0
    for record, chunks in docs[:sample_docs]:
        if limit_chunks and offset >= limit_chunks:
            break
        started = time.perf_counter()
        store.write_documents([(record, chunks, prepared.vectors[offset : offset + len(chunks)])])
        t["sample"] += time.perf_counter() - started
        offset += len(chunks)
        sampled += 1
    t["sample_docs"] = sampled
    t["sample_chunks"] = offset

    group: list[tuple[Any, list[Any], np.ndarray]] = []
    count = 0

    def flush() -> None:
        nonlocal count
        if group:
            started = time.perf_counter()
            store.write_documents(group)
            t["grouped"] += time.perf_counter() - started
            t["grouped_docs"] += len(group)
            group.clear()
            count = 0

    for record, chunks in docs[sampled:]:
        if limit_chunks and offset >= limit_chunks:
            break
        group.append((record, chunks, prepared.vectors[offset : offset + len(chunks)]))
        offset += len(chunks)
        count += len(chunks)
        if count >= group_chunks:
            flush()
    flush()
    t["chunks_written"] = offset
    started = time.perf_counter()
    store.lexical()
    t["lexical"] = time.perf_counter() - started
    return t


def build_info(prepared: Prepared, t: dict[str, float], total: float) -> dict[str, float]:
    sampled, grouped = int(t["sample_docs"]), int(t["grouped_docs"])
    return {
        "chunks": int(t["chunks_written"]),
        "documents": len(prepared.docs),
        "parse_chunk_seconds": prepared.parse_seconds,
        "standin_embed_seconds": prepared.embed_seconds,
        "store_write_seconds": total,
        "sample_docs": sampled,
        "single_document_write_ms": 1000 * t["sample"] / sampled if sampled else float("nan"),
        "grouped_write_ms_per_doc": 1000 * t["grouped"] / grouped if grouped else float("nan"),
        "write_chunks_per_s": t["chunks_written"] / max(t["grouped"] + t["sample"], 1e-9),
        "build_lexical_seconds": t["lexical"],
    }


def describe_build(info: dict[str, float]) -> str:
    return (
        f"write_documents: one document per call {info['single_document_write_ms']:.1f} ms "
        f"({info['sample_docs']} docs), in groups of ~2000 chunks {info['grouped_write_ms_per_doc']:.2f} ms/doc, "
        f"{info['write_chunks_per_s']:.0f} chunks/s; BM25 index built in {info['build_lexical_seconds']:.1f} s"
    )


# ----- query measurements ----------------------------------------------------------------------------


def time_calls(func: Callable[[str], Any], queries: list[str], warmup: int = 3) -> list[float]:
    for q in queries[:warmup]:
        func(q)
    times = []
    for q in queries:
        started = time.perf_counter()
        func(q)
        times.append((time.perf_counter() - started) * 1000.0)
    return times


def measure_retrieval(library: Any, queries: list[str]) -> dict[str, float]:
    k = library.settings.top_k
    times = time_calls(lambda q: library.searcher.search(q, k), queries)
    store = library.store
    # Fixed costs a search pays before any ranking (HybridSearcher._search_one): the registry
    # view (Store.snapshot() where brief has it, else Store.documents()), the check that the
    # BM25 index is current (Store.lexical()), and the query embedding.
    registry = store.snapshot if hasattr(store, "snapshot") else store.documents
    overhead = {
        "registry": time_calls(lambda _q: registry(), ["x"] * 7, warmup=1),
        "lexical": time_calls(lambda _q: store.lexical(), ["x"] * 7, warmup=1),
        "query_encode": time_calls(lambda q: library.searcher.embedder.encode([q]), queries[:10], warmup=1),
    }
    return {
        "p50": percentile(times, 50),
        "p95": percentile(times, 95),
        "n": len(times),
        "overhead_p50_ms": {key: percentile(v, 50) for key, v in overhead.items()},
    }


def describe_overhead(stats: dict[str, Any]) -> str:
    o = stats["overhead_p50_ms"]
    return (
        f"fixed costs: query encode {o['query_encode']:.1f}, registry read {o['registry']:.1f}, "
        f"store.lexical() {o['lexical']:.1f} ms"
    )


def measure_answers(library: Any, queries: list[str]) -> dict[str, Any]:
    """Library.ask wall time; the first question is asked once untimed (loads the judge model)."""
    parts: dict[str, list[float]] = {}
    declined = 0
    library.ask(queries[0], backend="extractive")
    times = []
    for q in queries[1:]:
        started = time.perf_counter()
        answer = library.ask(q, backend="extractive")
        times.append((time.perf_counter() - started) * 1000.0)
        declined += int(answer.declined)
        for key, value in answer.timings_ms.items():
            parts.setdefault(key, []).append(value)
    return {
        "p50": percentile(times, 50),
        "p95": percentile(times, 95),
        "n": len(times),
        "declined": declined,
        "parts_p50": {k: round(percentile(v, 50), 1) for k, v in parts.items()},
    }


# ----- the benchmark -------------------------------------------------------------------------------


@dataclass
class Plan:
    quick: bool
    sizes: list[int]
    ingest_chunks: int
    ingest_repeats: int
    only: tuple[str, ...]
    real_max: int
    embed_n: int
    queries: int
    answers: int
    answer_size: int
    server_size: int  # 0: no server
    server_limit_chunks: int  # 0: the whole store of that size
    real: Path | None = None  # a development-set folder for the real-corpus lines
    real_before: str | None = None  # and an older commit measured on it in the same run


def fmt_size(n: int) -> str:
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


class Bench:
    def __init__(self, plan: Plan, root: Path) -> None:
        self.plan = plan
        self.root = root
        self.results = Results()
        self.children = Children()
        self.server = ChromaServer(root / "server")
        self._minilm: Any = None
        self._ingest_home: Path | None = None
        self._ingest_corpus_chunks = 0

    def tmp(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def minilm(self) -> Any:
        if self._minilm is None:
            from brief.embed import MiniLMEmbedder

            self._minilm = MiniLMEmbedder()
            self._minilm.encode(["warm up"])
        return self._minilm

    def corpus(self, chunks: int) -> tuple[Path, dict[str, Any]]:
        out = self.root / f"corpus-{chunks}"
        if not (out / ".manifest.json").exists():
            info = make_corpus.make_corpus(out, chunks)
            log(
                f"corpus {fmt_size(chunks)}: {info.articles} articles, {info.files} files, "
                f"{info.words:,} words in {info.seconds:.1f} s"
            )
        return out, json.loads((out / ".manifest.json").read_text())

    # ----- ingest ---------------------------------------------------------------------------------

    def ingest(self) -> None:
        r, d = self.results, self.results.data
        n = self.plan.ingest_chunks
        corpus, manifest = self.corpus(n)
        articles = manifest["articles"]
        cwd = self.tmp("cwd")
        timeout = 3600
        # brief and the baseline alternate, each run in a fresh store; the fastest run of each
        # counts, so that a burst of load from other processes does not decide the comparison.
        runs: list[tuple[Path, dict[str, Any]]] = []
        bases: list[dict[str, Any]] = []
        pipes: list[dict[str, Any]] = []
        agains: list[dict[str, Any]] = []
        for rep in range(self.plan.ingest_repeats):
            home = self.tmp(f"home-ingest-{n}-{rep}")
            log(f"ingest: brief, first ingest of the {n}-chunk corpus ({articles} articles), run {rep + 1}")
            runs.append((home, self.children.run("brief", home, corpus, cwd, timeout)))
            log("ingest: brief, re-ingest of the unchanged corpus")
            agains.append(self.children.run("brief-again", home, corpus, cwd, timeout))
            log(f"ingest: LangChain baseline, run {rep + 1}")
            bases.append(self.children.run("baseline", self.tmp(f"home-baseline-{n}-{rep}"), corpus, cwd, timeout))
            log(f"ingest: LangChain baseline with brief's embedder, run {rep + 1}")
            pipes.append(
                self.children.run("baseline-brief-embedder", self.tmp(f"home-pipe-{n}-{rep}"), corpus, cwd, timeout)
            )
        home, first = min(runs, key=lambda hr: hr[1]["seconds"])
        base = min(bases, key=lambda b: b["seconds"])
        pipe = min(pipes, key=lambda b: b["seconds"])
        again = min(agains, key=lambda a: a["seconds"])
        groups = {"first": [v for _, v in runs], "base": bases, "pipe": pipes, "again": agains}
        for key, value in (("first", first), ("base", base), ("pipe", pipe), ("again", again)):
            value["peak_rss_mb"] = max(x["peak_rss_mb"] for x in groups[key])
        d["ingest_runs_seconds"] = {
            "brief": [v["seconds"] for _, v in runs],
            "baseline": [b["seconds"] for b in bases],
            "baseline_brief_embedder": [b["seconds"] for b in pipes],
            "reingest": [a["seconds"] for a in agains],
        }
        self._ingest_home, self._ingest_corpus_chunks = home, n

        b_cps, l_cps = first["chunks"] / first["seconds"], base["chunks"] / base["seconds"]
        b_dps, l_dps = articles / first["seconds"], articles / base["seconds"]
        speedup = b_cps / l_cps
        p_cps, p_dps = pipe["chunks"] / pipe["seconds"], articles / pipe["seconds"]
        reingest = first["seconds"] / again["seconds"]
        d.update(
            ingest_corpus={"target_chunks": n, "articles": articles, "files": first["files"]},
            brief_ingest_seconds=first["seconds"],
            brief_ingest_chunks=first["chunks"],
            brief_ingest_chunks_per_s=b_cps,
            brief_ingest_docs_per_s=b_dps,
            brief_ingest_peak_rss_mb=first["peak_rss_mb"],
            brief_ingest_rss_before_mb=first["rss_before_mb"],
            baseline_ingest_seconds=base["seconds"],
            baseline_ingest_chunks=base["chunks"],
            baseline_ingest_chunks_per_s=l_cps,
            baseline_ingest_docs_per_s=l_dps,
            baseline_ingest_peak_rss_mb=base["peak_rss_mb"],
            baseline_ingest_rss_before_mb=base["rss_before_mb"],
            brief_ingest_cpu_seconds=first["cpu_seconds"],
            baseline_ingest_cpu_seconds=base["cpu_seconds"],
            reingest_cpu_seconds=again["cpu_seconds"],
            # CPU time is less sensitive to other processes on the machine than wall time.
            ingest_cpu_speedup_vs_baseline=(first["chunks"] / first["cpu_seconds"])
            / (base["chunks"] / base["cpu_seconds"]),
            ingest_speedup_vs_baseline=speedup,
            ingest_docs_speedup_vs_baseline=b_dps / l_dps,
            baseline_brief_embedder_chunks_per_s=p_cps,
            baseline_brief_embedder_docs_per_s=p_dps,
            baseline_brief_embedder_seconds=pipe["seconds"],
            ingest_pipeline_speedup=b_cps / p_cps,
            ingest_pipeline_docs_speedup=b_dps / p_dps,
            reingest_seconds=again["seconds"],
            reingest_chunks_written=again["chunks"],
            reingest_unchanged=again["unchanged"],
            reingest_peak_rss_mb=again["peak_rss_mb"],
            reingest_speedup=reingest,
        )
        label = f"{n}-chunk corpus, {articles} articles, {first['files']} files"
        if self.plan.ingest_repeats > 1:
            label += f"; best of {self.plan.ingest_repeats}"
        r.add(
            f"ingest brief ({label})",
            f"{b_cps:.1f} chunks/s ({first['chunks']} chunks), {b_dps:.2f} docs/s, {first['seconds']:.1f} s "
            f"(cpu {first['cpu_seconds']:.1f} s), peak RSS {first['peak_rss_mb']:.0f} MB",
        )
        r.add(
            "ingest baseline (LangChain splitter 1000/100 + Chroma, model run plainly)",
            f"{l_cps:.1f} chunks/s ({base['chunks']} chunks), {l_dps:.2f} docs/s, {base['seconds']:.1f} s "
            f"(cpu {base['cpu_seconds']:.1f} s), peak RSS {base['peak_rss_mb']:.0f} MB",
        )
        r.add(
            "ingest_speedup_vs_baseline (chunks/s)",
            f"{speedup:.2f}x (docs/s: {b_dps / l_dps:.2f}x; chunks per cpu-s: "
            f"{d['ingest_cpu_speedup_vs_baseline']:.2f}x)",
            f">= {INGEST_TARGET:.0f}x",
            speedup >= INGEST_TARGET and b_dps / l_dps >= INGEST_TARGET,
        )
        r.add(
            "  same baseline with brief's embedder (pipeline alone)",
            f"{p_cps:.1f} chunks/s, {p_dps:.2f} docs/s: brief is {b_cps / p_cps:.2f}x (docs/s {b_dps / p_dps:.2f}x)",
        )
        r.add(
            "reingest_speedup (unchanged corpus)",
            f"{reingest:.1f}x ({again['seconds']:.2f} s, {again['chunks']} chunks written, "
            f"{again['unchanged']} files unchanged, peak RSS {again['peak_rss_mb']:.0f} MB)",
            f">= {REINGEST_TARGET:.0f}x",
            reingest >= REINGEST_TARGET,
        )

    # ----- embedding -----------------------------------------------------------------------------

    def embedding(self) -> None:
        from brief.ingest.chunking import ChunkingOptions, chunk_article
        from brief.ingest.loaders import find_files, load_file
        from brief.ingestion import document_id, embedding_text

        r, d = self.results, self.results.data
        n = self.plan.embed_n
        corpus, _ = self.corpus(max(n + n // 2, 150))
        options = ChunkingOptions(200, 240, 1)
        texts: list[str] = []
        for path in find_files([corpus]):
            for article in load_file(path).articles:
                texts += [embedding_text(c) for c in chunk_article(article, document_id(article), options)]
        texts = texts[:n]
        model = self.minilm
        tokens = [model.count_tokens(t) for t in texts]
        useful = sum(minilm_flops(min(t, 256)) for t in tokens)

        def best_of(encoder: Any) -> float:
            encoder.encode(texts[:8])  # warm up
            best = float("inf")
            for _ in range(2 if not self.plan.quick else 1):
                started = time.perf_counter()
                encoder.encode(texts)
                best = min(best, time.perf_counter() - started)
            return best

        # brief runs one text per session run (no padding), so executed = useful work.
        best = best_of(model)
        plain = PlainMiniLM()
        plain_best = best_of(plain)
        executed_plain = 0.0  # the plain run pads each batch of 32 (input order) to its longest
        for s in range(0, len(texts), plain.batch_size):
            batch = [min(t, 256) for t in tokens[s : s + plain.batch_size]]
            executed_plain += len(batch) * minilm_flops(max(batch))
        cps, plain_cps = len(texts) / best, len(texts) / plain_best
        gflops, plain_gflops = useful / best / 1e9, useful / plain_best / 1e9
        d.update(
            embed_chunks=len(texts),
            embed_mean_tokens=float(np.mean(tokens)),
            embed_seconds=best,
            embed_chunks_per_s=cps,
            embed_gflops=gflops,
            embed_workers=model.workers,
            embed_quantized=model.quantized,
            embed_plain_chunks_per_s=plain_cps,
            embed_plain_gflops=plain_gflops,
            embed_plain_gflops_executed_padded=executed_plain / plain_best / 1e9,
            embed_speedup_vs_plain=cps / plain_cps,
            embed_threads=os.cpu_count(),
        )
        variant = "int8 activations" if model.quantized else "float activations"
        r.add(
            f"embed brief MiniLM ({variant}, {model.workers} x 1-thread sessions, {len(texts)} chunks, "
            f"mean {np.mean(tokens):.0f} word pieces)",
            f"{cps:.1f} chunks/s, {gflops:.1f} GFLOP/s-equivalent ({cps / plain_cps:.2f}x the plain run)",
        )
        r.add(
            "embed plain (bundled model, one default session, batches of 32)",
            f"{plain_cps:.1f} chunks/s, {plain_gflops:.1f} GFLOP/s (incl. padding "
            f"{executed_plain / plain_best / 1e9:.1f})",
        )

        size = 2048
        rng = np.random.default_rng(0)
        a = rng.standard_normal((size, size), dtype=np.float32)
        b = rng.standard_normal((size, size), dtype=np.float32)
        a @ b
        best = float("inf")
        for _ in range(5):
            started = time.perf_counter()
            a @ b
            best = min(best, time.perf_counter() - started)
        matmul = 2 * size**3 / best / 1e9
        d.update(matmul_gflops=matmul, embed_fraction_of_matmul=gflops / matmul)
        r.add(
            f"roofline: numpy float32 matmul {size}x{size} @ {size}x{size}",
            f"{matmul:.1f} GFLOP/s (float MiniLM, plain: {100 * plain_gflops / matmul:.0f}% of it; brief's "
            f"int8 run: {100 * gflops / matmul:.0f}%)",
        )

    # ----- queries -------------------------------------------------------------------------------

    def library_for(self, size: int) -> tuple[Any, str, Prepared | None]:
        """A Library holding a store of about `size` chunks, and how its vectors were made."""
        from brief.library import Library
        from brief.store import Store

        if size <= self.plan.real_max:
            if self._ingest_home is not None and self._ingest_corpus_chunks == size:
                home = self._ingest_home
                log(f"query {fmt_size(size)}: reusing the store of the ingest benchmark (MiniLM vectors)")
            else:
                corpus, _ = self.corpus(size)
                home = self.tmp(f"home-real-{size}")
                library = Library(make_settings(home))
                library.embedder = self.minilm
                log(f"query {fmt_size(size)}: ingesting with MiniLM")
                report = library.ingest([corpus])
                log(f"query {fmt_size(size)}: {report.summary()}")
            library = Library(make_settings(home))
            library.embedder = self.minilm
            library.judge_embedder = self.minilm
            return library, "MiniLM", None

        corpus, _ = self.corpus(size)
        settings = make_settings(self.tmp(f"home-standin-{size}"))
        standin = HashedEmbedder()
        prepared = prepare(corpus, settings, standin)
        log(
            f"query {fmt_size(size)}: brief parsed+chunked {len(prepared.docs)} articles into "
            f"{prepared.chunks} chunks in {prepared.parse_seconds:.1f} s; stand-in vectors in "
            f"{prepared.embed_seconds:.1f} s"
        )
        store = Store(settings, HashedEmbedder.name)
        started = time.perf_counter()
        timings = write_store(store, prepared)
        total = time.perf_counter() - started
        info = build_info(prepared, timings, total)
        self.results.data.setdefault("store_build", {})[str(size)] = info
        log(f"query {fmt_size(size)}: store written in {total:.1f} s; {describe_build(info)}")
        library = Library(settings)
        library.store = store
        # Word vectors are seeded by the word itself, so a fresh instance gives the same vectors.
        library.embedder = HashedEmbedder(charge=self.minilm)
        library.judge_embedder = self.minilm
        return library, "hashed stand-in", prepared

    def queries(self) -> None:
        r, d = self.results, self.results.data
        plan = self.plan
        questions = make_corpus.questions(plan.queries + 3, seed=11)
        answer_questions = make_corpus.questions(plan.answers + 1, seed=23)
        d.setdefault("retrieve_p50_ms", {})
        d.setdefault("retrieve_p95_ms", {})
        d.setdefault("retrieve_vectors", {})
        d.setdefault("retrieve_store_chunks", {})
        for size in plan.sizes:
            library, vectors, prepared = self.library_for(size)
            chunks = library.store.count_chunks()
            stats = measure_retrieval(library, questions)
            key = str(size)
            d["retrieve_p50_ms"][key] = stats["p50"]
            d["retrieve_p95_ms"][key] = stats["p95"]
            d["retrieve_vectors"][key] = vectors
            d["retrieve_store_chunks"][key] = chunks
            d.setdefault("retrieve_overhead_p50_ms", {})[key] = stats["overhead_p50_ms"]
            r.add(
                f"retrieve {fmt_size(size)} (embedded, {chunks} chunks, vectors: {vectors})",
                f"p50 {stats['p50']:.1f} ms, p95 {stats['p95']:.1f} ms (n={stats['n']}; {describe_overhead(stats)})",
                f"p50 <= {RETRIEVE_P50_TARGET_MS:.0f} ms",
                stats["p50"] <= RETRIEVE_P50_TARGET_MS,
            )
            if size == plan.answer_size:
                answers = measure_answers(library, answer_questions)
                d.update(
                    answer_p50_ms=answers["p50"],
                    answer_p95_ms=answers["p95"],
                    answer_chunks=chunks,
                    answer_declined=answers["declined"],
                    answer_parts_p50_ms=answers["parts_p50"],
                    answer_vectors=vectors,
                )
                parts = ", ".join(f"{k} {v:.0f}" for k, v in answers["parts_p50"].items())
                r.add(
                    f"answer {fmt_size(size)} (Library.ask extractive, vectors: {vectors})",
                    f"p50 {answers['p50']:.0f} ms, p95 {answers['p95']:.0f} ms (n={answers['n']}, "
                    f"{answers['declined']} declined; p50 parts ms: {parts})",
                    f"p50 <= {ANSWER_P50_TARGET_MS:.0f} ms",
                    answers["p50"] <= ANSWER_P50_TARGET_MS,
                )
            if size == plan.server_size:
                self.server_queries(size, library, vectors, prepared, questions)
            self.add_one_article(library, size, vectors)
            library = None
            prepared = None
            d["query_process_peak_rss_mb"] = peak_rss_mb()

    def add_one_article(self, library: Any, size: int, vectors: str) -> None:
        """Ingest one new article into the store (the everyday case: a library that grows)."""
        import random

        folder = self.tmp(f"new-article-{size}")
        article = make_corpus.make_article(random.Random(990 + size), 999_999)
        (folder / "new-article.md").write_text(make_corpus.render_markdown(article, random.Random(1)), "utf-8")
        started = time.perf_counter()
        report = library.ingest([folder])
        seconds = time.perf_counter() - started
        self.results.data.setdefault("add_one_article_seconds", {})[str(size)] = seconds
        embedder = "MiniLM" if vectors == "MiniLM" else "stand-in + MiniLM cost"
        self.results.add(
            f"add 1 article to the {fmt_size(size)} store (embedded; {embedder})",
            f"{seconds:.2f} s for {report.chunks_written} chunks (includes the BM25 rebuild)",
        )

    def server_queries(
        self, size: int, embedded: Any, vectors: str, prepared: Prepared | None, questions: list[str]
    ) -> None:
        from brief.library import Library
        from brief.store import Store

        r, d = self.results, self.results.data
        log("server: starting chroma run")
        started = time.perf_counter()
        url = self.server.start()
        log(f"server: up at {url} in {time.perf_counter() - started:.1f} s")
        settings = make_settings(self.tmp(f"home-server-{size}"), chroma_url=url, collection=f"bench{size}")
        if prepared is None:
            # A MiniLM store: copy its chunks and vectors as they are, through the Store API.
            docs_by_id: dict[str, tuple[Any, list[Any]]] = {}
            source = embedded.store
            records = source.documents()
            ids, vecs = [], []
            for chunk_id, _text, _meta, vector in source.iter_chunks(include_vectors=True):
                ids.append(chunk_id)
                vecs.append(vector)
            chunks = source.get_chunks(ids)
            by_id = dict(zip(ids, vecs, strict=True))
            for chunk in chunks:
                docs_by_id.setdefault(chunk.doc_id, (records[chunk.doc_id], []))[1].append(chunk)
            docs = [(rec, sorted(cs, key=lambda c: c.index)) for rec, cs in docs_by_id.values()]
            flat = np.asarray([by_id[c.chunk_id] for _, cs in docs for c in cs], dtype=np.float32)
            prepared = Prepared(docs, flat, len(flat), 0.0, 0.0)
            name = embedded.store.embedder_name
        else:
            name = HashedEmbedder.name
        store = Store(settings, name)
        started = time.perf_counter()
        timings = write_store(store, prepared, limit_chunks=self.plan.server_limit_chunks)
        total = time.perf_counter() - started
        info = build_info(prepared, timings, total)
        d["server_store_build"] = info
        log(f"server: {info['chunks']} chunks written in {total:.1f} s; {describe_build(info)}")
        library = Library(settings)
        library.store = store
        library.embedder = embedded.embedder
        library.judge_embedder = self.minilm
        stats = measure_retrieval(library, questions)
        d.update(
            server_retrieve_p50_ms=stats["p50"],
            server_retrieve_p95_ms=stats["p95"],
            server_chunks=store.count_chunks(),
            server_vectors=vectors,
            server_overhead_p50_ms=stats["overhead_p50_ms"],
        )
        label = f"{store.count_chunks()}-chunk subset" if self.plan.server_limit_chunks else fmt_size(size)
        r.add(
            f"retrieve {label} (chroma run server, {store.count_chunks()} chunks, vectors: {vectors})",
            f"p50 {stats['p50']:.1f} ms, p95 {stats['p95']:.1f} ms (n={stats['n']}; {describe_overhead(stats)})",
            f"p50 <= {RETRIEVE_P50_TARGET_MS:.0f} ms",
            stats["p50"] <= RETRIEVE_P50_TARGET_MS,
        )
        self.server.stop()

    # ----- all ---------------------------------------------------------------------------------

    def run(self) -> Results:
        d = self.results.data
        d.update(
            quick=self.plan.quick,
            sizes=self.plan.sizes,
            cpu_count=os.cpu_count(),
            python=platform.python_version(),
            machine=platform.machine(),
            loadavg_start=list(os.getloadavg()),
        )
        started = time.perf_counter()
        if "ingest" in self.plan.only:
            self.ingest()
        if "embed" in self.plan.only:
            self.embedding()
        if "query" in self.plan.only:
            self.queries()
        if "cli" in self.plan.only:
            self.cli_startup()
        if self.plan.real is not None:
            self.real_corpus()
        d["loadavg_end"] = list(os.getloadavg())
        d["seconds_total"] = time.perf_counter() - started
        d["peak_rss_mb"] = {
            "brief_ingest": d.get("brief_ingest_peak_rss_mb"),
            "baseline_ingest": d.get("baseline_ingest_peak_rss_mb"),
            "reingest": d.get("reingest_peak_rss_mb"),
            "query_process": d.get("query_process_peak_rss_mb"),
        }
        return self.results

    def cli_startup(self) -> None:
        """`brief --help`, each command's --help and a one-shot ask, now and before (cli_startup.py)."""
        import cli_startup

        work = self.root / "cli"
        (work / "old").mkdir(parents=True)
        runs = 3 if self.plan.quick else 5
        trees = [
            cli_startup.Tree("now", cli_startup.REPO),
            cli_startup.baseline_tree(cli_startup.DEFAULT_BASELINE, work / "old"),
        ]
        measured = {tree.label: cli_startup.measure(tree, runs, work) for tree in trees}
        self.results.data["cli_startup"] = measured
        for line in cli_startup.report(measured):
            name, _, value = line.partition("  ")
            passed = None if "imports" in line else "PASS" in line
            self.results.add(name.strip(), value.strip().removesuffix("PASS").removesuffix("MISS").strip(), "", passed)

    def real_corpus(self) -> None:
        """Ingest, memory, first retrieval and status on a real news corpus (real_corpus.py)."""
        import real_corpus

        work = self.root / "real"
        work.mkdir()
        measured = real_corpus.run(self.plan.real, 378, self.plan.real_before, work)  # type: ignore[arg-type]
        self.results.data["real_corpus"] = measured
        for what, value, target, passed in real_corpus.lines(measured):
            self.results.add(what, value, target, passed)

    def close(self) -> None:
        self.children.kill_all()
        self.server.stop()


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, Plan]:
    parser = argparse.ArgumentParser(description="brief benchmarks (prints one table)")
    parser.add_argument("--quick", action="store_true", help="small sizes; about a minute on 2 cores")
    parser.add_argument("--json", type=Path, help="also write the numbers to this JSON file")
    parser.add_argument("--sizes", help="query corpus sizes in chunks, e.g. 1000,10000,100000")
    parser.add_argument("--ingest-chunks", type=int, help="corpus size (chunks) for ingest vs baseline")
    parser.add_argument(
        "--real-max", type=int, help="sizes up to this use real MiniLM vectors; larger use the hashed stand-in"
    )
    parser.add_argument("--repeats", type=int, help="ingest runs of each side, best counts (default 2; quick 1)")
    parser.add_argument("--no-server", action="store_true", help="skip the chroma run server")
    parser.add_argument("--only", help="run some benchmarks: any of ingest,embed,query,cli (default: all)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (for debugging)")
    parser.add_argument("--real", type=Path, help="a development-set folder: add the real-corpus lines")
    parser.add_argument("--real-before", help="with --real: also measure this git ref on the real corpus")
    args = parser.parse_args(argv)
    quick = args.quick
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else ([1000] if quick else [1000, 10000, 100000])
    ingest_chunks = args.ingest_chunks or (150 if quick else 1000)
    real_max = args.real_max if args.real_max is not None else (0 if quick else 1000)
    answer_size = 10000 if 10000 in sizes else min(sizes, key=lambda s: abs(s - 10000))
    server_size = 0 if args.no_server else (10000 if 10000 in sizes else min(sizes))
    plan = Plan(
        quick=quick,
        sizes=sizes,
        ingest_chunks=ingest_chunks,
        ingest_repeats=args.repeats or (1 if quick else 2),
        only=tuple(args.only.split(",")) if args.only else ("ingest", "embed", "query", "cli"),
        real_max=real_max,
        embed_n=48 if quick else 256,
        queries=20 if quick else 50,
        answers=5 if quick else 15,
        answer_size=answer_size,
        server_size=server_size,
        server_limit_chunks=300 if quick else 0,
        real=args.real.resolve() if args.real else None,
        real_before=args.real_before,
    )
    return args, plan


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_child":
        return child_main(argv[1:])
    args, plan = parse_args(argv)
    json_path = args.json.resolve() if args.json else None
    root = Path(tempfile.mkdtemp(prefix="brief-bench-"))
    previous_cwd = Path.cwd()
    os.chdir(root)  # no brief.toml of the caller's folder is read

    def on_signal(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    bench = Bench(plan, root)
    started = time.perf_counter()
    load = os.getloadavg()
    log(
        f"brief benchmarks in {root} ({'quick' if plan.quick else 'full'}; sizes {plan.sizes}; "
        f"{os.cpu_count()} cores; load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f})"
    )
    try:
        results = bench.run()
    except BaseException:
        print("benchmark stopped early; results so far:")
        print(bench.results.table())
        raise
    finally:
        bench.close()
        os.chdir(previous_cwd)
        if args.keep:
            log(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    d = results.data
    elapsed = time.perf_counter() - started
    end_load = d["loadavg_end"]
    print()
    print(
        f"brief benchmarks ({'--quick' if plan.quick else 'full'}; sizes {','.join(map(str, plan.sizes))}); "
        f"{os.cpu_count()} cores; load avg {d['loadavg_start'][0]:.2f} at start, {end_load[0]:.2f} at end; "
        f"{elapsed:.0f} s"
    )
    print(results.table())
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(d, indent=2, default=float) + "\n", encoding="utf-8")
        print(f"\nwrote {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
