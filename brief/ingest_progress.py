"""How far an ingest has got, for a progress bar or periodic lines: never silent on long work.

Progress is measured in bytes of input: the only quantity known before parsing (a JSON Lines
export's article count is not), so the share done and the time left come from it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class IngestProgress:
    files_done: int
    files_total: int
    bytes_done: int
    bytes_total: int
    documents_read: int  # articles parsed so far (new, changed or unchanged)
    documents_written: int  # new or changed articles stored (searchable)
    chunks_written: int
    seconds: float
    current: str  # the file being read ("" when done)
    finished: bool = False
    embed_every: int = 1  # one chunk in this many gets a vector of its own
    archive: bool = False  # an archive import (the input's size chose embed_every)

    @property
    def fraction(self) -> float:
        if self.finished:
            return 1.0
        if self.bytes_total <= 0:
            return self.files_done / self.files_total if self.files_total else 0.0
        return min(1.0, self.bytes_done / self.bytes_total)

    @property
    def chunks_per_second(self) -> float:
        return self.chunks_written / self.seconds if self.seconds > 0 else 0.0

    @property
    def eta_seconds(self) -> float | None:
        """Seconds left at the pace so far; None until there is a pace to go by."""
        share = self.fraction
        if self.finished:
            return 0.0
        if share < 0.01 or share >= 0.999 or self.seconds < 1.0:
            return None  # too early to tell, or all read and the last groups still being written
        return self.seconds * (1.0 - share) / share

    def line(self) -> str:
        """One line for logs and pipes: what is done, the pace, the time left."""
        eta = self.eta_seconds
        left = f", about {format_duration(eta)} left" if eta is not None and not self.finished else ""
        return (
            f"ingest: {self.fraction:.0%} of {_size(self.bytes_total)} ({self.files_done}/{self.files_total} files), "
            f"{self.documents_read} articles read, {self.documents_written} stored, {self.chunks_written} chunks, "
            f"{self.chunks_per_second:.0f} chunks/s{left}{self.plan_note()}"
        )

    def plan_note(self) -> str:
        """Says when this ingest embeds only some chunks (an archive import, or the settings)."""
        return f" ({sharing_note(self.embed_every, self.archive)})" if self.embed_every > 1 else ""


def sharing_note(every: int, archive: bool) -> str:
    """How many chunks an ingest embeds, and why, in a few words."""
    return f"{'archive import: ' if archive else ''}one chunk in {every} embedded"


ProgressCallback = Callable[[IngestProgress], None]


class ProgressMeter:
    """Counts what the ingest has done and reports it, at most every `interval` seconds and at
    the end of each file."""

    def __init__(
        self, files: list[Path], callback: ProgressCallback | None, started: float, interval: float = 0.25
    ) -> None:
        self.callback = callback
        self.started = started
        self.interval = interval
        self.sizes = {str(f): _file_size(f) for f in files}
        self.files_total = len(files)
        self.bytes_total = sum(self.sizes.values())
        self.files_done = 0
        self.bytes_before = 0  # bytes of the files already done
        self.bytes_in_file = 0
        self.documents_read = 0
        self.documents_written = 0
        self.chunks_written = 0
        self.current = ""
        self.embed_every = 1  # set by the ingest once it has chosen its plan
        self.archive = False
        self._last = 0.0

    def start_file(self, path: Path) -> None:
        self.current = str(path)
        self.bytes_in_file = 0
        self._report(force=self.files_done == 0)

    def article_read(self, bytes_read: int = 0) -> None:
        self.documents_read += 1
        if bytes_read:
            self.bytes_in_file = min(bytes_read, self.sizes.get(self.current, bytes_read))
        self._report()

    def written(self, documents: int, chunks: int) -> None:
        """Called from the pipeline's writer thread: plain counters, reported by the ingest's thread."""
        self.documents_written += documents
        self.chunks_written += chunks

    def tick(self) -> None:
        """Report while the ingest waits for the embedder or the store."""
        self._report()

    def file_done(self, path: Path) -> None:
        self.files_done += 1
        self.bytes_before += self.sizes.get(str(path), 0)
        self.bytes_in_file = 0
        self._report(force=True)

    def finish(self) -> None:
        self.current = ""
        self._report(force=True, finished=True)

    def snapshot(self, finished: bool = False) -> IngestProgress:
        return IngestProgress(
            files_done=self.files_done,
            files_total=self.files_total,
            bytes_done=self.bytes_before + self.bytes_in_file,
            bytes_total=self.bytes_total,
            documents_read=self.documents_read,
            documents_written=self.documents_written,
            chunks_written=self.chunks_written,
            seconds=time.perf_counter() - self.started,
            current=self.current,
            finished=finished,
            embed_every=self.embed_every,
            archive=self.archive,
        )

    def _report(self, force: bool = False, finished: bool = False) -> None:
        if self.callback is None:
            return
        now = time.perf_counter()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        self.callback(self.snapshot(finished))


def format_duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _size(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):.1f} MB"
    if count >= 1024:
        return f"{count / 1024:.0f} KB"
    return f"{count} bytes"


def _file_size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0  # it fails later with its reason
