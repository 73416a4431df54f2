"""Read a file of any supported format into Articles, or fail with a reason naming the file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from brief.ingest.clean import assemble_article
from brief.ingest.files import IngestLimits, Skipped, UnreadableFile, read_regular_file, walk_folder
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
# A file that is more NUL bytes than this share is binary, not text with stray NULs.
_BINARY_NUL_SHARE = 0.01
# Byte-order marks, longest first: the UTF-32 LE mark begins with the UTF-16 LE one.
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


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
    for item in walk_inputs(paths):
        if isinstance(item, Path):
            yield item


def scan_inputs(paths: list[Path]) -> tuple[list[Path], list[Skipped]]:
    """The files to read, and the folder entries that cannot be read (with the reason)."""
    files: list[Path] = []
    skipped: list[Skipped] = []
    for item in walk_inputs(paths):
        (files if isinstance(item, Path) else skipped).append(item)  # type: ignore[arg-type]
    return files, skipped


def walk_inputs(paths: list[Path]) -> Iterator[Path | Skipped]:
    """Each path given as a file is taken as given; folders are walked (see walk_folder)."""
    for path in paths:
        if path.is_dir():
            yield from walk_folder(path, frozenset(SUPPORTED_SUFFIXES))
        else:
            yield path


def load_file(path: Path, limits: IngestLimits | None = None, data: bytes | None = None) -> LoadResult:
    """Parse one file (`data`: its bytes, when already read with read_file). Raises LoadError
    when the whole file is unusable."""
    limits = limits or IngestLimits()
    return parse_file(path, read_file(path, limits) if data is None else data, limits)


def read_file(path: Path, limits: IngestLimits) -> bytes:
    """The bytes of a file of a supported type, within the size cap; LoadError otherwise."""
    name = str(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise LoadError(name, f"unsupported file type '{suffix or '(none)'}'")
    try:
        data = read_regular_file(path, limits.max_file_bytes)
    except UnreadableFile as exc:
        raise LoadError(name, str(exc)) from exc
    if not data.strip():
        raise LoadError(name, "empty file")
    return data


def parse_file(path: Path, data: bytes, limits: IngestLimits) -> LoadResult:
    """Parse the bytes read from `path` by its type."""
    name = str(path)
    suffix = path.suffix.lower()
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
        hints, body = split_front_matter(text, limits.max_front_matter_bytes)
    except FrontMatterError as exc:
        raise LoadError(name, str(exc)) from exc
    return LoadResult(name, [_checked(assemble_article(parse_blocks(body), hints, name), name)], [])


def decode_text(data: bytes, name: str) -> str:
    """UTF-8 text, or UTF-16/32 with a byte-order mark; binary or other encodings are refused,
    never guessed. Stray NUL characters are removed."""
    encoding = next((enc for bom, enc in _BOMS if data.startswith(bom)), None)
    if encoding is None and _mostly_nul(data.count(b"\x00"), len(data)):
        raise LoadError(name, "binary file (contains NUL bytes), not text")
    try:
        text = data.decode(encoding or "utf-8")
    except UnicodeDecodeError as exc:
        if encoding is None and b"\x00" in data:
            raise LoadError(name, "binary file (contains NUL bytes), not text") from exc
        where = f"byte 0x{data[exc.start]:02x} at offset {exc.start}"
        raise LoadError(name, f"not valid {(encoding or 'utf-8').upper()} text ({where})") from exc
    text = text.removeprefix("\ufeff")
    if _mostly_nul(text.count("\x00"), len(text)):
        raise LoadError(name, "binary file (contains NUL characters), not text")
    text = text.replace("\x00", "")
    if not text.strip():
        raise LoadError(name, "empty file (only whitespace)")
    return text


def _mostly_nul(nuls: int, size: int) -> bool:
    return nuls > size * _BINARY_NUL_SHARE


def _checked(article: Article, name: str) -> Article:
    if not article.text.strip():
        raise LoadError(name, "empty file: no article text after removing boilerplate")
    return article


def _load_json_records(text: str, name: str, jsonl: bool) -> LoadResult:
    records: list[tuple[str, object]] = []
    if jsonl:
        # Only "\n" ends a record: str.splitlines would also split inside a string at U+2028.
        for number, line in enumerate(text.split("\n"), start=1):
            if line.strip():
                try:
                    records.append((f"line {number}", _json_value(line, f"{name} (line {number})")))
                except LoadError as error:  # this line only: the records around it still count
                    records.append((f"line {number}", error))
    else:
        data = _json_value(text, name, whole_file=True)
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


def _json_value(text: str, label: str, whole_file: bool = False) -> object:
    """Parsed JSON, or LoadError naming `label`: also for nesting too deep to parse."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = f" at line {exc.lineno}" if whole_file else ""
        raise LoadError(label, f"invalid JSON ({exc.msg}{where})") from exc
    except RecursionError as exc:
        raise LoadError(label, "invalid JSON (nested too deeply)") from exc


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
