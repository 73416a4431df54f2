"""The `brief` command line: a thin layer over `brief.Library`.

Commands live in their own modules and are imported only when run (or when their help is
shown), so `brief --help` starts without loading Chroma, LangChain or the embedding model.
"""

from __future__ import annotations

import sys

# The exit code of a process stopped by Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED_EXIT_CODE = 130


def _exit_interrupted() -> None:
    """Exit with 130 after Ctrl-C: streams flushed, atexit cleanup run, then past CPython's own
    exit check. A KeyboardInterrupt that passed through code CPython ran by PyRun_* (as some
    imports do) leaves the interpreter marked to kill itself by SIGINT at exit (-2), even
    after brief handled it and said so (seen in ~1 of 40 interrupted start-ups)."""
    import atexit
    import contextlib
    import os

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed pipe must not stop the exit
            stream.flush()
    atexit._run_exitfuncs()
    os._exit(INTERRUPTED_EXIT_CODE)


try:
    import importlib
    from typing import Any

    import click

    from brief.cli.output import echo
    from brief.errors import BriefError
except KeyboardInterrupt:  # Ctrl-C while Python is still loading the command line
    sys.stderr.write("interrupted\n")
    _exit_interrupted()

# command name -> "module:function", in the order `brief --help` lists them.
_COMMANDS = {
    "ingest": "brief.cli.ingest_cmd:ingest",
    "docs": "brief.cli.library_cmds:docs",
    "status": "brief.cli.library_cmds:status",
    "rm": "brief.cli.library_cmds:rm",
    "ask": "brief.cli.ask_cmd:ask",
    "report": "brief.cli.report_cmd:report",
    "eval": "brief.cli.eval_cmd:evaluate",
    "ui": "brief.cli.ui_cmd:ui",
}


class BriefGroup(click.Group):
    """Loads commands lazily and turns expected failures into one-line messages."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, attr = target.partition(":")
        return getattr(importlib.import_module(module), attr)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            import signal

            # One line, never a traceback: most of a command's start-up is loading its modules.
            # A second Ctrl-C while this process winds down must not turn into one either.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            click.echo("interrupted", err=True)
            sys.exit(INTERRUPTED_EXIT_CODE)
        except BriefError as exc:
            echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)


@click.group(cls=BriefGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="brief", prog_name="brief")
def main() -> None:
    """brief: cited answers and one-page briefings from a library of news articles."""
    _show_progress_notes()


def _show_progress_notes() -> None:
    """The library's one-line notes on slow first-time work ("preparing the embedding model")
    go to stderr, so a first run never sits in silence."""
    import logging

    logger = logging.getLogger("brief")
    if not any(getattr(h, "brief_cli", False) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("note: %(message)s"))
        handler.brief_cli = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def run() -> None:
    """The `brief` program: the command line, then a quiet exit. Once the command is over,
    Ctrl-C is ignored: what remains is the interpreter shutting down (threads, files), and a
    signal then would kill the process with no word after its work was done."""
    import signal

    try:
        main()
    except SystemExit as exc:
        if exc.code == INTERRUPTED_EXIT_CODE:
            _exit_interrupted()
        raise
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


__all__ = ["main", "run"]
