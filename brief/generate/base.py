"""The one interface every writer implements (answers and briefs), and the drafts it returns.

A writer only proposes: sentences and the passages (0-based) each claims to rest on. The
pipeline (`brief.pipeline`) verifies every claim against its passage with one verifier, and falls
back to the extractive writer in one place when a model fails.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from brief.errors import BriefError
from brief.types import Passage

# (user message, assistant answer) pairs, oldest first.
History = list[tuple[str, str]]

DECLINE_TEXT = "The sources do not say."
# Asked whether a statement is true, and no passage bears it out.
UNCONFIRMED_NOTICE = "The sources do not confirm this statement; the answer shows what they do say."


class GenerationError(BriefError):
    """The language model could not be reached or failed; the message is for the reader."""


class BackendNotConfigured(BriefError):
    """A generator was asked for that these settings cannot run (no key, no model file)."""

    exit_code = 2


@dataclass
class DraftSentence:
    """A sentence of a draft answer or brief and the passages (0-based) it claims to rest on."""

    text: str
    cited: list[int] = field(default_factory=list)
    speaker: str = ""  # briefs' perspectives: who holds this position


@dataclass
class Draft:
    """What a generator produced, before citation verification."""

    sentences: list[DraftSentence]
    backend: str
    declined: bool = False
    notice: str = ""


@dataclass
class BriefDraft:
    """A brief's sections as proposed by a writer (keys of `brief.report.SECTIONS`)."""

    sections: dict[str, list[DraftSentence]]
    backend: str


class Generator(Protocol):
    """Writes answers and briefs from numbered passages. Same input and output for every backend;
    a failing model raises GenerationError and nothing else."""

    name: str

    def generate(self, question: str, passages: list[Passage], history: History, as_of: dt.date | None = None) -> Draft:
        """The answer; `as_of` is the day the question is asked on (default today)."""
        ...

    def stream(
        self, question: str, passages: list[Passage], history: History, as_of: dt.date | None = None
    ) -> Iterator[str | Draft]:
        """Yield text pieces as they are produced, then the finished Draft last."""
        ...

    def standalone_question(self, question: str, history: History) -> str:
        """The question rewritten so that it can be searched without the history."""
        ...

    def write_brief(self, topic: str, passages: list[Passage]) -> Iterator[str | BriefDraft]:
        """Progress lines while a brief on the topic is written, then its BriefDraft last."""
        ...


_FAKE_MARKER = re.compile(r"\[(\s*\d+(?:\s*[,;–-]\s*\d+)*\s*)\]")


def neutralize_markers(text: str) -> str:
    """Article text is data: turn '[3]'-style markers in it into '(3)' so that they can never
    pass for citations, in a prompt or in an extractive answer."""
    return _FAKE_MARKER.sub(lambda m: f"({m.group(1)})", text)
