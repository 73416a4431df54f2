"""The bundled MiniLM embedder: the derived int8 model, its fidelity, determinism and threads."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from conftest import ARTICLES, SEED, copy_small_set, make_library

from brief.embed import MiniLMEmbedder
from brief.ingest.chunking import ChunkingOptions, chunk_article
from brief.ingest.loaders import find_files, load_file
from brief.ingestion import document_id, embedding_text
from brief.onnx_model import quantized_minilm_path
from brief.settings import minilm_name
from brief.store import EmbedderMismatch, Store


@pytest.fixture(scope="module")
def chunk_texts() -> list[str]:
    texts = []
    for path in [SEED, *find_files([ARTICLES])]:
        for article in load_file(path).articles:
            texts += [embedding_text(c) for c in chunk_article(article, document_id(article), ChunkingOptions())]
    return texts


@pytest.fixture(scope="module")
def float_embedder() -> MiniLMEmbedder:
    return MiniLMEmbedder(quantized=False)


def test_vectors_are_unit_length_and_in_input_order(embedder: MiniLMEmbedder, chunk_texts: list[str]) -> None:
    vectors = embedder.encode(chunk_texts[:12])
    assert vectors.shape == (12, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    for i in (0, 5, 11):  # the pool sorts by length inside; the output must not be reordered
        assert np.array_equal(vectors[i], embedder.encode([chunk_texts[i]])[0])


def test_a_text_has_one_vector_whatever_it_is_embedded_with(embedder: MiniLMEmbedder, chunk_texts: list[str]) -> None:
    """Dynamic quantization scales per run; one text per run keeps vectors reproducible."""
    alone = embedder.encode([chunk_texts[3]])[0]
    crowd = embedder.encode([chunk_texts[40], "Short.", chunk_texts[3], chunk_texts[7] * 3])
    assert np.array_equal(crowd[2], alone)


def test_quantized_vectors_stay_close_to_the_float_model(
    embedder: MiniLMEmbedder, float_embedder: MiniLMEmbedder, chunk_texts: list[str]
) -> None:
    fast = embedder.encode(chunk_texts)
    exact = float_embedder.encode(chunk_texts)
    cosine = (fast * exact).sum(axis=1)
    assert len(chunk_texts) > 30
    assert cosine.min() >= 0.97 and cosine.mean() >= 0.985
    # What retrieval needs: the same passages on top for each question (near-ties may swap).
    questions = [
        "Which Pakistani entities did the US sanction?",
        "Who is the managing director of PICSS?",
        "What did Pakistan's Foreign Ministry call the sanctions?",
        "How large is the Aldermoor solar factory?",
        "When did the port strike end?",
        "What did the central bank do to rates?",
        "Why did the Orrin talks collapse?",
    ]
    fast_rank = np.argsort(-(embedder.encode(questions) @ fast.T), axis=1)
    exact_rank = np.argsort(-(float_embedder.encode(questions) @ exact.T), axis=1)
    for question, f, e in zip(questions, fast_rank, exact_rank, strict=True):
        assert e[0] in f[:2], question
        assert len(set(f[:5]) & set(e[:5])) >= 4, question


def test_concurrent_callers_get_the_same_vectors(embedder: MiniLMEmbedder, chunk_texts: list[str]) -> None:
    expected = embedder.encode(chunk_texts[:20])
    results: dict[int, np.ndarray] = {}
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            results[n] = embedder.encode(chunk_texts[:20])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 6 and all(np.array_equal(v, expected) for v in results.values())


def test_single_worker_gives_the_same_vectors(embedder: MiniLMEmbedder, chunk_texts: list[str]) -> None:
    single = MiniLMEmbedder(workers=1, cache_dir=embedder._cache_dir)
    assert np.array_equal(single.encode(chunk_texts[:6]), embedder.encode(chunk_texts[:6]))


_BUILD = (
    "import sys; from pathlib import Path; from brief.onnx_model import quantized_minilm_path as q; "
    "print(q(Path(sys.argv[1])))"
)


def test_derived_model_is_built_once_and_atomically(tmp_path: Path) -> None:
    cache = tmp_path / "models"
    # Two processes build at the same time: both succeed, and one complete file remains.
    procs = [
        subprocess.Popen([sys.executable, "-c", _BUILD, str(cache)], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    paths = {p.communicate(timeout=120)[0].strip() for p in procs}
    assert all(p.returncode == 0 for p in procs)
    (built,) = paths
    assert [p.name for p in cache.iterdir()] == [Path(built).name]  # no build leftovers
    stamp = Path(built).stat().st_mtime_ns
    assert quantized_minilm_path(cache) == Path(built)
    assert Path(built).stat().st_mtime_ns == stamp  # reused, not rebuilt
    vectors = MiniLMEmbedder(cache_dir=cache).encode(["The sanctions target Pakistan's missile programme."])
    assert np.isclose(np.linalg.norm(vectors[0]), 1.0)


def test_unwritable_model_cache_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache folder should be")
    with pytest.raises(Exception, match="embedding model could not be prepared"):
        MiniLMEmbedder(cache_dir=blocker / "models").encode(["anything"])


def test_store_refuses_the_other_minilm_variant(settings_factory, embedder: MiniLMEmbedder, tmp_path: Path) -> None:
    settings = settings_factory()
    make_library(settings, embedder).ingest([copy_small_set(tmp_path / "src")])
    with pytest.raises(EmbedderMismatch, match="BRIEF_EMBED_QUANTIZED"):
        Store(settings, minilm_name(quantized=False))
    assert len(Store(settings, minilm_name(quantized=True)).documents()) == 3


def test_a_long_text_is_read_at_both_ends() -> None:
    """Past what the model reads, a chunk's last sentences still shape its vector."""
    opening = "The harbour council met on Tuesday to discuss the budget for the coming year. " * 6
    ending = "Volcanic ash grounded every flight at the island airport for three days."
    text = opening + ending
    ends = MiniLMEmbedder(max_tokens=64)
    head = MiniLMEmbedder(max_tokens=64, read_ends=False)
    assert ends.count_tokens(text) > 64 and (ends.reads, head.reads) == ("32+32", "64")
    window = ends._read_window(ends._tokenizer.encode(text).ids)
    full = ends._counting_tokenizer.encode(text).ids
    assert len(window) == 64 and window[0] == full[0] and window[-1] == full[-1]  # [CLS] ... [SEP]
    assert list(window[-32:]) == full[-32:] and list(window[:32]) == full[:32]
    query = ends.encode(["Why were flights at the island airport grounded?"])[0]
    assert float(ends.encode([text])[0] @ query) > float(head.encode([text])[0] @ query) + 0.1
    # A text that fits is read whole, the same either way.
    assert np.array_equal(ends.encode([ending])[0], head.encode([ending])[0])


def test_release_hands_the_sessions_back_and_the_next_encode_opens_them_again(chunk_texts: list[str]) -> None:
    model = MiniLMEmbedder(quantized=True, workers=2)
    before = model.encode(chunk_texts[:4])
    assert model._sessions is not None
    assert model.release() is True
    assert model._sessions is None and model._executor is None
    np.testing.assert_allclose(model.encode(chunk_texts[:4]), before, atol=1e-6)  # the same model again
    with model._running_call():  # an encode in flight (the app answers while it ingests)
        assert model.release() is False
        assert model._sessions is not None
    assert model.release() is True


def test_an_ingest_releases_the_model_before_merging_its_index(tmp_path: Path, settings_factory) -> None:
    library = make_library(settings_factory(), MiniLMEmbedder(quantized=True))
    assert library.ingest([copy_small_set(tmp_path / "src")]).ok
    assert library.embedder._sessions is None  # released once every chunk was embedded
    passages = library.searcher.search("What ended the strike?", 3).passages  # opened again to ask
    assert passages and library.embedder._sessions is not None
