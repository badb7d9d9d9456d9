"""Training and scoring of text heads (tier, category, or any labelled task).

A head is a multinomial logistic regression over the shared hashed features
(word unigrams and bigrams plus in-word character 2-5-grams, which carry
inflected and misspelled words across languages), calibrated by one
temperature fitted on a stratified held-out slice, then refitted on all data
starting from the held-out fit.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold, train_test_split

from classifiers.features import FeatureSpec, featurize
from classifiers.linear import LinearHead, fit_temperature

TOPIC_SPEC = FeatureSpec(
    char_orders=(2, 3, 4, 5),
    words=True,
    word_bigrams=True,
    digits=True,
    bits=18,
    max_chars=3000,
    normalise=True,
)

Progress = Callable[[str], None]


def _quiet(_msg: str) -> None:
    """Progress sink that drops messages."""


def train_head(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    spec: FeatureSpec = TOPIC_SPEC,
    c: float = 20.0,
    calibration_share: float = 0.15,
    max_iter: int = 300,
    seed: int = 0,
    progress: Progress | None = None,
) -> tuple[LinearHead, dict[str, Any]]:
    """Fit a calibrated head on ``texts``; returns it and training figures."""
    say = progress or _quiet
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise ValueError(f"need at least two labels to train, got {classes}")
    started = time.perf_counter()
    say(f"featurising {len(texts)} texts")
    x = featurize(texts, spec)
    x.sum_duplicates()
    y = np.searchsorted(np.array(classes), np.array(labels))
    counts = np.bincount(y, minlength=len(classes))
    temperature = 1.0
    model = LogisticRegression(C=c, max_iter=max_iter, tol=1e-4, warm_start=True)
    held_accuracy: float | None = None
    if counts.min() >= 2 and len(texts) * calibration_share >= len(classes):
        fit_idx, cal_idx = train_test_split(
            np.arange(len(texts)), test_size=calibration_share, random_state=seed, stratify=y
        )
        say(f"fitting on {fit_idx.size}, calibrating on {cal_idx.size} ({len(classes)} classes)")
        _fit(model, x[fit_idx], y[fit_idx])
        scores = _scores(model, x[cal_idx], len(classes))
        temperature = fit_temperature(scores, y[cal_idx])
        held_accuracy = float(np.mean(scores.argmax(axis=1) == y[cal_idx]))
        say(f"held-out accuracy {held_accuracy:.4f}, temperature {temperature:.3f}")
    say(f"fitting on all {len(texts)} texts")
    _fit(model, x, y)
    head = LinearHead.from_dense(classes, *_dense(model, len(classes)), temperature=temperature)
    seconds = time.perf_counter() - started
    say(f"trained in {seconds:.1f}s")
    figures = {
        "n_samples": len(texts),
        "class_counts": {cls: int(n) for cls, n in zip(classes, counts, strict=True)},
        "calibration_accuracy": held_accuracy,
        "temperature": temperature,
        "c": c,
        "seconds": round(seconds, 2),
    }
    return head, figures


def _fit(model: LogisticRegression, x: sparse.csr_matrix, y: npt.NDArray[np.int64]) -> None:
    """Fit, treating "not fully converged" as fine: the weights are still usable."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x, y)


def _dense(
    model: LogisticRegression, n_classes: int
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """``(n_features, n_classes)`` weights and intercepts; binary models get two columns."""
    coef = np.asarray(model.coef_, dtype=np.float32)
    intercept = np.asarray(model.intercept_, dtype=np.float32)
    if n_classes == 2 and coef.shape[0] == 1:
        # sklearn keeps one score for the positive class; split it evenly so a
        # softmax over the two columns equals its sigmoid.
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2], dtype=np.float32)
    return coef.T.copy(), intercept


def _scores(model: LogisticRegression, x: sparse.csr_matrix, n_classes: int) -> Any:
    """Decision scores as ``(n, n_classes)`` whatever the number of classes."""
    coef, intercept = _dense(model, n_classes)
    return np.asarray(x @ coef, dtype=np.float32) + intercept


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
    say = progress or _quiet
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
