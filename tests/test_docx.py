"""Office files (.docx, .odt) and files of types brief does not read."""

from __future__ import annotations

import datetime
import io
import json
import zipfile
from pathlib import Path

import pytest
from conftest import run_cli

from brief.ingest.loaders import LoadError, load_file

TITLE = "Harbour Board Approves New Ferry Terminal"
LEAD = "The harbour board approved a new ferry terminal on Tuesday, at a cost of 40 million crowns."


def write_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    props = document.core_properties
    props.title, props.author, props.language = TITLE, "Mira Olsen", "en-GB"
    props.created = datetime.datetime(2025, 3, 4, 10, 0)
    document.add_heading(TITLE, 0)
    lead = document.add_paragraph(LEAD + " ")
    hidden = lead.add_run("HIDDEN-RUN: the board chair was arrested.")
    hidden.font.hidden = True
    document.add_heading("Construction plans", 1)
    document.add_paragraph("Work will start in May and take two years, the board said in a statement on Tuesday.")
    table = document.add_table(rows=2, cols=2)
    for (row, col), text in {(0, 0): "Year", (0, 1): "Passengers", (1, 0): "2024", (1, 1): "1.2 million"}.items():
        table.cell(row, col).text = text
    document.save(str(path))
    return path


def write_odt(path: Path) -> Path:
    text_ns = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
    content = f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="{text_ns}">
<office:body><office:text>
<text:h text:outline-level="1">Island Council Votes to Keep the Old Quay Open</text:h>
<text:p>The island council voted on Monday to keep the old quay open<text:s/>until the new terminal is
finished.</text:p>
<text:p>Councillors said<text:hidden-text text:string-value="x">HIDDEN-ODT: bribes were paid</text:hidden-text>
the ferry is the islands' only link to the mainland.</text:p>
<text:section text:name="s" text:display="none"><text:p>HIDDEN-SECTION: the vote was rigged.</text:p></text:section>
<text:h text:outline-level="2">What happens next</text:h>
<text:p>The harbour board will answer the council's request at its April meeting.</text:p>
</office:text></office:body></office:document-content>"""
    meta = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
<office:meta><dc:title>Island Council Votes to Keep the Old Quay Open</dc:title>
<meta:initial-creator>Jon Berg</meta:initial-creator><meta:creation-date>2025-03-10T08:00:00</meta:creation-date>
</office:meta></office:document-meta>"""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", content)
        archive.writestr("meta.xml", meta)
    return path


def test_docx_article(tmp_path: Path) -> None:
    result = load_file(write_docx(tmp_path / "terminal.docx"))
    (article,) = result.articles
    assert (article.title, article.author, article.date, article.language) == (TITLE, "Mira Olsen", "2025-03-04", "en")
    assert [(b.kind, b.text) for b in article.blocks] == [
        ("paragraph", LEAD),
        ("heading", "Construction plans"),
        ("paragraph", "Work will start in May and take two years, the board said in a statement on Tuesday."),
        ("paragraph", "Year; Passengers"),
        ("paragraph", "2024; 1.2 million"),
    ]
    assert "HIDDEN-RUN" not in article.text


def test_odt_article(tmp_path: Path) -> None:
    (article,) = load_file(write_odt(tmp_path / "quay.odt")).articles
    assert (article.title, article.author, article.date) == (
        "Island Council Votes to Keep the Old Quay Open",
        "Jon Berg",
        "2025-03-10",
    )
    assert article.blocks[0].text == (
        "The island council voted on Monday to keep the old quay open until the new terminal is finished."
    )
    assert [b.text for b in article.blocks if b.kind == "heading"] == ["What happens next"]
    assert "HIDDEN" not in article.text
    assert "Councillors said the ferry is the islands' only link to the mainland." in article.text


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("fake.docx", b"this is not a zip archive", "not a Word document (not a zip archive)"),
        ("fake.odt", b"PK\x03\x04 broken", "not an OpenDocument text"),
    ],
)
def test_damaged_office_files_are_refused(tmp_path: Path, name: str, data: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(LoadError) as info:
        load_file(path)
    assert str(path) in str(info.value)
    assert reason.split(" (")[0] in info.value.reason


def test_zip_bomb_is_refused_before_unpacking(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"<w:document/>")
        archive.writestr("word/padding.xml", b"\0" * 300_000_000)  # ~300 MB of zeros, ~300 kB packed
    path = tmp_path / "bomb.docx"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(LoadError, match="refused: the archive would unpack to 300 MB"):
        load_file(path)


def test_folder_with_office_files_and_an_unsupported_type(tmp_path: Path) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    write_docx(folder / "terminal.docx")
    write_odt(folder / "quay.odt")
    (folder / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a photo")
    (folder / "slides.pptx").write_bytes(b"PK\x03\x04")
    home = tmp_path / "home"
    result = run_cli("ingest", str(folder), home=home, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == [
        f"skipped: {folder / 'photo.jpg'}: unsupported type",
        f"skipped: {folder / 'slides.pptx'}: unsupported type",
    ]
    assert lines[2].startswith("2 added, 0 updated, 0 unchanged, 0 failed, 2 skipped; ")
    report = json.loads(run_cli("ingest", str(folder), "--json", home=home, cwd=tmp_path).stdout)
    assert (report["unchanged"], len(report["skipped"])) == (2, 2)
    assert [s["reason"] for s in report["skipped"]] == ["unsupported type"] * 2
