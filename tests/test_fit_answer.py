"""How benchmarks/fit_answer.py reads the decline cut-off off its curve, and the record of the fits
shipped with the model (pure logic, no store)."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from brief.generate.sentence_pool import DATA_DIR, FITTED_ANSWER_FILE, answer_model, read_answer_model

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "fit_answer.py"


@pytest.fixture(scope="module")
def fit_answer():
    spec = importlib.util.spec_from_file_location("fit_answer_under_test", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _point(threshold: float, declined: float, answered: float) -> dict[str, float]:
    return {"threshold": threshold, "answerable_declined": declined, "unanswerable_answered": answered}


def test_of_equal_answerable_declines_the_highest_cut_off_is_chosen(fit_answer) -> None:
    # The shape of the Jan-Jun 2023 curve: 0.625 and 0.65 decline the same answerable questions,
    # but 0.65 answers one unanswerable question fewer.
    points = [
        _point(0.600, 0.013, 0.150),
        _point(0.625, 0.013, 0.125),
        _point(0.650, 0.013, 0.100),
        _point(0.675, 0.026, 0.100),
    ]
    assert fit_answer.choose(points, 0.125)["threshold"] == 0.650


def test_the_fewest_answerable_declined_wins_within_the_limit(fit_answer) -> None:
    points = [_point(0.5, 0.010, 0.300), _point(0.6, 0.020, 0.100), _point(0.7, 0.050, 0.050)]
    assert fit_answer.choose(points, 0.15)["threshold"] == 0.6
    assert fit_answer.choose(points, 0.30)["threshold"] == 0.5


def test_with_no_point_within_the_limit_the_highest_threshold_is_chosen(fit_answer) -> None:
    points = [_point(0.5, 0.0, 0.5), _point(0.9, 0.3, 0.4)]
    assert fit_answer.choose(points, 0.1)["threshold"] == 0.9


def test_curve_counts_declines_below_and_answers_at_or_above_each_threshold(fit_answer) -> None:
    points = {p["threshold"]: p for p in fit_answer.curve(np.array([0.3, 0.7]), np.array([0.5, 0.7, 0.9, 0.1]))}
    assert points[0.5] == _point(0.5, 0.5, 0.75)
    assert points[0.7] == _point(0.7, 0.5, 0.5)
    assert points[0.75] == _point(0.75, 1.0, 0.25)


def test_the_shipped_models_provenance_is_one_dated_step_per_fit() -> None:
    steps = answer_model().provenance
    assert len(steps) >= 2 and all(isinstance(step, str) for step in steps)
    # Each step says when it ran and on which data; the first fitted the weights, the last read
    # the cut-off the answerer uses.
    assert all(re.search(r"\bon 20\d\d-\d\d-\d\d\b", step) and "dev.yaml" in step for step in steps)
    assert steps[0].startswith("fitted by benchmarks/fit_answer.py")
    assert "--keep-weights" in steps[-1]


def test_a_model_file_with_a_one_line_provenance_still_loads(tmp_path: Path) -> None:
    shipped = json.loads((DATA_DIR / FITTED_ANSWER_FILE).read_text(encoding="utf-8"))
    older = tmp_path / "fitted_answer.json"
    older.write_text(json.dumps({**shipped, "provenance": "fitted on 2026-11-29 from dev.yaml"}), encoding="utf-8")
    model = read_answer_model(older)
    assert model.provenance == ("fitted on 2026-11-29 from dev.yaml",)
    assert model.min_relevance == answer_model().min_relevance
    assert list(model.weights) == list(answer_model().weights)
