"""Accuracy figures from a confusion matrix, against values worked out by hand."""

import json
import math

import numpy as np
import pytest

from mrs.model_core.metrics import Accuracy


def test_f1_is_the_harmonic_mean_of_producers_and_users_accuracy_even_when_both_are_low():
    """Red team of 2026-12-04: F1 was 2 x PA x UA whenever PA + UA < 1 (0.05 here, not 1/7)."""
    figures = Accuracy(np.array([[1, 9], [3, 7]]))
    assert figures.producers == pytest.approx([0.1, 0.7])
    assert figures.users == pytest.approx([0.25, 7 / 16])
    assert figures.f1 == pytest.approx([2 * 1 / (10 + 4), 2 * 7 / (10 + 16)])


def test_a_class_never_mapped_has_no_users_accuracy_and_an_f1_of_zero_and_an_absent_class_none():
    figures = Accuracy(np.array([[5, 0, 0], [2, 0, 0], [0, 0, 0]]))
    assert math.isnan(figures.users[1]) and figures.f1[1] == 0.0
    assert math.isnan(figures.producers[2]) and math.isnan(figures.f1[2])
    assert figures.f1[0] == pytest.approx(2 * 5 / (5 + 7))
    assert figures.to_dict(["a", "b", "c"])["classes"][2]["f1"] is None


def test_the_average_accuracy_is_over_the_classes_present_in_the_reference_even_when_never_mapped():
    """A reference class the map never gives counts as 0 in the average accuracy (a mutation audit of 2026-12-06)."""
    assert Accuracy(np.array([[10, 0, 0], [0, 10, 0], [5, 0, 0]])).average == pytest.approx(2 / 3)


def test_a_matrix_without_pixels_is_written_as_valid_json_with_its_figures_undefined():
    """Left alone in note 43: the overall and average accuracies of an empty matrix were NaN, which JSON cannot hold."""
    report = Accuracy(np.zeros((2, 2), dtype=np.int64)).to_dict(["a", "b"])
    assert json.loads(json.dumps(report, allow_nan=False))["overall_accuracy"] is None
    assert (report["average_accuracy"], report["kappa"], report["pixels"]) == (None, None, 0)
    assert [c["producers_accuracy"] for c in report["classes"]] == [None, None]
