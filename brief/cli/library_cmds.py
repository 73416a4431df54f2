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
    rows = [(r.date, r.title, r.author, r.source, str(r.chunks), r.doc_id[:12]) for r in records]
    if click.get_text_stream("stdout").isatty():
        _print_table(rows)
    else:
        _print_lines(rows)


DOC_COLUMNS = ("date", "title", "author", "source", "chunks", "id")
MIN_TITLE = 24  # columns the title keeps before author and source are dropped
MAX_NAME = 18  # author and source are shortened past this
COLUMN_GAP = 3  # a column divider and one space of padding either side


def _print_lines(rows: list[tuple[str, ...]]) -> None:
    """One document per line, tab-separated: a pipe or a file gets whole titles, never wrapped."""
    click.echo("\t".join(DOC_COLUMNS))
    for row in rows:
        echo("\t".join(" ".join(cell.split()) for cell in row))  # a tab or newline in a title is data


def _print_table(rows: list[tuple[str, ...]]) -> None:
    """A table that gives a narrow terminal's width to the title, never one word per line.

    Date, chunks and the id (copied into `brief rm`) are never cut; author and source are
    shortened with an ellipsis, and dropped, source first, when the title would get fewer
    than `MIN_TITLE` columns (`brief docs --json` has every field whole).
    """
    from rich import box
    from rich.cells import cell_len
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console()
    cells = [tuple(" ".join(terminal_safe(cell).split()) for cell in row) for row in rows]
    # Terminal cells, not characters: a CJK character takes two.
    widths = {name: max(len(name), *(cell_len(row[i]) for row in cells)) for i, name in enumerate(DOC_COLUMNS)}
    for name in ("author", "source"):
        widths[name] = min(widths[name], MAX_NAME)
    shown = list(DOC_COLUMNS)
    for optional in ("source", "author"):
        if _title_room(shown, widths, console.width) >= MIN_TITLE:
            break
        shown.remove(optional)
    # On a very narrow terminal the title takes what is left (rich would otherwise cut the id).
    title_width = max(8, min(widths["title"], _title_room(shown, widths, console.width)))
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for name in shown:
        if name == "title":
            table.add_column(name, width=title_width, overflow="fold")
        else:
            table.add_column(
                name,
                width=widths[name],
                no_wrap=True,
                overflow="ellipsis",
                justify="right" if name == "chunks" else "left",
            )
    for row in cells:
        # Text, not str: a title like "[link=...]" is not rich markup.
        table.add_row(*(Text(row[DOC_COLUMNS.index(name)]) for name in shown))
    console.print(table)


def _title_room(shown: list[str], widths: dict[str, int], total: int) -> int:
    others = sum(widths[name] for name in shown if name != "title")
    return total - others - COLUMN_GAP * (len(shown) - 1)


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
    if info["other_settings"]:
        echo(
            f"{info['other_settings']} documents were chunked or embedded under other settings; "
            "ingest their files again to redo them with the current ones."
        )


@click.command()
@click.argument("doc_id")
def rm(doc_id: str) -> None:
    """Remove one document (by id or unique id prefix) and its chunks."""
    record = common.open_library().remove(doc_id)
    echo(f"removed {record.doc_id}: {record.title}")
