"""News feeds (RSS 2.0, RSS 1.0 and Atom): their entries, and what brief remembers of each feed.

A feed is untrusted XML: it is parsed with entities left unexpanded and no network access,
and an entry's title and text are only ever used as data. The remembered state (validators
for conditional requests, the entries already taken) lives in one JSON file per library,
written atomically and only when something changed, so an unchanged poll writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from lxml import etree

from brief.web.urls import is_web_url, normalize_url

# Remember at most this many entries per feed: feeds list their newest few dozen.
MAX_SEEN = 2000


class FeedError(ValueError):
    """The bytes are not an RSS or Atom feed."""


@dataclass(frozen=True)
class FeedEntry:
    key: str  # guid / id, else the link, else a hash of the title and text
    title: str
    link: str  # absolute http(s) address, or "" when the entry has none usable
    published: str
    content: str  # the entry's own HTML or text (content, else summary)
    raw_link: str = ""  # the link as written, when it was not a usable web address


@dataclass
class ParsedFeed:
    title: str
    entries: list[FeedEntry]


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _child(element: etree._Element, *names: str) -> etree._Element | None:
    for name in names:
        for child in element:
            if _local(child.tag) == name:
                return child
    return None


def _text(element: etree._Element | None) -> str:
    return "".join(element.itertext()).strip() if element is not None else ""


def parse_feed(data: bytes, feed_url: str) -> ParsedFeed:
    """The entries of an RSS or Atom document, links resolved against the feed's address."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=True, remove_comments=True
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise FeedError(f"not a feed: the XML does not parse ({exc})") from None
    if root is None:
        raise FeedError("not a feed: no XML document")
    kind = _local(root.tag)
    if kind == "feed":
        return ParsedFeed(
            _text(_child(root, "title")), [_atom_entry(e, feed_url) for e in root if _local(e.tag) == "entry"]
        )
    if kind in ("rss", "RDF"):
        channel = _child(root, "channel")
        items = [e for e in root.iter() if _local(e.tag) == "item"]
        return ParsedFeed(
            _text(_child(channel, "title")) if channel is not None else "", [_rss_item(i, feed_url) for i in items]
        )
    raise FeedError(f"not a feed: the document is <{kind}>, not <rss> or <feed>")


def _rss_item(item: etree._Element, feed_url: str) -> FeedEntry:
    raw_link = _text(_child(item, "link"))
    guid = _child(item, "guid")
    if not raw_link and guid is not None and (guid.get("isPermaLink") or "true").lower() == "true":
        # A guid is a permalink by default, but many feeds put plain ids there: only a full address counts.
        raw_link = _text(guid) if is_web_url(_text(guid)) else ""
    content = _text(_child(item, "encoded")) or _text(_child(item, "description"))
    published = _text(_child(item, "pubDate", "date"))
    return _entry(_text(guid), _text(_child(item, "title")), raw_link, published, content, feed_url)


def _atom_entry(entry: etree._Element, feed_url: str) -> FeedEntry:
    raw_link = ""
    for child in entry:
        if _local(child.tag) == "link" and (child.get("rel") or "alternate") == "alternate":
            raw_link = (child.get("href") or "").strip()
            break
    content = _text(_child(entry, "content")) or _text(_child(entry, "summary"))
    published = _text(_child(entry, "published", "updated"))
    return _entry(_text(_child(entry, "id")), _text(_child(entry, "title")), raw_link, published, content, feed_url)


def _plain(markup: str) -> str:
    """A title as plain text: feeds often put (escaped) HTML in titles; scripts and tags go."""
    if "<" not in markup:
        return markup.strip()
    import lxml.html

    try:
        fragment = lxml.html.fragment_fromstring(markup, create_parent="div")
    except (etree.ParserError, ValueError):
        return markup.strip()
    for element in fragment.iter("script", "style", "template", "noscript"):
        element.drop_tree()
    return " ".join(fragment.text_content().split())


def _entry(guid: str, title: str, raw_link: str, published: str, content: str, feed_url: str) -> FeedEntry:
    title = _plain(title)
    link = normalize_url(raw_link, base=feed_url) if raw_link else ""
    key = guid or link or hashlib.sha256(f"{title}\x1f{content}".encode()).hexdigest()[:24]
    return FeedEntry(key, title, link, published, content, raw_link if not link else "")


# ----- what brief remembers of each feed ---------------------------------------------------------


@dataclass
class FeedRecord:
    """What one feed's last polls left: validators, the entries taken, the last outcome."""

    url: str
    title: str = ""
    etag: str = ""
    last_modified: str = ""
    seen: list[str] = field(default_factory=list)
    checked: str = ""
    result: str = ""

    def conditional_headers(self) -> dict[str, str]:
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers

    def remember(self, keys: list[str]) -> None:
        known = set(self.seen)
        self.seen.extend(k for k in keys if k not in known)
        del self.seen[:-MAX_SEEN]


class FeedState:
    """Every feed's record, kept in BRIEF_HOME/feeds.json."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.records: dict[str, FeedRecord] = {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        for url, entry in (data.get("feeds", {}) if isinstance(data, dict) else {}).items():
            if isinstance(entry, dict):
                fields = {k: v for k, v in entry.items() if k in FeedRecord.__dataclass_fields__ and k != "url"}
                self.records[url] = FeedRecord(url, **fields)

    def record(self, url: str) -> FeedRecord:
        return self.records.setdefault(url, FeedRecord(url))

    def save(self) -> None:
        """Write all records at once (a temporary file renamed over the old one)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"feeds": {url: {k: v for k, v in r.__dict__.items() if k != "url"} for url, r in self.records.items()}}
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        tmp.replace(self.path)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
