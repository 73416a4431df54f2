"""Links and feeds into documents: fetch, keep a snapshot, ingest it like a file.

A fetched page is written (atomically, only after the whole body arrived) to a snapshot
file in BRIEF_HOME/web named after its address, then ingested by the ordinary Ingestor,
so links share everything files have: content-hash identities, crash-safe writes,
"unchanged" on a second run, "updated" when the page changed. The page's canonical URL
(or, without one, the address it was fetched from) is the document's URL, so the same
article reached by two links, or saved as a file, is one document. A snapshot whose
ingest fails is put back as it was: nothing half-written stays behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import html
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from brief.ingest.metadata import domain_of
from brief.ingestion import Ingestor, path_key
from brief.types import Article
from brief.web.feeds import FeedEntry, FeedError, FeedState, now_iso, parse_feed
from brief.web.fetch import (
    FEED_TYPES,
    PAGE_TYPES,
    Fetcher,
    FetchError,
    FetchPolicy,
    FetchResult,
    RefusedAddress,
    RobotsRules,
    decode_body,
)
from brief.web.urls import is_web_url, normalize_url

if TYPE_CHECKING:
    from brief.library import Library

_SUFFIXES = {
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "text/plain": ".txt",
    "text/markdown": ".md",
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
}
Progress = Callable[[int, int, str], None]


@dataclass
class LinkOutcome:
    """What became of one link: added | updated | unchanged | failed | refused | skipped."""

    url: str
    status: str
    doc_ids: list[str] = field(default_factory=list)
    chunks: int = 0
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.status in ("added", "updated", "unchanged", "skipped")


@dataclass
class FeedOutcome:
    """One poll of one feed: `unchanged` (not modified), `checked`, or `failed`."""

    url: str
    status: str
    entries: int = 0
    links: list[LinkOutcome] = field(default_factory=list)
    reason: str = ""
    requests: int = 0

    def count(self, status: str) -> int:
        return sum(1 for link in self.links if link.status == status)

    def summary(self) -> str:
        if self.status == "failed":
            return f"feed {self.url}: failed ({self.reason})"
        if self.status == "unchanged":
            return f"feed {self.url}: unchanged since the last check"
        counts = ", ".join(
            f"{self.count(s)} {s}" for s in ("added", "updated", "unchanged", "failed", "skipped") if self.count(s)
        )
        return f"feed {self.url}: {self.entries} entries, {len(self.links)} new" + (f" ({counts})" if counts else "")

    def to_dict(self) -> dict:
        return {
            "url": self.url,
            "status": self.status,
            "entries": self.entries,
            "reason": self.reason,
            **{s: self.count(s) for s in ("added", "updated", "unchanged", "failed", "refused", "skipped")},
            "links": [link.__dict__ for link in self.links],
        }


@dataclass
class _Snapshot:
    """A fetched body on its way into the store, with what it replaced (to put back on failure)."""

    url: str
    path: Path
    origin: str
    previous: bytes | None


class _OriginIngestor(Ingestor):
    """The Ingestor, told which address each snapshot came from."""

    def __init__(self, library: Library, origins: dict[str, str]) -> None:
        super().__init__(library.store, library.embedder)
        self.origins = origins

    def _adjusted(self, path: Path, article: Article) -> Article:
        origin = self.origins.get(path_key(path), "")
        # The page's own canonical address wins; the fetched address stands in without one.
        article.url = (normalize_url(article.url, base=origin) if article.url else "") or origin
        if not article.source and origin:
            article.source = domain_of(origin)
        return article


class LinkIngestor:
    """Fetches links and polls feeds for one library under one fetch policy."""

    def __init__(self, library: Library, policy: FetchPolicy, fetcher: Fetcher | None = None) -> None:
        self.library = library
        self.policy = policy
        self.fetcher = fetcher or Fetcher(policy)
        self.snapshots = library.settings.home / "web"

    # ----- links ----------------------------------------------------------------------------

    def ingest_links(self, urls: list[str], progress: Progress | None = None) -> list[LinkOutcome]:
        """Fetch and ingest each link; one outcome per link, in order."""
        outcomes: list[LinkOutcome | None] = []
        snapshots: dict[int, _Snapshot] = {}
        for number, url in enumerate(urls):
            if progress:
                progress(number, len(urls), url)
            fetched = self._fetch_page(url)
            if isinstance(fetched, LinkOutcome):
                outcomes.append(fetched)
                continue
            snapshots[number] = self._write_snapshot(url, normalize_url(url) or url, fetched)
            outcomes.append(None)
        self._ingest(snapshots, outcomes)
        if progress:
            progress(len(urls), len(urls), "")
        return [o for o in outcomes if o is not None]

    def _fetch_page(self, url: str) -> FetchResult | LinkOutcome:
        address = url.strip()
        if not is_web_url(address):
            return LinkOutcome(address, "failed", reason="not an http(s) link")
        try:
            result = self.fetcher.get(address, accept=PAGE_TYPES)
        except RefusedAddress as exc:
            return LinkOutcome(address, "refused", reason=exc.reason)
        except FetchError as exc:
            return LinkOutcome(address, "failed", reason=exc.reason)
        if not result.body.strip():
            return LinkOutcome(address, "failed", reason="the page is empty")
        return result

    def _write_snapshot(self, url: str, key: str, result: FetchResult) -> _Snapshot:
        """Write the body under a name derived from `key` (one file per address or feed entry)."""
        suffix = _SUFFIXES.get(result.media_type) or _sniff_suffix(result.body)
        body = result.body
        if suffix in (".html", ".txt", ".md"):
            body = _as_utf8(result, suffix)
        name = hashlib.sha256(key.encode()).hexdigest()[:24]
        path = self.snapshots / f"{name}{suffix}"
        previous = path.read_bytes() if path.exists() else None
        self.snapshots.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(body)
        tmp.replace(path)
        return _Snapshot(url, path, normalize_url(result.final_url) or result.final_url, previous)

    def _ingest(self, snapshots: dict[int, _Snapshot], outcomes: list[LinkOutcome | None]) -> None:
        if not snapshots:
            return
        ingestor = _OriginIngestor(self.library, {path_key(s.path): s.origin for s in snapshots.values()})
        try:
            report = ingestor.run([s.path for s in snapshots.values()])
        except BaseException:
            for snapshot in snapshots.values():
                _put_back(snapshot)
            raise
        by_path = {f.path: f for f in report.files}
        for number, snapshot in snapshots.items():
            file = by_path.get(str(snapshot.path))
            if file is None or file.status in ("failed", "partial"):
                _put_back(snapshot)
                reasons = [e.split(": ", 1)[-1] for e in (file.errors if file else [])]
                outcomes[number] = LinkOutcome(snapshot.url, "failed", reason="; ".join(reasons) or "not ingested")
            else:
                outcomes[number] = LinkOutcome(snapshot.url, file.status, list(file.doc_ids), file.chunks)

    # ----- feeds ----------------------------------------------------------------------------

    def poll_feed(self, feed_url: str, max_entries: int = 50) -> FeedOutcome:
        """Check one feed: with a conditional request, then ingest the pages of its new entries."""
        address = feed_url.strip()
        if not is_web_url(address):
            return FeedOutcome(address, "failed", reason="not an http(s) link")
        requests_before = self.fetcher.requests
        with self._feed_lock():
            state = FeedState(self.library.settings.home / "feeds.json")
            record = state.record(address)
            try:
                result = self.fetcher.get(address, accept=FEED_TYPES, conditional=record.conditional_headers())
            except FetchError as exc:
                return FeedOutcome(
                    address, "failed", reason=exc.reason, requests=self.fetcher.requests - requests_before
                )
            if result.not_modified:
                return FeedOutcome(address, "unchanged", requests=self.fetcher.requests - requests_before)
            try:
                feed = parse_feed(result.body, result.final_url)
            except FeedError as exc:
                return FeedOutcome(address, "failed", reason=str(exc), requests=self.fetcher.requests - requests_before)
            seen = set(record.seen)
            unseen = [e for e in feed.entries if e.key not in seen]
            new = unseen[:max_entries]
            links = self._ingest_entries(new, address)
            taken = [entry.key for entry, link in zip(new, links, strict=True) if link.ok]
            # Validators are kept only when every unseen entry was handled: otherwise the next poll
            # must see the whole feed again, to retry the ones that failed or were left for later.
            complete = len(taken) == len(unseen)
            etag = result.headers.get("etag", "") if complete else ""
            last_modified = result.headers.get("last-modified", "") if complete else ""
            changed = (
                bool(taken)
                or (etag, last_modified) != (record.etag, record.last_modified)
                or feed.title != record.title
                or not record.checked
            )
            if changed:
                record.remember(taken)
                record.etag, record.last_modified, record.title = etag, last_modified, feed.title
                record.checked = now_iso()
                record.result = f"{len(new)} new, {len(new) - len(taken)} failed"
                state.save()
            outcome = FeedOutcome(address, "checked", len(feed.entries), links)
            outcome.requests = self.fetcher.requests - requests_before
            return outcome

    def _ingest_entries(self, entries: list[FeedEntry], feed_url: str) -> list[LinkOutcome]:
        robots = RobotsRules(self.fetcher) if self.policy.respect_robots else None
        outcomes: list[LinkOutcome | None] = []
        snapshots: dict[int, _Snapshot] = {}
        for number, entry in enumerate(entries):
            label = entry.link or entry.raw_link or f"{feed_url} (entry {entry.key[:40]})"
            if entry.link:
                if robots is not None and not robots.allowed(entry.link):
                    outcomes.append(LinkOutcome(label, "skipped", reason="disallowed by the site's robots.txt"))
                    continue
                fetched = self._fetch_page(entry.link)
                if isinstance(fetched, LinkOutcome):
                    outcomes.append(fetched)
                    continue
                snapshots[number] = self._write_snapshot(entry.link, entry.link, fetched)
            elif entry.content.strip():
                # No page to fetch: the entry's own text is the article.
                page = _entry_page(entry).encode("utf-8")
                result = FetchResult(feed_url, feed_url, 200, "text/html", "utf-8", page)
                snapshots[number] = self._write_snapshot(label, f"{feed_url}#{entry.key}", result)
            else:
                outcomes.append(LinkOutcome(label, "skipped", reason="no http(s) link and no text in the entry"))
                continue
            outcomes.append(None)
        self._ingest(snapshots, outcomes)
        return [o for o in outcomes if o is not None]

    @contextlib.contextmanager
    def _feed_lock(self) -> Iterator[None]:
        """One poll of the feed state at a time per BRIEF_HOME (the app and cron may both poll)."""
        home = self.library.settings.home
        home.mkdir(parents=True, exist_ok=True)
        with open(home / "feeds.lock", "a") as handle:  # "a": taking the lock writes nothing
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def known_feeds(library: Library) -> list[tuple[str, str, str]]:
    """(url, title, last result) of the feeds in the settings and those polled before."""
    state = FeedState(library.settings.home / "feeds.json")
    urls = list(dict.fromkeys([*library.settings.feeds, *state.records]))
    rows = []
    for url in urls:
        record = state.records.get(url)
        result = f"{record.result} (checked {record.checked})" if record and record.checked else "not checked yet"
        rows.append((url, record.title if record else "", result))
    return rows


def _put_back(snapshot: _Snapshot) -> None:
    """Restore the snapshot file as it was before this fetch (or remove a new one)."""
    with contextlib.suppress(OSError):
        if snapshot.previous is None:
            snapshot.path.unlink(missing_ok=True)
        else:
            tmp = snapshot.path.with_name(f".{snapshot.path.name}.{os.getpid()}.restore")
            tmp.write_bytes(snapshot.previous)
            tmp.replace(snapshot.path)


def _sniff_suffix(body: bytes) -> str:
    head = body.lstrip()[:512].lower()
    if head.startswith(b"%pdf"):
        return ".pdf"
    if head.startswith(b"pk\x03\x04"):
        return ".docx"
    if head.startswith((b"<!doctype html", b"<html")) or b"<body" in head or b"<p" in head:
        return ".html"
    return ".txt"


def _as_utf8(result: FetchResult, suffix: str) -> bytes:
    """Text bodies are stored as UTF-8 (the loaders read UTF-8); HTML without a declared
    charset is decoded the way trafilatura guesses it (meta tags, then detection)."""
    if suffix == ".html" and not result.charset:
        from trafilatura.utils import decode_file

        text = decode_file(result.body)
        if isinstance(text, str):
            return text.encode("utf-8")
    return decode_body(result).encode("utf-8")


def _entry_page(entry: FeedEntry) -> str:
    """A feed entry without a link as a small HTML page (its HTML is parsed like any page's)."""
    title = html.escape(entry.title)
    published = html.escape(entry.published)
    meta = f'<meta name="date" content="{published}">' if published else ""
    head = f"<head><title>{title}</title>{meta}</head>"
    return f"<html>{head}<body><article><h1>{title}</h1>{entry.content}</article></body></html>"
