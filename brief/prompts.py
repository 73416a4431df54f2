"""Prompts live as files in prompts/: NAME.system.md and NAME.human.md make one chat prompt."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from langchain_core.prompts import ChatPromptTemplate

from brief.generate.base import neutralize_markers
from brief.types import Passage


class PromptError(FileNotFoundError):
    """A prompt file is missing."""


@lru_cache(maxsize=64)
def load_prompt(prompts_dir: Path, name: str) -> ChatPromptTemplate:
    """The chat prompt NAME from its system and human message files."""
    messages = []
    for role in ("system", "human"):
        path = prompts_dir / f"{name}.{role}.md"
        if not path.is_file():
            raise PromptError(f"prompt file missing: {path}")
        messages.append((role, path.read_text(encoding="utf-8").strip()))
    return ChatPromptTemplate.from_messages(messages)


def new_fence() -> str:
    """A fence marker the article text cannot predict, so it cannot close the fence early."""
    return f"SOURCE-{secrets.token_hex(4).upper()}"


def format_sources(passages: list[Passage], fence: str, only: list[int] | None = None) -> str:
    """Numbered sources with title, outlet and date, each fenced as untrusted data.

    `only` picks some passages (0-based) while keeping their numbers in the full list."""
    blocks = []
    for n, passage in enumerate(passages, start=1):
        if only is not None and n - 1 not in only:
            continue
        chunk = passage.chunk
        meta = " | ".join(p for p in (chunk.title, chunk.source, chunk.date) if p)
        text = neutralize_markers(passage.text).replace(fence, "").replace("<<<", "‹‹‹").replace(">>>", "›››")
        blocks.append(f"[{n}] {meta}\n<<<{fence}\n{text}\n{fence}>>>")
    return "\n\n".join(blocks)


def format_history(history: list[tuple[str, str]], limit: int = 3) -> str:
    lines = []
    for question, answer in history[-limit:]:
        lines.append(f"User: {question}\nAssistant: {answer[:600]}")
    return "\n".join(lines)
