"""Show an evaluation run: console table, Markdown report, PNG chart, comparison."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from brief.evaluate import METRIC_ORDER, EvalRun

_LABELS = {
    "hit_at_k": "hit@k",
    "recall_at_k": "recall@k",
    "mrr": "MRR",
    "fact_recall": "fact recall",
    "decline_accuracy": "decline accuracy",
    "citation_precision": "citation precision",
    "cited_sentence_share": "cited sentences",
    "unsupported_rate": "unsupported rate",
    "answerable_declined": "answerable declined",
    "unanswerable_answered": "unanswerable answered",
}


def label(metric: str) -> str:
    return _LABELS.get(metric, metric.replace("_", " "))


def fmt(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.3f}" if abs(value) < 10 else f"{value:.0f}"


def metrics_rows(run: EvalRun) -> list[list[str]]:
    """One row per metric: overall, then each question set."""
    sets = list(run.by_set)
    rows = []
    for metric in METRIC_ORDER:
        rows.append([label(metric), fmt(run.metrics[metric])] + [fmt(run.by_set[s][metric]) for s in sets])
    return rows


def print_console(run: EvalRun, comparison: list[dict[str, Any]] | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    sets = list(run.by_set)
    table = Table(title=f"brief eval ({run.backend}, k={run.k}, {int(run.metrics['questions'])} questions)")
    table.add_column("metric")
    table.add_column("all", justify="right")
    for name in sets:
        table.add_column(name, justify="right")
    if comparison:
        table.add_column("previous", justify="right")
        table.add_column("change", justify="right")
    changes = {row["metric"]: row for row in comparison or []}
    for metric, row in zip(METRIC_ORDER, metrics_rows(run), strict=True):
        if comparison:
            change = changes.get(metric)
            if change:
                style = "bold red" if change["regression"] else "green" if change["delta"] else ""
                sign = "+" if change["delta"] > 0 else ""
                row += [fmt(change["previous"]), f"[{style}]{sign}{fmt(change['delta'])}[/]" if style else "0"]
            else:
                row += ["", ""]
        table.add_row(*row)
    console = Console()
    console.print(table)
    for warning in run.warnings:
        console.print(f"[yellow]warning:[/] {warning}", markup=True, highlight=False)


def to_markdown(run: EvalRun, comparison: list[dict[str, Any]] | None = None) -> str:
    sets = list(run.by_set)
    lines = [
        f"# brief eval: {run.backend}, k={run.k}, {int(run.metrics['questions'])} questions",
        "",
        "| metric | all | " + " | ".join(sets) + " |",
        "|---|---:|" + "---:|" * len(sets),
    ]
    lines += ["| " + " | ".join(row) + " |" for row in metrics_rows(run)]
    if run.warnings:
        lines += ["", "## Warnings", ""] + [f"- {w}" for w in run.warnings]
    if comparison:
        lines += [
            "",
            "## Compared with the previous run",
            "",
            "| metric | previous | current | change | |",
            "|---|---:|---:|---:|---|",
        ]
        for row in comparison:
            flag = "**regression**" if row["regression"] else ""
            lines.append(
                f"| {label(row['metric'])} | {fmt(row['previous'])} | {fmt(row['current'])} | "
                f"{fmt(row['delta'])} | {flag} |"
            )
    lines += [
        "",
        "## Questions",
        "",
        "| set | id | as of | answerable | declined | fact recall | hit | gold rank | missing facts |",
        "|---|---|---|---|---|---:|---:|---:|---|",
    ]
    for item in run.items:
        rank = "" if item.hit is None else str(item.gold_rank or "-")
        lines.append(
            f"| {item.set_name} | {item.id} | {item.as_of} | {'yes' if item.answerable else 'no'} | "
            f"{'yes' if item.declined else 'no'} | {fmt(item.fact_recall) if item.fact_recall is not None else ''} | "
            f"{fmt(item.hit) if item.hit is not None else ''} | {rank} | {', '.join(item.facts_missing)} |"
        )
    return "\n".join(lines) + "\n"


def write_chart(run: EvalRun, path: Path, previous: dict[str, float] | None = None) -> None:
    """A bar chart of the quality metrics (0-1), with the previous run beside it if given."""
    import matplotlib

    matplotlib.use("Agg")  # no display here, and none needed
    import matplotlib.pyplot as plt

    metrics = [m for m in METRIC_ORDER if not m.endswith("_ms")]
    values = [0.0 if math.isnan(run.metrics[m]) else run.metrics[m] for m in metrics]
    fig, ax = plt.subplots(figsize=(9, 3.6), dpi=110)
    positions = range(len(metrics))
    width = 0.38 if previous else 0.6
    if previous:
        before = [0.0 if math.isnan(previous.get(m, float("nan"))) else previous.get(m, 0.0) for m in metrics]
        ax.bar([p - width / 2 for p in positions], before, width, label="previous", color="#b0b8c4")
        ax.bar([p + width / 2 for p in positions], values, width, label="this run", color="#1f4e99")
        ax.legend(loc="lower right", fontsize=8)
    else:
        ax.bar(list(positions), values, width, color="#1f4e99")
    ax.set_xticks(list(positions), [label(m) for m in metrics], rotation=25, ha="right", fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_title(f"brief eval ({run.backend}, k={run.k})", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
