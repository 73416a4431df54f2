"""The `brief` command line: a thin layer over `brief.Library`."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from brief.library import Library, UnknownDocument
from brief.retrieve import FilterError, SearchFilters
from brief.settings import Settings
from brief.store import StoreError
from brief.types import Answer


class BriefGroup(click.Group):
    """Turns the library's expected failures into one-line messages instead of tracebacks."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (StoreError, UnknownDocument, FilterError) as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            click.echo(f"error: invalid settings: {problems}", err=True)
            sys.exit(2)


@click.group(cls=BriefGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="brief", prog_name="brief")
def main() -> None:
    """brief: cited answers and one-page briefings from a library of news articles."""


def _library() -> Library:
    return Library(Settings())


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@main.command()
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
        click.echo(f"error: {path}: no such file or folder", err=True)
    targets = [p for p in targets if p not in missing]
    library = _library()
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
            bar.update(task, completed=done, total=total, description=Path(current).name if current else "")

        report = library.ingest(targets, prune=prune, progress=progress)
    if as_json:
        _print_json(report.to_dict())
    else:
        for error in report.errors:
            click.echo(f"error: {error}", err=True)
        click.echo(report.summary())
    if report.errors or missing:
        sys.exit(1)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def docs(as_json: bool) -> None:
    """List indexed documents with their metadata and chunk counts."""
    records = _library().documents()
    if as_json:
        _print_json([r.to_dict() for r in records])
        return
    if not records:
        click.echo("No documents yet. Add some with: brief ingest PATH")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("date", "title", "author", "source", "chunks")
    table.add_column("id", no_wrap=True)  # must stay copyable for `brief rm`
    for r in records:
        table.add_row(r.date, r.title, r.author, r.source, str(r.chunks), r.doc_id[:12])
    Console().print(table)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status(as_json: bool) -> None:
    """Show where the store is, which models are set, and what it holds."""
    info = _library().status()
    if as_json:
        _print_json(info)
        return
    for key, value in info.items():
        if isinstance(value, list):
            value = ", ".join(value) or "-"
        click.echo(f"{key:>14}: {value}")


def filter_options(func: Any) -> Any:
    """--source/--since/--until/--doc, shared by ask, report and eval."""
    func = click.option("--doc", "doc_ids", multiple=True, help="Only this document (id or prefix); repeatable.")(func)
    func = click.option("--until", default="", help="Only articles dated on or before YYYY-MM-DD.")(func)
    func = click.option("--since", default="", help="Only articles dated on or after YYYY-MM-DD.")(func)
    func = click.option("--source", "sources", multiple=True, help="Only this outlet; repeatable.")(func)
    return func


def _filters(sources: tuple[str, ...], since: str, until: str, doc_ids: tuple[str, ...]) -> SearchFilters:
    return SearchFilters(tuple(sources), since, until, tuple(doc_ids))


BACKEND_CHOICE = click.Choice(["auto", "extractive", "openai", "local"])


@main.command()
@click.argument("question")
@click.option("--backend", "-b", type=BACKEND_CHOICE, default="auto", show_default=True, help="Generator.")
@click.option("--k", "k", type=click.IntRange(1, 50), default=None, help="Passages to retrieve.")
@filter_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (the API's Answer).")
def ask(
    question: str,
    backend: str,
    k: int | None,
    sources: tuple[str, ...],
    since: str,
    until: str,
    doc_ids: tuple[str, ...],
    as_json: bool,
) -> None:
    """Answer QUESTION from the library, with verified citations."""
    if not question.strip():
        raise click.BadParameter("the question is empty", param_hint="QUESTION")
    library = _library()
    filters = _filters(sources, since, until, doc_ids)
    if not library.store.documents():
        click.echo("error: the library is empty; add articles first: brief ingest PATH", err=True)
        sys.exit(1)
    if as_json:
        _print_json(library.ask(question, filters=filters, k=k, backend=backend).to_dict())
        return
    answer = _stream_to_terminal(library.ask_stream(question, filters=filters, k=k, backend=backend))
    _print_answer(answer)


def _stream_to_terminal(stream: Iterator[str | Answer]) -> Answer:
    """Show generated text live (on a terminal), then make room for the verified answer."""
    from rich.console import Console
    from rich.live import Live
    from rich.text import Text

    console = Console(stderr=True)
    shown = ""
    with Live(Text(""), console=console, transient=True, auto_refresh=False) as live:
        for piece in stream:
            if isinstance(piece, Answer):
                return piece
            if console.is_terminal:
                shown += piece
                live.update(Text(shown, style="dim"), refresh=True)
    raise RuntimeError("the answer stream ended without an answer")  # pragma: no cover


def _print_answer(answer: Answer) -> None:
    if answer.notice:
        click.echo(f"note: {answer.notice}", err=True)
    click.echo(answer.answer)
    click.echo()
    click.echo(f"answered by: {answer.backend} ({answer.timings_ms.get('total', 0):.0f} ms)")
    if answer.citations:
        click.echo("\nSources:")
        for c in answer.citations:
            meta = ", ".join(p for p in (c.source, c.date) if p)
            click.echo(f"[{c.n}] {c.title}{f' ({meta})' if meta else ''}")
            click.echo(f'    "{c.quote}"')
            if c.url:
                click.echo(f"    {c.url}")


@main.command()
@click.argument("topic")
@click.option("--backend", "-b", type=BACKEND_CHOICE, default="auto", show_default=True, help="Generator.")
@filter_options
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="Write to FILE.md, .html, .pdf or .json (the extension picks the format).",
)
def report(
    topic: str,
    backend: str,
    sources: tuple[str, ...],
    since: str,
    until: str,
    doc_ids: tuple[str, ...],
    output: Path | None,
) -> None:
    """Write a one-page cited brief on TOPIC (a topic or a question)."""
    from rich.console import Console

    from brief.export import FORMATS, ExportError, to_markdown, write_brief

    if not topic.strip():
        raise click.BadParameter("the topic is empty", param_hint="TOPIC")
    if output is not None and output.suffix.lower() not in FORMATS:
        click.echo(
            f"error: {output}: unknown output format '{output.suffix}' (use .md, .html, .pdf or .json)", err=True
        )
        sys.exit(1)
    library = _library()
    if not library.store.documents():
        click.echo("error: the library is empty; add articles first: brief ingest PATH", err=True)
        sys.exit(1)
    console = Console(stderr=True)
    with console.status("writing the brief") as status:
        brief = library.report(
            topic, _filters(sources, since, until, doc_ids), backend, progress=lambda s: status.update(s)
        )
        if output is not None:
            status.update(f"rendering {output.suffix.lstrip('.')}")
            try:
                brief = write_brief(brief, output)
            except ExportError as exc:
                click.echo(f"error: {exc}", err=True)
                sys.exit(1)
    if brief.notice:
        click.echo(f"note: {brief.notice}", err=True)
    if output is None:
        click.echo(to_markdown(brief))
    else:
        click.echo(
            f"wrote {output} ({brief.word_count()} words, {len(brief.sources)} sources, "
            f"{brief.backend}, {brief.timings_ms.get('total', 0) / 1000:.1f} s)"
        )


def _threshold(values: tuple[str, ...]) -> dict[str, float]:
    thresholds = {}
    for value in values:
        name, _, bound = value.partition("=")
        try:
            thresholds[name.strip()] = float(bound)
        except ValueError:
            raise click.BadParameter(f"'{value}' is not METRIC=NUMBER", param_hint="--fail-under") from None
    return thresholds


@main.command(name="eval")
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

    thresholds = _threshold(fail_under)
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
            click.echo(f"error: {exc}", err=True)
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


@main.command()
@click.option("--host", default=None, help="Interface to listen on (default: settings, 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="Port (default: settings, 7860).")
def ui(host: str | None, port: int | None) -> None:
    """Serve the web app (chat, briefs, library, evaluation)."""
    from brief.ui.app import launch

    library = _library()
    settings = library.settings
    click.echo(f"brief ui on http://{host or settings.ui_host}:{port or settings.ui_port} (Ctrl-C stops)", err=True)
    launch(library, host, port)


@main.command()
@click.argument("doc_id")
def rm(doc_id: str) -> None:
    """Remove one document (by id or unique id prefix) and its chunks."""
    record = _library().remove(doc_id)
    click.echo(f"removed {record.doc_id}: {record.title}")


if __name__ == "__main__":  # pragma: no cover
    main()
