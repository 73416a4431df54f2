"""Generators backed by a chat model: OpenAI, any OpenAI-compatible server, or a local GGUF."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from brief.cite import parse_cited_text
from brief.generate.base import DECLINE_TEXT, Draft, DraftSentence, History
from brief.prompts import format_history, format_sources, load_prompt, new_fence
from brief.types import Passage

_DECLINE = re.compile(
    r"^\W*(?:the sources do not (?:say|answer|mention|contain)|the sources don't|insufficient|"
    r"i (?:don't|do not|cannot) (?:know|answer)|there is no information)",
    re.I,
)


class GenerationError(RuntimeError):
    """The language model could not be reached or failed; the message is for the reader."""


class ChatGenerator:
    """Prompt -> chat model -> cited text, for any LangChain chat model."""

    def __init__(self, name: str, llm: Any, prompts_dir: Path, label: str = "") -> None:
        self.name = name
        self.llm = llm
        self.prompts_dir = prompts_dir
        self.label = label or name

    def _inputs(self, question: str, passages: list[Passage]) -> dict[str, str]:
        fence = new_fence()
        return {"question": question, "sources": format_sources(passages, fence), "fence": fence}

    def complete(self, prompt: str, inputs: dict[str, str]) -> str:
        """The model's reply to the prompt file PROMPT; any client failure is a GenerationError."""
        chain = load_prompt(self.prompts_dir, prompt) | self.llm
        try:
            return str(chain.invoke(inputs).content)
        except Exception as exc:  # noqa: BLE001 - any client failure becomes GenerationError
            raise GenerationError(describe_llm_error(exc, self.label)) from exc

    def generate(self, question: str, passages: list[Passage], history: History) -> Draft:
        if not passages:
            return Draft([DraftSentence(DECLINE_TEXT)], self.name, declined=True)
        inputs = self._inputs(question, passages)
        return self._draft(self.complete("answer", inputs), inputs["fence"])

    def stream(self, question: str, passages: list[Passage], history: History) -> Iterator[str | Draft]:
        if not passages:
            yield Draft([DraftSentence(DECLINE_TEXT)], self.name, declined=True)
            return
        chain = load_prompt(self.prompts_dir, "answer") | self.llm
        pieces: list[str] = []
        inputs = self._inputs(question, passages)
        try:
            for chunk in chain.stream(inputs):
                piece = str(chunk.content)
                if piece:
                    pieces.append(piece)
                    yield piece
        except Exception as exc:  # noqa: BLE001
            if pieces:  # it had been answering: the connection broke, it was reachable
                raise GenerationError(f"the language model ({self.label}) stopped mid-answer") from exc
            raise GenerationError(describe_llm_error(exc, self.label)) from exc
        yield self._draft("".join(pieces), inputs["fence"])

    def standalone_question(self, question: str, history: History) -> str:
        if not history:
            return question
        reply = self.complete("condense", {"question": question, "history": format_history(history)}).strip()
        rewritten = reply.splitlines()[0].strip() if reply else ""
        # A weak model may answer instead of rewriting; keep the original words in the query.
        return rewritten if 3 <= len(rewritten) <= 400 else question

    def _draft(self, text: str, fence: str = "") -> Draft:
        # A weak model may echo the prompt: fence lines and repeated sentences are not answer.
        lines = [ln for ln in text.strip().splitlines() if not (fence and fence in ln)]
        text = "\n".join(lines).strip()
        if not text or _DECLINE.match(text):
            return Draft([DraftSentence(DECLINE_TEXT)], self.name, declined=True)
        unique: dict[str, DraftSentence] = {}
        for sentence in parse_cited_text(text):
            unique.setdefault(" ".join(sentence.text.lower().split()), sentence)
        return Draft(list(unique.values()), self.name)


def describe_llm_error(exc: Exception, label: str) -> str:
    """One readable line for a failed model call: unreachable, timed out, rate-limited, ..."""
    name = type(exc).__name__
    status = getattr(exc, "status_code", None) or getattr(getattr(exc, "response", None), "status_code", None)
    if "Timeout" in name:
        return f"the language model ({label}) did not answer in time"
    if "Connection" in name or "connect" in str(exc).lower():
        return f"the language model ({label}) cannot be reached"
    if status == 429:
        return f"the language model ({label}) is rate-limited (HTTP 429), even after retries"
    if status in (401, 403):
        return f"the language model ({label}) refused the API key (HTTP {status})"
    if isinstance(status, int) and status >= 500:
        return f"the language model ({label}) failed with a server error (HTTP {status}), even after retries"
    return f"the language model ({label}) failed: {name}: {str(exc)[:200]}"


def openai_generator(settings: Any) -> ChatGenerator:
    """ChatOpenAI against OpenAI or an OpenAI-compatible server (settings.openai_base_url)."""
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(
        model=settings.openai_model,
        api_key=settings.openai_api_key or "not-needed",
        base_url=settings.openai_base_url,
        temperature=settings.temperature,
        timeout=settings.llm_timeout,
        max_retries=settings.llm_max_retries,
        max_tokens=500,
    )
    where = settings.openai_base_url or "api.openai.com"
    return ChatGenerator("openai", llm, settings.prompts_dir, label=f"{settings.openai_model} at {where}")


def local_generator(settings: Any) -> ChatGenerator:
    """A GGUF model served in-process by llama.cpp (xllamacpp), spoken to like OpenAI."""
    from langchain_openai import ChatOpenAI

    from brief.generate.llama_server import shared_server

    if settings.local_model_path is None:
        raise GenerationError("the local backend needs BRIEF_LOCAL_MODEL_PATH (a .gguf file)")
    server = shared_server(
        Path(settings.local_model_path), context=settings.local_context, threads=settings.local_threads
    )
    llm = ChatOpenAI(
        model=server.model_name,
        api_key="local",
        base_url=server.base_url,
        temperature=settings.temperature,
        timeout=settings.llm_timeout,
        max_retries=settings.llm_max_retries,
        max_tokens=300,
    )
    return ChatGenerator("local", llm, settings.prompts_dir, label=f"local {Path(settings.local_model_path).name}")
