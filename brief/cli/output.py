"""Text that reaches a terminal: article text and metadata are data, never terminal commands.

Stored articles may carry escape sequences (an OSC 52 clipboard write, a window title, a
clear screen) or control characters; a file name may hold bytes that are not UTF-8 (Python
keeps them as lone surrogates). Human output goes through `terminal_safe`, which removes
every escape sequence and every C0/C1 control except newline and tab, and shows undecodable
file-name bytes as `\\xNN`. JSON output keeps the data exact: `json_text` escapes those same
characters as `\\uXXXX`, so a JSON parser gets back the very same strings.
"""

from __future__ import annotations

import json
import re
from typing import Any

import click

# A whole escape sequence goes, not only its ESC: what follows would otherwise show as
# garbage or, for a sequence split by a stripped ESC, still act. In order: string commands
# (OSC, DCS, SOS, PM, APC) up to their terminator (BEL or ST), CSI sequences, then any other
# ESC sequence; each also in its 8-bit (C1) form. An unterminated string command loses only
# its introducer, so the text after it stays visible.
_ESCAPE_SEQUENCE = re.compile(
    r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"
    r"|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|\x1b[ -/]*[0-~]?"
)
# C0 controls except tab and newline, DEL, C1 controls.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# What JSON text must spell as \uXXXX so a terminal never receives it raw: JSON escapes C0
# itself; DEL, C1 and lone surrogates (undecodable file-name bytes) it would pass through.
_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\ud800-\udfff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def terminal_safe(text: str) -> str:
    """`text` with escape sequences and control characters removed (newline and tab kept)."""
    text = text.replace("\r\n", "\n")
    text = _ESCAPE_SEQUENCE.sub("", text)
    text = _CONTROL.sub("", text)
    return _SURROGATE.sub(_show_surrogate, text)


def _show_surrogate(match: re.Match[str]) -> str:
    code = ord(match.group())
    # 0xDC80-0xDCFF is how Python keeps a byte of a file name that is not UTF-8.
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def echo(text: str = "", err: bool = False) -> None:
    """click.echo for text that may hold article data or file names."""
    click.echo(terminal_safe(text), err=err)


def progress_label(path: str) -> str:
    """A file's name for a rich progress column: terminal-safe, and rich markup escaped."""
    from pathlib import Path

    from rich.markup import escape

    return escape(terminal_safe(Path(path).name)) if path else ""


def json_text(data: Any) -> str:
    """Indented JSON whose text holds no terminal controls and encodes as strict UTF-8."""
    text = json.dumps(data, ensure_ascii=False, indent=2)
    # Such characters occur only inside JSON strings, where \uXXXX means the same character.
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
