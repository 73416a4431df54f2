"""HTML for the web app. Every piece of article text and model output is escaped here.

Citation markers are <details> elements: clicking [n] opens the quoted passage with its
title, outlet, date and link, without any script (so nothing in an article can run).
"""

from __future__ import annotations

import html
from urllib.parse import urlparse

from brief.types import Answer, Brief, Citation, DocumentRecord

APP_CSS = """
.brief-answer { line-height: 1.55; }
details.brief-cite { display: inline; }
details.brief-cite > summary { display: inline; cursor: pointer; color: #1f4e99; font-weight: 600;
  font-size: .85em; vertical-align: super; list-style: none; }
details.brief-cite > summary::-webkit-details-marker { display: none; }
details.brief-cite[open] > .brief-passage { display: block; margin: .4em 0 .6em 0; padding: .5em .7em;
  border-left: 3px solid #1f4e99; background: rgba(31, 78, 153, .07); font-size: .92em; }
.brief-passage .brief-meta { display: block; color: #555; font-size: .85em; margin-bottom: .3em; }
.brief-unsupported { text-decoration: underline dotted #b42318; }
.brief-flag { color: #b42318; font-size: .8em; font-weight: 600; }
.brief-footer { color: #666; font-size: .82em; margin-top: .5em; }
.brief-notice { color: #8a5a00; font-size: .88em; margin-bottom: .4em; }
.brief-sources li { margin-bottom: .6em; }
.brief-sources blockquote { margin: .2em 0 0 0; padding-left: .6em; border-left: 2px solid #ccc; color: #333; }
.brief-doc h2 { font-size: 1.05em; text-transform: uppercase; letter-spacing: .04em; margin-top: 1em; }
"""


def _e(text: str) -> str:
    return html.escape(text or "", quote=True)


def safe_url(url: str) -> str:
    """Only http(s) links are shown; anything else (javascript:, data:) is dropped."""
    return url if urlparse(url).scheme in ("http", "https") else ""


def citation_meta(c: Citation) -> str:
    parts = [f"<b>{_e(c.title)}</b>"] + [_e(p) for p in (c.source, c.date) if p]
    link = safe_url(c.url)
    if link:
        parts.append(f'<a href="{_e(link)}" target="_blank" rel="noopener noreferrer">link</a>')
    return " · ".join(parts)


def quoted(text: str) -> str:
    """Text in quotation marks, unless it already opens with one (a quote from a quote)."""
    return text if text[:1] in "“\"‘'" else f"“{text}”"


def citation_marker(c: Citation) -> str:
    return (
        f'<details class="brief-cite"><summary>[{c.n}]</summary>'
        f'<span class="brief-passage"><span class="brief-meta">{citation_meta(c)}</span>'
        f"{_e(quoted(c.quote))}</span></details>"
    )


def answer_html(answer: Answer) -> str:
    """The verified answer with clickable citations, unsupported sentences flagged."""
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
    parts.append(f'<div class="brief-footer">answered by {_e(answer.backend)} · {total:.0f} ms</div>')
    return "".join(parts)


def streaming_html(text: str) -> str:
    """Text as it is generated, before verification."""
    return f'<div class="brief-answer" style="opacity:.65">{_e(text)}▌</div>'


def sources_html(answer: Answer | None) -> str:
    if answer is None or not answer.citations:
        return "<p><i>Sources of the last answer appear here.</i></p>"
    items = []
    for c in answer.citations:
        items.append(f"<li>[{c.n}] {citation_meta(c)}<blockquote>{_e(c.quote)}</blockquote></li>")
    return f'<ol class="brief-sources" style="list-style:none;padding-left:0">{"".join(items)}</ol>'


def error_html(message: str) -> str:
    return f'<div class="brief-notice">⚠ {_e(message)}</div>'


def brief_html(brief: Brief) -> str:
    """A brief for the page (the same structure as the exported HTML, without the page shell)."""
    parts = [
        '<div class="brief-doc">',
        f"<h1 style='font-size:1.4em'>{_e(brief.title)}</h1>",
        f"<p class='brief-footer'>{_e(brief.generated)} · {_e(brief.scope)} · "
        f"{brief.documents_considered} documents considered · {_e(brief.backend)} · "
        f"{brief.word_count()} words</p>",
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
        link = safe_url(s.url)
        anchor = f' <a href="{_e(link)}" target="_blank" rel="noopener noreferrer">link</a>' if link else ""
        parts.append(f"<li><b>{_e(s.title)}</b> — {meta}{anchor}</li>")
    parts.append("</ol></div>")
    return "".join(parts)


def document_rows(docs: list[DocumentRecord]) -> list[list[str | int]]:
    """Rows for the library table (plain values; the table component escapes them)."""
    return [[d.title, d.source, d.author, d.date, d.chunks, d.doc_id[:12]] for d in docs]


def document_choice(d: DocumentRecord) -> tuple[str, str]:
    """(label, value) for a document picker."""
    label = f"{d.title[:70]} ({d.date or 'undated'}, {d.source or 'unknown outlet'})"
    return label, d.doc_id
