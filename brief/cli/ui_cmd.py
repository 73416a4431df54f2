"""`brief ui`: serve the web app."""

from __future__ import annotations

import click

from brief.cli import common


@click.command()
@click.option("--host", default=None, help="Interface to listen on (default: settings, 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="Port (default: settings, 7860).")
def ui(host: str | None, port: int | None) -> None:
    """Serve the web app (chat, briefs, library, evaluation)."""
    from brief.ui.app import launch

    library = common.open_library()
    settings = library.settings
    click.echo(f"brief ui on http://{host or settings.ui_host}:{port or settings.ui_port} (Ctrl-C stops)", err=True)
    launch(library, host, port)
