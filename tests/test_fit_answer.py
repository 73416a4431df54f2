"""How benchmarks/fit_answer.py reads the decline cut-off off its curve (pure logic, no store)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

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
