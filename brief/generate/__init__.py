"""Writers of answers and briefs: extractive (no model), openai (or any OpenAI-compatible
server), local (GGUF). Backends are registered in `brief.backends`."""

from __future__ import annotations

from brief.backends import GENERATOR_BACKENDS as BACKENDS
from brief.backends import make_generator
from brief.generate.base import DECLINE_TEXT, BriefDraft, Draft, DraftSentence, GenerationError, Generator, History

__all__ = [
    "BACKENDS",
    "DECLINE_TEXT",
    "BriefDraft",
    "Draft",
    "DraftSentence",
    "GenerationError",
    "Generator",
    "History",
    "make_generator",
]
