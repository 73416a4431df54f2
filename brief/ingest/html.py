"""HTML pages: trafilatura finds the main text and the metadata; hidden text never gets that far.

trafilatura (a kept library, measured in benchmarks/html_extraction.py) decides what is the
article and what is page furniture. Before it sees the page, every element a reader cannot
see is removed: text hidden with CSS or attributes is a known way to plant instructions or
false "facts" in a page, and what no reader sees must not become a cited source.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree
from lxml.html import HtmlElement

from brief.ingest.markup import RawBlock
from brief.web.urls import normalize_url

# Inline style declarations that make an element invisible.
_HIDING_STYLE = re.compile(
    r"(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*(?:hidden|collapse)"
    r"|font-size\s*:\s*(?:0+(?:\.0*)?|\.0+)(?:px|pt|em|rem|%|vw|vh)?)\s*(?:!\s*important\s*)?(?:;|$)",
    re.I,
)
# A CSS rule in a <style> element: "selectors { declarations }" (no nesting, comments removed).
_CSS_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
# Selectors simple enough to apply without a CSS engine: .class, #id, tag.class, tag#id.
_SIMPLE_SELECTOR = re.compile(r"^([a-z][a-z0-9]*)?([.#])([\w-]+)$", re.I)
_HEADING_REND = re.compile(r"^h([1-6])$")
_SPACE = re.compile(r"\s+")


class HtmlError(ValueError):
    """The page's markup could not be read at all."""


def parse_html(markup: str | bytes, url: str = "") -> tuple[dict[str, str], list[RawBlock]]:
    """(metadata hints, body blocks) of an HTML page; `url` is where it came from, if known.
    Raises HtmlError when the markup cannot be read even without its metadata."""
    try:
        document, language = _extract(markup, url, with_metadata=True)
    except Exception:  # noqa: BLE001 - a third-party failure on hostile markup; retried below
        # trafilatura's date finder (htmldate) asserts on some broken pages, e.g. "</html><iframe>",
        # where the parsed root is the iframe itself. The text can still be read without metadata.
        try:
            document, language = _extract(markup, url, with_metadata=False)
        except Exception as exc:  # noqa: BLE001 - any failure here is unreadable markup
            detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            raise HtmlError(f"unreadable HTML ({detail})") from exc
    if document is None:
        return {"language": language} if language else {}, []
    hints = {
        "title": document.title or "",
        "author": document.author or "",
        "date": document.date or "",
        "source": document.sitename or "",
        # One spelling of the address (no tracking parameters), as for fetched pages.
        "url": normalize_url(document.url, base=url) if document.url else "",
        "language": language,
    }
    blocks = _blocks(document.body) if document.body is not None else []
    return {k: _SPACE.sub(" ", v).strip() for k, v in hints.items() if v and v.strip()}, blocks


def _extract(markup: str | bytes, url: str, with_metadata: bool) -> tuple[Any, str]:
    """trafilatura's document (None: nothing found) and the page's language, from a fresh tree
    with the hidden elements removed (a failed attempt may leave its tree half-changed)."""
    from trafilatura import bare_extraction
    from trafilatura.utils import load_html

    tree = load_html(markup)
    if tree is None:
        return None, ""
    language = _page_language(tree)
    remove_hidden_elements(tree)
    document = bare_extraction(
        tree,
        url=url or None,
        with_metadata=with_metadata,
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
    )
    return document, language


def remove_hidden_elements(tree: HtmlElement) -> int:
    """Drop every element hidden by an attribute, an inline style or a simple <style> rule.

    Returns how many elements were removed (their tails, which belong to the parent, stay).
    """
    hidden = [
        element
        for element in tree.iter()
        if isinstance(element.tag, str) and element.tag not in ("html", "head", "body") and _is_hidden(element)
    ]
    hidden += _hidden_by_stylesheets(tree)
    removed = 0
    for element in hidden:
        # An element may already be gone with a hidden ancestor.
        if element.getparent() is not None and _root_of(element) is tree.getroottree().getroot():
            element.drop_tree()
            removed += 1
    return removed


def _is_hidden(element: HtmlElement) -> bool:
    if element.get("hidden") is not None:
        return True
    if (element.get("aria-hidden") or "").strip().lower() == "true":
        return True
    style = element.get("style")
    return bool(style) and bool(_HIDING_STYLE.search(style))


def _hidden_by_stylesheets(tree: HtmlElement) -> list[HtmlElement]:
    """Elements matched by a simple selector of a <style> rule that hides what it matches."""
    found: list[HtmlElement] = []
    for style in tree.iter("style"):
        css = _CSS_COMMENT.sub("", style.text or "")
        for selectors, declarations in _CSS_RULE.findall(css):
            if not _HIDING_STYLE.search(declarations.strip()):
                continue
            for selector in selectors.split(","):
                match = _SIMPLE_SELECTOR.match(selector.strip())
                if match:
                    found.extend(_select(tree, *match.groups()))
    return found


def _select(tree: HtmlElement, tag: str | None, kind: str, name: str) -> list[HtmlElement]:
    if kind == "#":
        condition = "@id=$name"
    else:
        condition = "contains(concat(' ', normalize-space(@class), ' '), concat(' ', $name, ' '))"
    return list(tree.xpath(f"//{(tag or '*').lower()}[{condition}]", name=name))


def _root_of(element: HtmlElement) -> HtmlElement:
    while element.getparent() is not None:
        element = element.getparent()
    return element


def _page_language(tree: HtmlElement) -> str:
    root = tree.getroottree().getroot()
    lang = (root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang") or "").strip()
    code = lang.split("-")[0].split("_")[0].lower()
    return code if re.fullmatch(r"[a-z]{2,3}", code) else ""


def _blocks(body: etree._Element) -> list[RawBlock]:
    """trafilatura's body (head, p, list/item, quote, table/row/cell, code) as raw blocks."""
    blocks: list[RawBlock] = []
    for element in body:
        _collect(element, blocks)
    return blocks


def _collect(element: etree._Element, blocks: list[RawBlock]) -> None:
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag == "head":
        text = _text_of(element)
        if text:
            level = _HEADING_REND.match(element.get("rend") or "")
            blocks.append(RawBlock("heading", text, level=int(level.group(1)) if level else 2))
    elif tag in ("list", "quote") or (tag == "item" and element.find("list") is not None):
        own = _SPACE.sub(" ", element.text or "").strip()
        if own:
            blocks.append(RawBlock("paragraph", own))
        for child in element:
            _collect(child, blocks)
    elif tag == "table":
        for row in element.iter("row"):
            cells = [_text_of(cell) for cell in row.iter("cell")]
            line = "; ".join(c for c in cells if c)
            if line:
                blocks.append(RawBlock("paragraph", line))
    elif tag in ("p", "item", "code", "div", "hi", "ref", "cell"):
        text = _text_of(element)
        if text:
            blocks.append(RawBlock("paragraph", text))


def _text_of(element: etree._Element) -> str:
    for line_break in element.iter("lb"):
        line_break.tail = " " + (line_break.tail or "")  # a <br> separates words
    return _SPACE.sub(" ", "".join(element.itertext())).strip()
