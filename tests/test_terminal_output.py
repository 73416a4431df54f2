"""What reaches a terminal (issue 14): article text, metadata and file names never act as
terminal commands, and odd file names never crash the output; JSON output stays exact."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from conftest import run_cli

OSC52 = "\x1b]52;c;ZWNobyBwd25lZA==\x07"  # writes "echo pwned" to the clipboard
WINDOW_TITLE = "\x1b]0;pwned\x1b\\"
CLEAR = "\x1b[2J\x1b[H"
C1_CSI = "\x9b31m"
# Every C0 control but tab and newline, DEL, every C1 control.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (f"fares{OSC52} rise", "fares rise"),
        (f"a{WINDOW_TITLE}b{CLEAR}c", "abc"),
        (f"red{C1_CSI}text\x9d0;title\x9c.", "redtext."),
        (
            "keep\ttab\nand newline\r\n, drop\x00nul\x08bs\x7fdel\x85nel\rcr",
            "keep\ttab\nand newline\n, dropnulbsdelnelcr",
        ),
        ("unterminated \x1b]52;c;abc rest", "unterminated 52;c;abc rest"),
        ("caf\udce9.md and \ud800", "caf\\xe9.md and \\ud800"),
        ("plain ünïcode “quotes” — fine", "plain ünïcode “quotes” — fine"),
    ],
)
def test_terminal_safe(raw: str, shown: str) -> None:
    from brief.cli.output import terminal_safe

    assert terminal_safe(raw) == shown
    assert not CONTROL.search(terminal_safe(raw))


def test_json_text_is_exact_and_holds_no_raw_controls() -> None:
    from brief.cli.output import json_text

    data = {"title": f"Fares{OSC52}{C1_CSI}\x7f", "path": "/tmp/caf\udce9.md", "note": "ü “q”"}
    text = json_text(data)
    assert json.loads(text) == data
    assert not CONTROL.search(text)
    text.encode("utf-8")  # strict: no lone surrogate left
    assert '"note": "ü “q”"' in text  # other non-ASCII text stays readable


def hostile_record() -> dict[str, str]:
    return {
        "title": f"Harbour Ferry Fares Rise{WINDOW_TITLE} by Ten Percent{OSC52}",
        "author": f"Ola{CLEAR} Brandt",
        "source": f"Calloway{C1_CSI} Courier\x07",
        "published_at": "2025-02-01",
        "url": "https://calloway.test/ferry\x1b[8m",
        "body": (
            f"Ferry fares across the harbour will rise by ten percent from March{OSC52}, the operator said on "
            f"Monday.{CLEAR} Commuters on the northern route will pay the most\x08\x08\x08, and the council "
            f"has asked for a review.{WINDOW_TITLE}\n\nThe operator blamed fuel costs{C1_CSI} and a new ferry. "
            "Ferry fares last rose three years ago, when the harbour ferry fare went up by five percent. "
            "The council said higher ferry fares would hit shift workers who rely on the early ferry."
        ),
    }


def test_escape_sequences_in_articles_never_reach_the_terminal(tmp_path: Path) -> None:
    home = tmp_path / "home"
    feed = tmp_path / "feed.jsonl"
    record = hostile_record()
    feed.write_text(json.dumps(record) + "\n", encoding="utf-8")
    evil_name = tmp_path / f"empty{WINDOW_TITLE}.txt"
    evil_name.write_bytes(b"")

    ingest = run_cli("ingest", str(feed), str(evil_name), home=home, cwd=tmp_path)
    assert ingest.returncode == 1
    assert ingest.stderr.strip().splitlines() == [f"error: {tmp_path}/empty.txt: empty file"]
    runs = {
        "ingest": ingest,
        "docs": run_cli("docs", home=home, cwd=tmp_path, extra_env={"COLUMNS": "200"}),
        "status": run_cli("status", home=home, cwd=tmp_path),
        "ask": run_cli("ask", "How much will ferry fares rise?", "--backend", "extractive", home=home, cwd=tmp_path),
        "report": run_cli("report", "ferry fares", "--backend", "extractive", home=home, cwd=tmp_path),
    }
    for name, result in runs.items():
        assert "Traceback" not in result.stderr, (name, result.stderr[-2000:])
        for stream in (result.stdout, result.stderr):
            found = CONTROL.search(stream)
            assert found is None, f"{name}: {found.group()!r} in {stream[max(0, found.start() - 60) :][:120]!r}"
    assert "ten percent" in runs["ask"].stdout and "Harbour Ferry Fares Rise by Ten Percent" in runs["ask"].stdout
    assert "Ola Brandt" in runs["docs"].stdout and "Calloway Courier" in runs["docs"].stdout
    assert "Harbour Ferry Fares Rise" in runs["report"].stdout

    # JSON keeps the data exactly as stored.
    (doc,) = json.loads(run_cli("docs", "--json", home=home, cwd=tmp_path).stdout)
    assert (doc["title"], doc["author"], doc["source"], doc["url"]) == (
        record["title"],
        record["author"],
        record["source"],
        record["url"],
    )
    removed = run_cli("rm", doc["doc_id"], home=home, cwd=tmp_path)
    assert removed.stdout.strip() == f"removed {doc['doc_id']}: Harbour Ferry Fares Rise by Ten Percent"


def test_file_names_that_are_not_utf8_under_a_strict_locale(tmp_path: Path) -> None:
    home = tmp_path / "home"
    folder = tmp_path / "src"
    folder.mkdir()
    good = Path(os.fsdecode(bytes(folder) + b"/caf\xe9-fares.md"))
    good.write_text("# Harbour Ferry Fares Rise by Ten Percent\n\nFerry fares will rise by ten percent.\n")
    bad = Path(os.fsdecode(bytes(folder) + b"/blank\xff.txt"))
    bad.write_bytes(b"")
    strict = {"LC_ALL": "C.UTF-8", "PYTHONIOENCODING": "utf-8:strict"}

    as_json = run_cli("ingest", "--json", str(folder), home=home, cwd=tmp_path, extra_env=strict)
    assert "Traceback" not in as_json.stderr, as_json.stderr[-2000:]
    assert as_json.returncode == 1
    report = json.loads(as_json.stdout)
    assert report["added"] == 1 and report["failed"] == 1
    assert [f["path"] for f in report["files"]] == [str(bad), str(good)]  # faithful: the same str back
    assert report["errors"] == [f"{bad}: empty file"]

    (doc,) = json.loads(run_cli("docs", "--json", home=home, cwd=tmp_path, extra_env=strict).stdout)
    assert doc["paths"] == [str(good.resolve())]

    human = run_cli("ingest", str(folder), home=home, cwd=tmp_path, extra_env=strict)
    assert human.returncode == 1
    assert human.stderr.strip().splitlines() == [f"error: {folder}/blank\\xff.txt: empty file"]
    assert human.stdout.startswith("0 added, 0 updated, 1 unchanged, 1 failed")
    docs = run_cli("docs", home=home, cwd=tmp_path, extra_env=strict)
    assert docs.returncode == 0 and "Harbour" in docs.stdout
