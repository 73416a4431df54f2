"""`brief docs`, `brief status`, `brief rm`: look at and prune the library."""

from __future__ import annotations

import click

from brief.cli import common
from brief.cli.common import print_json
from brief.cli.output import echo, terminal_safe


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def docs(as_json: bool) -> None:
    """List indexed documents with their metadata and chunk counts."""
    records = common.open_library().documents()
    if as_json:
        print_json([r.to_dict() for r in records])
        return
    if not records:
        click.echo("No documents yet. Add some with: brief ingest PATH")
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    def cell(value: str) -> Text:  # Text, not str: a title like "[link=...]" is not rich markup
        return Text(terminal_safe(value))

    table = Table("date", "title", "author", "source", "chunks")
    table.add_column("id", no_wrap=True)  # must stay copyable for `brief rm`
    for r in records:
        table.add_row(*map(cell, (r.date, r.title, r.author, r.source, str(r.chunks), r.doc_id[:12])))
    Console().print(table)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status(as_json: bool) -> None:
    """Show where the store is, which models are set, and what it holds."""
    # Only the store: the Library would load the embedder's and the answer pipeline's modules.
    from brief.settings import Settings
    from brief.status import library_status
    from brief.store import Store

    settings = Settings()
    info = library_status(settings, Store(settings, settings.embedder_name()))
    if as_json:
        print_json(info)
        return
    for key, value in info.items():
        if isinstance(value, list):
            value = ", ".join(value) or "-"
        echo(f"{key:>14}: {value}")


@click.command()
@click.argument("doc_id")
def rm(doc_id: str) -> None:
    """Remove one document (by id or unique id prefix) and its chunks."""
    record = common.open_library().remove(doc_id)
    echo(f"removed {record.doc_id}: {record.title}")
