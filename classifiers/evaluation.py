"""Scoring heads: accuracy, macro F1, per-class figures, confusion, calibration.

Besides the usual figures, a report says how far a confidence can be trusted:
for each threshold of :data:`THRESHOLDS`, the share of texts at or above it and
the accuracy on them (what a routing rule on that threshold would keep, and how
often it would be right), the lowest threshold reaching a target accuracy, and
the expected calibration error over ten equal-width bins.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold

from classifiers.features import FeatureSpec, featurize
from classifiers.linear import LinearHead
from classifiers.training import TOPIC_SPEC, Progress, train_head

# Confidence thresholds of the report's table: 0.30, 0.35, ..., 0.95.
THRESHOLDS: tuple[float, ...] = tuple(round(0.30 + 0.05 * k, 2) for k in range(14))
DEFAULT_TARGET_ACCURACY = 0.9
CALIBRATION_BINS = 10


def evaluate_head(
    head: LinearHead,
    spec: FeatureSpec,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    target_accuracy: float = DEFAULT_TARGET_ACCURACY,
    subjects: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Score a head on labelled texts (see :func:`report`); ``subjects`` feed its
    subject block, if it has one."""
    best, conf = head.predict(featurize(texts, spec, subjects=subjects))
    predicted = [head.classes[i] for i in best.tolist()]
    return report(labels, predicted, conf.tolist(), target_accuracy=target_accuracy)


def report(
    truth: Sequence[str],
    predicted: Sequence[str],
    confidence: Sequence[float],
    *,
    target_accuracy: float = DEFAULT_TARGET_ACCURACY,
) -> dict[str, Any]:
    """Accuracy, macro F1, per-class precision/recall/F1, confusion matrix, calibration.

    ``expected_calibration_error`` is the mean gap between confidence and
    accuracy over ten confidence bins, weighted by bin size: near 0 means a
    stated 0.8 is right about 80% of the time; ``calibration_bins`` are those
    bins. ``thresholds`` is :func:`threshold_table` and ``target`` is
    :func:`threshold_for_accuracy` at ``target_accuracy``.
    """
    labels = sorted(set(truth) | set(predicted))
    prec, rec, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=labels, zero_division=0
    )
    truth_labels = set(truth)
    correct = np.array([t == p for t, p in zip(truth, predicted, strict=True)], dtype=bool)
    conf = np.asarray(confidence, dtype=np.float64)
    macro = [float(f) for lab, f in zip(labels, f1, strict=True) if lab in truth_labels]
    table = threshold_table(conf, correct)
    return {
        "n": len(truth),
        "accuracy": float(correct.mean()) if correct.size else 0.0,
        "macro_f1": float(np.mean(macro)) if macro else 0.0,
        "mean_confidence": float(conf.mean()) if conf.size else 0.0,
        "expected_calibration_error": _ece(conf, correct),
        "calibration_bins": calibration_bins(conf, correct),
        "thresholds": table,
        "target": threshold_for_accuracy(table, target_accuracy),
        "per_class": {
            lab: {
                "precision": round(float(p), 4),
                "recall": round(float(r), 4),
                "f1": round(float(f), 4),
                "support": int(s),
            }
            for lab, p, r, f, s in zip(labels, prec, rec, f1, support, strict=True)
        },
        "confusion_matrix": {
            "labels": labels,
            "rows_are": "truth",
            "matrix": confusion_matrix(truth, predicted, labels=labels).tolist(),
        },
    }


def threshold_table(
    confidence: npt.NDArray[np.float64],
    correct: npt.NDArray[np.bool_],
    thresholds: Sequence[float] = THRESHOLDS,
) -> list[dict[str, Any]]:
    """Per threshold: how many texts have a confidence at or above it, their share
    and the accuracy on them (``None`` when no text is that confident)."""
    total = confidence.size
    rows = []
    for threshold in thresholds:
        kept = confidence >= threshold
        n = int(kept.sum())
        rows.append(
            {
                "threshold": float(threshold),
                "n": n,
                "share": n / total if total else 0.0,
                "accuracy": float(correct[kept].mean()) if n else None,
            }
        )
    return rows


def threshold_for_accuracy(table: Sequence[dict[str, Any]], target: float) -> dict[str, Any]:
    """The lowest threshold of ``table`` whose confident texts reach ``target`` accuracy.

    The lowest such threshold keeps the most texts. When none reaches it,
    ``threshold`` is ``None`` and ``best`` is the row with the highest accuracy
    (the lowest of equals), so the report says how far off the target is.
    """
    reached = [row for row in table if row["accuracy"] is not None and row["accuracy"] >= target]
    if reached:
        row = reached[0]
        return {
            "accuracy_target": target,
            "threshold": row["threshold"],
            "share": row["share"],
            "accuracy": row["accuracy"],
        }
    scored = [row for row in table if row["accuracy"] is not None]
    best = max(scored, key=lambda row: row["accuracy"]) if scored else None
    return {"accuracy_target": target, "threshold": None, "best": best}


def calibration_bins(
    confidence: npt.NDArray[np.float64],
    correct: npt.NDArray[np.bool_],
    bins: int = CALIBRATION_BINS,
) -> list[dict[str, Any]]:
    """The non-empty equal-width confidence bins: range, count, mean confidence, accuracy.

    Bin ``b`` holds confidences in ``[b/bins, (b+1)/bins)``; the last one includes 1.
    """
    which = _bin_of(confidence, bins)
    out = []
    for b in range(bins):
        mask = which == b
        if mask.any():
            out.append(
                {
                    "low": b / bins,
                    "high": (b + 1) / bins,
                    "n": int(mask.sum()),
                    "mean_confidence": float(confidence[mask].mean()),
                    "accuracy": float(correct[mask].mean()),
                }
            )
    return out


def _bin_of(confidence: npt.NDArray[np.float64], bins: int) -> npt.NDArray[np.int64]:
    """Equal-width bin index of each confidence; 1.0 goes in the last bin."""
    which: npt.NDArray[np.int64] = np.minimum((confidence * bins).astype(np.int64), bins - 1)
    return which


def _ece(
    conf: npt.NDArray[np.float64], correct: npt.NDArray[np.bool_], bins: int = CALIBRATION_BINS
) -> float:
    """Expected calibration error over equal-width confidence bins."""
    if conf.size == 0:
        return 0.0
    which = _bin_of(conf, bins)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.mean() * abs(conf[mask].mean() - correct[mask].mean())
    return float(total)


def format_text(result: dict[str, Any]) -> str:
    """A report as plain text for a person: headline figures, then the threshold table."""
    lines = [
        f"task {result.get('task', '?')}: {result['n']} texts ({result.get('mode', '')})",
        f"accuracy {result['accuracy']:.4f}  macro-F1 {result['macro_f1']:.4f}  "
        f"mean confidence {result['mean_confidence']:.4f}",
        f"expected calibration error ({CALIBRATION_BINS} bins): "
        f"{result['expected_calibration_error']:.4f}",
        "",
        "confidence >=   share   tickets   accuracy",
    ]
    for row in result["thresholds"]:
        accuracy = "-" if row["accuracy"] is None else f"{row['accuracy']:.4f}"
        lines.append(
            f"{row['threshold']:>12.2f}  {row['share']:>6.1%}  {row['n']:>8d}   {accuracy:>8}"
        )
    target = result["target"]
    lines.append("")
    if target["threshold"] is not None:
        lines.append(
            f"accuracy {target['accuracy_target']:.2f} is reached from confidence "
            f"{target['threshold']:.2f}: {target['share']:.1%} of the texts, "
            f"accuracy {target['accuracy']:.4f}"
        )
    else:
        best = target["best"]
        tail = (
            f" (best: {best['accuracy']:.4f} from {best['threshold']:.2f}, "
            f"{best['share']:.1%} of the texts)"
            if best is not None
            else ""
        )
        first, last = result["thresholds"][0]["threshold"], result["thresholds"][-1]["threshold"]
        lines.append(
            f"NO threshold from {first:.2f} to {last:.2f} reaches accuracy "
            f"{target['accuracy_target']:.2f}{tail}"
        )
    return "\n".join(lines) + "\n"


def cross_validate(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    folds: int = 5,
    seed: int = 0,
    progress: Progress | None = None,
    target_accuracy: float = DEFAULT_TARGET_ACCURACY,
    **train_args: Any,
) -> dict[str, Any]:
    """Stratified k-fold: train on k-1 folds, predict the rest; one report over all."""
    say = progress or (lambda _msg: None)
    texts = list(texts)
    y = np.array(labels)
    predicted = np.empty(len(texts), dtype=object)
    confidence = np.zeros(len(texts))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for k, (fit_idx, test_idx) in enumerate(splitter.split(texts, y)):
        say(f"fold {k + 1}/{folds}")
        head, _ = train_head(
            [texts[i] for i in fit_idx], y[fit_idx].tolist(), seed=seed, **train_args
        )
        spec = train_args.get("spec", TOPIC_SPEC)
        best, conf = head.predict(featurize([texts[i] for i in test_idx], spec))
        predicted[test_idx] = [head.classes[i] for i in best.tolist()]
        confidence[test_idx] = conf
    out = report(
        y.tolist(), predicted.tolist(), confidence.tolist(), target_accuracy=target_accuracy
    )
    out["folds"] = folds
    return out
