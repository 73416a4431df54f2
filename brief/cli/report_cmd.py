"""`brief report`: a one-page cited brief, printed or written as Markdown, HTML, PDF or JSON."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from brief.cli import common
from brief.cli.common import BACKEND_CHOICE, as_of_option, filter_options, make_filters, require_documents
from brief.cli.output import echo, terminal_safe


@click.command()
@click.argument("topic")
@click.option("--backend", "-b", type=BACKEND_CHOICE, default="auto", show_default=True, help="Generator.")
@filter_options
@as_of_option
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
    as_of: str,
    output: Path | None,
) -> None:
    """Write a one-page cited brief on TOPIC (a topic or a question)."""
    if not topic.strip():
        raise click.BadParameter("the topic is empty", param_hint="TOPIC")
    from brief.export import FORMATS, ExportError, to_markdown, write_brief

    if output is not None and output.suffix.lower() not in FORMATS:
        click.echo(
            f"error: {output}: unknown output format '{output.suffix}' (use .md, .html, .pdf or .json)", err=True
        )
        sys.exit(1)
    from rich.console import Console
    from rich.text import Text

    library = common.open_library()
    require_documents(library)
    console = Console(stderr=True)
    with console.status("writing the brief") as status:
        brief = library.report(
            topic,
            make_filters(sources, since, until, doc_ids, as_of),
            backend,
            progress=lambda s: status.update(Text(terminal_safe(s))),
        )
        if output is not None:
            status.update(f"rendering {output.suffix.lstrip('.')}")
            try:
                brief = write_brief(brief, output)
            except ExportError as exc:
                echo(f"error: {exc}", err=True)
                sys.exit(1)
    if brief.notice:
        echo(f"note: {brief.notice}", err=True)
    if output is None:
        echo(to_markdown(brief))
    else:
        echo(
            f"wrote {output} ({brief.word_count()} words, {len(brief.sources)} sources, "
            f"{brief.backend}, {brief.timings_ms.get('total', 0) / 1000:.1f} s)"
        )
