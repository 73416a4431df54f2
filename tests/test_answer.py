"""Extractive answering over the fixture corpus: facts, citations, declines, filters, the JSON
contract of `brief ask --json`, follow-ups, and the LangChain faces of the pipeline."""

from __future__ import annotations

import json
import os
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ARTICLES, CORPUS, make_library, run_cli

from brief.generate.base import DECLINE_TEXT
from brief.retrieve import FilterError, HybridSearcher, SearchFilters
from brief.settings import Settings
from brief.types import Answer, Citation

CONTRACT_KEYS = {"question", "answer", "declined", "backend", "citations", "sentences", "retrieved", "timings_ms"}
OPTIONAL_KEYS = {"citation_check", "notice"}
CITATION_KEYS = {"n", "doc_id", "chunk_id", "title", "source", "date", "url", "quote"}
QUOTE_GAP = " … "  # how a quote joins the non-adjacent sentences it is made of


def isolated_library(home: Path, embedder: Any, paths: list[Path], **overrides: Any) -> Any:
    """A Library in its own home, built without the developer's BRIEF_* variables or brief.toml."""
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith("BRIEF_") or name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
                mp.delenv(name)
        mp.chdir(home.parent)
        settings = Settings(home=home, **overrides)
    library = make_library(settings, embedder)
    report = library.ingest(paths)
    assert report.ok, report.errors
    return library


def passages_by_chunk(library: Any, question: str, k: int | None = None, filters: SearchFilters | None = None):
    """The passages the pipeline saw for a question (retrieval is deterministic)."""
    result = library.searcher.search(question, k or library.settings.top_k, filters)
    return {p.chunk.chunk_id: p for p in result.passages}


def assert_quotes_verbatim(citations: list[Citation] | list[dict], passages: dict[str, Any]) -> None:
    """Every quote (or each piece of a joined quote) is text of the passage it cites, or the
    headline of its article (an answer may quote it), which then comes first."""
    for c in citations:
        c = c if isinstance(c, dict) else c.to_dict()
        assert c["chunk_id"] in passages, f"citation [{c['n']}] points at a passage that was not retrieved"
        text = passages[c["chunk_id"]].text
        assert c["quote"].strip()
        pieces = c["quote"].split(QUOTE_GAP)
        if pieces[0] == " ".join(passages[c["chunk_id"]].chunk.title.split()):
            pieces = pieces[1:]
        for piece in pieces:
            assert piece in text, f"quote of [{c['n']}] is not verbatim passage text: {piece!r}"


def assert_well_numbered(answer: dict) -> None:
    """Citations are 1..n in order of first use; sentences only use numbers that exist."""
    numbers = [c["n"] for c in answer["citations"]]
    assert numbers == list(range(1, len(numbers) + 1))
    first_use = list(dict.fromkeys(n for s in answer["sentences"] for n in s["citations"]))
    assert first_use == numbers
    in_text = [int(n) for n in re.findall(r"\[(\d+)\]", answer["answer"])]
    assert list(dict.fromkeys(in_text)) == numbers
    for s in answer["sentences"]:
        assert set(s["citations"]) <= set(numbers)
        assert s["supported"] == bool(s["citations"]) or answer["declined"]


@pytest.fixture(scope="module", params=["embedded", "server"])
def library(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Iterator[Any]:
    """The fixture corpus (11 articles from 9 files) in a library of its own: every retrieval
    and answer test runs on the embedded store and again on a real `chroma run` server."""
    home = tmp_path_factory.mktemp("answer") / "home"
    store: dict[str, Any] = {}
    if request.param == "server":
        store = {"chroma_url": request.getfixturevalue("chroma_server"), "collection": f"t{uuid.uuid4().hex[:10]}"}
    lib = isolated_library(home, embedder, [ARTICLES], backend="extractive", **store)
    assert len(lib.documents()) == 11
    yield lib


@pytest.fixture(scope="module")
def seed_library(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Iterator[Any]:
    home = tmp_path_factory.mktemp("seed") / "home"
    yield isolated_library(home, embedder, [CORPUS], backend="extractive")


def store_env(library: Any) -> dict[str, str]:
    """Environment that points the CLI at the same store as `library` (embedded or server)."""
    settings = library.settings
    if not settings.chroma_url:
        return {}
    return {"BRIEF_CHROMA_URL": settings.chroma_url, "BRIEF_COLLECTION": settings.collection}


def doc_by_title(library: Any, prefix: str) -> Any:
    (doc,) = [d for d in library.documents() if d.title.startswith(prefix)]
    return doc


# ----- answerable questions (eval/world.yaml) ---------------------------------------------------

ANSWERABLE = [
    ("w01", "What share of Saldria's fresh water does the Orrin River supply?", ["85 percent"],
     "Veridia Begins Filling Tessaly Reservoir"),
    ("w02", "What minimum flow did Saldria demand at the Orrin River talks in Lausk?",
     ["700 cubic metres per second"], "Orrin River Talks Collapse"),
    ("w04", "How large were the farm losses in the Orrin Delta estimated to be by the Saldrian Farmers' "
     "Federation?", ["2.3 billion"], "Orrin Delta Farmers Count Losses"),
    ("w05", "To what level did the Central Bank of Veridia raise its policy rate in February 2025?",
     ["6.25 percent"], "Central Bank of Veridia Raises Rates"),
    ("w08", "How big a grant did the government give Aldermoor Energy for the Brennick factory, and from "
     "which fund?", ["180 million crowns", "National Clean Industry Fund"],
     "Aldermoor Energy to Build Solar Panel Factory"),
    ("w09", "Which company made the production machines for the Aldermoor factory that were stuck at Port "
     "Calloway?", ["Trevane Automation"], "Port Strike Pushes Back Opening of Aldermoor"),
    ("w10", "How much did home sales and average home prices in Veridia fall in April 2025?",
     ["18 percent", "4.2 percent"], "Home Sales Slump in Veridia"),
    ("w17", "On what date did the Orrin River talks in Lausk end without agreement?", ["12 March"],
     "Orrin River Talks Collapse"),
    ("w19", "When did Aldermoor ship the first solar panels from its Brennick factory?", ["24 January 2025"],
     "Aldermoor's Brennick Factory Ships First Solar Panels"),
]  # fmt: skip


@pytest.mark.parametrize(("qid", "question", "facts", "source"), ANSWERABLE, ids=[a[0] for a in ANSWERABLE])
def test_answerable_question_is_answered_with_the_fact_cited(
    library: Any, qid: str, question: str, facts: list[str], source: str
) -> None:
    answer = library.ask(question)
    assert isinstance(answer, Answer)
    assert not answer.declined and answer.backend == "extractive" and not answer.notice
    for fact in facts:
        assert fact in answer.answer, f"{qid}: {fact!r} missing from {answer.answer!r}"
        backing = [c for c in answer.citations if c.title.startswith(source) and fact in c.quote]
        assert backing, f"{qid}: no citation of '{source}' quotes {fact!r}: {[c.to_dict() for c in answer.citations]}"
        # The sentence stating the fact is supported and carries that citation.
        stating = [s for s in answer.sentences if fact in s.text]
        assert any(s.supported and set(s.citations) & {c.n for c in backing} for s in stating)
    assert_well_numbered(answer.to_dict())
    assert_quotes_verbatim(answer.citations, passages_by_chunk(library, question))


def test_an_american_spelling_finds_the_british_one(library: Any) -> None:
    # The articles write "Labour Minister" (British); asked for the "labor minister", the answer
    # names her from them (declined before spellings were read as one word).
    answer = library.ask("Who is the labor minister?")
    assert not answer.declined
    assert "Samira Oduya-Kent" in answer.answer
    assert any("Labour Minister Samira Oduya-Kent" in c.quote for c in answer.citations)
    assert_quotes_verbatim(answer.citations, passages_by_chunk(library, "Who is the labor minister?"))


# ----- unanswerable questions -------------------------------------------------------------------

UNANSWERABLE = [
    "How many containers did Port Calloway handle in 2023?",  # w23
    "Did Saldria's central bank change its interest rates in 2025?",  # w24
    "What was the population of Lausk in the 2020 census?",
]


@pytest.mark.parametrize("question", UNANSWERABLE)
def test_unanswerable_question_is_declined(library: Any, question: str) -> None:
    answer = library.ask(question)
    assert answer.declined
    assert answer.answer == DECLINE_TEXT
    assert answer.citations == []
    assert [(s.text, s.citations) for s in answer.sentences] == [(DECLINE_TEXT, [])]
    assert answer.retrieved  # it looked, and found nothing that answers


def test_an_empty_library_declines(tmp_path: Path, embedder: Any) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    lib = isolated_library(tmp_path / "home", embedder, [empty], backend="extractive")
    answer = lib.ask("What share of Saldria's fresh water does the Orrin River supply?")
    assert answer.declined and answer.answer == DECLINE_TEXT and answer.citations == [] and answer.retrieved == []


# ----- filters ----------------------------------------------------------------------------------


def test_source_filter_restricts_every_retrieved_passage_and_citation(library: Any) -> None:
    gazette = doc_by_title(library, "Port Calloway Strike Ends")
    question = "What pay rise did the deal that ended the Port Calloway strike give dockworkers?"
    unfiltered = library.ask(question)
    assert len({r["doc_id"] for r in unfiltered.retrieved}) > 1  # the filter has something to remove
    answer = library.ask(question, filters=SearchFilters(sources=("harbour gazette",)))  # case-insensitive
    assert not answer.declined
    assert answer.retrieved and {r["doc_id"] for r in answer.retrieved} == {gazette.doc_id}
    assert answer.citations and {c.source for c in answer.citations} == {"Harbour Gazette"}


def test_date_filters_are_inclusive_and_restrict_retrieval(library: Any) -> None:
    dates = {d.doc_id: d.date for d in library.documents()}
    question = "What did the Central Bank of Veridia do with its policy rate?"
    early = library.ask(question, filters=SearchFilters(until="2024-12-31"))
    assert early.retrieved and all(dates[r["doc_id"]] <= "2024-12-31" for r in early.retrieved)
    assert all(c.date <= "2024-12-31" for c in early.citations)
    assert "5.75 percent" in early.answer and "6.25" not in early.answer

    late = library.ask(question, filters=SearchFilters(since="2025-01-01"))
    assert late.retrieved and all(dates[r["doc_id"]] >= "2025-01-01" for r in late.retrieved)
    assert all(c.date >= "2025-01-01" for c in late.citations)
    assert "6.25 percent" in late.answer

    # Inclusive on both ends: a one-day window holds exactly the article of that day.
    bank = doc_by_title(library, "Central Bank of Veridia Raises Rates")
    day = library.ask(question, filters=SearchFilters(since=bank.date, until=bank.date))
    assert {r["doc_id"] for r in day.retrieved} == {bank.doc_id}


def test_doc_filter_accepts_an_id_prefix(library: Any) -> None:
    talks = doc_by_title(library, "Orrin River Talks Collapse")
    answer = library.ask("What did Veridia offer?", filters=SearchFilters(doc_ids=(talks.doc_id[:8],)))
    assert answer.retrieved and {r["doc_id"] for r in answer.retrieved} == {talks.doc_id}
    assert {c.doc_id for c in answer.citations} == {talks.doc_id}
    assert "500 cubic metres per second" in answer.answer


def test_unknown_filters_raise_filter_error_naming_them(library: Any) -> None:
    with pytest.raises(FilterError, match="Nonexistent Times") as info:
        library.ask("What happened?", filters=SearchFilters(sources=("Nonexistent Times",)))
    assert "Harbour Gazette" in str(info.value)  # it lists the outlets that do exist
    with pytest.raises(FilterError, match="ffffffff"):
        library.ask("What happened?", filters=SearchFilters(doc_ids=("ffffffff",)))
    with pytest.raises(FilterError, match="not a date"):
        library.ask("What happened?", filters=SearchFilters(since="last tuesday-ish"))


# ----- the JSON contract of `brief ask --json` --------------------------------------------------


def test_cli_json_contract(library: Any, tmp_path: Path) -> None:
    question = "When did Veridia begin filling the Tessaly reservoir, and how full was it at the start of March 2025?"
    result = run_cli("ask", question, "--json", home=library.settings.home, cwd=tmp_path, extra_env=store_env(library))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    data = json.loads(result.stdout)  # exactly one JSON object, nothing else on stdout
    assert isinstance(data, dict)
    assert CONTRACT_KEYS <= set(data) <= CONTRACT_KEYS | OPTIONAL_KEYS
    assert data["question"] == question
    assert data["declined"] is False and data["backend"] == "extractive"
    assert isinstance(data["answer"], str) and data["answer"]
    assert "9 November 2023" in data["answer"] and "46 percent" in data["answer"]

    assert data["citations"]
    for c in data["citations"]:
        assert set(c) == CITATION_KEYS
        assert isinstance(c["n"], int)
        assert all(isinstance(c[k], str) for k in CITATION_KEYS - {"n"})
    for s in data["sentences"]:
        assert set(s) == {"text", "citations", "supported"}
        assert isinstance(s["text"], str) and isinstance(s["supported"], bool)
        assert all(isinstance(n, int) for n in s["citations"])
    assert data["retrieved"]
    for r in data["retrieved"]:
        assert set(r) == {"doc_id", "chunk_id", "score"}
        assert r["chunk_id"].startswith(f"{r['doc_id']}:") and isinstance(r["score"], float)
    assert set(data["timings_ms"]) == {"retrieve", "generate", "total"}
    assert all(isinstance(v, int | float) and v >= 0 for v in data["timings_ms"].values())
    assert data["timings_ms"]["total"] >= data["timings_ms"]["retrieve"]

    assert_well_numbered(data)
    passages = passages_by_chunk(library, question)
    assert [r["chunk_id"] for r in data["retrieved"]] == list(passages)
    assert_quotes_verbatim(data["citations"], passages)
    # The metadata of a citation is the stored document's.
    docs = {d.doc_id: d for d in library.documents()}
    for c in data["citations"]:
        doc = docs[c["doc_id"]]
        assert (c["title"], c["source"], c["date"], c["url"]) == (doc.title, doc.source, doc.date, doc.url)
    titles = {c["title"] for c in data["citations"]}
    assert any(t.startswith("Veridia Begins Filling Tessaly Reservoir") for t in titles)
    assert any(t.startswith("Orrin River Talks Collapse") for t in titles)


def test_cli_filters_and_unknown_source(library: Any, tmp_path: Path) -> None:
    ok = run_cli(
        "ask", "What pay rise did the deal that ended the Port Calloway strike give dockworkers?",
        "--source", "Harbour Gazette", "--json",
        home=library.settings.home, cwd=tmp_path, extra_env=store_env(library),
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    data = json.loads(ok.stdout)
    gazette = doc_by_title(library, "Port Calloway Strike Ends")
    assert {r["doc_id"] for r in data["retrieved"]} == {gazette.doc_id}
    assert {c["source"] for c in data["citations"]} == {"Harbour Gazette"}

    bad = run_cli(
        "ask", "What pay deal ended the strike?", "--source", "Nonexistent Times", "--json",
        home=library.settings.home, cwd=tmp_path, extra_env=store_env(library),
    )  # fmt: skip
    assert bad.returncode == 1
    assert bad.stdout == ""
    assert "error: no source matches 'Nonexistent Times'" in bad.stderr
    assert "Traceback" not in bad.stderr


# ----- the seed corpus and follow-ups -----------------------------------------------------------


def test_seed_question_is_answered_from_the_mistrust_and_chinese_camp_passages(seed_library: Any) -> None:
    question = "Why might the new sanctions push Pakistan toward China?"
    answer = seed_library.ask(question)
    assert not answer.declined
    assert "deepened the mistrust" in answer.answer
    assert "Chinese camp" in answer.answer
    for phrase in ("deepened the mistrust", "Chinese camp"):
        (sentence,) = [s for s in answer.sentences if phrase in s.text]
        assert sentence.supported and sentence.citations
        cited = [c for c in answer.citations if c.n in sentence.citations]
        assert any(phrase in c.quote for c in cited)
    assert_quotes_verbatim(answer.citations, passages_by_chunk(seed_library, question))


def test_follow_up_question_uses_the_history(seed_library: Any) -> None:
    first_q = "Which entities did the US sanction?"
    first = seed_library.ask(first_q)
    assert not first.declined
    history = [(first_q, first.answer)]
    follow_up = "When were they imposed?"
    query = seed_library.generator("extractive").standalone_question(follow_up, history)
    assert query.startswith(follow_up)
    assert "entities" in query and "sanction" in query.lower()
    answer = seed_library.ask(follow_up, history=history)
    assert not answer.declined, f"follow-up declined; retrieval query was {query!r}"
    assert answer.citations and any(s.supported for s in answer.sentences)
    # It answers the "when": a cited sentence carries a date.
    assert re.search(
        r"\b(?:19|20)\d\d\b|\b\d{1,2} (?:January|February|March|April|May|June|July|August|"
        r"September|October|November|December)\b",
        answer.answer,
    ), answer.answer


# ----- LangChain: the retriever and the runnable chain ------------------------------------------


def test_langchain_retriever_returns_documents_with_metadata(library: Any) -> None:
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever

    from brief.retriever import BriefRetriever, document_to_passage

    retriever = BriefRetriever(searcher=library.searcher, k=4)
    assert isinstance(retriever, BaseRetriever)
    docs = retriever.invoke("How many dockworkers walked out at Port Calloway?")
    assert 1 <= len(docs) <= 4
    known = {d.doc_id: d for d in library.documents()}
    for doc in docs:
        assert isinstance(doc, Document) and doc.page_content.strip()
        meta = doc.metadata
        assert {"doc_id", "chunk_id", "title", "source", "date", "start", "end"} <= set(meta)
        record = known[meta["doc_id"]]
        assert (meta["title"], meta["source"], meta["date"]) == (record.title, record.source, record.date)
        assert meta["chunk_id"].startswith(f"{meta['doc_id']}:") and doc.id == meta["chunk_id"]
        assert 0 <= meta["start"] < meta["end"]
        assert document_to_passage(doc).text == doc.page_content
    assert any("3,200" in d.page_content for d in docs)

    gazette_only = BriefRetriever(searcher=library.searcher, k=4, filters=SearchFilters(sources=("Harbour Gazette",)))
    assert {d.metadata["source"] for d in gazette_only.invoke("strike")} == {"Harbour Gazette"}


def test_answer_chain_is_a_langchain_runnable(library: Any) -> None:
    from langchain_core.runnables import Runnable

    from brief.chain import AskRequest

    runnable = library.answer_chain
    assert isinstance(runnable, Runnable)
    request = AskRequest("Who chaired the Orrin River talks in Lausk?", k=6, backend="extractive")
    answer = runnable.invoke(request)
    assert isinstance(answer, Answer) and not answer.declined
    assert "Hallward" in answer.answer
    assert set(answer.timings_ms) == {"retrieve", "generate", "total"}
    # The same pipeline through the public entry point gives the same answer.
    assert library.ask(request.question).answer == answer.answer
    # stream and batch are the same pipeline: text pieces, then the same verified Answer.
    streamed = list(runnable.stream(request))
    assert all(isinstance(p, str) for p in streamed[:-1]) and isinstance(streamed[-1], Answer)
    assert streamed[-1].answer == answer.answer
    batched = runnable.batch([request, AskRequest("When did the Port Calloway strike end?", k=6)])
    assert [a.answer for a in batched][0] == answer.answer and isinstance(batched[1], Answer)


def test_brief_chain_streams_progress_then_the_brief(library: Any) -> None:
    from langchain_core.runnables import Runnable

    from brief.chain import BriefRequest
    from brief.types import Brief

    runnable = library.brief_chain
    assert isinstance(runnable, Runnable)
    items = list(runnable.stream(BriefRequest("Orrin River talks", backend="extractive")))
    progress, brief = items[:-1], items[-1]
    assert isinstance(brief, Brief) and brief.sources
    assert progress[0] == "gathering passages" and "verifying citations" in progress
    assert runnable.invoke(BriefRequest("Orrin River talks")).to_dict()["sections"] == brief.to_dict()["sections"]


# ----- hybrid retrieval diversity ---------------------------------------------------------------


def test_retrieval_spreads_over_documents_and_caps_each(library: Any) -> None:
    question = "How did the Port Calloway strike affect dockworkers and the Aldermoor solar factory?"
    answer = library.ask(question, k=8)
    per_doc = Counter(r["doc_id"] for r in answer.retrieved)
    assert len(answer.retrieved) == 8
    assert len(per_doc) > 1
    assert max(per_doc.values()) <= library.settings.per_doc_cap

    # A question about one article: without the cap that article would fill the list.
    focused = "Orrin Delta farmers losses rice cotton irrigation drought Saldrian Farmers' Federation"
    s = library.settings
    uncapped = HybridSearcher(library.store, library.embedder, s.candidates, s.rrf_k, per_doc_cap=100)
    raw = Counter(p.chunk.doc_id for p in uncapped.search(focused, 8).passages)
    top_doc, top_count = raw.most_common(1)[0]
    assert top_count > s.per_doc_cap, raw
    capped = Counter(p.chunk.doc_id for p in library.searcher.search(focused, 8).passages)
    assert capped[top_doc] == s.per_doc_cap  # capped while other documents had hits
    assert sum(capped.values()) == 8
    # The slots the cap freed went to other documents.
    assert sum(n for d, n in capped.items() if d != top_doc) > sum(n for d, n in raw.items() if d != top_doc)
