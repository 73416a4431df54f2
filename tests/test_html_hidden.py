"""Text hidden in HTML is never ingested (issue 14, item 3): what no reader sees cannot become
a cited "fact" or an instruction to the model."""

from __future__ import annotations

from pathlib import Path

import pytest
from web_support import HIDDEN_MARKERS, HIDDEN_PAGE

from brief.ingest.html import parse_html
from brief.ingest.loaders import load_file


def test_hidden_text_in_every_form_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "water.html"
    path.write_text(HIDDEN_PAGE, encoding="utf-8")
    (article,) = load_file(path).articles
    assert article.title == "Council Publishes Water Quality Figures for Calloway"
    assert "nitrate levels in the river fell by 12 percent" in article.text
    assert "Residents can read the full figures on the council's website, the council said." in article.text
    # The visible words around a hidden span stay; the span goes.
    assert "Visible start. Visible end of the sentence about the river." in article.text
    for marker in HIDDEN_MARKERS:
        assert marker not in article.text, marker


@pytest.mark.parametrize(
    "hidden",
    [
        '<p style="display: none !important">SECRET</p>',
        '<p style="DISPLAY:NONE">SECRET</p>',
        '<p style="visibility:collapse">SECRET</p>',
        '<p style="font-size: 0">SECRET</p>',
        '<p style="font-size:0.0em;color:red">SECRET</p>',
        "<p hidden>SECRET</p>",
        '<p hidden="hidden">SECRET</p>',
        '<div aria-hidden="true"><p>SECRET</p></div>',
        '<style>/* x */ p.x, .y { color: red; display:none }</style><p class="a x">SECRET</p>',
        '<style>#z{visibility:hidden}</style><p id="z">SECRET</p>',
    ],
)
def test_each_way_of_hiding(hidden: str) -> None:
    visible = (
        "<p>The ferry operator said on Friday that crossings to the outer islands would resume on Monday after "
        "a week of storms had kept its vessels in port.</p>"
    )
    page = (
        f"<html><body><article><h1>Ferries Resume After Storms</h1>{visible}{hidden}{visible}</article></body></html>"
    )
    _, blocks = parse_html(page)
    text = " ".join(b.text for b in blocks)
    assert "crossings to the outer islands would resume" in text
    assert "SECRET" not in text


def test_visible_styles_are_kept() -> None:
    page = (
        "<html><body><article><h1>Port Traffic Rises Again</h1>"
        '<p style="font-size: 10px; display: block">Container traffic at the port rose by 4 percent in February, '
        "the port authority said, the third monthly rise in a row.</p>"
        '<p aria-hidden="false" style="visibility: visible">Officials expect the rise to continue into the spring '
        "as new shipping routes open to the north.</p></article></body></html>"
    )
    _, blocks = parse_html(page)
    text = " ".join(b.text for b in blocks)
    assert "Container traffic at the port rose by 4 percent" in text
    assert "Officials expect the rise to continue" in text
