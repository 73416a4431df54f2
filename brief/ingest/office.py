"""Office documents: Word (.docx, through python-docx) and OpenDocument text (.odt).

Both are zip archives of XML. The archive is checked before anything is unpacked (a small
file must not unpack into gigabytes), XML is parsed without entity expansion or network
access, and text marked hidden is left out, as it is for HTML.
"""

from __future__ import annotations

import io
import re
import zipfile

from lxml import etree

from brief.ingest.markup import RawBlock

OFFICE_SUFFIXES = {".docx", ".odt"}
# Limits on what an archive may unpack to: generous for text, far below a zip bomb.
_MAX_UNPACKED = 200 * 1024 * 1024
_MAX_MEMBERS = 5000
_MAX_RATIO = 200
_HEADING_STYLE = re.compile(r"^heading\s*([1-6])$", re.I)
_SPACE = re.compile(r"\s+")
_ODF_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_ODF_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_ODF_META = "urn:oasis:names:tc:opendocument:xmlns:meta:1.0"
_DC = "http://purl.org/dc/elements/1.1/"


class OfficeError(ValueError):
    """The bytes are not a readable office document."""


def parse_office(data: bytes, suffix: str) -> tuple[dict[str, str], list[RawBlock]]:
    """(metadata hints, blocks) of a .docx or .odt file's bytes."""
    archive = _open_archive(data, suffix)
    with archive:
        if suffix == ".docx":
            return _parse_docx(data)
        return _parse_odt(archive)


def _open_archive(data: bytes, suffix: str) -> zipfile.ZipFile:
    kind = "a Word document" if suffix == ".docx" else "an OpenDocument text"
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        raise OfficeError(f"not {kind} (not a zip archive)") from None
    members = archive.infolist()
    unpacked = sum(m.file_size for m in members)
    packed = sum(m.compress_size for m in members) or 1
    if len(members) > _MAX_MEMBERS or unpacked > _MAX_UNPACKED or unpacked / packed > _MAX_RATIO:
        archive.close()
        raise OfficeError(f"refused: the archive would unpack to {unpacked // 1_000_000} MB in {len(members)} files")
    names = {m.filename for m in members}
    needed = "word/document.xml" if suffix == ".docx" else "content.xml"
    if needed not in names:
        archive.close()
        raise OfficeError(f"not {kind} (no {needed} in the archive)")
    return archive


# ----- Word ----------------------------------------------------------------------------------------


def _parse_docx(data: bytes) -> tuple[dict[str, str], list[RawBlock]]:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - python-docx fails on damaged files in many ways
        raise OfficeError(f"damaged Word document ({type(exc).__name__}: {str(exc)[:120]})") from None
    blocks: list[RawBlock] = []
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            block = _docx_paragraph(item)
            if block is not None:
                blocks.append(block)
        elif isinstance(item, Table):
            blocks.extend(_docx_table(item))
    core = document.core_properties
    hints = {
        "title": core.title or "",
        "author": core.author or "",
        "date": core.created.date().isoformat() if core.created else "",
        "language": (core.language or "").split("-")[0].lower(),
    }
    return {k: v.strip() for k, v in hints.items() if v and v.strip()}, blocks


def _docx_paragraph(paragraph) -> RawBlock | None:  # type: ignore[no-untyped-def]
    text = _SPACE.sub(" ", _visible_docx_text(paragraph)).strip()
    if not text:
        return None
    style = (paragraph.style.name if paragraph.style is not None else "") or ""
    if style.lower() == "title":
        return RawBlock("heading", text, level=1)
    heading = _HEADING_STYLE.match(style)
    if heading:
        return RawBlock("heading", text, level=int(heading.group(1)))
    return RawBlock("paragraph", text)


def _visible_docx_text(paragraph) -> str:  # type: ignore[no-untyped-def]
    """The paragraph's text without runs marked hidden (Word's 'vanish')."""
    from docx.text.hyperlink import Hyperlink

    parts = []
    for item in paragraph.iter_inner_content():
        runs = item.runs if isinstance(item, Hyperlink) else [item]
        parts.extend(run.text for run in runs if not run.font.hidden)
    return "".join(parts)


def _docx_table(table) -> list[RawBlock]:  # type: ignore[no-untyped-def]
    rows = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = _SPACE.sub(" ", cell.text).strip()
            if text and (not cells or cells[-1] != text):  # merged cells repeat their text
                cells.append(text)
        if cells:
            rows.append(RawBlock("paragraph", "; ".join(cells)))
    return rows


# ----- OpenDocument --------------------------------------------------------------------------------


def _xml(archive: zipfile.ZipFile, name: str) -> etree._Element | None:
    if name not in archive.namelist():
        return None
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        return etree.fromstring(archive.read(name), parser)
    except etree.XMLSyntaxError as exc:
        raise OfficeError(f"damaged OpenDocument file ({name}: {exc})") from None


def _parse_odt(archive: zipfile.ZipFile) -> tuple[dict[str, str], list[RawBlock]]:
    content = _xml(archive, "content.xml")
    body = content.find(f"{{{_ODF_OFFICE}}}body") if content is not None else None
    blocks: list[RawBlock] = []
    if body is not None:
        for element in body.iter(f"{{{_ODF_TEXT}}}h", f"{{{_ODF_TEXT}}}p"):
            if _inside_hidden(element) or element.getparent().tag in (f"{{{_ODF_TEXT}}}p", f"{{{_ODF_TEXT}}}h"):
                continue
            text = _SPACE.sub(" ", _odf_text(element)).strip()
            if not text:
                continue
            if element.tag == f"{{{_ODF_TEXT}}}h":
                level = element.get(f"{{{_ODF_TEXT}}}outline-level") or "2"
                blocks.append(RawBlock("heading", text, level=min(int(level) if level.isdigit() else 2, 6)))
            else:
                blocks.append(RawBlock("paragraph", text))
    meta = _xml(archive, "meta.xml")
    hints: dict[str, str] = {}
    if meta is not None:
        for key, tag in (
            ("title", f"{{{_DC}}}title"),
            ("author", f"{{{_DC}}}creator"),
            ("author", f"{{{_ODF_META}}}initial-creator"),
            ("date", f"{{{_ODF_META}}}creation-date"),
            ("language", f"{{{_DC}}}language"),
        ):
            found = meta.find(f".//{tag}")
            if key not in hints and found is not None and (found.text or "").strip():
                hints[key] = found.text.strip()
    if "language" in hints:
        hints["language"] = hints["language"].split("-")[0].lower()
    return hints, blocks


def _inside_hidden(element: etree._Element) -> bool:
    for ancestor in element.iterancestors():
        if ancestor.tag == f"{{{_ODF_TEXT}}}section" and ancestor.get(f"{{{_ODF_TEXT}}}display") == "none":
            return True
        if ancestor.tag in (f"{{{_ODF_TEXT}}}note", f"{{{_ODF_TEXT}}}tracked-changes"):
            return True
    return False


def _odf_text(element: etree._Element) -> str:
    """Text of a paragraph: <text:s/> is a space, tabs and line breaks too; hidden text left out."""
    parts: list[str] = []

    def walk(node: etree._Element) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in (f"{{{_ODF_TEXT}}}hidden-text", f"{{{_ODF_TEXT}}}note"):
            pass
        elif tag in (f"{{{_ODF_TEXT}}}s", f"{{{_ODF_TEXT}}}tab", f"{{{_ODF_TEXT}}}line-break"):
            parts.append(" ")
        else:
            parts.append(node.text or "")
            for child in node:
                walk(child)
        if node is not element:
            parts.append(node.tail or "")

    walk(element)
    return "".join(parts)
