"""`brief docs` as a reader sees it: whole titles in a pipe, a readable table on a narrow terminal."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_cli

LONG_TITLE = "Harbour authority approves the long delayed northern breakwater extension after a decade of talks"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("docs-listing")
    folder = root / "articles"
    folder.mkdir()
    (folder / "breakwater.md").write_text(
        "---\n"
        f"title: {LONG_TITLE}\n"
        "author: Marguerite Okonkwo-Lindqvist\n"
        "source: The Northern Coastal Gazette and Advertiser\n"
        "date: 2024-03-02\n"
        "---\n\n"
        "The harbour authority approved the northern breakwater extension on Friday. "
        "Work starts in May and is expected to take two years.\n",
        encoding="utf-8",
    )
    (folder / "ferry.md").write_text(
        "---\ntitle: Ferry fares rise\nauthor: Ola Brandt\nsource: Calloway Courier\ndate: 2024-03-01\n---\n\n"
        "Ferry fares across the harbour rise by ten percent from April.\n",
        encoding="utf-8",
    )
    home = root / "home"
    ingest = run_cli("ingest", str(folder), home=home, cwd=root)
    assert ingest.returncode == 0, ingest.stderr
    return home, root


def documents(home: Path, cwd: Path) -> list[dict]:
    import json

    return json.loads(run_cli("docs", "--json", home=home, cwd=cwd).stdout)


def test_piped_listing_has_one_whole_line_per_document(library: tuple[Path, Path]) -> None:
    home, cwd = library
    result = run_cli("docs", home=home, cwd=cwd, extra_env={"COLUMNS": "40"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split("\t") == ["date", "title", "author", "source", "chunks", "id"]
    rows = {line.split("\t")[1]: line.split("\t") for line in lines[1:]}
    assert set(rows) == {LONG_TITLE, "Ferry fares rise"}
    by_title = {d["title"]: d for d in documents(home, cwd)}
    long = rows[LONG_TITLE]
    assert long[0] == "2024-03-02"
    assert long[2:4] == ["Marguerite Okonkwo-Lindqvist", "The Northern Coastal Gazette and Advertiser"]
    assert long[5] == by_title[LONG_TITLE]["doc_id"][:12]


def docs_on_a_terminal(home: Path, cwd: Path, columns: int) -> str:
    """`brief docs` with its output on a pseudo-terminal `columns` wide."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIEF_")}
    env.update(BRIEF_HOME=str(home), COLUMNS=str(columns), LINES="40", NO_COLOR="1", TERM="xterm")
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "brief.cli", "docs"], stdout=follower, stderr=follower, cwd=cwd, env=env
    )
    os.close(follower)
    output = b""
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        output += data
    os.close(leader)
    assert process.wait(timeout=180) == 0, output.decode(errors="replace")
    return ANSI.sub("", output.decode()).replace("\r\n", "\n")


@pytest.mark.parametrize("columns", [60, 80, 200])
def test_terminal_table_fits_and_keeps_ids_and_title_words_together(library: tuple[Path, Path], columns: int) -> None:
    home, cwd = library
    shown = docs_on_a_terminal(home, cwd, columns)
    lines = [line.rstrip() for line in shown.splitlines() if line.strip()]
    assert all(len(line) <= columns for line in lines), shown
    for doc in documents(home, cwd):
        assert doc["doc_id"][:12] in shown  # whole, so it can be pasted into `brief rm`
    # The title column gets the room: several words a line (never one), and every word of the title shown.
    title_lines = [line for line in lines if line.startswith("2024-03-02")]
    assert len(title_lines) == 1
    first = title_lines[0].split("   ")[1]
    assert len(first.split()) >= (3 if columns >= 80 else 2), shown
    assert all(word in shown for word in LONG_TITLE.split())
    if columns >= 200:  # room for everything: nothing wrapped or shortened
        assert LONG_TITLE in shown and "Ferry fares rise" in shown and "Marguerite Okonkw…" in shown
