"""brief's first HTML extractor, frozen here so benchmarks/html_extraction.py can score it beside
the current one in the same run. Not used by brief itself (brief/ingest/html.py replaced it):
metadata from meta tags, body from the article element, page furniture removed by class names."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, Tag

from brief.ingest.markup import RawBlock

# Elements that are never article text.
_DROP_TAGS = [
    "script",
    "style",
    "noscript",
    "template",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "figure",
    "figcaption",
    "iframe",
    "button",
    "svg",
    "select",
    "input",
    "dialog",
]
# class/id fragments of page furniture
_FURNITURE = re.compile(
    r"cookie|consent|banner|newsletter|subscribe|related|share|social|advert|\bads?\b|promo|"
    r"comment|breadcrumb|menu|sidebar|popup|modal|paywall|byline-social|signup|recommend",
    re.I,
)
_BLOCK_TAGS = ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "blockquote", "pre"]


def parse_html(markup: str) -> tuple[dict[str, str], list[RawBlock]]:
    """(metadata hints, body blocks) of an HTML page."""
    soup = BeautifulSoup(markup, "lxml")
    hints = _metadata(soup)
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all(True):
        if isinstance(tag, Tag) and tag.attrs is not None and _is_furniture(tag):
            tag.decompose()
    root = (
        soup.find("article") or soup.find(attrs={"itemprop": "articleBody"}) or soup.find("main") or soup.body or soup
    )
    blocks: list[RawBlock] = []
    for element in root.find_all(_BLOCK_TAGS):
        if element.find_parent(_BLOCK_TAGS):
            continue  # nested block: its text is part of the outer one
        text = re.sub(r"\s+", " ", element.get_text(" ", strip=True)).strip()
        if not text:
            continue
        if element.name and element.name[0] == "h":
            blocks.append(RawBlock("heading", text, level=int(element.name[1])))
        else:
            blocks.append(RawBlock("paragraph", text))
    if not blocks:  # pages without paragraph markup: fall back to text lines
        text = root.get_text("\n", strip=True)
        blocks = [RawBlock("paragraph", line) for line in text.split("\n") if line.strip()]
    # The page's h1 is usually the title; meta tags may give it in another form.
    if "title" not in hints:
        h1 = next((b for b in blocks if b.kind == "heading" and b.level == 1), None)
        if h1:
            hints["title"] = h1.text
    return hints, blocks


def _is_furniture(tag: Tag) -> bool:
    if tag.name in ("html", "body", "article", "main"):
        return False
    names = " ".join(tag.get("class") or []) + " " + str(tag.get("id") or "")
    return bool(names.strip()) and bool(_FURNITURE.search(names))


def _meta(soup: BeautifulSoup, *keys: str) -> str:
    for key in keys:
        for attr in ("property", "name", "itemprop"):
            tag = soup.find("meta", attrs={attr: key})
            if isinstance(tag, Tag) and tag.get("content"):
                return str(tag["content"]).strip()
    return ""


def _metadata(soup: BeautifulSoup) -> dict[str, str]:
    hints: dict[str, str] = {}
    title = _meta(soup, "og:title", "twitter:title", "dc.title", "headline")
    if not title and soup.title and soup.title.string:
        # "Headline | Site" -> "Headline"
        title = re.split(r"\s+[|–—-]\s+", soup.title.string.strip())[0]
    hints["title"] = title
    hints["author"] = _meta(soup, "author", "article:author", "dc.creator", "byl")
    if not hints["author"]:
        byline = soup.find(attrs={"rel": "author"}) or soup.find(class_=re.compile("byline|author", re.I))
        if isinstance(byline, Tag):
            hints["author"] = re.sub(r"^\s*by\s+", "", byline.get_text(" ", strip=True), flags=re.I)
    date = _meta(
        soup,
        "article:published_time",
        "datePublished",
        "dc.date",
        "dcterms.created",
        "date",
        "pubdate",
        "og:published_time",
    )
    if not date:
        time_tag = soup.find("time")
        if isinstance(time_tag, Tag):
            date = str(time_tag.get("datetime") or time_tag.get_text(strip=True))
    hints["date"] = date
    hints["source"] = _meta(soup, "og:site_name", "application-name", "publisher")
    canonical = soup.find("link", rel="canonical")
    url = str(canonical["href"]) if isinstance(canonical, Tag) and canonical.get("href") else ""
    hints["url"] = url or _meta(soup, "og:url")
    html_tag = soup.find("html")
    if isinstance(html_tag, Tag) and html_tag.get("lang"):
        hints["language"] = str(html_tag["lang"]).split("-")[0].lower()
    return {k: v for k, v in hints.items() if v}
