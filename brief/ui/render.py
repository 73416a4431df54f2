"""HTML for the web app. Every piece of article text and model output is escaped here.

Citation markers are <details> elements: clicking [n] opens the quoted passage with its
title, outlet, date and link without any script, so nothing in an article can run. The chat
sanitizes messages and drops data-* attributes, so the passage a marker points to travels in a
class name (`brief-ref-<doc id>-<chunk index>`), which the page's own script reads (scripts.py).
"""

from __future__ import annotations

import base64
import html
import re
from urllib.parse import urlparse

from brief.types import Answer, Brief, Citation, DocumentRecord

APP_CSS = """
/* Page: a narrow header, and nothing that floats over the chat. */
.brief-header { display: flex; align-items: baseline; gap: .75rem; flex-wrap: wrap; padding: .2rem 0 .1rem; }
.brief-header .brief-logo { font-size: 1.45rem; font-weight: 700; letter-spacing: -.01em;
  color: var(--color-accent); }
.brief-header .brief-tagline { color: var(--body-text-color-subdued); font-size: .95rem; }
h1, h2, h3, h4, b, strong, th { font-weight: 700; font-synthesis: none; }

/* Chat: as tall as the window allows. */
#brief-chat { height: calc(100dvh - 330px) !important; min-height: 360px; }
.brief-answer { line-height: 1.6; }
details.brief-cite { display: inline; }
details.brief-cite > summary { display: inline; cursor: pointer; color: var(--color-accent); font-weight: 700;
  font-size: .8em; vertical-align: super; list-style: none; padding: 0 .1em; }
details.brief-cite > summary::-webkit-details-marker { display: none; }
details.brief-cite[open] > .brief-passage { display: block; margin: .4em 0 .6em 0; padding: .5em .7em;
  border-left: 3px solid var(--color-accent); background: var(--color-accent-soft); font-size: .92em; }
.brief-passage .brief-meta { display: block; color: var(--body-text-color-subdued); font-size: .85em;
  margin-bottom: .3em; }
.brief-unsupported { text-decoration: underline dotted #b42318; }
.brief-flag { color: #b42318; font-size: .8em; font-weight: 700; }
.brief-tools { display: flex; align-items: center; gap: .6rem; margin-top: .45rem; font-size: .8rem;
  color: var(--body-text-color-subdued); }
.brief-tools button { background: none; border: 1px solid var(--border-color-primary); border-radius: 6px;
  padding: .05rem .5rem; color: var(--body-text-color-subdued); cursor: pointer; font-size: .8rem; }
.brief-tools button:hover { color: var(--color-accent); border-color: var(--color-accent); }
.brief-jump, .brief-copy-md { display: none !important; }
details.brief-footer { display: inline; color: var(--body-text-color-subdued); font-size: .8rem; }
details.brief-footer > summary, .brief-info { display: inline-block; cursor: pointer; list-style: none;
  width: 1.15em; height: 1.15em; line-height: 1.1em; text-align: center; border-radius: 50%; font-style: italic;
  border: 1px solid var(--border-color-primary); font-size: .75rem; font-weight: 700; font-family: Georgia, serif; }
details.brief-footer > summary::-webkit-details-marker { display: none; }
.brief-thinking { color: var(--body-text-color-subdued); font-style: italic; }
.brief-notice { color: #8a5a00; font-size: .88em; margin-bottom: .4em; }
.brief-empty-scope { color: var(--body-text-color); background: var(--color-accent-soft); padding: .5em .7em;
  border-radius: 6px; }

/* Filter chips: visible whether or not the Filters panel is open. */
.brief-chips { display: flex; flex-wrap: wrap; gap: .35rem; align-items: center; font-size: .82rem;
  min-height: 1.6rem; }
.brief-chip { background: var(--color-accent-soft); color: var(--body-text-color); border-radius: 999px;
  padding: .12rem .6rem; border: 1px solid var(--border-color-primary); }
.brief-chip-quiet { color: var(--body-text-color-subdued); }
.brief-chip-none { background: #fdecea; border-color: #f3b8b1; color: #8f1d12; }

/* Sources: one heading per article, its cited passages under it. */
.brief-panel-title { font-weight: 700; font-size: .95rem; margin: .2rem 0 .4rem; }
.brief-sources-empty { color: var(--body-text-color-subdued); font-style: italic; }
.brief-source { margin-bottom: .9rem; }
.brief-source h4 { margin: 0 0 .1rem; font-size: .95rem; line-height: 1.35; }
.brief-source .brief-source-meta { color: var(--body-text-color-subdued); font-size: .8rem; margin-bottom: .3rem; }
.brief-source ol { list-style: none; padding-left: 0; margin: 0; }
.brief-source li { margin: 0 0 .45rem; cursor: pointer; border-radius: 6px; padding: .25rem .4rem; }
.brief-source li:hover { background: var(--color-accent-soft); }
.brief-source .brief-n { color: var(--color-accent); font-weight: 700; font-size: .8rem; margin-right: .3rem; }
.brief-source blockquote { display: inline; margin: 0; padding: 0; border: 0; font-size: .9rem; }

/* Reader: the cited article, the passage marked. */
#brief-reader:empty { display: none; }
.brief-reader { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: .7rem .9rem;
  margin-bottom: .8rem; background: var(--background-fill-primary); }
.brief-reader h3 { margin: 0 0 .2rem; font-size: 1.05rem; line-height: 1.35; }
.brief-reader .brief-reader-meta { color: var(--body-text-color-subdued); font-size: .82rem; }
.brief-reader .brief-reader-bar { display: flex; justify-content: space-between; gap: .5rem; align-items: start; }
.brief-reader-close { background: none; border: 1px solid var(--border-color-primary); border-radius: 6px;
  cursor: pointer; padding: 0 .45rem; color: var(--body-text-color-subdued); }
.brief-reader-body { max-height: 55vh; overflow-y: auto; margin-top: .5rem; font-size: .92rem; line-height: 1.6;
  padding-right: .3rem; }
.brief-reader-body h4 { font-size: .92rem; margin: .8rem 0 .2rem; }
.brief-reader-body p { margin: 0 0 .7rem; }
.brief-reader-body mark { background: #fff1b8; color: inherit; padding: .05em 0; border-radius: 2px; }

/* Library and briefs. */
.brief-doc h2 { font-size: 1.05em; text-transform: uppercase; letter-spacing: .04em; margin-top: 1em; }
.brief-footer-line { color: var(--body-text-color-subdued); font-size: .82em; }
.brief-confirm { border: 1px solid #f3b8b1; background: #fdf4f3; border-radius: 8px; padding: .6rem .8rem; }

/* Phones: sources below the answer, one tap away; no fixed header over the text. */
@media (max-width: 720px) {
  .tab-wrapper button { padding-left: .55rem !important; padding-right: .55rem !important; }
  #brief-chat { height: calc(100dvh - 290px) !important; min-height: 300px; }
  .brief-jump { display: inline-block !important; }
  .brief-header .brief-tagline { display: none; }
  .brief-reader-body { max-height: 60vh; }
}
"""

# Gradio scopes APP_CSS to its container; the page padding sits outside it, so this goes in <head>.
PAGE_HEAD = (
    "<style>@media (max-width: 720px) { .app { padding-left: 8px !important; padding-right: 8px !important; } }</style>"
)

# An HTML tag in copied Markdown would be live markup wherever the text is pasted and rendered.
_ANGLE = re.compile(r"[<>]")


def _e(text: str) -> str:
    return html.escape(text or "", quote=True)


def safe_url(url: str) -> str:
    """Only http(s) links are shown; anything else (javascript:, data:) is dropped."""
    return url if urlparse(url).scheme in ("http", "https") else ""


def _link(url: str, label: str = "link") -> str:
    link = safe_url(url)
    return f'<a href="{_e(link)}" target="_blank" rel="noopener noreferrer">{_e(label)}</a>' if link else ""


def citation_meta(c: Citation) -> str:
    parts = [f"<b>{_e(c.title)}</b>"] + [_e(p) for p in (c.source, c.date) if p]
    link = _link(c.url)
    if link:
        parts.append(link)
    return " · ".join(parts)


def quoted(text: str) -> str:
    """Text in quotation marks, unless it already opens with one (a quote from a quote)."""
    return text if text[:1] in "“\"‘'" else f"“{text}”"


def passage_ref(c: Citation) -> str:
    """The class that names a citation's passage (`brief-ref-<doc id>-<chunk index>`)."""
    index = c.chunk_id.rsplit(":", 1)[-1]
    return "brief-ref-" + re.sub(r"[^A-Za-z0-9]", "", c.doc_id) + "-" + re.sub(r"[^0-9]", "", index)


def parse_passage_ref(classes: str) -> tuple[str, int] | None:
    """(doc id, chunk index) from a class list holding a passage ref; None if there is none."""
    match = re.search(r"\bbrief-ref-([A-Za-z0-9]+)-([0-9]+)\b", classes or "")
    return (match.group(1), int(match.group(2))) if match else None


def citation_marker(c: Citation) -> str:
    return (
        f'<details class="brief-cite"><summary class="brief-read {passage_ref(c)}" '
        f'title="Show this passage in its article">[{c.n}]</summary>'
        f'<span class="brief-passage"><span class="brief-meta">{citation_meta(c)}</span>'
        f'<span class="brief-quote">{_e(quoted(c.quote))}</span></span></details>'
    )


def _md(text: str) -> str:
    """Plain text for Markdown: one line, angle brackets escaped so no tag can form."""
    return _ANGLE.sub(lambda m: "\\" + m.group(0), " ".join((text or "").split()))


def answer_markdown(answer: Answer) -> str:
    """The answer as plain Markdown: sentences with [n] markers, then the sources it cites."""
    by_n = {c.n: c for c in answer.citations}
    sentences = []
    for sentence in answer.sentences:
        if sentence.supported:
            sentences.append(_md(sentence.text) + "".join(f"[{n}]" for n in sentence.citations if n in by_n))
        else:
            sentences.append(f"{_md(sentence.text)} (unsupported)")
    lines = [" ".join(sentences) or _md(answer.answer)]
    if answer.citations:
        lines += ["", "Sources:"]
        for c in answer.citations:
            lines.append("")
            meta = ", ".join(_md(p) for p in (c.source, c.date) if p)
            link = safe_url(c.url)
            lines.append(f"[{c.n}] {_md(c.title)}" + (f", {meta}" if meta else "") + (f", {link}" if link else ""))
            if c.quote.strip():
                lines.append(f"> {_md(c.quote)}")
    return "\n".join(lines).strip() + "\n"


def answer_html(answer: Answer) -> str:
    """The verified answer with clickable citations, unsupported sentences flagged, and a quiet
    line of tools: copy as Markdown, and how the answer was written behind an (i)."""
    by_n = {c.n: c for c in answer.citations}
    parts = []
    if answer.notice:
        parts.append(f'<div class="brief-notice">⚠ {_e(answer.notice)}</div>')
    sentences = []
    for sentence in answer.sentences:
        marks = "".join(citation_marker(by_n[n]) for n in sentence.citations if n in by_n)
        if sentence.supported:
            sentences.append(f"{_e(sentence.text)}{marks}")
        else:
            sentences.append(
                f'<span class="brief-unsupported">{_e(sentence.text)}</span> '
                '<span class="brief-flag" title="No source passage supports this sentence">unsupported</span>'
            )
    parts.append(f'<div class="brief-answer">{" ".join(sentences)}</div>')
    total = answer.timings_ms.get("total", 0.0)
    jump = '<button type="button" class="brief-jump">Sources ↓</button>' if answer.citations else ""
    parts.append(
        '<div class="brief-tools">'
        '<button type="button" class="brief-copy" title="Copy the answer and its sources as Markdown">Copy</button>'
        f"{jump}"
        # Base64: the chat's Markdown pass would fold the text's line breaks; scripts.py decodes it.
        f'<pre hidden class="brief-copy-md">{base64.b64encode(answer_markdown(answer).encode()).decode()}</pre>'
        '<details class="brief-footer"><summary title="How this answer was written">i</summary> '
        f'<span class="brief-how">answered by {_e(answer.backend)} · {total:.0f} ms</span></details>'
        "</div>"
    )
    return "".join(parts)


def streaming_html(text: str) -> str:
    """Text as it is generated, before verification."""
    return f'<div class="brief-answer" style="opacity:.65">{_e(text)}▌</div>'


def thinking_html(seconds: float) -> str:
    """What the reader sees before the first word arrives."""
    return f'<div class="brief-answer brief-thinking">thinking… {seconds:.0f} s</div>'


def sources_html(answer: Answer | None) -> str:
    """The last answer's citations grouped by article: one heading per article, its passages under it."""
    title = '<div class="brief-panel-title">Sources</div>'
    if answer is None or not answer.citations:
        return f'{title}<p class="brief-sources-empty">Sources of the last answer appear here.</p>'
    groups: dict[str, list[Citation]] = {}
    for c in answer.citations:
        groups.setdefault(c.doc_id, []).append(c)
    sections = []
    for cites in groups.values():
        first = cites[0]
        meta = " · ".join(
            [_e(p) for p in (first.source, first.date) if p] + ([_link(first.url)] if safe_url(first.url) else [])
        )
        items = "".join(
            f'<li class="brief-read {passage_ref(c)}" title="Show this passage in its article">'
            f'<span class="brief-n">[{c.n}]</span><blockquote class="brief-quote">{_e(c.quote)}</blockquote></li>'
            for c in cites
        )
        sections.append(
            f'<section class="brief-source"><h4>{_e(first.title)}</h4>'
            f'<div class="brief-source-meta">{meta}</div><ol>{items}</ol></section>'
        )
    return title + "".join(sections)


def error_html(message: str) -> str:
    return f'<div class="brief-notice">⚠ {_e(message)}</div>'


def empty_scope_html(scope: str) -> str:
    """Said when the filters leave no document to search, instead of an ordinary decline."""
    return (
        f'<div class="brief-empty-scope"><b>No documents match these filters</b> ({_e(scope)}). '
        "Change or clear the filters, then ask again.</div>"
    )


def chips_html(chips: list[str], matching: int | None, total: int) -> str:
    """Active filters as chips; with none, a quiet note that the whole library is searched."""
    if not chips:
        return f'<div class="brief-chips"><span class="brief-chip brief-chip-quiet">All {total} documents</span></div>'
    items = "".join(f'<span class="brief-chip">{_e(c)}</span>' for c in chips)
    if matching == 0:
        items += '<span class="brief-chip brief-chip-none">No documents match these filters</span>'
    elif matching is not None:
        items += f'<span class="brief-chip brief-chip-quiet">{matching} of {total} documents</span>'
    return f'<div class="brief-chips">{items}</div>'


def delete_question_html(record: DocumentRecord) -> str:
    """What a delete will remove, asked before it happens."""
    meta = ", ".join(p for p in (record.source, record.date) if p)
    return (
        f'<div class="brief-confirm">Delete <b>{_e(record.title or record.doc_id)}</b>'
        f"{' (' + _e(meta) + ')' if meta else ''} and its {record.chunks} passages from the library?</div>"
    )


def brief_html(brief: Brief) -> str:
    """A brief for the page (the same structure as the exported HTML, without the page shell)."""
    parts = [
        '<div class="brief-doc">',
        f"<h1 style='font-size:1.4em'>{_e(brief.title)}</h1>",
        f"<p class='brief-footer-line'>{_e(brief.generated)} · {_e(brief.scope)} · "
        f"{brief.documents_considered} documents considered · {brief.word_count()} words"
        f" · <span class='brief-info' title='written by {_e(brief.backend)}'>i</span></p>",
    ]
    if brief.notice:
        parts.append(f'<div class="brief-notice">⚠ {_e(brief.notice)}</div>')
    for section in brief.sections:
        if not section.items:
            continue
        parts.append(f"<h2>{_e(section.title)}</h2>")
        rendered = []
        for item in section.items:
            marks = "".join(f"<sup>[{n}]</sup>" for n in item.citations)
            speaker = f"<b>{_e(item.speaker)}:</b> " if item.speaker else ""
            rendered.append(f"{speaker}{_e(item.text)}{marks}")
        if section.bulleted:
            parts.append("<ul>" + "".join(f"<li>{r}</li>" for r in rendered) + "</ul>")
        else:
            parts.append(f"<p>{' '.join(rendered)}</p>")
    parts.append("<h2>Sources</h2><ol>")
    for s in brief.sources:
        meta = ", ".join(_e(p) for p in (s.source, s.author, s.date) if p)
        link = _link(s.url)
        parts.append(f"<li><b>{_e(s.title)}</b> — {meta}{' ' + link if link else ''}</li>")
    parts.append("</ol></div>")
    return "".join(parts)


def document_rows(docs: list[DocumentRecord]) -> list[list[str | int]]:
    """Rows for the library table (plain values; the table component escapes them)."""
    return [[d.title, d.source, d.author, d.date, d.chunks, d.doc_id[:12]] for d in docs]


def document_choice(d: DocumentRecord) -> tuple[str, str]:
    """(label, value) for a document picker."""
    label = f"{d.title[:70]} ({d.date or 'undated'}, {d.source or 'unknown outlet'})"
    return label, d.doc_id
