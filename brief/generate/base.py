"""The one interface every generator implements, and the draft it returns."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from brief.types import Passage

# (user message, assistant answer) pairs, oldest first.
History = list[tuple[str, str]]

DECLINE_TEXT = "The sources do not say."


@dataclass
class DraftSentence:
    """A sentence of a draft answer and the passages (0-based) it claims to rest on."""

    text: str
    cited: list[int] = field(default_factory=list)


@dataclass
class Draft:
    """What a generator produced, before citation verification."""

    sentences: list[DraftSentence]
    backend: str
    declined: bool = False
    notice: str = ""


class Generator(Protocol):
    """Answer a question from numbered passages. Same input and output for every backend."""

    name: str

    def generate(self, question: str, passages: list[Passage], history: History) -> Draft: ...

    def stream(self, question: str, passages: list[Passage], history: History) -> Iterator[str | Draft]:
        """Yield text pieces as they are produced, then the finished Draft last."""
        ...

    def standalone_question(self, question: str, history: History) -> str:
        """The question rewritten so that it can be searched without the history."""
        ...


_FAKE_MARKER = re.compile(r"\[(\s*\d+(?:\s*[,;–-]\s*\d+)*\s*)\]")


def neutralize_markers(text: str) -> str:
    """Article text is data: turn '[3]'-style markers in it into '(3)' so that they can never
    pass for citations, in a prompt or in an extractive answer."""
    return _FAKE_MARKER.sub(lambda m: f"({m.group(1)})", text)
