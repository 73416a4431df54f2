"""`brief ask`: one cited answer, streamed to the terminal, then its sources."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import click

from brief.cli import common
from brief.cli.common import BACKEND_CHOICE, as_of_option, filter_options, make_filters, print_json, require_documents
from brief.cli.output import echo, terminal_safe

if TYPE_CHECKING:
    from brief.types import Answer


@click.command()
@click.argument("question")
@click.option("--backend", "-b", type=BACKEND_CHOICE, default="auto", show_default=True, help="Generator.")
@click.option("--k", "k", type=click.IntRange(1, 50), default=None, help="Passages to retrieve.")
@filter_options
@as_of_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (the API's Answer).")
def ask(
    question: str,
    backend: str,
    k: int | None,
    sources: tuple[str, ...],
    since: str,
    until: str,
    doc_ids: tuple[str, ...],
    as_of: str,
    as_json: bool,
) -> None:
    """Answer QUESTION from the library, with verified citations."""
    if not question.strip():
        raise click.BadParameter("the question is empty", param_hint="QUESTION")
    library = common.open_library()
    filters = make_filters(sources, since, until, doc_ids, as_of)
    require_documents(library)
    if as_json:
        print_json(library.ask(question, filters=filters, k=k, backend=backend).to_dict())
        return
    answer = _stream_to_terminal(library.ask_stream(question, filters=filters, k=k, backend=backend))
    _print_answer(answer)


def _stream_to_terminal(stream: Iterator[str | Answer]) -> Answer:
    """Show generated text live (on a terminal), then make room for the verified answer."""
    from rich.console import Console
    from rich.live import Live
    from rich.text import Text

    from brief.types import Answer

    console = Console(stderr=True)
    shown = ""
    with Live(Text(""), console=console, transient=True, auto_refresh=False) as live:
        for piece in stream:
            if isinstance(piece, Answer):
                return piece
            if console.is_terminal:
                shown += piece
                live.update(Text(terminal_safe(shown), style="dim"), refresh=True)
    raise RuntimeError("the answer stream ended without an answer")  # pragma: no cover


def _print_answer(answer: Answer) -> None:
    if answer.notice:
        echo(f"note: {answer.notice}", err=True)
    echo(answer.answer)
    echo()
    echo(f"answered by: {answer.backend} ({answer.timings_ms.get('total', 0):.0f} ms)")
    if answer.citations:
        echo("\nSources:")
        for c in answer.citations:
            meta = ", ".join(p for p in (c.source, c.date) if p)
            echo(f"[{c.n}] {c.title}{f' ({meta})' if meta else ''}")
            echo(f'    "{c.quote}"')
            if c.url:
                echo(f"    {c.url}")
