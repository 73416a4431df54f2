"""Render a Brief as Markdown, HTML (article text escaped), a one-page A4 PDF, or JSON."""

from __future__ import annotations

import copy
import html
import json
from pathlib import Path

from brief.report import fit_to_budget, shorten
from brief.types import Brief, BriefItem

FORMATS = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".json": "json",
}


class ExportError(ValueError):
    """The output cannot be written in the asked format."""


def to_markdown(brief: Brief) -> str:
    lines = [f"# {_md(brief.title)}", ""]
    lines.append(
        f"*{brief.generated} · {_md(shorten(brief.topic))} · {_md(brief.scope)}, "
        f"{brief.documents_considered} documents considered*"
    )
    if brief.notice:  # e.g. the library does not cover the topic: said in the document itself
        lines += ["", f"> {_md(brief.notice)}"]
    for section in brief.sections:
        if not section.items:
            continue
        lines += ["", f"## {section.title}", ""]
        if section.bulleted:
            lines += [f"- {_md_item(item)}" for item in section.items]
        else:
            lines.append(" ".join(_md_item(item) for item in section.items))
    lines += ["", "## Sources", ""]
    for s in brief.sources:
        meta = ", ".join(_md(p) for p in (s.source, s.author, s.date) if p)
        url = f" <{s.url}>" if s.url else ""
        lines.append(f"{s.n}. {_md(s.title)}{f' — {meta}' if meta else ''}{url}")
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    # Article text must not turn into markup (links, HTML) when the Markdown is rendered.
    return html.escape(text, quote=False).replace("[", "\\[").replace("]", "\\]")


def _md_item(item: BriefItem) -> str:
    marks = "".join(f"[{n}]" for n in item.citations)
    speaker = f"**{_md(item.speaker)}**: " if item.speaker else ""
    return f"{speaker}{_md(item.text)} {marks}"


_CSS = """
@page { size: A4; margin: 14mm 15mm 13mm 15mm; }
body { font-family: "DejaVu Serif", Georgia, serif; font-size: 9.6pt; line-height: 1.32; color: #1a1a1a;
       margin: 0 auto; }
@media screen { body { max-width: 46em; padding: 1.5em; } }
h1 { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 15pt; margin: 0 0 2pt 0; }
.meta { font-family: "DejaVu Sans", Arial, sans-serif; color: #555; font-size: 8pt; margin: 0 0 6pt 0;
        border-bottom: 1.2pt solid #222; padding-bottom: 4pt; }
h2 { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10pt; text-transform: uppercase;
     letter-spacing: .04em; margin: 7pt 0 2pt 0; color: #333; }
p { margin: 0 0 3pt 0; }
ul { margin: 0 0 3pt 0; padding-left: 14pt; }
li { margin-bottom: 2pt; }
sup a { color: #1f4e99; text-decoration: none; font-size: 7.5pt; }
.bottom { background: #f2f4f7; padding: 4pt 6pt; border-left: 2.5pt solid #1f4e99; }
.sources { font-size: 7.6pt; color: #333; padding-left: 14pt; }
.sources li { margin-bottom: 1pt; }
.speaker { font-weight: bold; }
.notice { font-style: italic; color: #7a4b00; }
"""


def to_html(brief: Brief) -> str:
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(brief.title)}</title>",
        f'<meta name="generator" content="brief ({e(brief.backend)})">',
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{e(brief.title)}</h1>",
        f'<p class="meta">{e(brief.generated)} · Question: {e(shorten(brief.topic))} · Scope: {e(brief.scope)}, '
        f"{brief.documents_considered} documents considered</p>",
    ]
    if brief.notice:
        parts.append(f'<p class="notice">{e(brief.notice)}</p>')
    for section in brief.sections:
        if not section.items:
            continue
        parts.append(f"<h2>{e(section.title)}</h2>")
        if section.bulleted:
            parts.append("<ul>" + "".join(f"<li>{_html_item(i)}</li>" for i in section.items) + "</ul>")
        else:
            css = ' class="bottom"' if section.key == "bottom_line" else ""
            parts.append(f"<p{css}>" + " ".join(_html_item(i) for i in section.items) + "</p>")
    parts.append('<h2>Sources</h2><ol class="sources">')
    for s in brief.sources:
        meta = ", ".join(e(p) for p in (s.source, s.author, s.date) if p)
        link = f' <a href="{e(s.url)}">{e(s.url)}</a>' if s.url.startswith(("http://", "https://")) else ""
        parts.append(f'<li id="src-{s.n}"><b>{e(s.title)}</b>{f" — {meta}" if meta else ""}.{link}</li>')
    parts.append("</ol></body></html>")
    return "\n".join(parts)


def _html_item(item: BriefItem) -> str:
    e = html.escape
    marks = "".join(f'<sup><a href="#src-{n}">[{n}]</a></sup>' for n in item.citations)
    speaker = f'<span class="speaker">{e(item.speaker)}:</span> ' if item.speaker else ""
    return f"{speaker}{e(item.text)}{marks}"


def to_pdf(brief: Brief) -> tuple[bytes, Brief]:
    """A PDF of exactly one A4 page: items are trimmed (never squeezed off the page) to fit.

    Returns the PDF and the brief as printed, which may hold fewer items than the input."""
    try:
        from weasyprint import HTML
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ExportError("PDF export needs weasyprint: pip install 'brief[report]'") from exc
    printed = copy.deepcopy(brief)
    rendered = {}

    def fits(candidate: Brief) -> bool:
        document = HTML(string=to_html(candidate)).render()
        rendered["doc"] = document
        return len(document.pages) <= 1

    fit_to_budget(printed, fits)
    if len(rendered["doc"].pages) > 1:
        bare = copy.deepcopy(printed)
        for section in bare.sections:
            section.items = []
        if not fits(bare):
            raise ExportError(
                f"the brief does not fit on one page: its heading alone (a topic of {len(brief.topic):,} "
                f"characters, scope '{brief.scope[:80]}') fills the page; shorten the topic"
            )
        raise ExportError("the brief does not fit on one page even at its minimum size")
    return rendered["doc"].write_pdf(), printed


def to_json(brief: Brief) -> str:
    return json.dumps(brief.to_dict(), ensure_ascii=False, indent=2)


def write_brief(brief: Brief, path: Path) -> Brief:
    """Write the brief in the format named by the file's extension; returns what was written."""
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise ExportError(f"{path}: unknown output format '{path.suffix}' (use .md, .html, .pdf or .json)")
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "pdf":
        data, brief = to_pdf(brief)
        path.write_bytes(data)
        return brief
    text = {"markdown": to_markdown, "html": to_html, "json": to_json}[kind](brief)
    path.write_text(text, encoding="utf-8")
    return brief
