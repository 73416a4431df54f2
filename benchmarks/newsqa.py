"""brief on a real-news development set, with a plain RRF baseline measured in the same run.

    python benchmarks/newsqa.py DEV [--home DIR] [--k 6] [--json OUT] [--md OUT] [--limit N]

DEV is a folder made by ../shared/tools/newsqa_dev.py from a RealTime QA snapshot: DEV/dev.yaml
(brief's question format, with a `# corpus:` line and an `as_of` date on every question) and
DEV/corpus/articles.jsonl. Those article texts carry no licence: keep DEV outside the
repository. The script

1. ingests the corpus into an isolated store under HOME (default DEV/home), exactly as
   `brief eval` does (an unchanged corpus is not embedded again);
2. builds the baseline once and caches it under HOME/baseline: LangChain's
   RecursiveCharacterTextSplitter (1000 characters, 200 overlap) over title + body, the same
   MiniLM embedder, bm25s over the same chunks, plain reciprocal rank fusion (k=60) of the
   top 40 of each; no per-document cap, no widening, no dates;
3. measures retrieval for both on the answerable questions: MRR@10 over documents (the
   first gold article's rank) and whether a right answer string is inside the top 5 passages;
4. runs `brief eval` on the questions (extractive, k=6, each question asked `as_of` its date)
   and prints one table: fact recall, answerable declined, unanswerable answered, MRR@10,
   answer-in-top-5, with the baseline's figures beside brief's.

Nothing here asserts; the README's "Real news" section shows a run and the command.
"""

from __future__ import annotations

import os

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

RRF_K = 60
CANDIDATES = 40
DEPTH = 10  # MRR@10
TOP_PASSAGES = 5  # answer-in-top-5


@dataclass
class BaselineIndex:
    """Plain RRF over LangChain 1000/200 chunks: the comparison point of issue 11."""

    urls: list[str]
    texts: list[str]
    vectors: np.ndarray
    bm25: Any
    embedder: Any

    @classmethod
    def load_or_build(cls, corpus: Path, folder: Path, embedder: Any) -> BaselineIndex:
        import bm25s
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        key = hashlib.sha1(f"{corpus.resolve()}|{corpus.stat().st_size}|{embedder.name}".encode()).hexdigest()[:10]
        folder = folder / key
        chunks_file, vectors_file = folder / "chunks.jsonl", folder / "vectors.npy"
        if chunks_file.exists() and vectors_file.exists():
            rows = [json.loads(line) for line in chunks_file.read_text(encoding="utf-8").splitlines()]
            vectors = np.load(vectors_file)
        else:
            splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
            rows = []
            for line in corpus.read_text(encoding="utf-8").splitlines():
                if not line.strip():
                    continue
                article = json.loads(line)
                text = f"{article.get('title', '')}\n\n{article.get('body', '')}"
                rows += [{"url": article["url"], "text": piece} for piece in splitter.split_text(text)]
            started = time.perf_counter()
            print(f"baseline: embedding {len(rows)} chunks ...", file=sys.stderr, flush=True)
            parts = []
            for at in range(0, len(rows), 512):
                parts.append(embedder.encode([r["text"] for r in rows[at : at + 512]]))
                print(f"  {min(at + 512, len(rows))}/{len(rows)}", file=sys.stderr, flush=True)
            vectors = np.concatenate(parts) if parts else np.zeros((0, embedder.dim), np.float32)
            print(f"baseline: embedded in {time.perf_counter() - started:.0f} s", file=sys.stderr)
            folder.mkdir(parents=True, exist_ok=True)
            np.save(vectors_file, vectors)
            chunks_file.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        texts = [r["text"] for r in rows]
        retriever = bm25s.BM25()
        retriever.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
        return cls([r["url"] for r in rows], texts, vectors, retriever, embedder)

    def search(self, question: str) -> list[int]:
        """Chunk rows, best first, by RRF of the dense and BM25 top CANDIDATES."""
        import bm25s

        dense = np.argsort(-(self.vectors @ self.embedder.encode([question])[0]))[:CANDIDATES]
        tokens = bm25s.tokenize([question], stopwords="en", show_progress=False)
        fused: dict[int, float] = {}
        for rank, row in enumerate(dense.tolist()):
            fused[row] = fused.get(row, 0.0) + 1.0 / (RRF_K + rank + 1)
        if tokens.vocab:
            rows, scores = self.bm25.retrieve(tokens, k=CANDIDATES, show_progress=False)
            lexical = [int(r) for r, s in zip(rows[0], scores[0], strict=True) if s > 0]
            for rank, row in enumerate(lexical):
                fused[row] = fused.get(row, 0.0) + 1.0 / (RRF_K + rank + 1)
        return sorted(fused, key=lambda r: -fused[r])


def doc_rank(ranked_docs: list[str], gold: set[str]) -> int | None:
    """1-based rank of the first gold document among distinct documents, within DEPTH."""
    distinct = list(dict.fromkeys(ranked_docs))[:DEPTH]
    return next((i for i, d in enumerate(distinct, start=1) if d in gold), None)


def answer_in(texts: list[str], facts: list[list[str]]) -> bool:
    joined = " ".join(" ".join(t.split()) for t in texts).lower()
    return any(p.lower() in joined for fact in facts for p in fact)


def cell(value: float | None) -> str:
    return "-" if value is None or value != value else f"{value:.3f}"


def mean(values: list[float]) -> float:
    return round(sum(values) / len(values), 3) if values else float("nan")


def report_variants(library: Any, items: list[Any], documents: dict[str, Any]) -> None:
    """MRR@10 and answer-in-top-5 of brief's retrieval with one step at a time switched off, so
    that each step is kept only where it helps (issue 11, item 5)."""
    from brief.evaluate import gold_doc_ids
    from brief.retrieve import HybridSearcher, SearchFilters

    searcher = library.searcher
    plain_widen = HybridSearcher._widen

    def no_widening(self: Any, index: Any, hits: list[Any]) -> list[Any]:
        from brief.types import Passage

        return [Passage(c, score, c.text, c.start, c.end) for c, score in hits]

    variants = {
        "brief": {},
        "no per-document cap": {"per_doc_cap": 10_000},
        "no neighbour widening": {"widen": False},
        "no recency preference": {"recency_boost": 0.0},
        "no preference for the fortnight's news": {"background_window": 0},
        "without as_of": {"as_of": False},
    }
    print("| retrieval variant | MRR@10 | answer in top 5 |\n|---|---|---|")
    for name, change in variants.items():
        saved = (searcher.per_doc_cap, searcher.recency_boost, searcher.background_window)
        searcher.per_doc_cap = change.get("per_doc_cap", searcher.per_doc_cap)
        searcher.recency_boost = change.get("recency_boost", searcher.recency_boost)
        searcher.background_window = change.get("background_window", searcher.background_window)
        HybridSearcher._widen = no_widening if change.get("widen") is False else plain_widen  # type: ignore[method-assign]
        rr, top5 = [], []
        for item in items:
            if not item.answerable:
                continue
            gold = set().union(*gold_doc_ids(item.sources, documents)) if item.sources else set()
            as_of = item.as_of if change.get("as_of", True) else ""
            passages = searcher.search(item.question, DEPTH, SearchFilters(as_of=as_of)).passages
            rank = doc_rank([p.chunk.doc_id for p in passages], gold)
            rr.append(1.0 / rank if rank else 0.0)
            top5.append(float(answer_in([p.text for p in passages[:TOP_PASSAGES]], item.facts)))
        searcher.per_doc_cap, searcher.recency_boost, searcher.background_window = saved
        HybridSearcher._widen = plain_widen  # type: ignore[method-assign]
        print(f"| {name} | {mean(rr):.3f} | {mean(top5):.3f} |", flush=True)


def outputs(library: Any, items: list[Any], k: int, as_of: bool) -> list[dict[str, Any]]:
    """What brief says and retrieves for each question, through the public API only, so that an
    older checkout of brief (--before) can produce the same record."""
    from brief.retrieve import SearchFilters

    def filters(item: Any) -> Any:
        return SearchFilters(as_of=item.as_of) if as_of else SearchFilters()

    records = []
    for number, item in enumerate(items, start=1):
        answer = library.ask(item.question, filters=filters(item), k=k, backend="extractive")
        passages = library.searcher.search(item.question, DEPTH, filters(item)).passages
        records.append(
            {
                "id": item.id,
                "answer": answer.answer,
                "declined": answer.declined,
                "ranked_docs": [p.chunk.doc_id for p in passages],
                "top_texts": [p.text for p in passages[:TOP_PASSAGES]],
            }
        )
        if number % 50 == 0:
            print(f"  asked {number}/{len(items)}", file=sys.stderr, flush=True)
    return records


def score(records: list[dict[str, Any]], items: list[Any], gold: dict[str, set[str]]) -> dict[str, float]:
    """The table's figures from `outputs` records (the same scoring as `brief eval`)."""
    from brief.evaluate import fact_found

    by_id = {r["id"]: r for r in records}
    facts, declined_ok, answered_bad, rr, top5, gold5 = [], [], [], [], [], []
    for item in items:
        record = by_id[item.id]
        if not item.answerable:
            answered_bad.append(float(not record["declined"]))
            continue
        declined_ok.append(float(record["declined"]))
        found = [any(fact_found(p, record["answer"]) for p in fact) for fact in item.facts]
        facts.append(sum(found) / len(found) if found else 0.0)
        rank = doc_rank(record["ranked_docs"], gold[item.id])
        rr.append(1.0 / rank if rank else 0.0)
        gold5.append(float(bool(rank) and rank <= 5))
        top5.append(float(answer_in(record["top_texts"], item.facts)))
    return {
        "fact recall": mean(facts),
        "answerable declined": mean(declined_ok),
        "unanswerable answered": mean(answered_bad),
        "MRR@10 (documents)": mean(rr),
        "answer string in top-5 passages": mean(top5),
        "gold article in top 5": mean(gold5),
    }


def score_baseline(baseline: BaselineIndex, items: list[Any], gold_urls: dict[str, set[str]]) -> dict[str, float]:
    rr, top5, gold5 = [], [], []
    for item in items:
        if not item.answerable:
            continue
        rows = baseline.search(item.question)
        rank = doc_rank([baseline.urls[r] for r in rows], gold_urls[item.id])
        rr.append(1.0 / rank if rank else 0.0)
        gold5.append(float(bool(rank) and rank <= 5))
        top5.append(float(answer_in([baseline.texts[r] for r in rows[:TOP_PASSAGES]], item.facts)))
    return {
        "MRR@10 (documents)": mean(rr),
        "answer string in top-5 passages": mean(top5),
        "gold article in top 5": mean(gold5),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dev", type=Path, help="folder with dev.yaml and corpus/ (from newsqa_dev.py)")
    parser.add_argument("--home", type=Path, help="where the stores live (default DEV/home)")
    parser.add_argument("--k", type=int, default=6)
    parser.add_argument("--limit", type=int, default=0, help="only the first N questions (a quick look)")
    parser.add_argument("--no-as-of", action="store_true", help="ask every question without its as_of date")
    parser.add_argument("--variants", action="store_true", help="also measure retrieval with each step switched off")
    parser.add_argument("--skip-baseline", action="store_true", help="brief only (no plain RRF baseline)")
    parser.add_argument(
        "--before", type=Path, help="a checkout of brief before the change: its answers fill a 'before' column"
    )
    parser.add_argument("--dump", type=Path, help=argparse.SUPPRESS)  # used by --before in a child process
    parser.add_argument("--json", type=Path, help="write every figure and per-question record here")
    parser.add_argument("--md", type=Path, help="write the table here")
    args = parser.parse_args()

    home = (args.home or args.dev / "home").resolve()
    os.environ["BRIEF_HOME"] = str(home)
    from brief.evaluate import _library_for, corpus_of, gold_doc_ids, load_questions
    from brief.library import Library
    from brief.settings import Settings

    questions_file = args.dev / "dev.yaml"
    corpus = Path(corpus_of(questions_file))
    started = time.perf_counter()
    library = _library_for(str(corpus), Settings(), Library)  # unchanged corpus: nothing re-embedded
    print(f"brief store ready in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    items = load_questions(questions_file)
    if args.limit:
        items = items[: args.limit]
    if args.dump:  # the child of --before: record with whatever brief is on the path, then stop
        records = outputs(library, items, args.k, as_of=False)
        args.dump.write_text(json.dumps(records), encoding="utf-8")
        return

    documents = library.store.documents()
    gold = {i.id: set().union(set(), *gold_doc_ids(i.sources, documents)) for i in items}
    url_of = {d: r.url for d, r in documents.items()}
    columns: dict[str, dict[str, float]] = {}
    records: dict[str, list[dict[str, Any]]] = {}
    if args.before:
        dump = home / "before-records.json"
        env = {**os.environ, "PYTHONPATH": str(args.before.resolve())}
        command = [
            sys.executable,
            __file__,
            str(args.dev),
            "--home",
            str(home),
            "--k",
            str(args.k),
            "--dump",
            str(dump),
        ]
        if args.limit:
            command += ["--limit", str(args.limit)]
        subprocess.run(command, env=env, check=True)
        records["before"] = json.loads(dump.read_text(encoding="utf-8"))
        columns["before"] = score(records["before"], items, gold)
    records["brief"] = outputs(library, items, args.k, as_of=not args.no_as_of)
    columns["brief"] = score(records["brief"], items, gold)
    if not args.skip_baseline:
        baseline = BaselineIndex.load_or_build(corpus, home / "baseline", library.embedder)
        columns["plain RRF baseline"] = score_baseline(
            baseline, items, {i: {url_of[d] for d in g} for i, g in gold.items()}
        )
    answerable = sum(i.answerable for i in items)
    names = list(columns)
    lines = [
        f"| {len(items)} questions ({answerable} answerable), extractive, k={args.k} | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for metric in columns["brief"]:
        lines.append(f"| {metric} | " + " | ".join(cell(columns[n].get(metric)) for n in names) + " |")
    text = "\n".join(lines)
    print(text)
    if args.md:
        args.md.write_text(text + "\n", encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps({"columns": columns, "records": records}, indent=1), encoding="utf-8")
    if args.variants:  # after the table is written: a failure here loses none of it
        report_variants(library, items, documents)


if __name__ == "__main__":
    main()
