"""`brief ingest`: parse, chunk, embed and store articles from files, links and news feeds."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from brief.cli import common
from brief.cli.common import print_json
from brief.cli.output import echo, progress_label
from brief.errors import BriefError

if TYPE_CHECKING:
    from brief.ingest_progress import IngestProgress
    from brief.library import Library
    from brief.web.links import LinkOutcome


class NoFeedsListed(BriefError):
    """`--feeds` with no feeds in the settings."""

    exit_code = 2


@click.command()
@click.argument("targets", nargs=-1)
@click.option("--feed", "feed_urls", multiple=True, help="Poll this RSS or Atom feed and ingest its new entries.")
@click.option("--feeds", "all_feeds", is_flag=True, help="Poll every feed listed in brief.toml (feeds = [...]).")
@click.option("--prune", is_flag=True, help="Also remove documents whose files are gone.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or progress lines.")
def ingest(
    targets: tuple[str, ...], feed_urls: tuple[str, ...], all_feeds: bool, prune: bool, as_json: bool, quiet: bool
) -> None:
    """Ingest article files or folders (default: corpus/), web links (http/https) and feeds.

    Unchanged files and pages are skipped; a feed that has not changed costs one request.
    Text files (not PDF or office files) adding up to more than BRIEF_ARCHIVE_MB (8) are an
    archive import: one chunk in three gets a vector of its own, twice as fast
    (BRIEF_ARCHIVE_MB= embeds every chunk).
    """
    from brief.web.urls import is_web_url

    links = [t for t in targets if is_web_url(t)]
    others = [t for t in targets if t not in links]
    bad_links = [t for t in others if "://" in t]
    paths = [Path(t) for t in others if t not in bad_links]
    for link in bad_links:
        echo(f"error: {link}: only http and https links can be fetched", err=True)
    library = common.open_library()
    feeds = list(dict.fromkeys([*feed_urls, *(_listed_feeds(library) if all_feeds else [])]))
    if not paths and not links and not feeds and not bad_links:
        paths = [Path("corpus")]

    failed = bool(bad_links)
    output: dict[str, Any] = {}
    if paths:
        report, missing = _ingest_files(library, paths, prune, show=not quiet)
        output.update(report.to_dict())
        if not as_json:
            for warning in report.warnings:
                echo(f"warning: {warning}", err=True)
            # A file of a type brief does not read is news (stdout); an entry that cannot be read
            # at all (a broken link, a FIFO) is a problem (stderr, and the exit code says so).
            for skipped in report.skipped:
                echo(f"skipped: {skipped}", err=skipped.problem)
            for error in report.errors:
                echo(f"error: {error}", err=True)
            echo(report.summary())
        failed = failed or not report.ok or bool(missing)
    if links or feeds:
        from brief.web.fetch import FetchPolicy
        from brief.web.links import LinkIngestor

        # The CLI runs as the machine's own user: links to private addresses are allowed.
        web = LinkIngestor(library, FetchPolicy.from_settings(library.settings, allow_private=True))
        if links:
            outcomes = web.ingest_links(links)
            output["links"] = [o.__dict__ for o in outcomes]
            if not as_json:
                _print_links(outcomes)
                echo(_links_summary(outcomes))
            failed = failed or any(not o.ok for o in outcomes)
        if feeds:
            polls = [web.poll_feed(url, library.settings.feed_max_entries) for url in feeds]
            output["feeds"] = [p.to_dict() for p in polls]
            if not as_json:
                for poll in polls:
                    _print_links(poll.links)
                    if poll.status == "failed":
                        echo(f"error: {poll.url}: {poll.reason}", err=True)
                    echo(poll.summary())
            failed = failed or any(p.status == "failed" or any(not o.ok for o in p.links) for p in polls)
    if as_json:
        print_json(output)
    if failed:
        sys.exit(1)


def _listed_feeds(library: Library) -> list[str]:
    if not library.settings.feeds:
        raise NoFeedsListed('no feeds are listed: add feeds = ["https://…/feed.xml"] to brief.toml (or BRIEF_FEEDS)')
    return list(library.settings.feeds)


def _ingest_files(library: Library, paths: list[Path], prune: bool, show: bool) -> tuple[Any, list[Path]]:
    missing = [p for p in paths if not p.exists() and not p.is_symlink()]
    for path in missing:
        echo(f"error: {path}: no such file or folder", err=True)
    targets = [p for p in paths if p not in missing]
    if not show:
        return library.ingest(targets, prune=prune), missing
    if sys.stderr.isatty():
        with _ProgressBar() as bar:
            return library.ingest(targets, prune=prune, progress=bar.update), missing
    # Not a terminal (a log, a pipe, CI): a line every few seconds, so long work is never silent.
    lines = _ProgressLines(library.settings.progress_interval)
    return library.ingest(targets, prune=prune, progress=lines.update), missing


class _ProgressBar:
    """A bar on the terminal: share of the input read, articles, chunks, pace, time left, file."""

    def __enter__(self) -> _ProgressBar:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

        self._bar = Progress(
            TextColumn("ingesting"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.description}"),
            console=Console(stderr=True),
            transient=True,
        )
        self._bar.__enter__()
        self._task = self._bar.add_task("", total=1.0)
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.__exit__(*exc)

    def update(self, progress: IngestProgress) -> None:
        from brief.ingest_progress import format_duration, sharing_note

        eta = progress.eta_seconds
        parts = [
            f"{progress.documents_read} articles",
            f"{progress.chunks_written} chunks",
            f"{progress.chunks_per_second:.0f} chunks/s",
        ]
        if eta is not None:
            parts.append(f"{format_duration(eta)} left")
        if progress.embed_every > 1:
            parts.append(sharing_note(progress.embed_every, progress.archive))
        if progress.current:
            parts.append(progress_label(progress.current))
        self._bar.update(self._task, completed=progress.fraction, description=" · ".join(parts))


class _ProgressLines:
    """One progress line on stderr at most every `interval` seconds."""

    def __init__(self, interval: float) -> None:
        import time

        self.interval = interval
        self._clock = time.monotonic
        self._next = self._clock() + interval

    def update(self, progress: IngestProgress) -> None:
        if progress.finished or self._clock() < self._next:
            return
        self._next = self._clock() + self.interval
        echo(progress.line(), err=True)


def _print_links(outcomes: list[LinkOutcome]) -> None:
    for outcome in outcomes:
        if outcome.status in ("failed", "refused"):
            echo(f"error: {outcome.url}: {outcome.reason}", err=True)
        elif outcome.status == "skipped":
            echo(f"skipped: {outcome.url}: {outcome.reason}")


def _links_summary(outcomes: list[LinkOutcome]) -> str:
    counts = {s: sum(1 for o in outcomes if o.status == s) for s in ("added", "updated", "unchanged")}
    failed = sum(1 for o in outcomes if o.status in ("failed", "refused"))
    chunks = sum(o.chunks for o in outcomes)
    return (
        f"links: {counts['added']} added, {counts['updated']} updated, {counts['unchanged']} unchanged, "
        f"{failed} failed; {chunks} chunks"
    )
