"""`brief ingest`: parse, chunk, embed and store articles."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from brief.cli import common
from brief.cli.common import print_json
from brief.cli.output import echo, progress_label


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--prune", is_flag=True, help="Also remove documents whose files are gone.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def ingest(paths: tuple[Path, ...], prune: bool, as_json: bool, quiet: bool) -> None:
    """Ingest article files or folders (default: corpus/). Unchanged files are skipped."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    targets = list(paths) or [Path("corpus")]
    missing = [p for p in targets if not p.exists() and not p.is_symlink()]
    for path in missing:
        echo(f"error: {path}: no such file or folder", err=True)
    targets = [p for p in targets if p not in missing]
    library = common.open_library()
    show = not (quiet or as_json) and sys.stderr.isatty()
    with Progress(
        TextColumn("ingesting"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        disable=not show,
        transient=True,
    ) as bar:
        task = bar.add_task("", total=None)

        def progress(done: int, total: int, current: str) -> None:
            bar.update(task, completed=done, total=total, description=progress_label(current))

        report = library.ingest(targets, prune=prune, progress=progress)
    if as_json:
        print_json(report.to_dict())
    else:
        for error in report.errors:
            echo(f"error: {error}", err=True)
        for skipped in report.skipped:
            echo(f"skipped: {skipped}", err=True)
        echo(report.summary())
    if report.errors or report.skipped or missing:
        sys.exit(1)
