"""Keep a weak model's echo of the prompt's fence markers out of what a reader sees stream by.

A small model sometimes copies the prompt back, fence lines included ("<<<SOURCE-1A2B..." and
"SOURCE-1A2B...>>>"). The finished answer drops every line holding the fence (ChatGenerator's
draft); this does the same while the reply streams, so the fence token never reaches the screen.
A line is held back only while it could still be a marker line, so ordinary text streams at once.
"""

from __future__ import annotations

import re

_LINES = re.compile(r"[^\n]*\n|[^\n]+")


class FenceEchoFilter:
    """Feed it the reply's pieces; it returns what may be shown now. `flush` at the end."""

    def __init__(self, fence: str) -> None:
        self._markers = (f"<<<{fence}", f"{fence}>>>") if fence else ()
        self._held = ""  # the start of the current line, while it may still be a marker line
        self._passing = False  # the current line is ordinary text and has been shown in part

    def feed(self, piece: str) -> str:
        shown: list[str] = []
        for part in _LINES.findall(piece):
            ends = part.endswith("\n")
            if self._passing:
                shown.append(part)
            else:
                self._held += part[:-1] if ends else part
                line = self._held.lstrip()
                if not self._could_be_marker(line):
                    shown.append(self._held + ("\n" if ends else ""))
                    self._held = ""
                    self._passing = True
                elif ends:
                    if not self._is_marker(line):
                        shown.append(self._held + "\n")
                    self._held = ""
            if ends:
                self._passing = False
        return "".join(shown)

    def flush(self) -> str:
        """What is still held at the end of the reply (nothing, if it was a marker line)."""
        held, self._held, self._passing = self._held, "", False
        return "" if self._is_marker(held.lstrip()) else held

    def _could_be_marker(self, line: str) -> bool:
        return any(marker.startswith(line) or line.startswith(marker) for marker in self._markers)

    def _is_marker(self, line: str) -> bool:
        return bool(line) and any(line.startswith(marker) for marker in self._markers)
