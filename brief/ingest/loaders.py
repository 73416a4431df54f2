"""Read a file of any supported format into Articles, or fail with a reason naming the file."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from brief.ingest.clean import assemble_article
from brief.ingest.files import (
    IngestLimits,
    Skipped,
    UnreadableFile,
    open_regular_file,
    read_regular_file,
    walk_folder,
)
from brief.ingest.html import HtmlError, parse_html
from brief.ingest.markup import FrontMatterError, parse_blocks, split_front_matter
from brief.ingest.office import OFFICE_SUFFIXES, OfficeError, parse_office
from brief.ingest.pdf import PdfError, parse_pdf
from brief.types import Article

TEXT_SUFFIXES = {".md", ".markdown", ".txt", ".text"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
JSON_SUFFIXES = {".jsonl", ".ndjson", ".json"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES | {".pdf"} | OFFICE_SUFFIXES
# Formats stored as text, whose size says how much text they hold (PDF and office files carry
# layout, fonts and images: a 5 MB report may hold a few pages).
TEXT_SIZED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES
# JSON Lines are read a record at a time: an export of any size costs the memory of one record,
# and the size cap applies to each record (line) instead of to the whole file.
STREAMED_SUFFIXES = {".jsonl", ".ndjson"}
_READ_BLOCK = 1 << 20
_MAX_WAITING_ERRORS = 10_000  # errors held back while no good record has been seen

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
    warnings: list[str] = field(default_factory=list)


@dataclass
class SourceFile:
    """One input file, checked and hashed, whose articles are read on demand (`items`).

    A streamed file (JSON Lines) is hashed in one pass and parsed in a second, line by line;
    `changed_while_read` tells whether the bytes parsed were not the bytes hashed (the file was
    being written), in which case the digest must not be remembered for them.
    """

    path: Path
    digest: str
    limits: IngestLimits
    data: bytes | None = None  # the whole file, for formats parsed as a whole
    changed_while_read: bool = False
    bytes_read: int = 0  # how far `items` has read (for progress)

    def items(self) -> Iterator[Article | LoadError]:
        """Each article of the file, or a LoadError for a record that could not be read; raises
        LoadError when the file as a whole is unusable."""
        if self.data is not None:
            loaded = parse_file(self.path, self.data, self.limits)
            self.bytes_read = len(self.data)
            yield from loaded.articles
            yield from loaded.errors
            return
        yield from self._streamed_records()

    def _streamed_records(self) -> Iterator[Article | LoadError]:
        name = str(self.path)
        digest = hashlib.sha256()
        records = readable = 0
        # Errors before the first good record wait: a file with no good record at all fails as a
        # whole, with one error (as a file read whole does), not one per line.
        waiting: list[LoadError] = []
        try:
            with open_regular_file(self.path) as handle:
                for number, line in _lines(handle, self.limits.max_file_bytes, digest):
                    if isinstance(line, LoadError):
                        item: Article | LoadError = LoadError(f"{name} (line {number})", line.reason)
                    elif not line.strip():
                        continue
                    else:
                        item = _record_line(line, name, number)
                    records += 1
                    self.bytes_read = handle.tell()
                    if isinstance(item, LoadError) and not readable and len(waiting) < _MAX_WAITING_ERRORS:
                        waiting.append(item)
                        continue
                    if not isinstance(item, LoadError):
                        readable += 1
                    yield from waiting
                    waiting.clear()
                    yield item
        except (OSError, UnreadableFile) as exc:
            raise LoadError(name, f"cannot read: {exc}") from exc
        self.changed_while_read = digest.hexdigest() != self.digest
        if not records:
            raise LoadError(name, "empty file: no JSON records")
        if len(waiting) == 1 and records == 1:
            raise waiting[0]
        if waiting:
            raise LoadError(name, f"no readable records ({records} errors; first: {waiting[0].reason})")


def open_source(path: Path, limits: IngestLimits) -> SourceFile:
    """Check and hash one input file; LoadError names the file when it cannot be read at all."""
    name = str(path)
    suffix = path.suffix.lower()
    if suffix not in STREAMED_SUFFIXES:
        data = read_file(path, limits)
        return SourceFile(path, hashlib.sha256(data).hexdigest(), limits, data)
    digest = hashlib.sha256()
    head = b""
    try:
        with open_regular_file(path) as handle:
            while block := handle.read(_READ_BLOCK):
                head = head or block[:4]
                digest.update(block)
    except (OSError, UnreadableFile) as exc:
        raise LoadError(name, str(exc) if isinstance(exc, UnreadableFile) else f"cannot read: {exc}") from exc
    if not head:
        raise LoadError(name, "empty file")
    if any(head.startswith(bom) for bom, enc in _BOMS if enc != "utf-8"):
        # UTF-16/32 lines cannot be split on a newline byte: such a file is read whole.
        data = read_file(path, limits)
        return SourceFile(path, hashlib.sha256(data).hexdigest(), limits, data)
    return SourceFile(path, digest.hexdigest(), limits)


def _lines(handle, max_bytes: int, digest) -> Iterator[tuple[int, bytes | LoadError]]:  # type: ignore[no-untyped-def]
    """Numbered lines of a binary file, each at most `max_bytes` (a longer one is passed over to
    its end and given as a LoadError); every byte read also goes into `digest`."""
    number = 0
    while True:
        line = handle.readline(max_bytes + 1)
        if not line:
            return
        digest.update(line)
        number += 1
        if len(line) > max_bytes and not line.endswith(b"\n"):
            while (rest := handle.readline(_READ_BLOCK)) and (digest.update(rest) or not rest.endswith(b"\n")):
                pass
            yield number, LoadError("", f"record too large (over {max_bytes // (1024 * 1024)} MB)")
            continue
        yield number, line


def _record_line(line: bytes, name: str, number: int) -> Article | LoadError:
    """The article of one JSON Lines record, or the LoadError that says why there is none."""
    label = f"{name} (line {number})"
    if number == 1:
        line = line.removeprefix(b"\xef\xbb\xbf")
    if _mostly_nul(line.count(b"\x00"), len(line)):
        return LoadError(label, "binary data (NUL bytes), not a JSON record")
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return LoadError(label, f"not valid UTF-8 text (byte 0x{line[exc.start]:02x} at offset {exc.start})")
    try:
        return _article_from_record(_json_value(text.replace("\x00", ""), label), name, f"line {number}")
    except LoadError as exc:
        return exc


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
    """Parse one file whole (`data`: its bytes, when already read with read_file). Raises
    LoadError when the whole file is unusable. The ingest streams instead (`open_source`)."""
    limits = limits or IngestLimits()
    if data is None and path.suffix.lower() in STREAMED_SUFFIXES:
        source = open_source(path, limits)
        items = list(source.items())
        articles = [i for i in items if isinstance(i, Article)]
        return LoadResult(str(path), articles, [i for i in items if isinstance(i, LoadError)], _warnings(articles))
    loaded = parse_file(path, read_file(path, limits) if data is None else data, limits)
    loaded.warnings = _warnings(loaded.articles)
    return loaded


def _warnings(articles: list[Article]) -> list[str]:
    return [w for a in articles for w in a.warnings]


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
        try:
            hints, blocks = parse_html(text)
        except HtmlError as exc:
            raise LoadError(name, str(exc)) from exc
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
    article = assemble_article(parse_blocks(body), hints, name, record=where)
    if not article.text.strip():
        raise LoadError(label, "the body holds no article text")
    return article
