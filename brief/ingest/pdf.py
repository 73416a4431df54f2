"""PDF articles: document info for metadata, extracted text rebuilt into paragraphs."""

from __future__ import annotations

import io
import logging
import math
import re
import statistics
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from brief.ingest.markup import RawBlock

_SENTENCE_END = re.compile(r"""[.!?:"'”’)]$""")


class PdfError(ValueError):
    """The bytes are not a readable PDF."""


def parse_pdf(data: bytes) -> tuple[dict[str, str], list[RawBlock]]:
    """(metadata hints, blocks) of a PDF file's bytes."""
    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise PdfError("not a PDF file (no %PDF header)")
    with _PYPDF_LOG.collecting() as warnings:
        try:
            return _read_pdf(data)
        except PdfError as exc:
            raise PdfError(_with_warnings(str(exc), warnings)) from exc


def _read_pdf(data: bytes) -> tuple[dict[str, str], list[RawBlock]]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise PdfError("the PDF is encrypted")
        lines = [line for number, page in enumerate(reader.pages) for line in _page_lines(page, number)]
        info = reader.metadata or {}
    except PdfError:
        raise
    except PdfReadError as exc:
        raise PdfError(f"unreadable PDF ({exc})") from exc
    except Exception as exc:  # noqa: BLE001 - a damaged PDF trips pypdf in many ways
        raise PdfError(f"damaged PDF ({type(exc).__name__}: {str(exc)[:120]})") from exc
    hints = {
        "title": str(info.get("/Title") or "").strip(),
        "author": str(info.get("/Author") or "").strip(),
        "date": str(info.get("/CreationDate") or "").strip(),
    }
    return {k: v for k, v in hints.items() if v}, _blocks_from_layout(lines)


class _PypdfLog(logging.Handler):
    """pypdf logs what it repaired ("EOF marker not found") and, with no handler set, Python
    prints that bare on stderr, with no file name. This handler keeps the messages of the PDF
    being parsed on this thread, so they can join that file's error; otherwise they are dropped."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self._local = threading.local()
        self._install_lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        messages = getattr(self._local, "messages", None)
        if messages is not None and len(messages) < 20:
            message = " ".join(record.getMessage().split())
            messages.append(message if len(message) <= 100 else message[:99] + "…")

    @contextmanager
    def collecting(self) -> Iterator[list[str]]:
        with self._install_lock:
            logger = logging.getLogger("pypdf")
            if self not in logger.handlers:
                logger.addHandler(self)
                logger.propagate = False
        self._local.messages = []
        try:
            yield self._local.messages
        finally:
            self._local.messages = None


_PYPDF_LOG = _PypdfLog()


def _with_warnings(reason: str, warnings: list[str]) -> str:
    unique = list(dict.fromkeys(w for w in warnings if w))[:3]
    return f"{reason}; pypdf: {'; '.join(unique)}" if unique else reason


@dataclass
class _Line:
    text: str
    page: int
    y: float  # baseline height on the page (PDF coordinates: larger is higher)
    size: float  # largest font size on the line, in points


def _page_lines(page, number: int) -> list[_Line]:  # type: ignore[no-untyped-def]
    """The page's text lines with their position and font size."""
    lines: list[_Line] = []
    parts: list[str] = []
    geometry: list[tuple[float, float]] = []

    def end_line() -> None:
        text = "".join(parts).strip()
        if text:
            y = geometry[0][0] if geometry else 0.0
            lines.append(_Line(text, number, y, max((g[1] for g in geometry), default=0.0)))
        parts.clear()
        geometry.clear()

    def visit(text: str, cm, tm, font, size) -> None:  # type: ignore[no-untyped-def]
        pieces = text.split("\n")
        for i, piece in enumerate(pieces):
            parts.append(piece)
            if piece.strip():
                geometry.append(_placement(cm, tm, size))
            if i < len(pieces) - 1:
                end_line()

    page.extract_text(visitor_text=visit)
    end_line()
    return lines


def _placement(cm, tm, size) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(baseline y, font size in points) of text drawn with text matrix tm under cm."""
    try:
        a, b, c, d = (float(v) for v in cm[:4])
        y = b * float(tm[4]) + d * float(tm[5]) + float(cm[5])
        # The text matrix's vertical axis mapped through cm gives the font's scale.
        scale = math.hypot(float(tm[2]) * a + float(tm[3]) * c, float(tm[2]) * b + float(tm[3]) * d)
        return y, float(size or 0) * (scale or 1.0)
    except (TypeError, ValueError, IndexError):
        return 0.0, 0.0


def _blocks_from_layout(lines: list[_Line]) -> list[RawBlock]:
    """Paragraphs from vertical gaps, headings from font sizes larger than the body's."""
    sized = [line for line in lines if line.size > 0]
    if not sized:
        return _blocks_from_lines([line.text for line in lines])
    weight: Counter[float] = Counter()
    for line in sized:
        weight[round(line.size, 1)] += len(line.text)
    body = weight.most_common(1)[0][0]
    gaps = [
        (prev.y - line.y) / line.size
        for prev, line in zip(sized, sized[1:], strict=False)
        if prev.page == line.page and round(prev.size, 1) == round(line.size, 1) == body and prev.y > line.y
    ]
    # Lines of one paragraph sit one line-height apart; a paragraph break adds space.
    spacing = statistics.median(gaps) if gaps else 1.5
    heading_sizes = sorted({round(line.size, 1) for line in sized if line.size > body * 1.15}, reverse=True)
    # Without space between paragraphs, a clearly short line that ends a sentence ends one.
    lengths = [len(line.text) for line in sized if round(line.size, 1) == body]
    full = statistics.quantiles(lengths, n=4)[2] if len(lengths) >= 4 else 80

    blocks: list[RawBlock] = []
    current: list[_Line] = []

    def flush() -> None:
        if current:
            size = round(current[0].size, 1)
            text = _join_lines([line.text for line in current])
            if size in heading_sizes:
                blocks.append(RawBlock("heading", text, level=min(heading_sizes.index(size) + 1, 6)))
            else:
                blocks.append(RawBlock("paragraph", text))
            current.clear()

    for line in lines:
        if current:
            prev = current[-1]
            same_style = round(prev.size, 1) == round(line.size, 1)
            ends_sentence = bool(_SENTENCE_END.search(prev.text))
            if prev.page != line.page:
                # A paragraph running over a page break ends its page mid-sentence.
                breaks = not same_style or ends_sentence
            else:
                gap = (prev.y - line.y) / max(line.size, 1e-6)
                short = ends_sentence and len(prev.text) < 0.8 * full
                breaks = not same_style or gap <= 0 or gap > spacing * 1.3 or short
            if breaks:
                flush()
        current.append(line)
    flush()
    return blocks


def _blocks_from_lines(lines: list[str]) -> list[RawBlock]:
    """Fallback without layout information: paragraph ends guessed from short lines."""
    lines = [line.strip() for line in lines]
    lengths = [len(line) for line in lines if len(line) > 20]
    full = statistics.quantiles(lengths, n=4)[2] if len(lengths) >= 4 else 80
    blocks: list[RawBlock] = []
    current: list[str] = []

    def flush() -> None:
        if current:
            blocks.append(RawBlock("paragraph", _join_lines(current)))
            current.clear()

    for line in lines:
        if not line:
            flush()
            continue
        current.append(line)
        # A line clearly shorter than a full line that ends a sentence ends its paragraph;
        # a short line without final punctuation (a heading, a byline) stands alone.
        if len(line) < 0.8 * full:
            flush()
    flush()
    return blocks


def _join_lines(lines: list[str]) -> str:
    text = ""
    for line in lines:
        if text.endswith("-") and line[:1].islower():
            text = text[:-1] + line  # a hyphenated word broken across lines
        else:
            text = f"{text} {line}" if text else line
    return text
