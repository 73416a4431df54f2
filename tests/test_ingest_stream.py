"""Issue 16: ingest streams (bounded memory), shows progress, is searchable while it runs,
embeds less; an unreadable date is a warning, never a refusal (issue 11)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from brief.ingest.chunking import ChunkingOptions, chunk_article
from brief.ingest.loaders import load_file
from brief.ingest_progress import IngestProgress, ProgressMeter, format_duration
from brief.ingestion import embedding_text, embedding_texts
from brief.types import Chunk, DocumentRecord
from brief.write_pipeline import PendingGroup, WritePipeline
from tests.conftest import assert_store_consistent, make_library, run_cli

TOWNS = ["Calloway", "Brindle", "Ostmark", "Varrow", "Kessel", "Tamsin", "Ulverby", "Pellam"]
GOODS = ["ferry fares", "water rates", "bus passes", "school meals", "parking permits", "library hours"]


def _record(number: int, **extra: str) -> dict[str, str]:
    town, goods = TOWNS[number % len(TOWNS)], GOODS[number % len(GOODS)]
    paragraphs = [
        f"The council of {town} voted on {goods} in meeting number {number}, officials said on Tuesday.",
        f"Under the plan, {goods} in {town} change by {number % 17 + 2} percent from the first of next month.",
        f"Opponents in {town} said the change to {goods} came without enough notice for families.",
        f"A spokesperson for the council said the {goods} decision number {number} would be reviewed in a year.",
    ]
    record = {
        "title": f"{town} Council Decides on {goods.title()} ({number})",
        "author": "Ola Brandt",
        "source": f"{town} Courier",
        "published_at": f"2025-02-{number % 27 + 1:02d}",
        "url": f"https://news.test/{town.lower()}/{number}",
        "body": "\n\n".join(paragraphs),
    }
    record.update(extra)
    return record


def _write_jsonl(path: Path, records: list[dict[str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


# ----- reading ------------------------------------------------------------------------------------


def test_json_lines_larger_than_the_file_cap_are_read_record_by_record(settings_factory, embedder, tmp_path) -> None:
    """The size cap of a JSON Lines file applies to each record: a 1.3 MB export under a 1 MB cap
    is read; the one record over the cap is an error naming its line, its neighbours are stored."""
    records = [_record(n) for n in range(60)]
    padding = "Filler paragraph about the council agenda and its many items. " * 40
    for record in records[:40]:
        record["body"] += "\n\n" + padding  # ~2.6 KB each: the file passes 1 MB only in total
    records[30]["body"] += "\n\n" + "x" * (1024 * 1024)  # one record alone over the cap
    path = _write_jsonl(tmp_path / "export" / "archive.jsonl", records)
    assert path.stat().st_size > 1024 * 1024
    library = make_library(settings_factory(ingest_max_file_mb=1), embedder)
    report = library.ingest([path])
    (outcome,) = report.files
    assert outcome.status == "partial"
    assert outcome.errors == [f"{path} (line 31): record too large (over 1 MB)"]
    assert len(library.documents()) == 59
    assert_store_consistent(library.store)


def test_a_bad_date_is_stored_empty_with_a_warning_line(tmp_path: Path) -> None:
    path = _write_jsonl(
        tmp_path / "in" / "dates.jsonl",
        [_record(1), _record(2, published_at="sometime in spring"), _record(3, published_at="June 12, 2022")],
    )
    result = run_cli("ingest", str(path), "--json", home=tmp_path / "home", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["added"] == 1 and report["failed"] == 0
    assert report["warnings"] == [
        f"{path} (line 2): the date 'sometime in spring' could not be read; stored without a date"
    ]
    docs = run_cli("docs", "--json", home=tmp_path / "home", cwd=tmp_path)
    dates = sorted(d["date"] for d in json.loads(docs.stdout))
    assert dates == ["", "2022-06-12", "2025-02-02"]
    human = run_cli("ingest", str(path), home=tmp_path / "home2", cwd=tmp_path)
    assert human.returncode == 0
    assert human.stderr.strip().splitlines() == [
        f"warning: {path} (line 2): the date 'sometime in spring' could not be read; stored without a date"
    ]


# ----- searchable while it runs; progress ------------------------------------------------------------


def test_each_written_group_is_searchable_before_the_file_ends(settings_factory, embedder, tmp_path) -> None:
    records = [_record(n) for n in range(120)]
    path = _write_jsonl(tmp_path / "export" / "archive.jsonl", records)
    # Groups of 8 chunks: the reader gets a few groups ahead of the writer, then waits for it,
    # while the file is still being read.
    settings = settings_factory(chunk_target_tokens=40, chunk_max_tokens=60, ingest_group_chunks=8)
    library = make_library(settings, embedder)
    seen: list[IngestProgress] = []
    found_early: list[str] = []

    def watch(progress: IngestProgress) -> None:
        seen.append(progress)
        if progress.documents_written and not progress.finished and progress.files_done == 0 and not found_early:
            # The only file is still being read, yet what was written answers a search now.
            hits = library.searcher.search("Calloway council ferry fares meeting number 0", 3).passages
            found_early.extend(p.chunk.title for p in hits)

    report = library.ingest([path], progress=watch)
    assert report.count("added") == 1 and len(library.documents()) == 120
    assert found_early and any("(0)" in title for title in found_early)
    assert seen[-1].finished and seen[-1].fraction == 1.0 and seen[-1].documents_read == 120
    assert seen[-1].chunks_written == report.chunks_written
    fractions = [p.fraction for p in seen]
    assert fractions == sorted(fractions) and 0 < fractions[len(fractions) // 2] < 1


def test_a_long_ingest_merges_its_newest_segments_and_ends_with_one(
    settings_factory, embedder, tmp_path, monkeypatch
) -> None:
    """Every few dozen groups the ingest merges its newest small segments, leaving the larger
    ones alone (their rows are not copied again); the end of the ingest merges everything."""
    import brief.store as store_module
    from brief.search_index import IndexFolder

    monkeypatch.setattr(store_module, "_SMALL_SEGMENT_ROWS", 24)  # a few groups' worth at this size
    merges: list[tuple[int, int]] = []  # (segments kept as they were, segments at the time)
    replace = IndexFolder._replace

    def watched(self, view, first):  # type: ignore[no-untyped-def]
        merges.append((first, len(view.segments)))
        return replace(self, view, first)

    monkeypatch.setattr(IndexFolder, "_replace", watched)
    path = _write_jsonl(tmp_path / "export" / "archive.jsonl", [_record(n) for n in range(90)])
    settings = settings_factory(chunk_target_tokens=40, chunk_max_tokens=60, ingest_group_chunks=2)
    library = make_library(settings, embedder)
    report = library.ingest([path])
    assert report.count("added") == 1 and len(library.documents()) == 90
    partial = [first for first, _ in merges[:-1] if first > 0]
    assert partial, merges  # larger segments were kept as they were in the ingest's merges
    assert merges[-1][0] == 0  # the ingest's end: everything into one
    index = library.store.search_index()
    assert len(index.segments) == 1 and index.dead_rows == 0 and len(index) == report.chunks_written
    for n in (0, 44, 89):
        town, goods = TOWNS[n % len(TOWNS)], GOODS[n % len(GOODS)]
        hits = library.searcher.search(f"{town} council {goods} meeting number {n}", 3).passages
        assert any(f"({n})" in p.chunk.title for p in hits), n
    assert_store_consistent(library.store)


def test_an_ingests_merges_do_not_read_the_registry_again(settings_factory, embedder, tmp_path, monkeypatch) -> None:
    """A writer's periodic merges keep the rows of the documents it wrote without reading every
    registry record each time (that read grew with the registry); a second ingest that drops
    articles from the file leaves no row of theirs behind."""
    import brief.store as store_module
    from brief.search_index import IndexFolder
    from brief.store import Store

    monkeypatch.setattr(store_module, "_SMALL_SEGMENT_ROWS", 24)
    monkeypatch.setattr(store_module, "_MAX_SEGMENTS", 4)  # a merge every few groups
    merges, reads = [], []
    merge_recent, read_records = IndexFolder.merge_recent, Store._read_records
    monkeypatch.setattr(IndexFolder, "merge_recent", lambda self, *a: merges.append(1) or merge_recent(self, *a))
    monkeypatch.setattr(Store, "_read_records", lambda self, *a: reads.append(1) or read_records(self, *a))
    path = _write_jsonl(tmp_path / "export" / "archive.jsonl", [_record(n) for n in range(90)])
    settings = settings_factory(chunk_target_tokens=40, chunk_max_tokens=60, ingest_group_chunks=2)
    library = make_library(settings, embedder)
    library.ingest([path])
    assert len(merges) >= 4, merges
    assert len(reads) <= 3, (len(reads), len(merges))  # the start, the first merge, the end: not one per merge
    # The same file with 30 articles gone and 30 new ones: the old ones go after the new are written.
    _write_jsonl(path, [_record(n) for n in range(60)] + [_record(n) for n in range(100, 130)])
    merges.clear()
    report = library.ingest([path])
    assert merges and report.count("updated") == 1
    documents = library.documents()
    titles = {r.title for r in documents}
    assert len(titles) == 90 and not any(f"({n})" in t for t in titles for n in range(60, 90))
    index = library.store.search_index()
    assert len(index.segments) == 1 and index.dead_rows == 0
    assert len(index) == sum(r.chunks for r in documents)
    assert {c.split(":")[0] for c in index.chunk_ids} == {r.doc_id for r in documents}
    assert_store_consistent(library.store)


def test_progress_lines_when_not_a_terminal_and_quiet_silences_them(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "in" / "archive.jsonl", [_record(n) for n in range(40)])
    fast = {"BRIEF_PROGRESS_INTERVAL": "0.01"}
    result = run_cli("ingest", str(path), home=tmp_path / "home", cwd=tmp_path, extra_env=fast)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines and all(line.startswith("ingest: ") for line in lines), lines
    assert any("chunks/s" in line and "articles read" in line and "archive" not in line for line in lines)
    quiet = run_cli("ingest", "--quiet", str(path), home=tmp_path / "home2", cwd=tmp_path, extra_env=fast)
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_progress_share_and_time_left_come_from_bytes(tmp_path: Path) -> None:
    files = [tmp_path / "a.jsonl", tmp_path / "b.jsonl"]
    files[0].write_bytes(b"x" * 300)
    files[1].write_bytes(b"x" * 100)
    reports: list[IngestProgress] = []
    meter = ProgressMeter(files, reports.append, started=0.0, interval=0.0)
    meter.start_file(files[0])
    meter.article_read(150)
    half = reports[-1]
    assert (half.bytes_done, half.bytes_total) == (150, 400)
    assert half.fraction == pytest.approx(0.375)
    meter.file_done(files[0])
    assert reports[-1].bytes_done == 300 and reports[-1].files_done == 1
    stalled = IngestProgress(1, 2, 100, 400, 5, 3, 60, 30.0, "b.jsonl")
    assert stalled.eta_seconds == pytest.approx(90.0) and stalled.chunks_per_second == pytest.approx(2.0)
    assert "about 1 min 30 s left" in stalled.line()
    assert format_duration(3725) == "1 h 02 min"


# ----- embedding less -----------------------------------------------------------------------------


def test_the_repeated_overlap_is_not_embedded_again() -> None:
    article_text = "First sentence here. Second sentence here. Third sentence here. Fourth one."
    first = _chunk("d", 0, article_text, 0, 42)
    second = _chunk("d", 1, article_text, 21, len(article_text))
    assert second.text == "Second sentence here. Third sentence here. Fourth one."
    assert embedding_text(second) == "T\nSecond sentence here. Third sentence here. Fourth one."
    assert embedding_texts([first, second]) == [
        "T\nFirst sentence here. Second sentence here.",
        "T\nThird sentence here. Fourth one.",
    ]
    other_doc = _chunk("e", 0, article_text, 21, 42)
    assert embedding_text(other_doc, first) == "T\nSecond sentence here."  # another article: kept whole


def _chunk(doc_id: str, index: int, text: str, start: int, end: int) -> Chunk:
    return Chunk(f"{doc_id}:{index:04d}", doc_id, index, text[start:end], start, end, "", "T", "", "")


def test_real_chunks_embed_each_sentence_once() -> None:
    path = Path(__file__).parent / "fixtures" / "articles"
    article = next(a for f in sorted(path.iterdir()) if f.suffix == ".md" for a in load_file(f).articles)
    chunks = chunk_article(article, "doc", ChunkingOptions(target_tokens=60, max_tokens=80, overlap_sentences=1))
    assert len(chunks) >= 3 and any(b.start < a.end for a, b in zip(chunks, chunks[1:], strict=False))
    bodies = [t.split("\n", 1)[1] for t in embedding_texts(chunks)]
    expected, end = [], -1
    for chunk in chunks:
        expected.append(
            article.text[max(chunk.start, end) if chunk.start < end < chunk.end else chunk.start : chunk.end]
        )
        end = chunk.end
    assert " ".join(bodies).split() == " ".join(expected).split()
    assert len(" ".join(bodies).split()) < len(" ".join(c.text for c in chunks).split())


def test_syndicated_copies_are_embedded_once(settings_factory, embedder, tmp_path) -> None:
    """The same story under two addresses is two documents, but its passages are embedded once."""
    story = _record(7)
    copy = dict(story, url="https://partner.test/reprint/7", source="Partner Wire")
    path = _write_jsonl(tmp_path / "in" / "wire.jsonl", [story, copy, _record(8)])

    class Counting:
        def __init__(self) -> None:
            self.texts = 0

        def encode(self, texts: list[str]) -> np.ndarray:
            self.texts += len(texts)
            return embedder.encode(texts)

        def __getattr__(self, name: str):  # noqa: ANN204 - the real embedder's other parts
            return getattr(embedder, name)

    counting = Counting()
    library = make_library(settings_factory(), embedder)
    library.embedder = counting
    report = library.ingest([path])
    docs = library.documents()
    assert len(docs) == 3 and report.chunks_written == sum(d.chunks for d in docs)
    per_story = next(d.chunks for d in docs if d.url == story["url"])
    assert counting.texts == report.chunks_written - per_story
    assert_store_consistent(library.store)


# ----- the write pipeline's order (pure logic: a recording store) ------------------------------------


class _RecordingStore:
    def __init__(self, fail_on: int | None = None) -> None:
        self.calls: list[tuple[str, str]] = []
        self.fail_on = fail_on
        self.release = threading.Event()

    def write_documents(self, batch) -> None:  # noqa: ANN001
        if self.fail_on is not None and len(self.calls) == self.fail_on:
            raise RuntimeError("store went away")
        self.calls.extend(("write", record.doc_id) for record, _, _ in batch)

    def update_paths(self, record: DocumentRecord) -> None:
        self.calls.append(("paths", f"{record.doc_id}:{','.join(record.paths)}"))

    def delete_document(self, doc_id: str) -> None:
        self.calls.append(("delete", doc_id))


class _Vectors:
    def encode(self, texts: list[str]) -> np.ndarray:
        return np.ones((len(texts), 3), dtype=np.float32)


def _doc(doc_id: str, chunks: int = 2) -> tuple[DocumentRecord, list[Chunk]]:
    record = DocumentRecord(doc_id, doc_id, "", "", "", "", "en", ["/a"], chunks, 10, "")
    return record, [_chunk(doc_id, i, f"{doc_id} text {i}", 0, 8) for i in range(chunks)]


def test_pipeline_keeps_the_order_operations_were_sent_in() -> None:
    store = _RecordingStore()
    written: list[tuple[int, int]] = []
    pipeline = WritePipeline(
        store, _Vectors(), lambda chunks: [c.text for c in chunks], lambda d, c: written.append((d, c))
    )
    pending = PendingGroup()
    for name in ("a", "b"):
        pending.add(*_doc(name))
    assert pending.holds("a") and pending.chunks == 4
    pipeline.write(pending.take())
    assert not pending.holds("a") and pending.chunks == 0
    record, _ = _doc("a")
    record.paths = ["/a", "/b"]
    pipeline.update_paths(record)
    record.paths.append("/c")  # changed after it was sent: the store gets the paths as they were
    pipeline.delete("old")
    pipeline.write([_doc("c", 3)])
    pipeline.wait()
    pipeline.close()
    assert store.calls == [("write", "a"), ("write", "b"), ("paths", "a:/a,/b"), ("delete", "old"), ("write", "c")]
    assert written == [(2, 4), (1, 3)] and (pipeline.documents_written, pipeline.chunks_written) == (3, 7)


def test_pipeline_stops_at_the_first_failure_and_the_caller_gets_it() -> None:
    store = _RecordingStore(fail_on=2)
    pipeline = WritePipeline(store, _Vectors(), lambda chunks: [c.text for c in chunks], lambda d, c: None)
    pipeline.write([_doc("a")])
    pipeline.write([_doc("b")])
    with pytest.raises(RuntimeError, match="store went away"):  # at the next call after it happened
        pipeline.write([_doc("c")])  # fails: the store holds two
        pipeline.delete("a")  # dropped: nothing after a failure reaches the store
        pipeline.wait()
    pipeline.close()
    assert store.calls == [("write", "a"), ("write", "b")]
    assert pipeline.documents_written == 2
