"""The Gradio app: a thin layer over `brief.Library` (no retrieval, prompt or citation logic here).

Tabs: Chat (streamed, cited answers; sources grouped by article; a citation opens its passage
in the article), Brief (one-page briefs and downloads), Library (upload, links, feeds, list,
delete with confirmation and undo), Evaluate (question sets and metrics). Each browser session
keeps its own chat.
"""

from __future__ import annotations

import hashlib
import os
import queue
import re
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import Any

# Gradio would otherwise report usage to outside hosts; this must be set before it is imported.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

import gradio as gr  # noqa: E402

from brief.backends import configured_backends  # noqa: E402
from brief.errors import BriefError  # noqa: E402
from brief.ingest_progress import IngestProgress  # noqa: E402
from brief.library import Library, UnknownDocument  # noqa: E402
from brief.prompts import one_line  # noqa: E402
from brief.retrieve import FilterError, SearchFilters, resolve_filters  # noqa: E402
from brief.types import Answer  # noqa: E402
from brief.ui import reader, render  # noqa: E402
from brief.ui.guard import LoginThrottle, ModelSlots, RequestCaps, RequestGuard  # noqa: E402
from brief.ui.scripts import READER_JS  # noqa: E402
from brief.ui.theme import brief_theme  # noqa: E402

BACKEND_LABELS = {
    "extractive": "Quotes from the articles (extractive)",
    "openai": "OpenAI model",
    "local": "Local model",
}
THINKING_TICK_SECONDS = 1.0  # how often "thinking… n s" is updated before the first word
DOC_HEADERS = ["title", "outlet", "author", "date", "chunks", "id"]
MAX_UPLOAD = "50mb"
EXAMPLE_TITLE_CHARS = 80
MAX_LINKS = 50  # links in one "Add a link" request


def _filters(
    sources: list[str] | None, since: str, until: str, doc_ids: list[str] | None, as_of: str | None = ""
) -> SearchFilters:
    """The filter inputs as the CLI's --source/--since/--until/--doc/--as-of would give them."""
    return SearchFilters(
        tuple(sources or ()),
        (since or "").strip(),
        (until or "").strip(),
        tuple(doc_ids or ()),
        (as_of or "").strip(),
    )


def _example_questions(library: Library) -> list[str]:
    # Titles are untrusted: one line, defused and capped like metadata in a prompt.
    docs = library.documents()[:3]
    examples = [f"What are the main points of “{one_line(d.title, EXAMPLE_TITLE_CHARS)}”?" for d in docs if d.title]
    return examples or ["What happened, and who said what about it?"]


def _safe_name(name: str) -> str:
    base = Path(name).name
    return re.sub(r"[^\w.\- ]+", "_", base).strip() or f"upload-{uuid.uuid4().hex[:8]}"


def _with_heartbeat(items: Iterator[Any], every: float) -> Iterator[Any]:
    """The items of `items`, read on a worker thread, with None yielded every `every` seconds
    while none arrives (so the page can say how long the model has been thinking)."""
    box: queue.Queue[tuple[str, Any]] = queue.Queue()
    stop = threading.Event()

    def pump() -> None:
        try:
            for item in items:
                box.put(("item", item))
                if stop.is_set():
                    break
        except BaseException as exc:  # noqa: BLE001 - handed to the reading side, raised there
            box.put(("error", exc))
        else:
            box.put(("done", None))

    threading.Thread(target=pump, name="brief-answer", daemon=True).start()
    try:
        while True:
            try:
                kind, value = box.get(timeout=every)
            except queue.Empty:
                yield None
                continue
            if kind == "error":
                raise value
            if kind == "done":
                return
            yield value
    finally:
        stop.set()  # the reader left (new question, closed tab): stop after the current piece


def _chip_labels(filters: SearchFilters, titles: dict[str, str]) -> list[str]:
    """Each active filter in words: outlets, dates, documents (by title)."""
    chips = [f"Outlet: {s}" for s in filters.sources]
    if filters.since and filters.until:
        chips.append(f"Dates: {filters.since} to {filters.until}")
    elif filters.since:
        chips.append(f"From {filters.since}")
    elif filters.until:
        chips.append(f"Until {filters.until}")
    chips += [f"Document: {one_line(titles.get(d, d[:12]), 48)}" for d in filters.doc_ids]
    if filters.as_of:
        chips.append(f"As of {filters.as_of}")
    return chips


class BriefApp:
    """Event handlers bound to one library. Every method is a thin call into the library."""

    def __init__(self, library: Library, eval_dir: Path | None = None) -> None:
        self.library = library
        # Absolute, so the question sets stay reachable whatever the working folder becomes.
        self.eval_dir = (eval_dir or Path("eval")).resolve()
        self.uploads = library.settings.home / "uploads"
        self.exports = library.settings.home / "exports"

    # ----- chat -----------------------------------------------------------------------------------

    @cached_property
    def model_slots(self) -> ModelSlots:
        """Answers and briefs in progress per language-model backend (see guard.ModelSlots)."""
        return ModelSlots(self.library.settings.ui_model_concurrency)

    def _busy_notice(self, backend: str) -> str:
        return (
            f"The {backend} model is already writing {self.model_slots.limit} answers "
            "(BRIEF_UI_MODEL_CONCURRENCY), so this one was written extractively."
        )

    def _resolved(self, backend: str) -> str:
        return self.library.settings.resolved_backend() if backend in ("", "auto") else backend

    def chat(
        self,
        message: str,
        messages: list[dict[str, Any]],
        history: list[tuple[str, str]],
        backend: str,
        sources: list[str],
        since: str,
        until: str,
        doc_ids: list[str],
        as_of: str | None = None,  # None: optional for API clients written before the field existed
    ) -> Iterator[tuple[Any, ...]]:
        """Stream one answer into the chat; the verified, cited answer replaces the draft."""
        question = (message or "").strip()
        if not question:
            yield messages, history, gr.update(), ""
            return
        limit = self.library.settings.max_question_chars
        if len(question) > limit:
            # Refused by its size alone: the question is never sent back, not even in the textbox.
            refusal = (
                f"Your question is {len(question):,} characters long; questions may have at most "
                f"{limit:,} (BRIEF_MAX_QUESTION_CHARS). Shorten it and ask again."
            )
            messages = list(messages or []) + [{"role": "assistant", "content": render.error_html(refusal)}]
            yield messages, history, gr.update(), gr.update()
            return
        filters = _filters(sources, since, until, doc_ids, as_of)
        refusal = self._scope_refusal(filters)
        if refusal:
            messages = list(messages or []) + [
                {"role": "user", "content": render._e(question)},
                {"role": "assistant", "content": refusal},
            ]
            yield messages, history, render.sources_html(None), ""
            return
        name = self._resolved(backend)
        with self.model_slots.claim(name) as free:
            yield from self._answer(question, messages, history, name if free else "extractive", free, name, filters)

    def _scope_refusal(self, filters: SearchFilters) -> str:
        """HTML saying why nothing can be searched (no document matches, or a bad filter), or ""."""
        try:
            matching, _total = self.scope(filters)
        except FilterError as exc:
            return render.error_html(str(exc))
        return render.empty_scope_html(filters.describe()) if matching == 0 else ""

    def scope(self, filters: SearchFilters) -> tuple[int, int]:
        """(documents the filters admit, documents in the library); FilterError for a bad filter."""
        docs = {d.doc_id: d for d in self.library.documents()}
        if filters.is_empty() and not filters.as_of:  # as_of narrows nothing, but a bad date is an error
            return len(docs), len(docs)
        resolved = resolve_filters(filters, docs)
        return sum(1 for d in docs.values() if resolved.admits(d)), len(docs)

    def chips(self, sources: list[str], since: str, until: str, doc_ids: list[str], as_of: str | None = None) -> str:
        """The active filters as chips, with how many documents they leave."""
        filters = _filters(sources, since, until, doc_ids, as_of)
        titles = {d.doc_id: d.title for d in self.library.documents()}
        try:
            matching, total = self.scope(filters)
        except FilterError as exc:
            return render.chips_html([*_chip_labels(filters, titles), str(exc)], None, len(titles))
        return render.chips_html(_chip_labels(filters, titles), matching, total)

    def _answer(
        self,
        question: str,
        messages: list[dict[str, Any]],
        history: list[tuple[str, str]],
        backend: str,
        free: bool,
        asked: str,
        filters: SearchFilters,
    ) -> Iterator[tuple[Any, ...]]:
        messages = list(messages or []) + [
            {"role": "user", "content": render._e(question)},
            {"role": "assistant", "content": render.thinking_html(0)},
        ]
        yield messages, history, gr.update(), ""
        answer: Answer | None = None
        shown = ""
        started = time.monotonic()
        try:
            stream = self.library.ask_stream(question, history=history, filters=filters, backend=backend)
            for piece in _with_heartbeat(stream, THINKING_TICK_SECONDS):
                if isinstance(piece, Answer):
                    answer = piece
                    break
                if piece is None:  # no new text yet
                    if shown:
                        continue
                    messages[-1] = {"role": "assistant", "content": render.thinking_html(time.monotonic() - started)}
                else:
                    shown += piece
                    messages[-1] = {"role": "assistant", "content": render.streaming_html(shown)}
                yield messages, history, gr.update(), ""
        except Exception as exc:  # noqa: BLE001 - the reader gets a sentence, never a traceback
            messages[-1] = {"role": "assistant", "content": render.error_html(f"The answer failed: {exc}")}
            yield messages, history, gr.update(), ""
            return
        assert answer is not None
        if not free:
            answer = replace(answer, notice=" ".join(p for p in (self._busy_notice(asked), answer.notice) if p))
        messages[-1] = {"role": "assistant", "content": render.answer_html(answer)}
        history = list(history) + [(question, answer.answer)]
        yield messages, history, render.sources_html(answer), ""

    @staticmethod
    def new_chat() -> tuple[list, list, str, str]:
        """An empty chat: no messages, no history, no sources, no open article."""
        return [], [], render.sources_html(None), ""

    def read(self, evt: gr.EventData) -> str:
        """The reader view for a clicked citation: its article with the cited passage marked."""
        data = getattr(evt, "_data", None) or {}
        ref = render.parse_passage_ref(str(data.get("ref", "")))
        if ref is None:
            return reader.reader_error_html("This citation does not name a passage.")
        doc_id, index = ref
        try:
            record = self.library.document(doc_id)
            chunks = self.library.document_chunks(record.doc_id)
        except UnknownDocument:
            return reader.reader_error_html("This article is no longer in the library.")
        layout = reader.article_text(chunks)
        chunk = next((c for c in chunks if c.index == index), None)
        return reader.reader_html(record, layout, reader.marked_spans(layout, chunk, str(data.get("quote", ""))))

    # ----- brief ----------------------------------------------------------------------------------

    def brief(
        self,
        topic: str,
        backend: str,
        sources: list[str],
        since: str,
        until: str,
        doc_ids: list[str],
        as_of: str | None = None,  # None: optional for API clients written before the field existed
        progress: gr.Progress = gr.Progress(),  # noqa: B008 - Gradio injects progress this way
    ) -> tuple[Any, ...]:
        from brief.export import to_html, to_markdown, write_brief

        hidden = gr.update(visible=False)
        if not (topic or "").strip():
            return render.error_html("Enter a topic or a question."), hidden, hidden, hidden
        limit = self.library.settings.max_topic_chars
        if len(topic.strip()) > limit:
            refusal = (
                f"The topic is {len(topic.strip()):,} characters long; a topic may have at most {limit:,} "
                "(BRIEF_MAX_TOPIC_CHARS). Shorten it and try again."
            )
            return render.error_html(refusal), hidden, hidden, hidden
        filters = _filters(sources, since, until, doc_ids, as_of)
        refusal = self._scope_refusal(filters)
        if refusal:
            return refusal, hidden, hidden, hidden
        name = self._resolved(backend)
        try:
            progress(0.1, desc="gathering passages")
            with self.model_slots.claim(name) as free:
                brief = self.library.report(
                    topic,
                    filters,
                    name if free else "extractive",
                    progress=lambda stage: progress(0.5, desc=stage),
                )
            if not free:
                brief = replace(brief, notice=" ".join(p for p in (self._busy_notice(name), brief.notice) if p))
            progress(0.8, desc="rendering downloads")
            folder = Path(tempfile.mkdtemp(prefix="brief-", dir=self._exports()))
            stem = re.sub(r"[^a-z0-9]+", "-", topic.lower()).strip("-")[:50] or "brief"
            md, page, pdf = folder / f"{stem}.md", folder / f"{stem}.html", folder / f"{stem}.pdf"
            md.write_text(to_markdown(brief), encoding="utf-8")
            page.write_text(to_html(brief), encoding="utf-8")
            write_brief(brief, pdf)
        except Exception as exc:  # noqa: BLE001
            return render.error_html(f"The brief failed: {exc}"), hidden, hidden, hidden
        return (
            render.brief_html(brief),
            gr.update(value=str(md), visible=True),
            gr.update(value=str(page), visible=True),
            gr.update(value=str(pdf), visible=True),
        )

    def _exports(self) -> Path:
        self.exports.mkdir(parents=True, exist_ok=True)
        return self.exports

    # ----- library --------------------------------------------------------------------------------

    def upload(self, files: list[str] | None, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        """Copy uploads into BRIEF_HOME/uploads and ingest them; one result row per file."""
        if not files:
            return [["", "no files chosen", 0, ""]], *self.library_views()
        stored = [self._store_upload(Path(temp)) for temp in files]

        def report(state: IngestProgress) -> None:
            done = f"{state.documents_read} articles read, {state.chunks_written} chunks stored"
            where = f"{Path(state.current).name}: " if state.current else ""
            progress(state.fraction, desc=f"ingesting{state.plan_note()} {where}{done}"[:160])

        result = self.library.ingest(stored, progress=report)
        rows = [
            [Path(f.path).name, f.status, f.chunks, "; ".join(e.split(": ", 1)[-1] for e in f.errors)]
            for f in result.files
        ]
        return rows, *self.library_views()

    def _store_upload(self, temp: Path) -> Path:
        """Keep an upload under its content hash (uploads/<hash>/<name>): two readers' report.md
        stay two documents, and the same bytes uploaded again land on the same path (unchanged)."""
        digest = hashlib.sha256()
        with temp.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        target = self.uploads / digest.hexdigest()[:24] / _safe_name(str(temp))
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
            shutil.copyfile(temp, partial)
            partial.replace(target)  # never a half-copied file under the final name
        return target

    def add_links(self, text: str, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        """Fetch and ingest the links (one per line) under the app's fetch policy; a row per link."""
        from brief.web.fetch import FetchPolicy
        from brief.web.links import LinkIngestor

        urls = list(dict.fromkeys(line.strip() for line in (text or "").splitlines() if line.strip()))
        if not urls:
            return [["", "no links given", 0, "paste one or more links, one per line"]], *self.library_views()
        if len(urls) > MAX_LINKS:
            reason = f"{len(urls)} links; at most {MAX_LINKS} at a time"
            return [["", "refused", 0, reason]], *self.library_views()
        web = LinkIngestor(self.library, FetchPolicy.from_settings(self.library.settings))
        try:
            outcomes = web.ingest_links(
                urls, progress=lambda done, total, url: progress(done / max(total, 1), desc=f"fetching {url}"[:120])
            )
        except Exception as exc:  # noqa: BLE001 - the reader gets a sentence, never a traceback
            return [["", "failed", 0, f"the links could not be added: {exc}"]], *self.library_views()
        rows = [[o.url, o.status, o.chunks, o.reason] for o in outcomes]
        return rows, *self.library_views()

    def check_feeds(self, feed_url: str, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
        """Poll one feed (added to the list when it works) or, with no URL, every known feed."""
        from brief.web.fetch import FetchPolicy
        from brief.web.links import LinkIngestor, known_feeds

        urls = [feed_url.strip()] if (feed_url or "").strip() else [url for url, _, _ in known_feeds(self.library)]
        if not urls:
            rows = [["", "no feeds", 0, "enter a feed URL, or list feeds in brief.toml (feeds = [...])"]]
            return rows, self.feed_rows(), *self.library_views()
        web = LinkIngestor(self.library, FetchPolicy.from_settings(self.library.settings))
        rows = []
        for number, url in enumerate(urls):
            progress(number / len(urls), desc=f"checking {url}"[:120])
            try:
                poll = web.poll_feed(url, self.library.settings.feed_max_entries)
            except Exception as exc:  # noqa: BLE001 - one feed's failure must not hide the others'
                rows.append([url, "failed", 0, str(exc)])
                continue
            rows.append([url, poll.status if poll.status != "checked" else f"{len(poll.links)} new", 0, poll.reason])
            rows.extend([o.url, o.status, o.chunks, o.reason] for o in poll.links)
        return rows, self.feed_rows(), *self.library_views()

    def feed_rows(self) -> list[list[str]]:
        from brief.web.links import known_feeds

        return [list(row) for row in known_feeds(self.library)] or [["", "", "no feeds yet"]]

    def ask_delete(self, doc_id: str | None) -> tuple[Any, ...]:
        """First step of a delete: show what would be removed and ask; nothing is removed yet."""
        if not doc_id:
            return gr.update(visible=False), "", None, render.error_html("Choose a document to delete.")
        try:
            record = self.library.document(doc_id)
        except UnknownDocument as exc:
            return gr.update(visible=False), "", None, render.error_html(str(exc))
        return gr.update(visible=True), render.delete_question_html(record), record.doc_id, ""

    @staticmethod
    def cancel_delete() -> tuple[Any, ...]:
        return gr.update(visible=False), "", None, "<p>Nothing was deleted.</p>"

    def delete(self, doc_id: str | None) -> tuple[Any, ...]:
        """Second step: delete the confirmed document; its files are offered back as an undo."""
        hidden = gr.update(visible=False)
        if not doc_id:
            return render.error_html("Choose a document to delete."), hidden, hidden, [], *self.library_views()
        record = self.library.remove(doc_id)
        files = [p for p in record.paths if Path(p).is_file()]
        undo = gr.update(visible=bool(files))
        return f"<p>Deleted <b>{render._e(record.title)}</b>.</p>", hidden, undo, files, *self.library_views()

    def undo_delete(self, files: list[str] | None) -> tuple[Any, ...]:
        """Ingest the deleted document's files again (they are kept; only the index forgot them)."""
        hidden = gr.update(visible=False)
        if not files:
            return render.error_html("There is nothing to undo."), hidden, [], *self.library_views()
        result = self.library.ingest([Path(p) for p in files])
        if not result.ok:
            message = render.error_html("The document could not be restored: " + "; ".join(result.errors))
            return message, hidden, [], *self.library_views()
        return "<p>Restored.</p>", hidden, [], *self.library_views()

    def library_views(self) -> tuple[Any, ...]:
        """Table, delete picker, statistics, the filter pickers of the chat and brief tabs, and
        the "About this library" text."""
        docs = self.library.documents()
        choices = [render.document_choice(d) for d in docs]
        outlets = sorted({d.source for d in docs if d.source})
        dates = sorted(d.date for d in docs if d.date)
        stats = (
            f"**{len(docs)}** documents · **{sum(d.chunks for d in docs)}** passages · "
            f"**{len(outlets)}** outlets · dates {dates[0] if dates else '–'} to {dates[-1] if dates else '–'}"
        )
        about = (
            f"Embedding model `{self.library.settings.embedder_name()}` · "
            f"store `{self.library.store.location}` · collection `{self.library.settings.collection}`"
        )
        table = render.document_rows(docs) or [["", "", "", "", 0, ""]]
        return (
            gr.update(value=table),
            gr.update(choices=choices, value=None),
            stats,
            gr.update(choices=outlets),
            gr.update(choices=choices),
            gr.update(choices=outlets),
            gr.update(choices=choices),
            about,
        )

    # ----- evaluation -----------------------------------------------------------------------------

    def question_sets(self) -> list[tuple[str, str]]:
        """(label, absolute path) of each question file in the eval folder."""
        files = sorted(self.eval_dir.glob("*.y*ml")) + sorted(self.eval_dir.glob("*.jsonl"))
        return [(f"{p.parent.name}/{p.name}", str(p)) for p in files]

    def evaluate(
        self,
        files: list[str],
        backend: str,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> tuple[Any, ...]:
        from brief.eval_report import fmt, label, metrics_rows, write_chart
        from brief.evaluate import evaluate_files

        if not files:
            return render.error_html("Choose at least one question set."), gr.update(), gr.update(), gr.update()
        try:
            run = evaluate_files(
                [Path(f) for f in files],
                self.library.settings,
                backend if backend != "auto" else "extractive",
                progress=lambda done, total, current: progress(done / max(total, 1), desc=current or "scoring"),
            )
        except Exception as exc:  # noqa: BLE001
            return render.error_html(f"The evaluation failed: {exc}"), gr.update(), gr.update(), gr.update()
        headers = ["metric", "all", *run.by_set]
        per_question = [
            [
                i.set_name,
                i.id,
                i.question,
                "yes" if i.answerable else "no",
                "yes" if i.declined else "no",
                fmt(i.fact_recall) if i.fact_recall is not None else "",
                fmt(i.hit) if i.hit is not None else "",
                i.answer[:300],
            ]
            for i in run.items
        ]
        chart = self._exports() / f"eval-{uuid.uuid4().hex[:8]}.png"
        write_chart(run, chart)
        summary = (
            f"<p>{int(run.metrics['questions'])} questions · backend {render._e(run.backend)} · k={run.k} · "
            f"fact recall {fmt(run.metrics['fact_recall'])} · decline accuracy "
            f"{fmt(run.metrics['decline_accuracy'])} · {render._e(label('mrr'))} {fmt(run.metrics['mrr'])}</p>"
        )
        return (
            summary,
            gr.update(value=metrics_rows(run), headers=headers),
            gr.update(value=per_question),
            gr.update(value=str(chart)),
        )


def _writer_picker(choices: list[str], value: str, elem_id: str) -> gr.Radio:
    """The writer choice; shown (in a Settings panel) only when more than one is configured."""
    labelled = [(BACKEND_LABELS.get(b, b), b) for b in choices]
    return gr.Radio(labelled, value=value, label="Writer", visible=len(choices) > 1, elem_id=elem_id)


def _filter_inputs(outlets: list[str], doc_choices: list[tuple[str, str]], prefix: str) -> tuple[Any, ...]:
    """Outlets, since, until, documents and the "as of" date, with a button that clears them all."""
    sources = gr.Dropdown(outlets, multiselect=True, label="Outlets", elem_id=f"{prefix}-outlets")
    with gr.Row():
        since = gr.Textbox(label="Since (YYYY-MM-DD)", min_width=120, elem_id=f"{prefix}-since")
        until = gr.Textbox(label="Until (YYYY-MM-DD)", min_width=120, elem_id=f"{prefix}-until")
    docs = gr.Dropdown(doc_choices, multiselect=True, label="Documents", elem_id=f"{prefix}-docs")
    as_of = gr.Textbox(
        label="As of (YYYY-MM-DD)",
        placeholder="today",
        info="“Latest”, “this week” and “recently” mean before this date.",
        elem_id=f"{prefix}-as-of",
    )
    clear = gr.Button("Clear filters", size="sm", elem_id=f"{prefix}-clear-filters")
    return sources, since, until, docs, as_of, clear


def _wire_chips(app: BriefApp, chips: gr.HTML, inputs: list[Any], clear: gr.Button) -> None:
    """Chips follow every filter change; "Clear filters" empties the five inputs."""
    for component in inputs:
        component.change(app.chips, inputs, chips, queue=False, show_progress="hidden")
    clear.click(lambda: ([], "", "", [], ""), None, inputs, queue=False, show_progress="hidden")


def build_app(library: Library, eval_dir: Path | None = None) -> gr.Blocks:
    """The Blocks app over a library."""
    app = BriefApp(library, eval_dir)
    docs = library.documents()
    outlets = sorted({d.source for d in docs if d.source})
    doc_choices = [render.document_choice(d) for d in docs]
    writers = configured_backends(library.settings)
    no_filters = render.chips_html([], None, len(docs))

    with gr.Blocks(title="brief", analytics_enabled=False) as demo:
        gr.HTML(
            '<div class="brief-header"><span class="brief-logo">brief</span>'
            '<span class="brief-tagline">cited answers and one-page briefs from your articles</span></div>',
            js_on_load=None,
        )
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                history = gr.State([])
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=320):
                        chat_chips = gr.HTML(no_filters, js_on_load=None, elem_id="brief-chat-chips")
                        chatbot = gr.Chatbot(
                            show_label=False,
                            height="calc(100dvh - 330px)",
                            sanitize_html=True,
                            buttons=[],  # the stock copy buttons copy raw HTML; answers carry their own
                            placeholder=(
                                "Ask about your articles. Every answer cites its sources: click [n] "
                                "to read the passage in its article."
                            ),
                            elem_id="brief-chat",
                        )
                        with gr.Row():
                            message = gr.Textbox(
                                placeholder="Ask a question about your articles",
                                show_label=False,
                                scale=5,
                                elem_id="brief-question",
                            )
                            send = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="brief-ask")
                        with gr.Row():
                            new_chat = gr.Button("New chat", size="sm", elem_id="brief-new-chat")
                        gr.Examples(_example_questions(library), inputs=[message], label="Examples")
                    with gr.Column(scale=2, min_width=300, elem_id="brief-side"):
                        with gr.Accordion("Settings", open=False, visible=len(writers) > 1):
                            backend = _writer_picker(writers, writers[0], "brief-writer")
                        with gr.Accordion("Filters", open=False, elem_id="brief-filters"):
                            sources, since, until, doc_filter, as_of, clear_filters = _filter_inputs(
                                outlets, doc_choices, "brief-chat"
                            )
                        with gr.Column(elem_id="brief-reader-wrap"):
                            article = gr.HTML("", js_on_load=READER_JS, elem_id="brief-reader")
                        sources_panel = gr.HTML(render.sources_html(None), elem_id="brief-sources")
                chat_filters = [sources, since, until, doc_filter, as_of]
                _wire_chips(app, chat_chips, chat_filters, clear_filters)
                chat_inputs = [message, chatbot, history, backend, *chat_filters]
                chat_outputs = [chatbot, history, sources_panel, message]
                send.click(app.chat, chat_inputs, chat_outputs)
                message.submit(app.chat, chat_inputs, chat_outputs)
                new_chat.click(app.new_chat, None, [chatbot, history, sources_panel, article])
                chatbot.clear(app.new_chat, None, [chatbot, history, sources_panel, article])
                article.select(app.read, None, article, show_progress="minimal")
                article.clear(lambda: "", None, article, queue=False, show_progress="hidden")

            with gr.Tab("Brief", id="brief"):
                brief_chips = gr.HTML(no_filters, js_on_load=None, elem_id="brief-brief-chips")
                topic = gr.Textbox(label="Topic or question", elem_id="brief-topic")
                with gr.Row():
                    with (
                        gr.Column(scale=1, min_width=260),
                        gr.Accordion("Filters", open=False, elem_id="brief-brief-filters"),
                    ):
                        brief_sources, brief_since, brief_until, brief_docs, brief_as_of, brief_clear = _filter_inputs(
                            outlets, doc_choices, "brief-brief"
                        )
                    with (
                        gr.Column(scale=1, min_width=260, visible=len(writers) > 1),
                        gr.Accordion("Settings", open=False),
                    ):
                        brief_backend = _writer_picker(writers, writers[0], "brief-brief-writer")
                brief_filters = [brief_sources, brief_since, brief_until, brief_docs, brief_as_of]
                _wire_chips(app, brief_chips, brief_filters, brief_clear)
                generate = gr.Button("Write brief", variant="primary", elem_id="brief-generate")
                with gr.Row():
                    download_md = gr.DownloadButton("Markdown", visible=False, elem_id="brief-download-md")
                    download_html = gr.DownloadButton("HTML", visible=False, elem_id="brief-download-html")
                    download_pdf = gr.DownloadButton("PDF", visible=False, elem_id="brief-download-pdf")
                brief_view = gr.HTML("", elem_id="brief-view")
                generate.click(
                    app.brief,
                    [topic, brief_backend, *brief_filters],
                    [brief_view, download_md, download_html, download_pdf],
                )

            with gr.Tab("Library", id="library"):
                stats = gr.Markdown(elem_id="brief-stats")
                uploads = gr.File(
                    file_count="multiple",
                    label="Add articles (.md .txt .html .pdf .docx .odt .jsonl .json)",
                    elem_id="brief-upload",
                )
                ingest = gr.Button("Ingest", variant="primary", elem_id="brief-ingest")
                results = gr.Dataframe(
                    headers=["file", "result", "chunks", "error"],
                    label="Last upload",
                    interactive=False,
                    elem_id="brief-results",
                )
                with gr.Row():
                    links = gr.Textbox(
                        label="Add a link (one or more web addresses, one per line)",
                        lines=2,
                        placeholder="https://example.com/news/article.html",
                        scale=4,
                        elem_id="brief-links",
                    )
                    add_links = gr.Button("Add", variant="primary", scale=1, elem_id="brief-add-links")
                link_results = gr.Dataframe(
                    headers=["link", "result", "chunks", "reason"],
                    label="Links and feed entries",
                    interactive=False,
                    wrap=True,
                    elem_id="brief-link-results",
                )
                with gr.Accordion("News feeds", open=False):
                    feeds_table = gr.Dataframe(
                        value=app.feed_rows(),
                        headers=["feed", "title", "last check"],
                        label="Feeds",
                        interactive=False,
                        elem_id="brief-feeds",
                    )
                    with gr.Row():
                        feed_url = gr.Textbox(
                            label="Feed URL (RSS or Atom; leave empty to check every feed)",
                            scale=4,
                            elem_id="brief-feed-url",
                        )
                        check_feeds = gr.Button("Check now", scale=1, elem_id="brief-check-feeds")
                table = gr.Dataframe(headers=DOC_HEADERS, label="Documents", interactive=False, elem_id="brief-docs")
                with gr.Row():
                    to_delete = gr.Dropdown(doc_choices, label="Document to delete", scale=4)
                    delete = gr.Button("Delete…", variant="stop", scale=1, elem_id="brief-delete")
                pending_delete = gr.State(None)
                deleted_files = gr.State([])
                with gr.Group(visible=False, elem_id="brief-delete-confirm") as confirm_box:
                    confirm_text = gr.HTML("", js_on_load=None)
                    with gr.Row():
                        confirm = gr.Button("Delete", variant="stop", elem_id="brief-delete-yes")
                        cancel = gr.Button("Cancel", elem_id="brief-delete-cancel")
                deleted = gr.HTML(js_on_load=None, elem_id="brief-deleted")
                undo = gr.Button("Undo", size="sm", visible=False, elem_id="brief-undo")
                with gr.Accordion("About this library", open=False):
                    about = gr.Markdown(elem_id="brief-about")
                views = [table, to_delete, stats, sources, doc_filter, brief_sources, brief_docs, about]
                ingest.click(app.upload, [uploads], [results, *views])
                add_links.click(app.add_links, [links], [link_results, *views])
                check_feeds.click(app.check_feeds, [feed_url], [link_results, feeds_table, *views])
                delete.click(app.ask_delete, [to_delete], [confirm_box, confirm_text, pending_delete, deleted])
                cancel.click(app.cancel_delete, None, [confirm_box, confirm_text, pending_delete, deleted])
                confirm.click(app.delete, [pending_delete], [deleted, confirm_box, undo, deleted_files, *views])
                undo.click(app.undo_delete, [deleted_files], [deleted, undo, deleted_files, *views])
                demo.load(app.library_views, None, views)
                demo.load(app.feed_rows, None, feeds_table)

            with gr.Tab("Evaluate", id="evaluate"):
                sets = app.question_sets()
                question_sets = gr.Dropdown(
                    sets, value=[v for _, v in sets[:1]], multiselect=True, label="Question sets"
                )
                eval_backend = _writer_picker(writers, "extractive", "brief-eval-writer")
                run_eval = gr.Button("Run evaluation", variant="primary", elem_id="brief-run-eval")
                eval_summary = gr.HTML()
                eval_metrics = gr.Dataframe(
                    headers=["metric", "all"], label="Metrics", interactive=False, elem_id="brief-metrics"
                )
                eval_items = gr.Dataframe(
                    headers=["set", "id", "question", "answerable", "declined", "fact recall", "hit", "answer"],
                    label="Per question",
                    interactive=False,
                    wrap=True,
                )
                eval_chart = gr.Image(label="Chart", type="filepath")
                run_eval.click(
                    app.evaluate, [question_sets, eval_backend], [eval_summary, eval_metrics, eval_items, eval_chart]
                )
    return demo


def launch(
    library: Library,
    host: str | None = None,
    port: int | None = None,
    block: bool = True,
    eval_dir: Path | None = None,
) -> Any:
    """Start the app on the configured host and port, with basic auth when configured."""
    from starlette.middleware import Middleware

    settings = library.settings
    demo = build_app(library, eval_dir)
    # Several readers at once, each with their own chat; model backends take at most
    # ui_model_concurrency of these workers each, so extractive answers always find one.
    demo.queue(default_concurrency_limit=settings.ui_concurrency)
    auth = tuple(settings.ui_auth.split(":", 1)) if settings.ui_auth else None
    throttle = LoginThrottle(settings.ui_login_attempts, settings.ui_login_backoff) if auth else None
    caps = RequestCaps(
        upload_files=settings.ui_max_files,
        upload_bytes=int(settings.ui_max_upload_mb * 1024 * 1024),
        # Questions and topics are capped in characters by the handlers; a chat event also
        # carries the conversation shown so far, hence the generous floor.
        other_bytes=max(16 * 1024 * 1024, 8 * max(settings.max_question_chars, settings.max_topic_chars)),
    )
    try:
        launched = demo.launch(
            server_name=host or settings.ui_host,
            server_port=port if port is not None else settings.ui_port,
            auth=auth,
            css=render.APP_CSS,
            head=render.PAGE_HEAD,
            theme=brief_theme(),
            max_file_size=MAX_UPLOAD,
            prevent_thread_lock=True,  # blocks below, once the page is known to be served
            show_error=False,
            quiet=not block,
            footer_links=[],
            allowed_paths=[str(settings.home / "exports")],
            app_kwargs={"middleware": [Middleware(RequestGuard, throttle=throttle, caps=caps)]},
            # Gradio's own reachability check gives the page one 3-second try, which a busy
            # machine can miss; brief waits for the page itself, with a generous deadline.
            _frontend=False,
        )
        wait_until_served(demo.local_url)
        if block:
            demo.block_thread()
        return launched
    except KeyboardInterrupt:
        demo.close(verbose=False)  # Ctrl-C during start-up: free the port, then stop quietly
        raise


class AppNotServing(BriefError):
    """The app started but its page did not answer."""


def wait_until_served(url: str, deadline: float = 180.0) -> None:
    """Return once the app's page answers (any status but a server error), polling patiently;
    a page that never answers within the deadline is a one-line error."""
    import httpx

    ends = time.monotonic() + deadline
    while True:
        try:
            if httpx.head(url, timeout=30, follow_redirects=False).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > ends:
            raise AppNotServing(f"the app started but {url} did not answer within {deadline:g} s")
        time.sleep(0.5)
