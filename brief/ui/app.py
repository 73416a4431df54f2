"""The Gradio app: a thin layer over `brief.Library` (no retrieval, prompt or citation logic here).

Tabs: Chat (streamed, cited answers), Brief (one-page briefs and downloads), Library (upload,
list, delete), Evaluate (question sets and metrics). Each browser session keeps its own chat.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import Any

# Gradio would otherwise report usage to outside hosts; this must be set before it is imported.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

import gradio as gr  # noqa: E402

from brief.library import Library  # noqa: E402
from brief.prompts import one_line  # noqa: E402
from brief.retrieve import SearchFilters  # noqa: E402
from brief.types import Answer  # noqa: E402
from brief.ui import render  # noqa: E402
from brief.ui.guard import LoginThrottle, ModelSlots, RequestCaps, RequestGuard  # noqa: E402

BACKENDS = ["auto", "extractive", "openai", "local"]
DOC_HEADERS = ["title", "outlet", "author", "date", "chunks", "id"]
MAX_UPLOAD = "50mb"
EXAMPLE_TITLE_CHARS = 80
MAX_LINKS = 50  # links in one "Add a link" request


def _filters(sources: list[str] | None, since: str, until: str, doc_ids: list[str] | None) -> SearchFilters:
    return SearchFilters(tuple(sources or ()), (since or "").strip(), (until or "").strip(), tuple(doc_ids or ()))


def _example_questions(library: Library) -> list[str]:
    # Titles are untrusted: one line, defused and capped like metadata in a prompt.
    docs = library.documents()[:3]
    examples = [f"What are the main points of “{one_line(d.title, EXAMPLE_TITLE_CHARS)}”?" for d in docs if d.title]
    return examples or ["What happened, and who said what about it?"]


def _safe_name(name: str) -> str:
    base = Path(name).name
    return re.sub(r"[^\w.\- ]+", "_", base).strip() or f"upload-{uuid.uuid4().hex[:8]}"


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
        name = self._resolved(backend)
        with self.model_slots.claim(name) as free:
            yield from self._answer(
                question,
                messages,
                history,
                name if free else "extractive",
                free,
                name,
                _filters(sources, since, until, doc_ids),
            )

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
            {"role": "assistant", "content": render.streaming_html("")},
        ]
        yield messages, history, gr.update(), ""
        answer: Answer | None = None
        shown = ""
        try:
            for piece in self.library.ask_stream(question, history=history, filters=filters, backend=backend):
                if isinstance(piece, Answer):
                    answer = piece
                    break
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
    def new_chat() -> tuple[list, list, str]:
        return [], [], render.sources_html(None)

    # ----- brief ----------------------------------------------------------------------------------

    def brief(
        self,
        topic: str,
        backend: str,
        sources: list[str],
        since: str,
        until: str,
        doc_ids: list[str],
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
        name = self._resolved(backend)
        try:
            progress(0.1, desc="gathering passages")
            with self.model_slots.claim(name) as free:
                brief = self.library.report(
                    topic,
                    _filters(sources, since, until, doc_ids),
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
        total = len(stored)

        def report(done: int, _total: int, current: str) -> None:
            progress(done / max(total, 1), desc=f"ingesting {Path(current).name}" if current else "indexing")

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
        outcomes = web.ingest_links(
            urls, progress=lambda done, total, url: progress(done / max(total, 1), desc=f"fetching {url}"[:120])
        )
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
            poll = web.poll_feed(url, self.library.settings.feed_max_entries)
            rows.append([url, poll.status if poll.status != "checked" else f"{len(poll.links)} new", 0, poll.reason])
            rows.extend([o.url, o.status, o.chunks, o.reason] for o in poll.links)
        return rows, self.feed_rows(), *self.library_views()

    def feed_rows(self) -> list[list[str]]:
        from brief.web.links import known_feeds

        return [list(row) for row in known_feeds(self.library)] or [["", "", "no feeds yet"]]

    def delete(self, doc_id: str | None) -> tuple[Any, ...]:
        if not doc_id:
            return render.error_html("Choose a document to delete."), *self.library_views()
        record = self.library.remove(doc_id)
        return f"<p>Deleted <b>{render._e(record.title)}</b>.</p>", *self.library_views()

    def library_views(self) -> tuple[Any, ...]:
        """Table, delete picker, statistics, and the filter pickers of the chat and brief tabs."""
        docs = self.library.documents()
        choices = [render.document_choice(d) for d in docs]
        outlets = sorted({d.source for d in docs if d.source})
        dates = sorted(d.date for d in docs if d.date)
        stats = (
            f"**{len(docs)}** documents · **{sum(d.chunks for d in docs)}** chunks · "
            f"**{len(outlets)}** outlets · dates {dates[0] if dates else '–'} to {dates[-1] if dates else '–'} · "
            f"embedder `{self.library.settings.embedder_name()}` · store `{self.library.store.location}`"
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


def build_app(library: Library, eval_dir: Path | None = None) -> gr.Blocks:
    """The Blocks app over a library."""
    app = BriefApp(library, eval_dir)
    docs = library.documents()
    outlets = sorted({d.source for d in docs if d.source})
    doc_choices = [render.document_choice(d) for d in docs]

    with gr.Blocks(title="brief", analytics_enabled=False) as demo:
        gr.Markdown("## brief · cited answers and one-page briefs from your articles")
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                history = gr.State([])
                with gr.Row():
                    with gr.Column(scale=3):
                        chatbot = gr.Chatbot(label="Chat", height=480, sanitize_html=True, elem_id="brief-chat")
                        with gr.Row():
                            message = gr.Textbox(
                                placeholder="Ask a question about your articles",
                                show_label=False,
                                scale=5,
                                elem_id="brief-question",
                            )
                            send = gr.Button("Ask", variant="primary", scale=1, elem_id="brief-ask")
                        with gr.Row():
                            new_chat = gr.Button("New chat", size="sm", elem_id="brief-new-chat")
                        gr.Examples(_example_questions(library), inputs=[message], label="Examples")
                    with gr.Column(scale=2):
                        backend = gr.Radio(BACKENDS, value="auto", label="Generator")
                        with gr.Accordion("Filters", open=False):
                            sources = gr.Dropdown(outlets, multiselect=True, label="Outlets")
                            since = gr.Textbox(label="Since (YYYY-MM-DD)")
                            until = gr.Textbox(label="Until (YYYY-MM-DD)")
                            doc_filter = gr.Dropdown(doc_choices, multiselect=True, label="Documents")
                        gr.Markdown("**Sources**")
                        sources_panel = gr.HTML(render.sources_html(None), elem_id="brief-sources")
                chat_inputs = [message, chatbot, history, backend, sources, since, until, doc_filter]
                chat_outputs = [chatbot, history, sources_panel, message]
                send.click(app.chat, chat_inputs, chat_outputs)
                message.submit(app.chat, chat_inputs, chat_outputs)
                new_chat.click(app.new_chat, None, [chatbot, history, sources_panel])

            with gr.Tab("Brief", id="brief"):
                with gr.Row():
                    topic = gr.Textbox(label="Topic or question", scale=4, elem_id="brief-topic")
                    brief_backend = gr.Radio(BACKENDS, value="auto", label="Generator", scale=2)
                with gr.Accordion("Filters", open=False):
                    brief_sources = gr.Dropdown(outlets, multiselect=True, label="Outlets")
                    brief_since = gr.Textbox(label="Since (YYYY-MM-DD)")
                    brief_until = gr.Textbox(label="Until (YYYY-MM-DD)")
                    brief_docs = gr.Dropdown(doc_choices, multiselect=True, label="Documents")
                generate = gr.Button("Write brief", variant="primary", elem_id="brief-generate")
                with gr.Row():
                    download_md = gr.DownloadButton("Markdown", visible=False, elem_id="brief-download-md")
                    download_html = gr.DownloadButton("HTML", visible=False, elem_id="brief-download-html")
                    download_pdf = gr.DownloadButton("PDF", visible=False, elem_id="brief-download-pdf")
                brief_view = gr.HTML("", elem_id="brief-view")
                generate.click(
                    app.brief,
                    [topic, brief_backend, brief_sources, brief_since, brief_until, brief_docs],
                    [brief_view, download_md, download_html, download_pdf],
                )

            with gr.Tab("Library", id="library"):
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
                stats = gr.Markdown()
                table = gr.Dataframe(headers=DOC_HEADERS, label="Documents", interactive=False, elem_id="brief-docs")
                with gr.Row():
                    to_delete = gr.Dropdown(doc_choices, label="Document to delete", scale=4)
                    delete = gr.Button("Delete", variant="stop", scale=1, elem_id="brief-delete")
                deleted = gr.HTML()
                views = [table, to_delete, stats, sources, doc_filter, brief_sources, brief_docs]
                ingest.click(app.upload, [uploads], [results, *views])
                add_links.click(app.add_links, [links], [link_results, *views])
                check_feeds.click(app.check_feeds, [feed_url], [link_results, feeds_table, *views])
                delete.click(app.delete, [to_delete], [deleted, *views])
                demo.load(app.library_views, None, views)

            with gr.Tab("Evaluate", id="evaluate"):
                sets = app.question_sets()
                question_sets = gr.Dropdown(
                    sets, value=[v for _, v in sets[:1]], multiselect=True, label="Question sets"
                )
                eval_backend = gr.Radio(BACKENDS, value="extractive", label="Generator")
                run_eval = gr.Button("Run evaluation", variant="primary", elem_id="brief-run-eval")
                eval_summary = gr.HTML()
                eval_metrics = gr.Dataframe(label="Metrics", interactive=False, elem_id="brief-metrics")
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
        return demo.launch(
            server_name=host or settings.ui_host,
            server_port=port if port is not None else settings.ui_port,
            auth=auth,
            css=render.APP_CSS,
            max_file_size=MAX_UPLOAD,
            prevent_thread_lock=not block,
            show_error=False,
            quiet=not block,
            footer_links=[],
            allowed_paths=[str(settings.home / "exports")],
            app_kwargs={"middleware": [Middleware(RequestGuard, throttle=throttle, caps=caps)]},
        )
    except KeyboardInterrupt:
        demo.close(verbose=False)  # Ctrl-C during start-up: free the port, then stop quietly
        raise
