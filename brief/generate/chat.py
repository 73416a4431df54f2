"""Generators backed by a chat model: OpenAI, any OpenAI-compatible server, or a local GGUF."""

from __future__ import annotations

import datetime as dt
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from brief.cite import parse_cited_text
from brief.generate.base import (
    DECLINE_TEXT,
    BackendNotConfigured,
    BriefDraft,
    Draft,
    DraftSentence,
    GenerationError,
    History,
)
from brief.generate.chat_brief import write_chat_brief
from brief.generate.context_budget import LOCAL_REPLY_TOKENS, cost, fit_passages, source_budget
from brief.generate.echo_filter import FenceEchoFilter
from brief.language import MODEL_DECLINE
from brief.prompts import format_history, format_sources, load_prompt, new_fence
from brief.types import Passage

__all__ = [
    "BackendNotConfigured",
    "ChatGenerator",
    "GenerationError",
    "describe_llm_error",
    "local_generator",
    "openai_generator",
]

# How finish_reason reads when the model ended its reply by itself.
_FINISHED = frozenset({"stop", "end_turn", "eos"})


class _LengthLimit:
    """Marks, after the last piece, a reply that stopped at its token limit."""


_LENGTH_LIMIT = _LengthLimit()


class ChatGenerator:
    """Prompt -> chat model -> cited text, for any LangChain chat model."""

    def __init__(
        self,
        name: str,
        llm: Any,
        prompts_dir: Path,
        label: str = "",
        deadline: float = 60.0,
        source_budget: int | None = None,
    ) -> None:
        self.name = name
        self.llm = llm
        self.prompts_dir = prompts_dir
        self.label = label or name
        # Tokens a prompt's sources may take (a small model's context); None: no limit.
        self.source_budget = source_budget
        # Seconds one model call may take in all (connect, retries, every token): a model that
        # drips tokens cannot hold a reader longer than this.
        self.deadline = deadline

    def _inputs(self, question: str, passages: list[Passage]) -> dict[str, str]:
        fence = new_fence()
        budget = None if self.source_budget is None else self.source_budget - cost(question)
        sources = format_sources(passages, fence, only=fit_passages(passages, budget))
        return {"question": question, "sources": sources, "fence": fence}

    def complete(self, prompt: str, inputs: dict[str, str]) -> str:
        """The model's reply to the prompt file PROMPT; any client failure is a GenerationError."""
        return "".join(p for p in self._pieces(prompt, inputs) if isinstance(p, str))

    def generate(self, question: str, passages: list[Passage], history: History, as_of: dt.date | None = None) -> Draft:
        draft = None
        for item in self.stream(question, passages, history, as_of):
            if isinstance(item, Draft):
                draft = item
        assert draft is not None
        return draft

    def stream(
        self, question: str, passages: list[Passage], history: History, as_of: dt.date | None = None
    ) -> Iterator[str | Draft]:
        # `as_of` is not used: the prompt gives the model each passage's date to weigh itself.
        if not passages:
            yield Draft([DraftSentence(DECLINE_TEXT)], self.name, declined=True)
            return
        inputs = self._inputs(question, passages)
        pieces: list[str] = []
        limited = False
        visible = FenceEchoFilter(inputs["fence"])
        for piece in self._pieces("answer", inputs):
            if isinstance(piece, _LengthLimit):
                limited = True
                continue
            pieces.append(piece)
            if shown := visible.feed(piece):
                yield shown
        if rest := visible.flush():
            yield rest
        draft = self._draft("".join(pieces), inputs["fence"])
        if limited and len(draft.sentences) > 1 and not re.search(r"[.!?][\"”’)\]]*$", draft.sentences[-1].text):
            draft.sentences.pop()  # cut off by the token limit mid-sentence; the finished ones stand
        yield draft

    def write_brief(self, topic: str, passages: list[Passage]) -> Iterator[str | BriefDraft]:
        return write_chat_brief(self.complete, topic, passages, self.name, self.source_budget)

    def _pieces(self, prompt: str, inputs: dict[str, str]) -> Iterator[str | _LengthLimit]:
        """The reply's text pieces as they arrive, within the deadline, then `_LENGTH_LIMIT` if the
        reply stopped at its token limit. A reply cut off any other way (broken connection, a
        stream that ends without the model finishing) is a GenerationError."""
        chain = load_prompt(self.prompts_dir, prompt) | self.llm
        said = False
        finish = ""
        try:
            for chunk in _within_deadline(lambda: chain.stream(inputs), self.deadline):
                finish = (getattr(chunk, "response_metadata", None) or {}).get("finish_reason") or finish
                piece = str(chunk.content)
                if piece:
                    said = True
                    yield piece
        except _DeadlinePassed as exc:
            raise GenerationError(f"the language model ({self.label}) did not answer in time ({exc})") from exc
        except GenerationError:
            raise
        except Exception as exc:  # noqa: BLE001 - any client failure becomes GenerationError
            if said:  # it had been answering: the connection broke, it was reachable
                raise GenerationError(f"the language model ({self.label}) stopped mid-answer") from exc
            raise GenerationError(describe_llm_error(exc, self.label)) from exc
        if said and finish == "length":
            yield _LENGTH_LIMIT
        elif said and finish not in _FINISHED:
            raise GenerationError(f"the language model ({self.label}) stopped mid-answer: the reply was cut off")

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
        if not text or MODEL_DECLINE.match(text):
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
    if not (settings.openai_api_key or settings.openai_base_url):
        raise BackendNotConfigured(
            "the openai backend needs an API key: set OPENAI_API_KEY "
            "(or BRIEF_OPENAI_BASE_URL for an OpenAI-compatible server)"
        )
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
    label = f"{settings.openai_model} at {where}"
    return ChatGenerator("openai", llm, settings.prompts_dir, label=label, deadline=settings.llm_timeout)


def local_generator(settings: Any) -> ChatGenerator:
    """A GGUF model served in-process by llama.cpp (xllamacpp), spoken to like OpenAI."""
    from langchain_openai import ChatOpenAI

    from brief.generate.llama_server import shared_server

    if settings.local_model_path is None:
        raise BackendNotConfigured("the local backend needs a model: set BRIEF_LOCAL_MODEL_PATH to a .gguf file")
    if not Path(settings.local_model_path).is_file():
        raise BackendNotConfigured(
            f"the local backend's model file does not exist: {settings.local_model_path} (BRIEF_LOCAL_MODEL_PATH)"
        )
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
        max_tokens=LOCAL_REPLY_TOKENS,
    )
    label = f"local {Path(settings.local_model_path).name}"
    budget = source_budget(settings.local_context)
    return ChatGenerator(
        "local", llm, settings.prompts_dir, label=label, deadline=settings.llm_timeout, source_budget=budget
    )


class _DeadlinePassed(Exception):
    """Raised in the reader's thread when a model call outlives its deadline."""


def _within_deadline(start: Callable[[], Iterator[Any]], seconds: float) -> Iterator[Any]:
    """Items of the iterator `start()` makes, read in a worker thread, so that the reader stops
    waiting when the deadline passes even if the server keeps the connection open (the worker
    then drops the stream at its next item)."""
    items: queue.Queue[tuple[str, Any]] = queue.Queue()
    cancelled = threading.Event()

    def produce() -> None:
        try:
            iterator = start()
            for item in iterator:
                if cancelled.is_set():
                    close = getattr(iterator, "close", None)
                    if close is not None:
                        close()
                    return
                items.put(("item", item))
            items.put(("end", None))
        except BaseException as exc:  # noqa: BLE001 - handed to the reader, who re-raises it
            items.put(("error", exc))

    threading.Thread(target=produce, name="brief-llm-call", daemon=True).start()
    ends_at = time.monotonic() + seconds
    try:
        while True:
            remaining = ends_at - time.monotonic()
            if remaining <= 0:
                raise _DeadlinePassed(f"{seconds:g} s")
            try:
                kind, value = items.get(timeout=remaining)
            except queue.Empty:
                raise _DeadlinePassed(f"{seconds:g} s") from None
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        cancelled.set()
