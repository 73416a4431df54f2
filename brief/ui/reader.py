"""The reader view: a cited passage shown highlighted inside its article.

The store keeps an article as chunks whose offsets index the article's cleaned text, so the
text is laid back together from them (overlaps once, gaps as paragraph breaks or spaces) and
the cited span is marked at its real place. All article text is escaped: it is data.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from brief.types import Chunk, DocumentRecord
from brief.ui.render import safe_url

MAX_QUOTE_CHARS = 4000  # a quote sent back by the page is only a search pattern; keep it small
_PARAGRAPH = re.compile(r"(?:[^\n]|\n(?!\n))+")


@dataclass(frozen=True)
class ArticleText:
    """An article laid out from its chunks: text at the chunks' offsets, section headings by offset."""

    text: str
    headings: list[tuple[int, str]]


def article_text(chunks: list[Chunk]) -> ArticleText:
    """Chunks in reading order -> the article text with the same offsets they point into."""
    pieces: list[str] = []
    headings: list[tuple[int, str]] = []
    pos, section = 0, ""
    for chunk in sorted(chunks, key=lambda c: c.start):
        if chunk.section and chunk.section != section:
            headings.append((max(chunk.start, pos), chunk.section))
        section = chunk.section
        if chunk.end <= pos:
            continue  # wholly inside what is already laid out
        if chunk.start > pos:
            gap = chunk.start - pos
            pieces.append(" " if gap == 1 else "\n" * gap)  # a space between sentences, else a break
            pos = chunk.start
        pieces.append(chunk.text[pos - chunk.start :])
        pos = chunk.end
    return ArticleText("".join(pieces), headings)


def quote_spans(text: str, quote: str, near: int) -> list[tuple[int, int]]:
    """Where each piece of a quote (pieces joined by " … ") sits in the text, nearest `near`;
    whitespace may differ. Pieces not found are left out."""
    spans = []
    cleaned = (quote or "")[:MAX_QUOTE_CHARS].strip().strip("“”\"‘’'")
    for piece in (p.strip() for p in cleaned.split("…")):
        words = piece.split()
        if not words:
            continue
        pattern = re.compile(r"\s+".join(re.escape(w) for w in words))
        found = [m.span() for m in pattern.finditer(text)]
        if found:
            spans.append(min(found, key=lambda s: abs(s[0] - near)))
    return sorted(spans)


def marked_spans(layout: ArticleText, chunk: Chunk | None, quote: str) -> list[tuple[int, int]]:
    """The quote's place in the article, or the whole cited chunk when the quote is not found."""
    near = chunk.start if chunk else 0
    spans = quote_spans(layout.text, quote, near)
    if not spans and chunk is not None:
        spans = [(chunk.start, min(chunk.end, len(layout.text)))]
    return spans


def _marked(text: str, start: int, end: int, spans: list[tuple[int, int]], first: list[bool]) -> str:
    """One paragraph [start, end) escaped, with the parts inside `spans` in <mark>."""
    out, pos = [], start
    for s, e in spans:
        s, e = max(s, start), min(e, end)
        if s >= e:
            continue
        out.append(html.escape(text[pos:s]))
        css = "brief-hl brief-hl-first" if first[0] else "brief-hl"
        first[0] = False
        out.append(f'<mark class="{css}">{html.escape(text[s:e])}</mark>')
        pos = e
    out.append(html.escape(text[pos:end]))
    return "".join(out)


def reader_html(record: DocumentRecord, layout: ArticleText, spans: list[tuple[int, int]]) -> str:
    """Title, outlet, date and link, then the article with the cited span marked."""
    e = html.escape
    meta = [e(p) for p in (record.source, record.author, record.date) if p]
    link = safe_url(record.url)
    if link:
        meta.append(f'<a href="{e(link, quote=True)}" target="_blank" rel="noopener noreferrer">original</a>')
    body, headings, first = [], list(layout.headings), [True]
    for match in _PARAGRAPH.finditer(layout.text):
        start, end = match.span()
        if not layout.text[start:end].strip():
            continue
        while headings and headings[0][0] <= start:
            body.append(f"<h4>{e(headings.pop(0)[1])}</h4>")
        body.append(f"<p>{_marked(layout.text, start, end, spans, first)}</p>")
    return (
        '<div class="brief-reader"><div class="brief-reader-bar"><div>'
        f"<h3>{e(record.title or 'Untitled')}</h3>"
        f'<div class="brief-reader-meta">{" · ".join(meta)}</div></div>'
        '<button type="button" class="brief-reader-close" title="Close the article">✕</button></div>'
        f'<div class="brief-reader-body">{"".join(body)}</div></div>'
    )


def reader_error_html(message: str) -> str:
    return f'<div class="brief-reader"><p class="brief-notice">⚠ {html.escape(message)}</p></div>'
