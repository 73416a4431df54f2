"""PDF articles: document info for metadata, extracted text rebuilt into paragraphs."""

from __future__ import annotations

import io
import statistics

from brief.ingest.markup import RawBlock


class PdfError(ValueError):
    """The bytes are not a readable PDF."""


def parse_pdf(data: bytes) -> tuple[dict[str, str], list[RawBlock]]:
    """(metadata hints, blocks) of a PDF file's bytes."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise PdfError("not a PDF file (no %PDF header)")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise PdfError("the PDF is encrypted")
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata or {}
    except PdfReadError as exc:
        raise PdfError(f"unreadable PDF ({exc})") from exc
    hints = {
        "title": str(info.get("/Title") or "").strip(),
        "author": str(info.get("/Author") or "").strip(),
        "date": str(info.get("/CreationDate") or "").strip(),
    }
    return {k: v for k, v in hints.items() if v}, _blocks_from_lines(pages)


def _blocks_from_lines(pages: list[str]) -> list[RawBlock]:
    lines = [line.strip() for page in pages for line in page.splitlines()]
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
