"""Confidence a person can act on: the threshold table, the target threshold, calibration.

Every expected figure is computed by hand from the ten predictions below.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from classifiers.evaluation import (
    THRESHOLDS,
    calibration_bins,
    format_text,
    report,
    threshold_for_accuracy,
    threshold_table,
)
from tests.classifier_cli import run
from tests.unit.test_classifiers_commands import write_export
from tests.unit.test_classifiers_model import tiny_model  # noqa: F401  (session fixture)

CONF = [0.96, 0.92, 0.85, 0.81, 0.72, 0.64, 0.55, 0.45, 0.33, 0.31]
RIGHT = [True, True, True, False, True, False, True, False, False, True]
# (threshold, texts at or above it, right among them)
EXPECTED_ROWS = [
    (0.30, 10, 6),
    (0.35, 8, 5),
    (0.40, 8, 5),
    (0.45, 8, 5),
    (0.50, 7, 5),
    (0.55, 7, 5),
    (0.60, 6, 4),
    (0.65, 5, 4),
    (0.70, 5, 4),
    (0.75, 4, 3),
    (0.80, 4, 3),
    (0.85, 3, 3),
    (0.90, 2, 2),
    (0.95, 1, 1),
]
EXACT = 1e-12


def labelled() -> tuple[list[str], list[str]]:
    """Truth and predictions that are right exactly where RIGHT says."""
    truth = ["a" if k % 2 else "b" for k in range(len(RIGHT))]
    predicted = [
        t if ok else ("b" if t == "a" else "a") for t, ok in zip(truth, RIGHT, strict=True)
    ]
    return truth, predicted


def test_thresholds_run_from_030_to_095() -> None:
    assert tuple(row[0] for row in EXPECTED_ROWS) == THRESHOLDS


def test_threshold_table_counts_shares_and_accuracies() -> None:
    table = threshold_table(np.array(CONF), np.array(RIGHT))
    assert [(r["threshold"], r["n"]) for r in table] == [(t, n) for t, n, _ in EXPECTED_ROWS]
    for row, (_, n, right) in zip(table, EXPECTED_ROWS, strict=True):
        assert row["share"] == pytest.approx(n / 10, abs=EXACT)
        assert row["accuracy"] == pytest.approx(right / n, abs=EXACT)


def test_a_threshold_above_every_confidence_keeps_nothing() -> None:
    table = threshold_table(np.array([0.5, 0.9]), np.array([True, False]), [0.5, 0.91])
    assert table == [
        {"threshold": 0.5, "n": 2, "share": 1.0, "accuracy": 0.5},
        {"threshold": 0.91, "n": 0, "share": 0.0, "accuracy": None},
    ]


def test_the_lowest_threshold_reaching_the_target_is_chosen() -> None:
    table = threshold_table(np.array(CONF), np.array(RIGHT))
    assert threshold_for_accuracy(table, 0.9) == {
        "accuracy_target": 0.9,
        "threshold": 0.85,
        "share": pytest.approx(0.3, abs=EXACT),
        "accuracy": 1.0,
    }
    # 4/5 right from 0.65: the target is reached exactly there, not at 0.85.
    at_08 = threshold_for_accuracy(table, 0.8)
    assert (at_08["threshold"], at_08["share"], at_08["accuracy"]) == (0.65, 0.5, 0.8)


def test_no_threshold_reaching_the_target_is_said_with_the_best_there_is() -> None:
    table = threshold_table(np.array([0.9, 0.8, 0.4]), np.array([False, True, True]))
    found = threshold_for_accuracy(table, 0.9)
    assert found["threshold"] is None
    # 2/3 from 0.30, 0.35 and 0.40, 1/2 from 0.45 to 0.80, 0 from 0.85, nothing at 0.95.
    assert found["best"] == {
        "threshold": 0.3,
        "n": 3,
        "share": 1.0,
        "accuracy": pytest.approx(2 / 3, abs=EXACT),
    }


def test_report_carries_calibration_error_bins_table_and_target() -> None:
    truth, predicted = labelled()
    result = report(truth, predicted, CONF, target_accuracy=0.9)
    assert result["accuracy"] == pytest.approx(0.6, abs=EXACT)
    # Bins (mean confidence vs accuracy): [0.9,1) 0.94 vs 1, [0.8,0.9) 0.83 vs 0.5,
    # 0.72 vs 1, 0.64 vs 0, 0.55 vs 1, 0.45 vs 0, [0.3,0.4) 0.32 vs 0.5:
    # (2*0.06 + 2*0.33 + 0.28 + 0.64 + 0.45 + 0.45 + 2*0.18) / 10 = 0.296.
    assert result["expected_calibration_error"] == pytest.approx(0.296, abs=EXACT)
    bins = [(b["low"], b["high"], b["n"]) for b in result["calibration_bins"]]
    assert bins == [
        (0.3, 0.4, 2),
        (0.4, 0.5, 1),
        (0.5, 0.6, 1),
        (0.6, 0.7, 1),
        (0.7, 0.8, 1),
        (0.8, 0.9, 2),
        (0.9, 1.0, 2),
    ]
    eighties = result["calibration_bins"][5]
    assert eighties["mean_confidence"] == pytest.approx(0.83, abs=EXACT)
    assert eighties["accuracy"] == 0.5
    assert len(result["thresholds"]) == 14
    assert result["target"]["threshold"] == 0.85


def test_a_confidence_of_one_falls_in_the_last_bin() -> None:
    bins = calibration_bins(np.array([1.0, 0.1]), np.array([True, False]))
    assert [(b["low"], b["n"], b["accuracy"]) for b in bins] == [(0.1, 1, 0.0), (0.9, 1, 1.0)]


def test_text_report_shows_the_table_and_says_when_no_threshold_reaches_the_target() -> None:
    truth, predicted = labelled()
    reached = format_text({**report(truth, predicted, CONF), "task": "tier", "mode": "m"})
    assert "expected calibration error (10 bins): 0.2960" in reached
    assert "        0.85   30.0%         3     1.0000" in reached
    assert "        0.30  100.0%        10     0.6000" in reached
    assert "accuracy 0.90 is reached from confidence 0.85: 30.0% of the texts" in reached
    missed = format_text({**report(truth, predicted, CONF, target_accuracy=1.0), "task": "t"})
    assert "accuracy 1.00 is reached from confidence 0.85" in missed
    # The two most confident predictions made wrong: the best is 3/7 from 0.50.
    wrong = [flip(p) if c > 0.9 else p for p, c in zip(predicted, CONF, strict=True)]
    none = format_text(report(truth, wrong, CONF, target_accuracy=0.9))
    assert (
        "NO threshold from 0.30 to 0.95 reaches accuracy 0.90 "
        "(best: 0.4286 from 0.50, 70.0% of the texts)"
    ) in none


def flip(label: str) -> str:
    """The other of the two labels."""
    return "b" if label == "a" else "a"


def test_evaluate_command_text_and_json_agree(
    tiny_model: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = write_export(tmp_path, "csv", 120, seed=44)
    common = ["evaluate", "--data", str(data), "--text-column", "subject"]
    common += ["--text-column", "body", "--label-column", "queue", "--task", "category"]
    common += ["--model", str(tiny_model), "--target-accuracy", "0.95"]
    assert run(*common) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["target"]["accuracy_target"] == 0.95
    assert [row["threshold"] for row in result["thresholds"]] == list(THRESHOLDS)
    counts = [row["n"] for row in result["thresholds"]]
    assert counts == sorted(counts, reverse=True) and counts[0] <= 120
    assert all(row["share"] == row["n"] / 120 for row in result["thresholds"])
    assert run(*common, "--output", "text") == 0
    text = capsys.readouterr().out
    for row in result["thresholds"]:
        accuracy = "-" if row["accuracy"] is None else f"{row['accuracy']:.4f}"
        assert f"{row['threshold']:>12.2f}  {row['share']:>6.1%}  {row['n']:>8d}   " in text
        assert accuracy in text
    assert f"{result['expected_calibration_error']:.4f}" in text


def test_target_accuracy_must_be_a_share(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run("evaluate", "--data", "x.csv", "--label-column", "l", "--task", "t",
            "--target-accuracy", "90")  # fmt: skip
    assert "--target-accuracy: 90 is not between 0 and 1" in capsys.readouterr().err
