"""Turn raw blocks plus metadata hints into a clean Article.

Every format ends here, so boilerplate rules and metadata heuristics live in one place:
the header zone above the title gives author, date and site; page furniture anywhere
(photo credits, share prompts, copyright lines) is dropped; paragraphs that a layout
broke in two are joined again.
"""

from __future__ import annotations

import re
from dataclasses import replace
from urllib.parse import urlparse

from brief.ingest.markup import RawBlock
from brief.ingest.metadata import (
    byline_author,
    detect_language,
    domain_of,
    is_boilerplate,
    is_email_line,
    labelled_field,
    parse_any_date,
    parse_date,
    script_of,
    url_in_line,
)
from brief.types import Article, Block

_TERMINAL = re.compile(r"""[.!?:;…"'”’)\]]$""")
_MAX_HEADER_BLOCKS = 25


def assemble_article(blocks: list[RawBlock], hints: dict[str, str], path: str, record: str = "") -> Article:
    """Build an Article from parsed blocks; `hints` are trusted metadata (front matter etc.)."""
    blocks = [_without_nul(b) for b in blocks]
    meta = {k: v.replace("\x00", "") for k, v in hints.items() if v}
    body_script = script_of(" ".join(b.text for b in blocks if b.kind == "paragraph"))
    title_at = _find_title(blocks, meta.get("title", ""), body_script)

    header = blocks[:title_at] if title_at is not None else []
    rest = blocks[title_at + 1 :] if title_at is not None else blocks
    if title_at is not None and "title" not in meta:
        meta["title"] = blocks[title_at].text
    _read_header(header, meta, body_script)
    rest = _consume_leading_metadata(rest, meta)
    if title_at is None and "title" not in meta and rest:
        meta["title"], rest = _title_from_first_line(rest)
        rest = _consume_leading_metadata(rest, meta)  # byline and date under that title

    body = _drop_trailing_dates(_drop_boilerplate(rest, meta), meta)
    body = _join_broken_paragraphs(body)
    body = _mark_implicit_headings(body)
    text = "\n".join(b.text for b in body)
    date, warnings = _date_of(meta.get("date", ""), path, record)
    return Article(
        blocks=[Block(b.kind, b.text, b.level) for b in body],
        title=meta.get("title", "").strip(),
        author=meta.get("author", "").strip(),
        source=meta.get("source", "").strip(),
        date=date,
        url=meta.get("url", "").strip(),
        language=meta.get("language", "") or detect_language(text),
        path=path,
        record=record,
        extra={k: v for k, v in meta.items() if k.startswith("original_")},
        warnings=warnings,
    )


def _date_of(value: str, path: str, record: str) -> tuple[str, list[str]]:
    """The ISO date of a metadata value; a value that is no date leaves it empty, with a warning:
    an article is never refused for its date."""
    if not value.strip():
        return "", []
    iso = parse_any_date(value)
    if iso:
        return iso, []
    where = f"{path} ({record})" if record else path
    shown = value.strip()[:60].encode("unicode_escape").decode("ascii")
    return "", [f"{where}: the date '{shown}' could not be read; stored without a date"]


def _without_nul(block: RawBlock) -> RawBlock:
    """NUL characters (from a JSON "\\u0000", a PDF's text, a stray byte) never reach stored text."""
    return replace(block, text=block.text.replace("\x00", "")) if "\x00" in block.text else block


def _find_title(blocks: list[RawBlock], known_title: str, body_script: str) -> int | None:
    """Index of the title block: the known title, else the first heading in the body's script."""
    window = blocks[:_MAX_HEADER_BLOCKS]
    if known_title:
        wanted = known_title.strip().lower()
        for i, block in enumerate(window):
            if block.text.strip().lower() == wanted:
                return i
        return None
    for i, block in enumerate(window):
        if (
            block.kind == "heading"
            and len(block.text.split()) >= 3
            and script_of(block.text) == body_script
            and not is_boilerplate(block.text)
        ):
            return i
    return None


def _read_header(header: list[RawBlock], meta: dict[str, str], body_script: str) -> None:
    """Harvest author, date, site and URL from the masthead zone; everything there is dropped."""
    for block in header:
        line = block.text
        _take_metadata_line(line, block.emphasized, meta)
        url = url_in_line(line)
        if url and "source" not in meta:
            meta["source"] = domain_of(url)
        for link in block.links:
            if link.startswith("http") and "source" not in meta:
                meta["source"] = domain_of(link)
    del body_script  # the header is dropped whatever its script


def _take_metadata_line(line: str, emphasized: bool, meta: dict[str, str]) -> bool:
    """Record a byline, date or labelled field if the line is one; True if it was."""
    field = labelled_field(line)
    if field:
        key, value = field
        if key == "date":
            iso = parse_any_date(value)
            if iso:
                meta.setdefault("date", iso)
                return True
            return False
        if key == "url":
            meta.setdefault("url", url_in_line(value) or value)
        else:
            meta.setdefault(key, value)
        return True
    author = byline_author(line, emphasized)
    if author:
        meta.setdefault("author", author)
        return True
    iso = parse_date(line)
    if iso:
        meta.setdefault("date", iso)
        return True
    return False


def _consume_leading_metadata(blocks: list[RawBlock], meta: dict[str, str]) -> list[RawBlock]:
    """Bylines, dates and labelled fields directly under the title are metadata, not text."""
    i = 0
    while i < len(blocks) and i < 8 and blocks[i].kind == "paragraph":
        line = blocks[i].text
        if len(line) > 160:
            break
        if not (_take_metadata_line(line, blocks[i].emphasized, meta) or is_boilerplate(line)):
            break
        url = url_in_line(line)
        if url and urlparse(url).path.strip("/"):
            meta.setdefault("url", url)  # a link to a page (not a site's home) is the article's
        i += 1
    return blocks[i:]


def _title_from_first_line(blocks: list[RawBlock]) -> tuple[str, list[RawBlock]]:
    """Plain text without a heading: a short first line is the title."""
    first = blocks[0].text
    if len(first) <= 200 and not _TERMINAL.search(first.rstrip()) or blocks[0].kind == "heading":
        return first, blocks[1:]
    return "", blocks


def _drop_boilerplate(blocks: list[RawBlock], meta: dict[str, str]) -> list[RawBlock]:
    kept = []
    for block in blocks:
        line = block.text.strip()
        if not line or is_boilerplate(line) or is_email_line(line):
            continue
        if block.kind == "heading" and line.lower() == meta.get("title", "").strip().lower():
            continue  # a repeated title
        kept.append(block)
    return kept


def _drop_trailing_dates(blocks: list[RawBlock], meta: dict[str, str]) -> list[RawBlock]:
    """A date line at the end is the original outlet's date: keep it as metadata only."""
    while blocks and parse_date(blocks[-1].text):
        meta.setdefault("original_date", parse_date(blocks[-1].text))
        if "date" not in meta:
            meta["date"] = meta["original_date"]
        blocks = blocks[:-1]
    return blocks


def _join_broken_paragraphs(blocks: list[RawBlock]) -> list[RawBlock]:
    """Join a paragraph with the next one when a layout split it mid-sentence."""
    joined: list[RawBlock] = []
    for block in blocks:
        prev = joined[-1] if joined else None
        if (
            prev is not None
            and prev.kind == block.kind == "paragraph"
            and not _TERMINAL.search(prev.text)
            and block.text[:1].islower()
        ):
            joined[-1] = RawBlock("paragraph", f"{prev.text} {block.text}", links=prev.links)
        else:
            joined.append(block)
    return joined


def _mark_implicit_headings(blocks: list[RawBlock]) -> list[RawBlock]:
    """In plain text, a short unpunctuated line followed by a paragraph is a subheading.

    Only for text without headings of its own: where the markup marks its headings, a
    short line (a kicker, a byline) is not one.
    """
    if any(block.kind == "heading" for block in blocks):
        return blocks
    out = []
    for i, block in enumerate(blocks):
        nxt = blocks[i + 1] if i + 1 < len(blocks) else None
        if (
            block.kind == "paragraph"
            and nxt is not None
            and nxt.kind == "paragraph"
            and len(block.text.split()) <= 12
            and block.text[:1].isupper()
            and not re.search(r"""[.!?:;,"'”’]$""", block.text)
            and len(nxt.text) > len(block.text)
        ):
            out.append(RawBlock("heading", block.text, level=2))
        else:
            out.append(block)
    return out
