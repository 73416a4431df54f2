"""What several commands share: opening the library, JSON output, the filter options."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from brief.backends import BACKEND_CHOICES

if TYPE_CHECKING:
    from brief.library import Library
    from brief.retrieve import SearchFilters

BACKEND_CHOICE = click.Choice(list(BACKEND_CHOICES))


def open_library() -> Library:
    """The library the settings (environment, brief.toml) point at."""
    from brief.library import Library
    from brief.settings import Settings

    return Library(Settings())


def print_json(data: Any) -> None:
    from brief.cli.output import json_text

    click.echo(json_text(data))


def filter_options(func: Any) -> Any:
    """--source/--since/--until/--doc, shared by ask, report and eval."""
    func = click.option("--doc", "doc_ids", multiple=True, help="Only this document (id or prefix); repeatable.")(func)
    func = click.option("--until", default="", help="Only articles dated on or before YYYY-MM-DD.")(func)
    func = click.option("--since", default="", help="Only articles dated on or after YYYY-MM-DD.")(func)
    func = click.option("--source", "sources", multiple=True, help="Only this outlet; repeatable.")(func)
    return func


def as_of_option(func: Any) -> Any:
    """--as-of, shared by ask and report (eval takes each question's own date)."""
    return click.option(
        "--as-of",
        "as_of",
        default="",
        help="Ask as of YYYY-MM-DD (default: today): 'this week', 'latest' and 'recently' prefer the "
        "newest articles on or before it, and are declined when every article found is over a year older.",
    )(func)


def make_filters(
    sources: tuple[str, ...], since: str, until: str, doc_ids: tuple[str, ...], as_of: str = ""
) -> SearchFilters:
    from brief.retrieve import SearchFilters

    return SearchFilters(tuple(sources), since, until, tuple(doc_ids), as_of)


def require_documents(library: Library) -> None:
    """Stop with a clear message (exit 1) when there is nothing to ask."""
    if not library.store.documents():
        click.echo("error: the library is empty; add articles first: brief ingest PATH", err=True)
        raise SystemExit(1)
