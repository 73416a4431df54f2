"""Hostile input files (issue 14): each is refused or cleaned with a line naming the file, within
a bounded cost, and never takes the files around it down with it. Fixtures are generated here."""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, copy_small_set, make_library, run_cli

from brief.ingest.loaders import LoadError, find_files, load_file

BODY = (
    "Ferry fares across the harbour will rise by ten percent from March, the operator said on Monday. "
    "Commuters on the northern route will pay the most, and the council has asked for a review."
)


def jsonl_record(title: str, body: str = BODY) -> str:
    return json.dumps({"title": title, "author": "Ola Brandt", "published_at": "2025-02-01", "body": body})


def run_limited(code: str, memory_bytes: int, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Python code in a child process whose address space is capped (a runaway costs it, not us)."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))

    env = dict(os.environ, PYTHONPATH=os.environ.get("PYTHONPATH", str(REPO)))
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, preexec_fn=cap, env=env
    )


def cli_limited(*args: str, home: Path, cwd: Path, memory_bytes: int) -> subprocess.CompletedProcess[str]:
    """`brief ARGS` in a child process with a capped address space."""
    code = f"import sys; sys.argv = ['brief', *{list(args)!r}]; from brief.cli import main; main()"
    env = dict(os.environ, BRIEF_HOME=str(home), ORT_DISABLE_TELEMETRY="1", ANONYMIZED_TELEMETRY="False")
    env["BRIEF_PROGRESS_INTERVAL"] = "3600"  # no progress lines among the lines these tests read

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))

    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        preexec_fn=cap,
        stdin=subprocess.DEVNULL,
    )


# ----- 4: YAML front matter -----------------------------------------------------------------------


def billion_laughs(levels: int = 9) -> str:
    """Markdown whose front matter nests aliases `levels` deep (9**levels strings once expanded)."""
    lines = ["---", 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    names = "abcdefghijklmnopqrstuvwxyz"
    for prev, name in zip(names, names[1 : levels + 1], strict=False):
        lines.append(f"{name}: &{name} [{','.join([f'*{prev}'] * 9)}]")
    lines += [f"title: *{names[levels - 1]}", "---", "", BODY, ""]
    return "\n".join(lines)


def test_front_matter_with_nested_aliases_is_refused_at_once(tmp_path: Path) -> None:
    path = tmp_path / "laughs.md"
    path.write_text(billion_laughs(9), encoding="utf-8")
    assert path.stat().st_size < 1024  # a few hundred bytes
    # Expanded, this is 3.5 GB; refused, it costs nothing. The child has 512 MB to fail in.
    code = (
        "from pathlib import Path\nfrom brief.ingest.loaders import LoadError, load_file\n"
        f"try:\n    load_file(Path({str(path)!r}))\nexcept LoadError as exc:\n    print(exc)\n"
        "else:\n    print('accepted')\n"
    )
    result = run_limited(code, 512 * 1024 * 1024)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == f"{path}: front matter uses YAML aliases (*name), which are not allowed"


def test_front_matter_alias_of_any_size_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "alias.md"
    path.write_text(f"---\nname: &n Harbour Ferry Fares\ntitle: *n\n---\n\n{BODY}\n", encoding="utf-8")
    with pytest.raises(LoadError) as info:
        load_file(path)
    assert info.value.path == str(path)
    assert "aliases" in info.value.reason
    # Anchors without aliases, and a plain front matter, are fine.
    path.write_text(f"---\ntitle: &n Harbour Ferry Fares\n---\n\n{BODY}\n", encoding="utf-8")
    assert load_file(path).articles[0].title == "Harbour Ferry Fares"


def test_front_matter_size_is_capped(tmp_path: Path) -> None:
    path = tmp_path / "big-front.md"
    notes = "x" * 70_000
    path.write_text(f"---\ntitle: Harbour Ferry Fares\nnotes: {notes}\n---\n\n{BODY}\n", encoding="utf-8")
    with pytest.raises(LoadError) as info:
        load_file(path)
    assert str(info.value) == f"{path}: front matter too large (68 KB; limit 64 KB)"
    from brief.ingest.files import IngestLimits

    roomy = IngestLimits(max_front_matter_bytes=128 * 1024)
    assert load_file(path, roomy).articles[0].title == "Harbour Ferry Fares"
    # Deep nesting in YAML is a clear error too, not a RecursionError.
    path.write_text(f"---\ntitle: {'[' * 5000}{']' * 5000}\n---\n\n{BODY}\n", encoding="utf-8")
    with pytest.raises(LoadError) as info:
        load_file(path)
    assert info.value.reason == "front matter is nested too deeply"


# ----- 11: sizes checked before reading; 12: only regular files -------------------------------------


def test_huge_file_and_dev_zero_are_refused_without_reading(tmp_path: Path) -> None:
    """A 3.5 GB (sparse) file and a link to /dev/zero, given by name, in a process that has
    3 GB of address space: each is one clear line; the good articles beside them are stored."""
    home = tmp_path / "home"
    folder = copy_small_set(tmp_path / "src")
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as handle:
        handle.truncate(3584 * 1024 * 1024)
    zero = tmp_path / "zero.txt"
    zero.symlink_to("/dev/zero")
    result = cli_limited("ingest", str(folder), str(huge), str(zero), home=home, cwd=tmp_path, memory_bytes=3 * 1024**3)
    assert "Traceback" not in result.stderr and "MemoryError" not in result.stderr, result.stderr[-3000:]
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: {huge}: too large (3584 MB; limit 50 MB)",
        f"error: {zero}: not a regular file but a character device; only regular files are read",
    ]
    assert result.stdout.startswith("3 added, 0 updated, 0 unchanged, 2 failed")


def test_file_size_cap_is_a_setting_and_applies_before_parsing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    big = tmp_path / "big.txt"
    big.write_text("Harbour Ferry Fares\n\n" + (BODY + "\n\n") * 8000, encoding="utf-8")  # ~1.7 MB
    small = tmp_path / "small.md"
    small.write_text(f"# Harbour Ferry Fares Rise by Ten Percent\n\n{BODY}\n", encoding="utf-8")
    result = run_cli(
        "ingest", str(big), str(small), home=home, cwd=tmp_path, extra_env={"BRIEF_INGEST_MAX_FILE_MB": "1"}
    )
    assert result.returncode == 1
    size = f"{big.stat().st_size / 1024**2:.1f} MB"
    assert result.stderr.strip().splitlines() == [f"error: {big}: too large ({size}; limit 1 MB)"]
    assert result.stdout.startswith("1 added, 0 updated, 0 unchanged, 1 failed")
    # A reader holding a smaller cap than the file stops reading at the cap.
    from brief.ingest.files import IngestLimits

    with pytest.raises(LoadError) as info:
        load_file(big, IngestLimits(max_file_bytes=100_000))
    assert info.value.reason.startswith("too large (")


def test_fifo_given_as_a_path_is_refused_not_waited_on(tmp_path: Path) -> None:
    home = tmp_path / "home"
    fifo = tmp_path / "feed.jsonl"
    os.mkfifo(fifo)
    small = tmp_path / "small.md"
    small.write_text(f"# Harbour Ferry Fares Rise by Ten Percent\n\n{BODY}\n", encoding="utf-8")
    # Nothing ever writes to the FIFO: reading it would block until the generous timeout.
    result = run_cli("ingest", str(fifo), str(small), home=home, cwd=tmp_path, timeout=300)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: {fifo}: not a regular file but a FIFO (named pipe); only regular files are read"
    ]
    assert result.stdout.startswith("1 added, 0 updated, 0 unchanged, 1 failed")
    with pytest.raises(LoadError) as info:
        load_file(fifo)
    assert "FIFO" in info.value.reason


# ----- 20: one deeply nested JSONL line ------------------------------------------------------------


def test_deeply_nested_jsonl_line_fails_alone(tmp_path: Path, settings_factory, embedder) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "feed.jsonl"
    lines = [
        jsonl_record("Harbour Ferry Fares Rise by Ten Percent"),
        "[" * 100_000 + "]" * 100_000,
        '{"title": ' + "[" * 100_000,
        jsonl_record("Council Orders a Review of Ferry Routes", BODY.replace("Ferry", "Bus")),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = load_file(path)
    assert [a.title for a in result.articles] == [
        "Harbour Ferry Fares Rise by Ten Percent",
        "Council Orders a Review of Ferry Routes",
    ]
    assert [str(e) for e in result.errors] == [
        f"{path} (line 2): invalid JSON (nested too deeply)",
        f"{path} (line 3): invalid JSON (nested too deeply)",
    ]
    library = make_library(settings_factory(), embedder)
    report = library.ingest([path])
    assert report.errors == [str(e) for e in result.errors]
    assert sorted(d.title for d in library.documents()) == sorted(a.title for a in result.articles)
    # The same nesting as a whole .json file is one clear error, not a crash.
    whole = tmp_path / "feed.json"
    whole.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(LoadError) as info:
        load_file(whole)
    assert str(info.value) == f"{whole}: invalid JSON (nested too deeply)"


# ----- 21: what a folder walk cannot read is said ------------------------------------------------------


def unreadable_folder(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A folder with three good articles and one of each entry a walk cannot read."""
    folder = copy_small_set(tmp_path / "src")
    (folder / "gone.md").symlink_to(folder / "missing.md")
    (folder / "loop-a.md").symlink_to(folder / "loop-b.md")
    (folder / "loop-b.md").symlink_to(folder / "loop-a.md")
    os.mkfifo(folder / "pipe.jsonl")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "other.md").write_text(f"# Other\n\n{BODY}\n", encoding="utf-8")
    (folder / "linked").symlink_to(elsewhere)
    reasons = {
        "gone.md": "a broken link (its target does not exist)",
        "linked": "a link to a folder (not followed; name the folder itself to read it)",
        "loop-a.md": "a symlink loop",
        "loop-b.md": "a symlink loop",
        "pipe.jsonl": "not a regular file but a FIFO (named pipe)",
    }
    return folder, reasons


def test_folder_walk_names_what_it_skips(tmp_path: Path, settings_factory, embedder) -> None:  # type: ignore[no-untyped-def]
    folder, reasons = unreadable_folder(tmp_path)
    assert [p.name for p in find_files([folder])] == [
        "orrin-delta-farmers.html",
        "port-calloway-strike-begins.txt",
        "port-strike-ends.md",
    ]
    library = make_library(settings_factory(), embedder)
    report = library.ingest([folder])
    assert [(s.path, s.reason) for s in report.skipped] == [(str(folder / n), r) for n, r in sorted(reasons.items())]
    assert report.count("added") == 3 and not report.errors and not report.ok
    assert ", 5 skipped;" in report.summary()
    assert report.to_dict()["skipped"][0] == {"path": str(folder / "gone.md"), "reason": reasons["gone.md"]}

    result = run_cli("ingest", str(folder), home=tmp_path / "cli-home", cwd=tmp_path, timeout=300)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [f"skipped: {folder / n}: {r}" for n, r in sorted(reasons.items())]
    assert result.stdout.startswith("3 added, 0 updated, 0 unchanged, 0 failed, 5 skipped;")


def test_folder_walk_survives_a_very_deep_tree(tmp_path: Path) -> None:
    """1,500 nested folders: deeper than Python's recursion limit, within PATH_MAX."""
    deep = tmp_path / "deep"
    levels = [deep]
    for _ in range(1500):  # one mkdir at a time: Path.mkdir(parents=True) itself recurses
        levels.append(levels[-1] / "d")
    try:
        for level in levels:
            level.mkdir()
        (levels[-1] / "bottom.md").write_text(f"# Harbour Ferry Fares\n\n{BODY}\n", encoding="utf-8")
        (deep / "top.md").write_text(f"# Harbour Ferry Fares\n\n{BODY}\n", encoding="utf-8")
        assert list(find_files([deep])) == [levels[-1] / "bottom.md", deep / "top.md"]
    finally:  # bottom-up, for the same reason (shutil.rmtree recurses too)
        for path in [levels[-1] / "bottom.md", deep / "top.md"]:
            path.unlink(missing_ok=True)
        for level in reversed(levels):
            if level.exists():
                level.rmdir()


# ----- 22: UTF-16 and BOMs; 23: NUL bytes ------------------------------------------------------------


TEXT = f"Harbour Ferry Fares Rise by Ten Percent\n\nBy Ola Brandt\n\n{BODY}\n"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be-bom", "utf-8-sig", "utf-32"])
def test_text_with_a_byte_order_mark_is_decoded(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "windows.txt"
    data = (b"\xfe\xff" + TEXT.encode("utf-16-be")) if encoding == "utf-16-be-bom" else TEXT.encode(encoding)
    path.write_bytes(data)
    (article,) = load_file(path).articles
    assert article.title == "Harbour Ferry Fares Rise by Ten Percent"
    assert article.author == "Ola Brandt"
    assert article.text == BODY
    # The same bytes in a JSONL feed and a Markdown file with front matter.
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(
        (b"\xfe\xff" + jsonl_record("A").encode("utf-16-be"))
        if encoding == "utf-16-be-bom"
        else jsonl_record("A").encode(encoding)
    )
    assert load_file(feed).articles[0].text == BODY


def test_utf16_without_a_mark_is_still_refused_as_binary(tmp_path: Path) -> None:
    path = tmp_path / "nobom.txt"
    path.write_bytes(TEXT.encode("utf-16-le"))
    with pytest.raises(LoadError) as info:
        load_file(path)
    assert "binary" in info.value.reason


def test_nul_bytes_anywhere_never_reach_stored_text(tmp_path: Path, settings_factory, embedder) -> None:  # type: ignore[no-untyped-def]
    filler = "\n\n".join(f"Paragraph {i} of the council's long report on harbour ferries." for i in range(200))
    assert len(filler) > 8192
    text = tmp_path / "nul.txt"
    text.write_bytes(
        f"Harbour Ferry Fares Rise\n\n{filler}\n\nFerry\x00 fares will rise by ten\x00 percent.\n".encode()
    )
    feed = tmp_path / "nul.jsonl"
    feed.write_text(
        json.dumps({"title": "Bus\u0000 Fares Rise", "body": "Bus fares\u0000 rise by five percent in March."}) + "\n",
        encoding="utf-8",
    )
    loaded = [a for p in (text, feed) for a in load_file(p).articles]
    assert ["\x00" in a.text or "\x00" in a.title for a in loaded] == [False, False]
    assert loaded[0].text.endswith("Ferry fares will rise by ten percent.")
    assert loaded[1].title == "Bus Fares Rise"

    library = make_library(settings_factory(), embedder)
    assert library.ingest([text, feed]).ok
    stored = [text_ for _, text_, _, _ in library.store.iter_chunks()]
    assert stored and not any("\x00" in t for t in stored)
    assert not any("\x00" in d.title for d in library.documents())
    answer = library.ask("How much will ferry fares rise?", backend="extractive")
    assert "\x00" not in answer.answer and "ten percent" in answer.answer

    # Mostly NUL after a first page of text: binary, refused.
    binary = tmp_path / "mostly-binary.txt"
    binary.write_bytes(filler.encode() + b"\x00" * 50_000)
    with pytest.raises(LoadError) as info:
        load_file(binary)
    assert info.value.reason == "binary file (contains NUL bytes), not text"


# ----- 24: pypdf's own warnings ---------------------------------------------------------------------


def truncated_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()[:-6]  # cut inside "%%EOF"


def test_pypdf_warnings_join_the_files_error_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    bad = tmp_path / "truncated.pdf"
    bad.write_bytes(truncated_pdf())
    small = tmp_path / "small.md"
    small.write_text(f"# Harbour Ferry Fares Rise by Ten Percent\n\n{BODY}\n", encoding="utf-8")
    result = run_cli("ingest", str(bad), str(small), home=home, cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines  # no bare "EOF marker not found" beside the error
    assert lines[0].startswith(f"error: {bad}: unreadable PDF (")
    assert lines[0].endswith("EOF marker not found")
    with pytest.raises(LoadError) as info:
        load_file(bad)
    assert "pypdf: " in info.value.reason and "EOF marker not found" in info.value.reason


@pytest.mark.parametrize("wrapper", ["video", "svg", "object"])
def test_html_whose_root_is_an_embed_keeps_its_text_without_metadata(tmp_path: Path, wrapper: str) -> None:
    # After "</html>" the parser makes the <video> (or <svg>, <object>) the document's root, and
    # trafilatura's date finder asserts while removing it: the page is read again without
    # metadata, so its text is still ingested.
    path = tmp_path / "page.html"
    path.write_text(f"</html><{wrapper}><p>{BODY}</p></{wrapper}>", encoding="utf-8")
    result = load_file(path)
    assert [a.text.strip() for a in result.articles] == [BODY]


def test_html_that_is_only_a_stray_iframe_is_refused_with_a_line_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_bytes(b"</html><iframe>")  # found by tests/test_reliability.py's HTML fuzzing
    with pytest.raises(LoadError) as info:
        load_file(path)
    assert str(info.value).startswith(str(path))
    assert "no article text" in info.value.reason


def test_html_that_fails_even_without_metadata_is_a_load_error_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from brief.ingest import html

    def broken(markup: object, url: str, with_metadata: bool) -> None:
        raise AssertionError  # what htmldate raised, here on both attempts

    monkeypatch.setattr(html, "_extract", broken)
    path = tmp_path / "page.html"
    path.write_text(f"<p>{BODY}</p>", encoding="utf-8")
    with pytest.raises(LoadError) as info:
        load_file(path)
    assert str(info.value).startswith(str(path))
    assert info.value.reason == "unreadable HTML (AssertionError)"
