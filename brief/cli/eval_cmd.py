"""`brief eval`: run question sets and report retrieval, citation and answer metrics."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from brief.cli.common import BACKEND_CHOICE
from brief.cli.output import echo


def _threshold(values: tuple[str, ...]) -> dict[str, float]:
    thresholds = {}
    for value in values:
        name, _, bound = value.partition("=")
        try:
            thresholds[name.strip()] = float(bound)
        except ValueError:
            raise click.BadParameter(f"'{value}' is not METRIC=NUMBER", param_hint="--fail-under") from None
    return thresholds


def _ready_to_write(path: Path | None, option: str) -> None:
    """Make an output's folder before the run, so that a long evaluation is never lost to a
    path it cannot write at the end."""
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise click.BadParameter(f"cannot write {path}: {exc.strerror or exc}", param_hint=option) from None
    if path.is_dir():
        raise click.BadParameter(f"{path} is a folder, not a file", param_hint=option)


@click.command(name="eval")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--backend", "-b", type=BACKEND_CHOICE, default="extractive", show_default=True, help="Generator.")
@click.option("--k", "k", type=click.IntRange(1, 50), default=None, help="Passages to retrieve.")
@click.option("--json", "json_out", type=click.Path(path_type=Path), help="Write the full run as JSON.")
@click.option("--md", "md_out", type=click.Path(path_type=Path), help="Write a Markdown report.")
@click.option("--png", "png_out", type=click.Path(path_type=Path), help="Write a PNG chart of the metrics.")
@click.option("--compare", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="A previous --json run.")
@click.option(
    "--fail-under",
    "fail_under",
    multiple=True,
    metavar="METRIC=VALUE",
    help="Exit 1 if METRIC misses VALUE (latency and rates: if above). Repeatable.",
)
@click.option(
    "--library", "use_library", is_flag=True, help="Ask the current library instead of each file's own '# corpus:'."
)
def evaluate(
    files: tuple[Path, ...],
    backend: str,
    k: int | None,
    json_out: Path | None,
    md_out: Path | None,
    png_out: Path | None,
    compare: Path | None,
    fail_under: tuple[str, ...],
    use_library: bool,
) -> None:
    """Run question files (YAML/JSONL) and report retrieval, citation and answer metrics."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from brief.eval_report import print_console, to_markdown, write_chart
    from brief.evaluate import QuestionFileError, check_thresholds, compare_runs, evaluate_files
    from brief.settings import Settings

    thresholds = _threshold(fail_under)
    for path, option in ((json_out, "--json"), (md_out, "--md"), (png_out, "--png")):
        _ready_to_write(path, option)
    settings = Settings()
    with Progress(
        TextColumn("evaluating"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        disable=not sys.stderr.isatty(),
        transient=True,
    ) as bar:
        task = bar.add_task("", total=None)
        try:
            run = evaluate_files(
                list(files),
                settings,
                backend,
                k,
                use_library,
                progress=lambda done, total, current: bar.update(
                    task, completed=done, total=total, description=current
                ),
            )
        except QuestionFileError as exc:
            echo(f"error: {exc}", err=True)
            sys.exit(2)
    previous = json.loads(compare.read_text(encoding="utf-8"))["metrics"] if compare else None
    comparison = compare_runs(run.metrics, previous) if previous else None
    print_console(run, comparison)
    if json_out:
        json_out.write_text(json.dumps(run.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8")
    if md_out:
        md_out.write_text(to_markdown(run, comparison), encoding="utf-8")
    if png_out:
        write_chart(run, png_out, previous)
    failures = check_thresholds(run.metrics, thresholds)
    regressions = [row["metric"] for row in comparison or [] if row["regression"]]
    if regressions:
        click.echo(f"regressions against {compare}: {', '.join(regressions)}", err=True)
    for failure in failures:
        click.echo(f"FAIL {failure}", err=True)
    if failures:
        sys.exit(1)
