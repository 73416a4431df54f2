"""The pipelines as LangChain Runnables, for use in LangChain code and tools.

Thin adapters with no logic of their own: `invoke`, `stream` and `batch` (and the async forms
LangChain derives from them) go through LangChain's callback machinery, then into the same
`brief.pipeline` run that the CLI, the app and `brief eval` use.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from langchain_core.runnables import Runnable, RunnableConfig

from brief.pipeline import AnswerPipeline, AskRequest, BriefPipeline, BriefRequest

__all__ = ["AskRequest", "BriefRequest", "PipelineRunnable"]


class PipelineRunnable(Runnable):
    """A brief pipeline (answers: AskRequest -> Answer; briefs: BriefRequest -> Brief) as a Runnable."""

    def __init__(self, pipeline: AnswerPipeline | BriefPipeline) -> None:
        self.pipeline = pipeline
        self.name = pipeline.name

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        return self._call_with_config(self.pipeline.invoke, input, config)

    def stream(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Iterator[Any]:
        yield from self._transform_stream_with_config(iter([input]), self._transform, config)

    def _transform(self, inputs: Iterator[Any]) -> Iterator[Any]:
        for request in inputs:
            yield from self.pipeline.stream(request)
