"""Read a file of any supported format into Articles, or fail with a reason naming the file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from brief.ingest.clean import assemble_article
from brief.ingest.html import parse_html
from brief.ingest.markup import FrontMatterError, parse_blocks, split_front_matter
from brief.ingest.metadata import parse_any_date
from brief.ingest.office import OFFICE_SUFFIXES, OfficeError, parse_office
from brief.ingest.pdf import PdfError, parse_pdf
from brief.types import Article

TEXT_SUFFIXES = {".md", ".markdown", ".txt", ".text"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
JSON_SUFFIXES = {".jsonl", ".ndjson", ".json"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES | {".pdf"} | OFFICE_SUFFIXES

# JSON field names accepted for each metadata item, first match wins.
_JSON_FIELDS = {
    "title": ("title", "headline"),
    "author": ("author", "authors", "byline"),
    "source": ("source", "outlet", "publication", "site", "site_name"),
    "date": ("published_at", "date", "published", "publication_date", "pub_date"),
    "url": ("url", "link"),
    "language": ("language", "lang"),
}
_JSON_BODY = ("body", "text", "content", "article")
MAX_FILE_BYTES = 50 * 1024 * 1024


class LoadError(ValueError):
    """A file, or one record in it, could not be read as an article."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass
class LoadResult:
    """Articles read from one file, and errors for records that could not be read."""

    path: str
    articles: list[Article]
    errors: list[LoadError]


def find_files(paths: list[Path]) -> Iterator[Path]:
    """Supported files under the given paths (files are taken as given), in a stable order."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                hidden = any(part.startswith(".") for part in child.relative_to(path).parts)
                if child.is_file() and child.suffix.lower() in SUPPORTED_SUFFIXES and not hidden:
                    yield child
        else:
            yield path


def unsupported_files(paths: list[Path]) -> Iterator[Path]:
    """Files inside the given folders that find_files leaves out because brief cannot read their type."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                hidden = any(part.startswith(".") for part in child.relative_to(path).parts)
                if not hidden and child.is_file() and child.suffix.lower() not in SUPPORTED_SUFFIXES:
                    yield child


def load_file(path: Path) -> LoadResult:
    """Parse one file. Raises LoadError when the whole file is unusable."""
    name = str(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise LoadError(name, f"unsupported file type '{suffix or '(none)'}'")
    data = _read_bytes(path)
    if suffix == ".pdf":
        try:
            hints, blocks = parse_pdf(data)
        except PdfError as exc:
            raise LoadError(name, str(exc)) from exc
        return LoadResult(name, [_checked(assemble_article(blocks, hints, name), name)], [])
    if suffix in OFFICE_SUFFIXES:
        try:
            hints, blocks = parse_office(data, suffix)
        except OfficeError as exc:
            raise LoadError(name, str(exc)) from exc
        return LoadResult(name, [_checked(assemble_article(blocks, hints, name), name)], [])
    text = decode_text(data, name)
    if suffix in HTML_SUFFIXES:
        hints, blocks = parse_html(text)
        return LoadResult(name, [_checked(assemble_article(blocks, hints, name), name)], [])
    if suffix in JSON_SUFFIXES:
        return _load_json_records(text, name, jsonl=suffix != ".json")
    try:
        hints, body = split_front_matter(text)
    except FrontMatterError as exc:
        raise LoadError(name, str(exc)) from exc
    return LoadResult(name, [_checked(assemble_article(parse_blocks(body), hints, name), name)], [])


def _read_bytes(path: Path) -> bytes:
    name = str(path)
    try:
        if path.is_dir():
            raise LoadError(name, "is a directory, not a file")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise LoadError(name, f"too large ({size // 1_000_000} MB; limit {MAX_FILE_BYTES // 1_000_000} MB)")
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise LoadError(name, "cannot read: no such file (or a broken link)") from exc
    except PermissionError as exc:
        raise LoadError(name, "cannot read: permission denied") from exc
    except OSError as exc:
        raise LoadError(name, f"cannot read: {exc.strerror or exc}") from exc
    if not data.strip():
        raise LoadError(name, "empty file")
    return data


def decode_text(data: bytes, name: str) -> str:
    """UTF-8 text (a BOM is allowed); binary or other encodings are refused, never guessed."""
    if b"\x00" in data[:8192]:
        raise LoadError(name, "binary file (contains NUL bytes), not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError(name, f"not valid UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})") from exc
    if not text.strip():
        raise LoadError(name, "empty file (only whitespace)")
    return text


def _checked(article: Article, name: str) -> Article:
    if not article.text.strip():
        raise LoadError(name, "empty file: no article text after removing boilerplate")
    return article


def _load_json_records(text: str, name: str, jsonl: bool) -> LoadResult:
    records: list[tuple[str, object]] = []
    if jsonl:
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    records.append((f"line {number}", json.loads(line)))
                except json.JSONDecodeError as exc:
                    error = LoadError(f"{name} (line {number})", f"invalid JSON ({exc.msg})")
                    records.append((f"line {number}", error))
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise LoadError(name, f"invalid JSON ({exc.msg} at line {exc.lineno})") from exc
        items = data if isinstance(data, list) else [data]
        records = [(f"record {i}", item) for i, item in enumerate(items, start=1)]
    articles, errors = [], []
    for where, record in records:
        try:
            if isinstance(record, LoadError):
                raise record
            articles.append(_article_from_record(record, name, where))
        except LoadError as exc:
            errors.append(exc)
    if not articles and errors and len(errors) == len(records):
        if len(errors) == 1:
            raise errors[0]
        raise LoadError(name, f"no readable records ({len(errors)} errors; first: {errors[0].reason})")
    if not records:
        raise LoadError(name, "empty file: no JSON records")
    return LoadResult(name, articles, errors)


def _article_from_record(record: object, name: str, where: str) -> Article:
    label = f"{name} ({where})"
    if not isinstance(record, dict):
        raise LoadError(label, "a record must be a JSON object")
    body = next((record[k] for k in _JSON_BODY if isinstance(record.get(k), str) and record[k].strip()), None)
    if body is None:
        raise LoadError(label, "missing or empty field 'body' (also accepted: text, content)")
    hints: dict[str, str] = {}
    for key, names in _JSON_FIELDS.items():
        value = next((record[n] for n in names if record.get(n)), "")
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        if not isinstance(value, (str, int, float)):
            raise LoadError(label, f"field '{key}' must be text")
        hints[key] = str(value).strip()
    if hints["date"] and not parse_any_date(hints["date"]):
        raise LoadError(label, f"field 'published_at' is not a date: {hints['date']!r}")
    article = assemble_article(parse_blocks(body), hints, name, record=where)
    if not article.text.strip():
        raise LoadError(label, "the body holds no article text")
    return article
