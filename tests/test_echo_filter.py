"""The streamed reply never shows an echoed fence marker line, and shows everything else at once."""

from __future__ import annotations

import pytest

from brief.generate.echo_filter import FenceEchoFilter

FENCE = "SOURCE-13E314D1"


def run(pieces: list[str], fence: str = FENCE) -> tuple[str, list[str]]:
    echo = FenceEchoFilter(fence)
    shown = [echo.feed(p) for p in pieces]
    shown.append(echo.flush())
    return "".join(shown), shown


def test_ordinary_text_streams_piece_by_piece() -> None:
    text, shown = run(["The ", "strike ", "ended ", "on Friday [1].\n", "Fares ", "rise [2]."])
    assert text == "The strike ended on Friday [1].\nFares rise [2]."
    assert shown[:3] == ["The ", "strike ", "ended "]  # nothing held back


@pytest.mark.parametrize(
    "pieces",
    [
        ["Answer [1].\n", "<<<", "SOURCE-13E", "314D1\n", "title: Port strike\n", "SOURCE-13E314D1>>>", "\nMore [2]."],
        ["Answer [1].\n<<<SOURCE-13E314D1\ntitle: Port strike\n", "  SOURCE-13E314D1>>>\n", "More [2]."],
    ],
)
def test_echoed_marker_lines_are_dropped_whole(pieces: list[str]) -> None:
    text, _ = run(pieces)
    assert FENCE not in text
    assert text.splitlines() == ["Answer [1].", "title: Port strike", "More [2]."]


def test_a_line_that_only_starts_like_a_marker_is_shown() -> None:
    text, shown = run(["<<", "< look", "s like a marker\n", "<<<SOURCE-13E3", "14D2 is another fence\n"])
    assert text == "<<< looks like a marker\n<<<SOURCE-13E314D2 is another fence\n"
    assert shown[0] == ""  # held while it could still be a marker


def test_a_marker_as_the_last_line_is_dropped_at_flush() -> None:
    assert run(["Done [1].\n", "SOURCE-13E314D1>>>"])[0] == "Done [1].\n"
    assert run(["Done [1].\n", "<<<SOUR"])[0] == "Done [1].\n<<<SOUR"  # a cut-off prefix is text


def test_without_a_fence_nothing_is_filtered() -> None:
    assert run(["<<<SOURCE-1\n", "x"], fence="")[0] == "<<<SOURCE-1\nx"
