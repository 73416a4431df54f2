"""Embedders as LangChain `Embeddings`: the bundled all-MiniLM-L6-v2 and OpenAI.

The retriever, the store and the benchmarks' LangChain baseline can share one object.
brief's own question path uses `brief.minilm.MiniLM` directly (no LangChain import).
Vectors are L2-normalised.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from langchain_core.embeddings import Embeddings

from brief.minilm import MINILM_MAX_TOKENS, MINILM_READ_TOKENS, MINILM_TOKENIZER, EmbeddingError, MiniLM
from brief.settings import Settings

__all__ = [
    "MINILM_MAX_TOKENS",
    "MINILM_READ_TOKENS",
    "MINILM_TOKENIZER",
    "EmbeddingError",
    "MiniLMEmbedder",
    "OpenAIEmbedder",
    "make_embedder",
]


class MiniLMEmbedder(MiniLM, Embeddings):
    """The bundled MiniLM (`brief.minilm.MiniLM`) as a LangChain `Embeddings`."""


class OpenAIEmbedder(Embeddings):
    """OpenAI (or compatible) embeddings through langchain-openai."""

    def __init__(self, settings: Settings) -> None:
        from langchain_openai import OpenAIEmbeddings

        self.name = settings.embedder_name()
        self._client = OpenAIEmbeddings(
            model=settings.openai_embedding_model,
            api_key=settings.openai_api_key or "not-needed",  # type: ignore[arg-type]
            base_url=settings.openai_base_url,
            timeout=settings.llm_timeout,
            max_retries=settings.llm_max_retries,
            chunk_size=settings.embed_batch_size,
            # Pre-splitting long input needs tiktoken's tables, downloaded at first use, and an
            # OpenAI model name; a compatible server (base_url) has neither and takes plain text.
            check_embedding_ctx_length=settings.openai_base_url is None,
        )

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return _unit_rows(self._client.embed_documents(list(texts)))

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        # The client's own async HTTP: no thread is held while the server works.
        if not texts:
            return []
        return _unit_rows(await self._client.aembed_documents(list(texts))).tolist()

    async def aembed_query(self, text: str) -> list[float]:
        return (await self.aembed_documents([text]))[0]


def _unit_rows(vectors: list[list[float]]) -> np.ndarray:
    rows = np.asarray(vectors, dtype=np.float32)
    return rows / np.clip(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12, None)


def make_embedder(settings: Settings) -> MiniLMEmbedder | OpenAIEmbedder:
    """The embedder that settings ask for, as a LangChain `Embeddings`."""
    if settings.embedder == "openai":
        return OpenAIEmbedder(settings)
    return MiniLMEmbedder.from_settings(settings)
