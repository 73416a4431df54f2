"""Hand freed heap memory back to the operating system during long writes.

glibc keeps what a thread frees in that thread's arena, ready for reuse, and the ingest's
threads (parsing, embedding, Chroma's writes) each free tens of megabytes per group; without a
trim the process's resident size ratchets up with the corpus. Measured on 1,500 real articles
(23k chunks): anonymous memory at the end 310 -> 188 MB, peak 419 -> 369 MB
(benchmarks/README.md). Elsewhere than glibc this does nothing.

Large blocks are the other half. glibc gives a block of 128 KiB or more pages of its own
(mmap), returned whole when freed, but each such free raises that threshold (up to 32 MiB), and
from then on the ingest's arrays of a few hundred KiB (a group's vectors, a merge's blocks) come
from the heap, where one long-lived object between them keeps their pages resident. Holding
the threshold where it starts keeps them returnable: over the whole development set (server
store) brief's anonymous memory ended at ~190 MB instead of ~235 MB, in the same time.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable


@functools.cache
def _glibc(name: str) -> Callable[..., int] | None:
    """A function of the C library the interpreter runs on; None where it has none (macOS,
    musl builds without it)."""
    try:
        return getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError):
        return None


_M_MMAP_THRESHOLD = -3  # mallopt's parameter number (malloc.h)
_MMAP_THRESHOLD = 128 * 1024  # glibc's own starting value; setting it stops the adjustment


def keep_large_blocks_returnable() -> None:
    """Serve blocks of 128 KiB or more with pages of their own from now on (process-wide)."""
    mallopt = _glibc("mallopt")
    if mallopt is not None:
        mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)


def release_free_memory() -> None:
    """Return the free pages of every malloc arena to the system (a few ms)."""
    trim = _glibc("malloc_trim")
    if trim is not None:
        trim(0)
