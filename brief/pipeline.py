"""The pipelines: retrieve -> write -> verify, for answers and briefs.

`AnswerPipeline` and `BriefPipeline` each have one `_run` generator that `invoke`, `stream` and
`batch` all go through, so the CLI, the app and `brief eval` walk the same steps; `brief.chain`
wraps the same objects as LangChain Runnables. Streaming yields text as it is written (answer
text, or the brief's progress), then the finished `Answer` or `Brief` last. Kept free of
LangChain imports: its tracing machinery costs about a second, which a one-shot CLI call
should not pay.

Whatever the writer, one verifier (`brief.cite`) checks every sentence against the passage it
cites, and one fallback (`_Attempt`) hands the work to the extractive writer when a language
model fails, saying so in the result's notice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from brief.cite import SupportJudge, render_answer, verify_brief, verify_draft
from brief.generate.base import DECLINE_TEXT, BriefDraft, Draft, DraftSentence, GenerationError, Generator, History
from brief.generate.sentence_pool import SentencePool, on_topic_sentences, topic_anchors
from brief.report import BriefAssembler
from brief.retrieve import HybridSearcher, SearchFilters
from brief.staleness import asked_on, stale_news
from brief.types import Answer, Brief, Passage

T = TypeVar("T")


@dataclass
class AskRequest:
    question: str
    history: History = field(default_factory=list)
    filters: SearchFilters = field(default_factory=SearchFilters)
    k: int = 6
    backend: str = "extractive"


@dataclass
class BriefRequest:
    topic: str
    filters: SearchFilters = field(default_factory=SearchFilters)
    backend: str = "extractive"


@dataclass
class Stages:
    """What both pipelines are made of: a searcher, writers by backend name, the extractive
    writer to fall back on, and the embedder the verifier compares meanings with."""

    searcher: HybridSearcher
    writer_for: Callable[[str], Generator]
    fallback: Generator
    judge_embedder: Any

    def judge(self) -> SupportJudge:
        """A fresh verifier: it caches per-request passage views, so requests never share one."""
        return SupportJudge(self.judge_embedder)


class _Attempt:
    """One request's writer, and the single place where a failing model gives way to the
    extractive writer: the first failure is recorded as the notice, later calls go straight
    to the fallback."""

    def __init__(self, writer: Generator, fallback: Generator, instead: str) -> None:
        self.writer = writer
        self.fallback = fallback
        self.instead = instead  # how the notice ends, e.g. "showing the extractive answer ..."
        self.notice = ""

    def fall_back(self, exc: GenerationError) -> Generator:
        if not self.notice:
            self.notice = f"{exc}; {self.instead}"
        self.writer = self.fallback
        return self.writer

    def call(self, use: Callable[[Generator], T]) -> T:
        try:
            return use(self.writer)
        except GenerationError as exc:
            if self.writer is self.fallback:
                raise
            return use(self.fall_back(exc))


class _Pipeline:
    """invoke, stream and batch over the one `_run` generator of the subclass."""

    name = "brief_pipeline"

    def __init__(self, stages: Stages) -> None:
        self.stages = stages

    def _run(self, request: Any) -> Iterator[Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def invoke(self, request: Any) -> Any:
        """The finished result (the last item of the stream)."""
        return _last(self._run(request))

    def stream(self, request: Any) -> Iterator[Any]:
        """Text as it is produced, then the finished result."""
        return self._run(request)

    def batch(self, requests: list[Any], max_workers: int = 4) -> list[Any]:
        """Results in the order of the requests, a few run at once."""
        if len(requests) <= 1:
            return [self.invoke(r) for r in requests]
        with ThreadPoolExecutor(max_workers=min(max_workers, len(requests))) as pool:
            return list(pool.map(self.invoke, requests))


class AnswerPipeline(_Pipeline):
    """AskRequest -> Answer: condense the follow-up, retrieve, write (streamed), verify."""

    name = "brief_answer"

    def _run(self, request: AskRequest) -> Iterator[str | Answer]:
        started = time.perf_counter()
        stages = self.stages
        attempt = _Attempt(
            stages.writer_for(request.backend),
            stages.fallback,
            "showing the extractive answer from the sources instead",
        )
        timings: dict[str, float] = {}

        query = attempt.call(lambda w: w.standalone_question(request.question, request.history))
        passages = stages.searcher.search(query, request.k, request.filters).passages
        timings["retrieve"] = _ms(started)

        write_started = time.perf_counter()
        draft: Draft | None = None
        asked = asked_on(request.filters.as_of)  # the day "this week" counts back from
        stale = stale_news(request.question, passages, asked)
        if stale:  # "this week" and only year-old articles: no writer can answer from them
            draft = Draft([DraftSentence(DECLINE_TEXT)], attempt.writer.name, declined=True, notice=stale.notice())
            yield DECLINE_TEXT
        else:
            written = _written(
                attempt, lambda w: w.stream(request.question, passages, request.history, asked), "\n[{}]\n"
            )
            for piece in written:
                if isinstance(piece, Draft):
                    draft = piece
                else:
                    yield piece
        timings["generate"] = _ms(write_started)
        assert draft is not None, "a writer's stream must end with its Draft"
        yield self._verified(request, passages, draft, attempt.notice, timings, started)

    def _verified(
        self,
        request: AskRequest,
        passages: list[Passage],
        draft: Draft,
        notice: str,
        timings: dict[str, float],
        started: float,
    ) -> Answer:
        verification = verify_draft(draft, passages, self.stages.judge())
        sentences, citations = verification.sentences, verification.citations
        timings["total"] = _ms(started)
        notice = notice or draft.notice
        if not draft.declined and not any(s.supported for s in sentences):
            notice = notice or "no sentence of this answer could be verified against the sources"
        return Answer(
            question=request.question,
            answer=render_answer(sentences),
            declined=draft.declined,
            backend=draft.backend,
            citations=citations,
            sentences=sentences,
            retrieved=[
                {"doc_id": p.chunk.doc_id, "chunk_id": p.chunk.chunk_id, "score": round(p.score, 6)} for p in passages
            ],
            timings_ms={k: round(v, 1) for k, v in timings.items()},
            notice=notice,
            citation_check=verification.stats(),
        )


class BriefPipeline(_Pipeline):
    """BriefRequest -> Brief: gather passages broadly, write sections, verify, fit one page.
    Streams progress lines ("writing key points") before the Brief."""

    name = "brief_report"

    def __init__(self, stages: Stages, assembler: BriefAssembler) -> None:
        super().__init__(stages)
        self.assembler = assembler

    def _run(self, request: BriefRequest) -> Iterator[str | Brief]:
        started = time.perf_counter()
        stages = self.stages
        attempt = _Attempt(
            stages.writer_for(request.backend), stages.fallback, "the brief was written extractively instead"
        )

        yield "gathering passages"
        gathered = self.assembler.gather(stages.searcher, request.topic, request.filters)
        passages, covered = _about_the_topic(request.topic, gathered, stages.judge_embedder)
        timings = {"retrieve": _ms(started)}
        # "This week's ..." and only year-old articles about it: as for answers, none is that news.
        stale = stale_news(request.topic, passages, asked_on(request.filters.as_of)) if covered else None
        if not covered or stale:  # too little is about the topic (or new enough): say so, write nothing
            brief = self.assembler.assemble(request.topic, request.filters, gathered, {}, attempt.writer.name)
            brief.notice = f"no brief was written: {stale.notice('topic')}" if stale else NOT_COVERED
            timings["total"] = _ms(started)
            brief.timings_ms = {k: round(v, 1) for k, v in timings.items()}
            yield brief
            return

        yield f"writing sections ({attempt.writer.name})"
        write_started = time.perf_counter()
        draft: BriefDraft | None = None
        for piece in _written(attempt, lambda w: w.write_brief(request.topic, passages), "{}"):
            if isinstance(piece, BriefDraft):
                draft = piece
            else:
                yield piece
        assert draft is not None, "a writer's brief stream must end with its BriefDraft"
        timings["write"] = _ms(write_started)

        yield "verifying citations"
        verified = verify_brief(draft, passages, stages.judge())
        if passages and not _any_item(verified) and attempt.writer is not attempt.fallback:
            # Nothing the model wrote holds up against the sources: an empty page helps no one.
            attempt.fall_back(GenerationError("nothing the language model wrote could be verified against the sources"))
            fallback_draft = _last(attempt.fallback.write_brief(request.topic, passages))
            verified = verify_brief(fallback_draft, passages, stages.judge())
        brief = self.assembler.assemble(request.topic, request.filters, passages, verified, attempt.writer.name)
        brief.notice = attempt.notice or (
            "" if passages else "no article in the library matches this topic and these filters"
        )
        self.assembler.fit_budget(brief)
        timings["total"] = _ms(started)
        brief.timings_ms = {k: round(v, 1) for k, v in timings.items()}
        yield brief


NOT_COVERED = "the library does not cover this topic: no passage is about it, so no brief was written"
# Sentences about the topic a brief needs before it is written at all. One: a short article
# on exactly the topic makes a short brief; topics the library does not cover score far below
# the on-topic cut-off in every sentence (the highest seen: 0.28 against 0.35).
MIN_ON_TOPIC = 1


def _about_the_topic(topic: str, passages: list[Passage], embedder: Any) -> tuple[list[Passage], bool]:
    """The passages holding a sentence about the topic (only those reach a writer), and
    whether the library covers it: a name of the topic in no passage, or no sentence about
    it, and it does not. No passages at all is not a coverage question: the brief says that
    no article matches."""
    if not passages:
        return passages, True
    pool = SentencePool(passages, embedder)
    if pool.lacks(topic_anchors(topic)):  # a name of the topic in no passage, in any spelling
        return [], False
    on_topic = on_topic_sentences(pool, topic)
    keep = sorted({pool.candidates[i].passage for i in np.flatnonzero(on_topic)})
    return [passages[i] for i in keep], int(on_topic.sum()) >= MIN_ON_TOPIC


def _written(attempt: _Attempt, start: Callable[[Generator], Iterator[Any]], announce: str) -> Iterator[Any]:
    """The writer's stream (text pieces, then its draft); when the model fails, even mid-way,
    the fallback notice (formatted by `announce`) and then the fallback writer's draft."""
    try:
        yield from start(attempt.writer)
    except GenerationError as exc:
        if attempt.writer is attempt.fallback:
            raise
        fallback = attempt.fall_back(exc)
        yield announce.format(attempt.notice)
        yield _last(item for item in start(fallback) if not isinstance(item, str))


def _any_item(checked: dict[str, list[Any]]) -> bool:
    return any(checked.values())


def _drain(messages: list[str]) -> Iterator[str]:
    while messages:
        yield messages.pop(0)


def _last(items: Iterator[T]) -> T:
    last = None
    for last in items:  # noqa: B007 - only the final item is the result
        pass
    assert last is not None, "a pipeline run yields its result last"
    return last


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0
