"""Scoring heads: accuracy, macro F1, per-class figures, confusion, calibration."""

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


def evaluate_head(
    head: LinearHead, spec: FeatureSpec, texts: Sequence[str], labels: Sequence[str]
) -> dict[str, Any]:
    """Score a head on labelled texts (see :func:`report`)."""
    best, conf = head.predict(featurize(texts, spec))
    predicted = [head.classes[i] for i in best.tolist()]
    return report(labels, predicted, conf.tolist())


def report(
    truth: Sequence[str], predicted: Sequence[str], confidence: Sequence[float]
) -> dict[str, Any]:
    """Accuracy, macro F1, per-class precision/recall/F1, confusion matrix, calibration.

    ``expected_calibration_error`` is the mean gap between confidence and
    accuracy over ten confidence bins, weighted by bin size: near 0 means a
    stated 0.8 is right about 80% of the time.
    """
    labels = sorted(set(truth) | set(predicted))
    prec, rec, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=labels, zero_division=0
    )
    truth_labels = set(truth)
    correct = np.array([t == p for t, p in zip(truth, predicted, strict=True)], dtype=bool)
    conf = np.asarray(confidence, dtype=np.float64)
    macro = [float(f) for lab, f in zip(labels, f1, strict=True) if lab in truth_labels]
    return {
        "n": len(truth),
        "accuracy": float(correct.mean()) if correct.size else 0.0,
        "macro_f1": float(np.mean(macro)) if macro else 0.0,
        "mean_confidence": float(conf.mean()) if conf.size else 0.0,
        "expected_calibration_error": _ece(conf, correct),
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


def _ece(conf: npt.NDArray[np.float64], correct: npt.NDArray[np.bool_], bins: int = 10) -> float:
    """Expected calibration error over equal-width confidence bins."""
    if conf.size == 0:
        return 0.0
    which = np.minimum((conf * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.mean() * abs(conf[mask].mean() - correct[mask].mean())
    return float(total)


def cross_validate(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    folds: int = 5,
    seed: int = 0,
    progress: Progress | None = None,
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
    out = report(y.tolist(), predicted.tolist(), confidence.tolist())
    out["folds"] = folds
    return out
