"""Find input files and read them without trusting them.

Only regular files are read: a FIFO would block forever, `/dev/zero` would fill memory. The
size is checked before reading (stat), and the read itself stops one byte past the cap, so a
file that grows, or lies about its size, still costs at most the cap. A folder walk says what
it skipped and why (a broken link, a symlink loop, a FIFO, a link to a folder), never silently.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

DEFAULT_MAX_FILE_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_FRONT_MATTER_BYTES = 64 * 1024


@dataclass(frozen=True)
class IngestLimits:
    """Caps on what one input file may cost (see the ingest_* settings)."""

    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_front_matter_bytes: int = DEFAULT_MAX_FRONT_MATTER_BYTES


class UnreadableFile(ValueError):
    """The path is not a regular file that can be read within the limits; str is the reason."""


@dataclass(frozen=True)
class Skipped:
    """An entry of a folder that was not read, and why."""

    path: str
    reason: str
    # False for a readable file brief does not read (an image beside the articles): worth a line,
    # not a failed run. True for what cannot be read at all (a broken link, a FIFO, a loop).
    problem: bool = True

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def read_regular_file(path: Path, max_bytes: int) -> bytes:
    """The bytes of a regular file of at most `max_bytes`; UnreadableFile otherwise."""
    with open_regular_file(path, max_bytes) as handle:
        try:
            data = handle.read(max_bytes + 1)
        except OSError as exc:
            raise UnreadableFile(f"cannot read: {_os_reason(exc)}") from exc
    if len(data) > max_bytes:
        raise UnreadableFile(_too_large(len(data), max_bytes, grew=True))
    return data


def open_regular_file(path: Path, max_bytes: int | None = None) -> BinaryIO:
    """A regular file opened for reading in binary (at most `max_bytes` by its size, if given);
    UnreadableFile otherwise. For readers that stream a file rather than hold it."""
    try:
        info = os.stat(path)
        _require_regular(info.st_mode)
        if max_bytes is not None and info.st_size > max_bytes:
            raise UnreadableFile(_too_large(info.st_size, max_bytes))
        # O_NONBLOCK: should a FIFO be swapped in after the stat, opening it must not wait.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
        handle = os.fdopen(fd, "rb")
        try:
            _require_regular(os.fstat(handle.fileno()).st_mode)
        except UnreadableFile:
            handle.close()
            raise
        return handle
    except OSError as exc:
        raise UnreadableFile(f"cannot read: {_os_reason(exc)}") from exc


def _require_regular(mode: int) -> None:
    if stat.S_ISDIR(mode):
        raise UnreadableFile("is a directory, not a file")
    if not stat.S_ISREG(mode):
        raise UnreadableFile(f"not a regular file but {file_kind(mode)}; only regular files are read")


def _too_large(size: int, cap: int, grew: bool = False) -> str:
    shown = f"over {_mb(cap)}" if grew else _mb(size)
    return f"too large ({shown}; limit {_mb(cap)})"


def _mb(size: int) -> str:
    mb = size / (1024 * 1024)
    return f"{mb:.1f} MB" if mb < 10 and mb != int(mb) else f"{mb:.0f} MB"


def file_kind(mode: int) -> str:
    """A reader's name for a kind of file that is not a regular file."""
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "an unknown kind of file"


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.ENOENT:
        return "no such file (or a broken link)"
    if exc.errno == errno.ELOOP:
        return "a symlink loop"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return exc.strerror or str(exc)


# ----- the folder walk ---------------------------------------------------------------------------


def walk_folder(folder: Path, wanted: frozenset[str] | set[str]) -> Iterator[Path | Skipped]:
    """Regular files under `folder` whose suffix is wanted, and Skipped for entries that cannot
    be read or are of a type brief does not read, in sorted path order. Hidden entries are
    passed over quietly; links to folders are not followed (a link must not pull other trees
    into the library)."""
    # A stack of listings rather than recursion: a hostile tree may nest thousands deep.
    stack = [_listing(folder)]
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
        elif isinstance(entry, Skipped):
            yield entry
        elif not entry.name.startswith("."):
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(_listing(Path(entry.path)))
                    continue
            except OSError:
                pass  # _classify says why
            yield _classify(entry, wanted)


def _listing(folder: Path) -> Iterator[os.DirEntry[str] | Skipped]:
    try:
        return iter(sorted(os.scandir(folder), key=lambda e: e.name))
    except OSError as exc:
        return iter([Skipped(str(folder), f"cannot read the folder: {_os_reason(exc)}")])


def _classify(entry: os.DirEntry[str], wanted: frozenset[str] | set[str]) -> Path | Skipped:
    """A wanted regular file, or a Skipped for what cannot be read or is of another type."""
    path = Path(entry.path)
    try:
        if not entry.is_symlink() and entry.is_file(follow_symlinks=False):
            return path if path.suffix.lower() in wanted else _unsupported(path)
        mode = os.stat(path).st_mode  # a link: what it points at; else the special file itself
    except OSError as exc:
        return Skipped(str(path), _link_reason(exc))
    if stat.S_ISREG(mode):
        return path if path.suffix.lower() in wanted else _unsupported(path)
    if stat.S_ISDIR(mode):
        return Skipped(str(path), "a link to a folder (not followed; name the folder itself to read it)")
    return Skipped(str(path), f"not a regular file but {file_kind(mode)}")


def _unsupported(path: Path) -> Skipped:
    return Skipped(str(path), "unsupported type", problem=False)


def _link_reason(exc: OSError) -> str:
    if exc.errno == errno.ENOENT:
        return "a broken link (its target does not exist)"
    if exc.errno == errno.ELOOP:
        return "a symlink loop"
    return f"cannot read: {_os_reason(exc)}"
