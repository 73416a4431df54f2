"""Evaluation: question-file validation, metrics on hand-made answers, the `brief eval` command
(JSON, Markdown, PNG, comparison, threshold gate), and a broken retriever that the gate catches."""

from __future__ import annotations

import json
import math
import re
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO, run_cli

from brief.cli import main
from brief.evaluate import (
    HIGHER_IS_BETTER,
    METRIC_ORDER,
    EvalItem,
    QuestionFileError,
    aggregate,
    check_thresholds,
    compare_runs,
    evaluate_files,
    load_questions,
    run_items,
    score_item,
)
from brief.retrieve import HybridSearcher, RetrievalResult
from brief.settings import Settings
from brief.types import Answer, Citation, DocumentRecord, Passage, Sentence

# The thresholds the CI script gates on.
CI_THRESHOLDS = {"fact_recall": 0.8, "hit_at_k": 0.95}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# ----- question files --------------------------------------------------------------------------


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def test_valid_file_loads(tmp_path: Path) -> None:
    path = write(
        tmp_path / "good.yaml",
        """
        # corpus: corpus
        - id: a
          question: "  Who?  "
          facts: [["Jon Finer", "Finer"], "NDC"]
          sources: ["New US sanctions"]
        - question: What else?
          answerable: false
        """,
    )
    items = load_questions(path)
    assert [i.id for i in items] == ["a", "good-2"]
    assert items[0] == EvalItem("a", "Who?", True, [["Jon Finer", "Finer"], ["NDC"]], ["New US sanctions"], "good")
    assert (items[1].answerable, items[1].facts, items[1].sources) == (False, [], [])


def test_jsonl_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    path.write_text(
        '{"id": "j1", "question": "When?", "facts": [["18 December"]]}\n\n{"id": "j2", "question": "Who?"}\n',
        encoding="utf-8",
    )
    assert [(i.id, i.set_name) for i in load_questions(path)] == [("j1", "set"), ("j2", "set")]


@pytest.mark.parametrize(
    ("body", "item", "message"),
    [
        (
            """
            - id: ok
              question: Fine?
            - id: nothing
              facts: [["x"]]
            """,
            2,
            "missing field 'question'",
        ),
        (
            """
            - id: blank
              question: "   "
            """,
            1,
            "missing field 'question'",
        ),
        (
            """
            - id: q1
              question: One?
            - id: q2
              question: Two?
            - id: q1
              question: Three?
            """,
            3,
            "duplicate id 'q1'",
        ),
        (
            """
            - id: q1
              question: One?
              facts: "Finer"
            """,
            1,
            "(q1): 'facts' must be a list of lists of phrasings",
        ),
        (
            """
            - id: q1
              question: One?
            - id: q7
              question: Seven?
              facts: [["ok"], {"bad": 1}]
            """,
            2,
            "(q7): 'facts' must be a list of lists of phrasings",
        ),
        (
            """
            - id: q1
              question: One?
              facts: [3]
            """,
            1,
            "(q1): 'facts' must be a list",
        ),
        (
            """
            - just a string
            """,
            1,
            "must be a mapping",
        ),
    ],
)
def test_invalid_items_name_file_and_item(tmp_path: Path, body: str, item: int, message: str) -> None:
    path = write(tmp_path / "broken.yaml", body)
    with pytest.raises(QuestionFileError) as info:
        load_questions(path)
    text = str(info.value)
    assert str(path) in text
    assert f"item {item}" in text
    assert message in text


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("question: not a list\n", "expected a list of questions"),
        ("- id: [unclosed\n", "not valid YAML/JSONL"),
    ],
)
def test_invalid_files_name_the_file(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "whole.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(QuestionFileError, match=re.escape(message)) as info:
        load_questions(path)
    assert str(path) in str(info.value)


def test_missing_file_and_bad_jsonl(tmp_path: Path) -> None:
    with pytest.raises(QuestionFileError, match="cannot read"):
        load_questions(tmp_path / "absent.yaml")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "question": "x"}\n{not json\n', encoding="utf-8")
    with pytest.raises(QuestionFileError, match="not valid YAML/JSONL") as info:
        load_questions(bad)
    assert str(bad) in str(info.value)


# ----- metrics on hand-made answers --------------------------------------------------------------


def record(doc_id: str, title: str) -> DocumentRecord:
    return DocumentRecord(doc_id, title, "", "Outlet", "2025-01-01", "", "en", [], 3, 100, "")


DOCS = {
    "aaaa1111": record("aaaa1111", "Orrin River Talks Collapse in Lausk"),
    "bbbb2222": record("bbbb2222", "Veridia Begins Filling Tessaly Reservoir"),
    "cccc3333": record("cccc3333", "Port Calloway Strike Ends"),
    "dddd4444": record("dddd4444", "Central Bank of Veridia Raises Rates"),
}


def answer(
    text: str,
    retrieved: list[str],
    declined: bool = False,
    check: dict[str, int] | None = None,
    sentences: list[Sentence] | None = None,
    timings: dict[str, float] | None = None,
) -> Answer:
    return Answer(
        question="q",
        answer=text,
        declined=declined,
        backend="extractive",
        citations=[Citation(1, retrieved[0], f"{retrieved[0]}:0000", "t", "s", "", "", "quote")] if retrieved else [],
        sentences=sentences if sentences is not None else [Sentence(text, [1], True)],
        retrieved=[{"doc_id": d, "chunk_id": f"{d}:0000", "score": 1.0 / (i + 1)} for i, d in enumerate(retrieved)],
        timings_ms=timings or {"retrieve": 10.0, "generate": 20.0, "total": 30.0},
        citation_check=check if check is not None else {"proposed": 1, "confirmed": 1, "invented": 0},
    )


def test_retrieval_metrics_with_known_ranks() -> None:
    item = EvalItem("r", "q", sources=["Tessaly Reservoir"])
    # Gold document at rank 3.
    result = score_item(item, answer("x", ["cccc3333", "dddd4444", "bbbb2222"]), DOCS)
    assert (result.hit, result.recall, result.reciprocal_rank) == (1.0, 1.0, pytest.approx(1 / 3))
    # Two gold sources (one given by doc id prefix), only one retrieved, at rank 2.
    two = EvalItem("r2", "q", sources=["aaaa", "Port Calloway Strike"])
    result = score_item(two, answer("x", ["dddd4444", "cccc3333"]), DOCS)
    assert (result.hit, result.recall, result.reciprocal_rank) == (1.0, 0.5, 0.5)
    # Nothing relevant retrieved.
    result = score_item(two, answer("x", ["dddd4444", "bbbb2222"]), DOCS)
    assert (result.hit, result.recall, result.reciprocal_rank) == (0.0, 0.0, 0.0)
    # No gold sources: retrieval metrics do not apply.
    result = score_item(EvalItem("n", "q"), answer("x", ["aaaa1111"]), DOCS)
    assert (result.hit, result.recall, result.reciprocal_rank) == (None, None, None)


def test_aggregate_retrieval_means() -> None:
    items = [
        (EvalItem("1", "q", sources=["aaaa"]), ["aaaa1111"]),  # rank 1
        (EvalItem("2", "q", sources=["aaaa"]), ["bbbb2222", "aaaa1111"]),  # rank 2
        (EvalItem("3", "q", sources=["aaaa", "bbbb"]), ["cccc3333", "dddd4444", "bbbb2222", "aaaa1111"]),  # rank 3
        (EvalItem("4", "q", sources=["aaaa"]), ["cccc3333"]),  # missed
        (EvalItem("5", "q"), ["cccc3333"]),  # not counted
    ]
    metrics = aggregate([score_item(i, answer("x", r), DOCS) for i, r in items])
    assert metrics["hit_at_k"] == 0.75
    assert metrics["recall_at_k"] == 0.75
    assert metrics["mrr"] == round((1 + 1 / 2 + 1 / 3 + 0) / 4, 4)


def test_fact_recall() -> None:
    item = EvalItem("f", "q", facts=[["85 percent"], ["Corin Hallward", "Hallward"], ["700 cubic metres"]])
    result = score_item(item, answer("About 85 PERCENT of the water; HALLWARD chaired.", ["aaaa1111"]), DOCS)
    assert result.fact_recall == pytest.approx(2 / 3)
    assert result.facts_missing == ["700 cubic metres"]
    # Declining an answerable question recalls nothing.
    declined = score_item(item, answer("The sources do not say.", [], declined=True), DOCS)
    assert declined.fact_recall == 0.0
    assert declined.facts_missing == ["85 percent", "Corin Hallward", "700 cubic metres"]
    # Unanswerable items and items without facts are not scored for facts.
    unanswerable = EvalItem("u", "q", answerable=False, facts=[["x"]])
    assert score_item(unanswerable, answer("x", []), DOCS).fact_recall is None
    assert score_item(EvalItem("e", "q"), answer("x", []), DOCS).fact_recall is None
    metrics = aggregate([result, declined, score_item(EvalItem("e", "q"), answer("x", []), DOCS)])
    assert metrics["fact_recall"] == round((2 / 3 + 0) / 2, 4)


def test_decline_accuracy() -> None:
    answerable = EvalItem("a", "q", answerable=True)
    unanswerable = EvalItem("u", "q", answerable=False)
    said = answer("Something.", ["aaaa1111"])
    declined = answer("The sources do not say.", [], declined=True)
    results = [
        score_item(answerable, said, DOCS),  # right
        score_item(answerable, declined, DOCS),  # wrong: declined an answerable question
        score_item(unanswerable, declined, DOCS),  # right
        score_item(unanswerable, said, DOCS),  # wrong: answered an unanswerable one
        score_item(unanswerable, declined, DOCS),  # right
    ]
    assert [r.decline_correct for r in results] == [True, False, True, False, True]
    assert aggregate(results)["decline_accuracy"] == 0.6


def test_citation_precision_and_sentence_shares() -> None:
    item = EvalItem("c", "q")
    results = [
        score_item(
            item,
            answer(
                "A. B.",
                ["aaaa1111"],
                check={"proposed": 4, "confirmed": 3, "invented": 1},
                sentences=[Sentence("A.", [1], True), Sentence("B.", [], False)],
            ),
            DOCS,
        ),
        score_item(
            item,
            answer(
                "C. D. E.",
                ["aaaa1111"],
                check={"proposed": 2, "confirmed": 0, "invented": 0},
                sentences=[Sentence("C.", [1], True), Sentence("D.", [1, 2], True), Sentence("E.", [], False)],
            ),
            DOCS,
        ),
        # A decline counts no sentences and proposes nothing.
        score_item(
            item,
            answer("The sources do not say.", [], declined=True, check={}, sentences=[Sentence("x", [], True)]),
            DOCS,
        ),
    ]
    assert (results[0].citations_proposed, results[0].citations_confirmed) == (4, 3)
    assert results[2].sentences == 0
    metrics = aggregate(results)
    assert metrics["citation_precision"] == round(3 / 6, 4)
    assert metrics["cited_sentence_share"] == round(3 / 5, 4)
    assert metrics["unsupported_rate"] == round(2 / 5, 4)


def test_no_applicable_items_give_nan_and_nan_never_passes() -> None:
    metrics = aggregate([score_item(EvalItem("x", "q"), answer("x", [], check={}), DOCS)])
    assert math.isnan(metrics["hit_at_k"]) and math.isnan(metrics["fact_recall"])
    assert math.isnan(metrics["citation_precision"])
    failures = check_thresholds(metrics, {"hit_at_k": 0.0})
    assert failures and "hit_at_k" in failures[0]


def test_latency_percentiles() -> None:
    item = EvalItem("t", "q")
    totals = [50.0, 10.0, 40.0, 20.0, 30.0]  # unsorted on purpose
    results = [
        score_item(item, answer("x", [], timings={"retrieve": t / 10, "generate": t - t / 10, "total": t}), DOCS)
        for t in totals
    ]
    metrics = aggregate(results)
    assert metrics["total_p50_ms"] == 30.0
    assert metrics["total_p95_ms"] == pytest.approx(48.0)  # 40 + 0.8 * (50 - 40)
    assert metrics["retrieve_p50_ms"] == 3.0
    assert metrics["retrieve_p95_ms"] == pytest.approx(4.8)
    assert metrics["generate_p50_ms"] == 27.0
    one = aggregate(results[:1])
    assert one["total_p50_ms"] == one["total_p95_ms"] == 50.0
    # A stage an answer did not time counts as 0 ms.
    missing = aggregate([score_item(item, answer("x", [], timings={"total": 5.0}), DOCS)])
    assert missing["generate_p50_ms"] == 0.0


def test_run_items_aggregates_overall_and_per_set() -> None:
    items = [
        EvalItem("a1", "q", facts=[["yes"]], set_name="alpha"),
        EvalItem("a2", "q", facts=[["no"]], set_name="alpha"),
        EvalItem("b1", "q", facts=[["yes"]], set_name="beta"),
    ]
    seen: list[tuple[int, int, str]] = []
    run = run_items(
        items,
        lambda item: answer("yes", ["aaaa1111"]),
        lambda item: DOCS,
        "extractive",
        6,
        progress=lambda done, total, current: seen.append((done, total, current)),
    )
    assert run.metrics["questions"] == 3.0
    assert run.metrics["fact_recall"] == round(2 / 3, 4)
    assert run.by_set["alpha"]["fact_recall"] == 0.5
    assert run.by_set["beta"]["fact_recall"] == 1.0
    assert seen == [(0, 3, "a1"), (1, 3, "a2"), (2, 3, "b1"), (3, 3, "")]
    data = run.to_dict()
    assert [i["id"] for i in data["items"]] == ["a1", "a2", "b1"]
    assert set(METRIC_ORDER) <= set(data["metrics"])


def test_thresholds_and_comparison() -> None:
    metrics = {"fact_recall": 0.82, "hit_at_k": 0.9, "total_p95_ms": 900.0, "unsupported_rate": 0.05}
    failures = check_thresholds(metrics, {**CI_THRESHOLDS, "total_p95_ms": 1000, "unsupported_rate": 0.01})
    assert len(failures) == 2
    assert failures[0].startswith("hit_at_k = 0.9 is below the threshold 0.95")
    assert failures[1].startswith("unsupported_rate = 0.05 is above the threshold 0.01")
    assert check_thresholds(metrics, {"nonsense": 1})[0].startswith("nonsense: unknown metric")
    assert check_thresholds(metrics, {"fact_recall": 0.82}) == []  # the bound itself passes

    previous = {"fact_recall": 0.9, "hit_at_k": 0.9, "total_p95_ms": 600.0, "unsupported_rate": 0.0}
    rows = {r["metric"]: r for r in compare_runs(metrics, previous)}
    assert rows["fact_recall"]["regression"] and rows["fact_recall"]["delta"] == pytest.approx(-0.08)
    assert not rows["hit_at_k"]["regression"]
    assert rows["total_p95_ms"]["regression"]  # +300 ms is more than 25 %
    assert rows["unsupported_rate"]["regression"]  # a rate of bad things went up
    assert "fact_recall" in HIGHER_IS_BETTER and "unsupported_rate" not in HIGHER_IS_BETTER


# ----- the command -------------------------------------------------------------------------------


@pytest.fixture
def in_repo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Run from the repository root, as CI does, with the store under tmp_path."""
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("BRIEF_HOME", str(tmp_path / "home"))
    return tmp_path


def test_cli_eval_output_that_cannot_be_written_fails_before_the_run(in_repo: Path) -> None:
    folder = in_repo / "reports"
    folder.mkdir()
    result = run_cli("eval", "eval/sample.yaml", "--md", str(folder), home=in_repo / "home", cwd=REPO, timeout=300)
    assert result.returncode == 2
    assert "--md" in result.stderr and f"{folder} is a folder, not a file" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (in_repo / "home").exists()  # refused before any store was opened or question asked


def test_cli_eval_writes_json_markdown_png_and_gates(in_repo: Path) -> None:
    tmp_path = in_repo
    # Outputs may go to a folder that does not exist yet (CI writes into a fresh one).
    out_json, out_md, out_png = tmp_path / "out" / "run.json", tmp_path / "run.md", tmp_path / "charts" / "run.png"
    result = run_cli(
        "eval",
        "eval/sample.yaml",
        "--json",
        str(out_json),
        "--md",
        str(out_md),
        "--png",
        str(out_png),
        home=tmp_path / "home",
        cwd=REPO,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "brief eval (extractive" in result.stdout

    data = json.loads(out_json.read_text(encoding="utf-8"))
    assert set(METRIC_ORDER) <= set(data["metrics"])
    assert all(isinstance(data["metrics"][m], float) and not math.isnan(data["metrics"][m]) for m in METRIC_ORDER)
    assert data["metrics"]["questions"] == 12.0
    assert set(data["by_set"]) == {"sample"}
    assert len(data["items"]) == 12 and data["backend"] == "extractive"
    assert data["metrics"]["hit_at_k"] >= 0.95  # the sample article is found for every question

    png = out_png.read_bytes()
    assert png.startswith(PNG_SIGNATURE)
    from PIL import Image

    with Image.open(out_png) as image:
        image.verify()
    with Image.open(out_png) as image:
        assert image.format == "PNG" and image.size[0] > 400 and image.size[1] > 200

    markdown = out_md.read_text(encoding="utf-8")
    assert markdown.startswith("# brief eval: extractive, k=6, 12 questions")
    assert "| metric | all | sample |" in markdown
    for label in ("hit@k", "recall@k", "MRR", "fact recall", "decline accuracy", "citation precision"):
        assert re.search(rf"^\| {re.escape(label)} \| [\d.]+ \| [\d.]+ \|$", markdown, re.M), label
    assert len(re.findall(r"^\| sample \| s\d\d \|", markdown, re.M)) == 12

    # The gate and the comparison on two of the sample's questions (same corpus, given by its absolute
    # path, so the same isolated library answers and nothing is ingested again).
    subset = tmp_path / "subset.yaml"
    subset.write_text(
        f"# corpus: {REPO / 'corpus'}\n"
        "- id: s03\n  question: Which US official warned of Pakistan's capacity to strike targets in the US?\n"
        '  facts: [["Jon Finer", "Finer"]]\n  sources: ["New US sanctions will push Pakistan toward China"]\n'
        "- id: s04\n  question: How did Pakistan's Foreign Ministry describe the US decision?\n"
        '  facts: [["unfortunate and biased"], ["a fact the answer does not hold"]]\n'
        '  sources: ["New US sanctions will push Pakistan toward China"]\n',
        encoding="utf-8",
    )
    runner = CliRunner()

    # --compare against a previous run whose metrics were better: regressions are marked.
    doctored = dict(data)
    doctored["metrics"] = {k: (min(1.0, v + 0.2) if k in HIGHER_IS_BETTER else v) for k, v in data["metrics"].items()}
    doctored["metrics"]["fact_recall"] = 1.0
    doctored["metrics"]["hit_at_k"] = 1.0
    previous = tmp_path / "previous.json"
    previous.write_text(json.dumps(doctored), encoding="utf-8")
    compared_md = tmp_path / "compared.md"
    compared = runner.invoke(main, ["eval", str(subset), "--compare", str(previous), "--md", str(compared_md)])
    assert compared.exit_code == 0, compared.output  # a comparison reports; only thresholds fail the run
    flagged = re.search(r"regressions against .*previous\.json: (.*)", compared.stderr)
    assert flagged, compared.stderr
    regressed = {m.strip() for m in flagged.group(1).split(",")}
    assert "fact_recall" in regressed and "hit_at_k" not in regressed, regressed
    report = compared_md.read_text(encoding="utf-8")
    assert "## Compared with the previous run" in report
    assert re.search(r"^\| fact recall \| 1\.000 \| [\d.]+ \| -[\d.]+ \| \*\*regression\*\* \|$", report, re.M)
    assert re.search(r"^\| hit@k \| 1\.000 \| 1\.000 \| 0\.000 \|  \|$", report, re.M)

    # --fail-under: a missed threshold exits 1 and names the metric; a met one passes.
    failed = runner.invoke(main, ["eval", str(subset), "--fail-under", "fact_recall=1.01"])
    assert failed.exit_code == 1, failed.output
    assert re.search(r"FAIL fact_recall = [\d.]+ is below the threshold 1\.01", failed.stderr), failed.stderr
    passing = runner.invoke(main, ["eval", str(subset), "--fail-under", "hit_at_k=0.95"])
    assert passing.exit_code == 0, passing.output
    assert "FAIL" not in passing.stderr
    bad = runner.invoke(main, ["eval", str(subset), "--fail-under", "fact_recall"])
    assert bad.exit_code == 2 and "is not METRIC=NUMBER" in bad.output


def test_cli_eval_bad_question_file_is_one_line(in_repo: Path) -> None:
    broken = in_repo / "broken.yaml"
    broken.write_text("- id: a\n  facts: [[x]]\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["eval", str(broken)])
    assert result.exit_code == 2
    assert f"error: {broken}: item 1: missing field 'question'" in result.stderr
    assert "Traceback" not in result.output


# ----- a broken retriever must trip the gate -------------------------------------------------------


def test_broken_retriever_drops_metrics_and_trips_the_gate(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(REPO)
    settings = Settings(home=tmp_path / "home")
    healthy = evaluate_files([Path("eval/world.yaml")], settings, "extractive")
    assert healthy.metrics["questions"] == 24.0
    assert check_thresholds(healthy.metrics, CI_THRESHOLDS) == [], healthy.metrics

    original = HybridSearcher.search

    def irrelevant(self: HybridSearcher, query: str, k: int, filters=None) -> RetrievalResult:
        """Passages of the document the real ranking puts last: deterministic and off-topic."""
        ranked = original(self, query, 40, filters)
        order = list(dict.fromkeys(p.chunk.doc_id for p in ranked.passages))
        top = set(order[:3])
        docs = self.store.documents()
        unranked = sorted(d for d in docs if d not in order)
        victim = (unranked or [d for d in order if d not in top] or order)[-1]
        chunks = self.store.get_chunks(sorted(self.store.chunk_ids_of(victim)))[:k]
        passages = [Passage(c, 0.0, c.text, c.start, c.end) for c in chunks]
        return RetrievalResult(passages, len(passages))

    monkeypatch.setattr(HybridSearcher, "search", irrelevant)
    broken = evaluate_files([Path("eval/world.yaml")], settings, "extractive")
    assert broken.metrics["questions"] == 24.0
    before, after = healthy.metrics, broken.metrics
    assert after["hit_at_k"] <= before["hit_at_k"] - 0.5, (before["hit_at_k"], after["hit_at_k"])
    assert after["mrr"] <= before["mrr"] - 0.5
    assert after["fact_recall"] <= before["fact_recall"] - 0.4, (before["fact_recall"], after["fact_recall"])
    failures = check_thresholds(after, CI_THRESHOLDS)
    assert {f.split(" ")[0] for f in failures} == {"fact_recall", "hit_at_k"}, failures
    rows = {r["metric"]: r for r in compare_runs(after, before)}
    assert rows["hit_at_k"]["regression"] and rows["fact_recall"]["regression"]
