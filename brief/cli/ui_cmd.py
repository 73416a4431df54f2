"""`brief ui`: serve the web app."""

from __future__ import annotations

import errno
import socket

import click

from brief.cli import common
from brief.errors import BriefError


class PortInUse(BriefError):
    """The port the app should listen on is taken."""


@click.command()
@click.option("--host", default=None, help="Interface to listen on (default: settings, 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="Port (default: settings, 7860).")
def ui(host: str | None, port: int | None) -> None:
    """Serve the web app (chat, briefs, library, evaluation)."""
    library = common.open_library()
    settings = library.settings
    host = host or settings.ui_host
    port = port if port is not None else settings.ui_port
    _check_free(host, port)
    from brief.ui.app import launch

    click.echo(f"brief ui on http://{host}:{port} (Ctrl-C stops)", err=True)
    launch(library, host, port)


def _check_free(host: str, port: int) -> None:
    """Fail with a suggestion before the app loads, rather than deep inside the web server."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(
                    f"port {port} is in use on {host}; choose another with --port (e.g. --port {port + 1})"
                ) from None
            raise PortInUse(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
