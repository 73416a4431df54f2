"""The answer pipeline as one LangChain runnable: retrieve -> generate -> verify citations.

A failing language model never leaves the reader with nothing: the extractive generator
answers instead, and the answer says so in its notice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from langchain_core.runnables import Runnable, RunnableLambda

from brief.cite import SupportJudge, render_answer, verify_draft
from brief.generate.base import Draft, Generator, History
from brief.generate.chat import GenerationError
from brief.retrieve import HybridSearcher, SearchFilters
from brief.types import Answer, Passage


@dataclass
class AskRequest:
    question: str
    history: History = field(default_factory=list)
    filters: SearchFilters = field(default_factory=SearchFilters)
    k: int = 6
    backend: str = "extractive"


@dataclass
class _State:
    request: AskRequest
    generator: Generator
    started: float
    query: str = ""
    passages: list[Passage] = field(default_factory=list)
    draft: Draft | None = None
    notice: str = ""
    timings: dict[str, float] = field(default_factory=dict)


class AnswerChain:
    """Wires a searcher, generators and the citation verifier into one pipeline."""

    def __init__(
        self,
        searcher: HybridSearcher,
        generator_for: Callable[[str], Generator],
        fallback: Generator,
        judge_embedder: Any,
    ) -> None:
        self.searcher = searcher
        self.generator_for = generator_for
        self.fallback = fallback
        self.judge_embedder = judge_embedder

    def runnable(self) -> Runnable:
        """AskRequest -> Answer: retrieve | generate | verify, each a RunnableLambda."""
        return (
            RunnableLambda(self._start, name="start")
            | RunnableLambda(self._retrieve, name="retrieve")
            | RunnableLambda(self._generate, name="generate")
            | RunnableLambda(self._verify, name="verify")
        )

    def invoke(self, request: AskRequest) -> Answer:
        return self.runnable().invoke(request)

    def stream(self, request: AskRequest) -> Iterator[str | Answer]:
        """Text pieces as the generator produces them, then the verified Answer."""
        state = self._retrieve(self._start(request))
        started = time.perf_counter()
        try:
            for piece in state.generator.stream(state.request.question, state.passages, state.request.history):
                if isinstance(piece, Draft):
                    state.draft = piece
                else:
                    yield piece
        except GenerationError as exc:
            state.notice = _fallback_notice(exc)
            yield f"\n[{state.notice}]\n"
            state.draft = self.fallback.generate(state.request.question, state.passages, state.request.history)
        state.timings["generate"] = _ms(started)
        yield self._verify(state)

    # ----- steps --------------------------------------------------------------------------------

    def _start(self, request: AskRequest) -> _State:
        generator = self.generator_for(request.backend)
        return _State(request, generator, time.perf_counter())

    def _retrieve(self, state: _State) -> _State:
        started = time.perf_counter()
        request = state.request
        try:
            state.query = state.generator.standalone_question(request.question, request.history)
        except GenerationError as exc:
            state.notice = _fallback_notice(exc)
            state.generator = self.fallback
            state.query = self.fallback.standalone_question(request.question, request.history)
        state.passages = self.searcher.search(state.query, request.k, request.filters).passages
        state.timings["retrieve"] = _ms(started)
        return state

    def _generate(self, state: _State) -> _State:
        started = time.perf_counter()
        request = state.request
        try:
            state.draft = state.generator.generate(request.question, state.passages, request.history)
        except GenerationError as exc:
            state.notice = _fallback_notice(exc)
            state.draft = self.fallback.generate(request.question, state.passages, request.history)
        state.timings["generate"] = _ms(started)
        return state

    def _verify(self, state: _State) -> Answer:
        assert state.draft is not None
        judge = SupportJudge(self.judge_embedder)
        verification = verify_draft(state.draft, state.passages, judge)
        sentences, citations = verification.sentences, verification.citations
        state.timings["total"] = _ms(state.started)
        notice = state.notice or state.draft.notice
        if not state.draft.declined and not any(s.supported for s in sentences):
            notice = notice or "no sentence of this answer could be verified against the sources"
        return Answer(
            question=state.request.question,
            answer=render_answer(sentences),
            declined=state.draft.declined,
            backend=state.draft.backend,
            citations=citations,
            sentences=sentences,
            retrieved=[
                {"doc_id": p.chunk.doc_id, "chunk_id": p.chunk.chunk_id, "score": round(p.score, 6)}
                for p in state.passages
            ],
            timings_ms={k: round(v, 1) for k, v in state.timings.items()},
            notice=notice,
            citation_check=verification.stats(),
        )


def _fallback_notice(exc: GenerationError) -> str:
    return f"{exc}; showing the extractive answer from the sources instead"


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0
