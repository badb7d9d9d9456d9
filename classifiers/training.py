"""Training text heads (tier, category, or any labelled task).

A head is a linear support vector machine (liblinear, one-vs-rest) over the
hashed features: word unigrams and bigrams plus in-word character 3- and
5-grams, which carry inflected and misspelled words across languages. On
CLINC150 it matched or beat multinomial logistic regression at a tenth of the
training time (``tests/bench/bench_trainer.py``).

Confidence: the margins go through a softmax divided by one temperature,
fitted on a stratified held-out slice (15 %) of the training data; the final
model is then refitted on all of it.
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
from sklearn.model_selection import train_test_split
from sklearn.svm import LinearSVC

from classifiers.defaults import DEFAULT_C as DEFAULT_C  # re-exported: it was defined here
from classifiers.features import FeatureSpec, featurize
from classifiers.linear import LinearHead, fit_temperature

TOPIC_SPEC = FeatureSpec(
    char_orders=(3, 5),
    words=True,
    word_bigrams=True,
    digits=False,
    bits=18,
    max_chars=0,
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
    c: float = DEFAULT_C,
    calibration_share: float = 0.15,
    seed: int = 0,
    progress: Progress | None = None,
) -> tuple[LinearHead, dict[str, Any]]:
    """Fit a calibrated head on ``texts``; returns it and training figures.

    Raises ``ValueError`` when the data cannot train a classifier (fewer than
    two labels, or texts and labels of different lengths).
    """
    say = progress or _quiet
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise ValueError(f"need at least two labels to train, got {classes}")
    started = time.perf_counter()
    say(f"featurising {len(texts)} texts")
    x, used = _compact(featurize(texts, spec))
    y = np.searchsorted(np.array(classes), np.array(labels))
    counts = np.bincount(y, minlength=len(classes))
    temperature = 1.0
    held_accuracy: float | None = None
    # np.min, not counts.min(): numpy 2.5's stubs give the method no overload without arguments.
    if np.min(counts) >= 2 and len(texts) * calibration_share >= len(classes):
        fit_idx, cal_idx = train_test_split(
            np.arange(len(texts)), test_size=calibration_share, random_state=seed, stratify=y
        )
        say(f"fitting on {fit_idx.size}, calibrating on {cal_idx.size} ({len(classes)} classes)")
        coef, intercept = _fit(x[fit_idx], y[fit_idx], len(classes), c, seed)
        scores = np.asarray(x[cal_idx] @ coef, dtype=np.float32) + intercept
        temperature = fit_temperature(scores, y[cal_idx])
        held_accuracy = float(np.mean(scores.argmax(axis=1) == y[cal_idx]))
        say(f"held-out accuracy {held_accuracy:.4f}, temperature {temperature:.3f}")
    else:
        say("too few examples per label to hold some out: confidences are uncalibrated")
    say(f"fitting on all {len(texts)} texts")
    coef, intercept = _fit(x, y, len(classes), c, seed)
    head = LinearHead.from_compact(classes, used, spec.n_features, coef, intercept, temperature)
    seconds = time.perf_counter() - started
    say(f"trained in {seconds:.1f}s")
    figures = {
        "n_samples": len(texts),
        "class_counts": {cls: int(n) for cls, n in zip(classes, counts, strict=True)},
        "calibration_accuracy": held_accuracy,
        "temperature": temperature,
        "learner": "LinearSVC",
        "c": c,
        "seconds": round(seconds, 2),
    }
    return head, figures


def _compact(x: sparse.csr_matrix) -> tuple[sparse.csr_matrix, npt.NDArray[np.int64]]:
    """Keep only the columns some text uses: the learner's dense weight matrix
    is ``classes x columns``, so 2**18 columns would cost hundreds of MB."""
    x.sum_duplicates()
    used = np.unique(x.indices).astype(np.int64)
    cols = np.searchsorted(used, x.indices).astype(np.int32)
    return sparse.csr_matrix((x.data, cols, x.indptr), shape=(x.shape[0], used.size)), used


def _fit(
    x: sparse.csr_matrix, y: npt.NDArray[np.int64], n_classes: int, c: float, seed: int
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """``(columns, n_classes)`` weights and intercepts; binary tasks get two columns."""
    model = LinearSVC(C=c, random_state=seed, max_iter=2000)
    with warnings.catch_warnings():
        # Not fully converged after max_iter still gives usable weights.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x, y)
    coef = np.asarray(model.coef_, dtype=np.float32)
    intercept = np.asarray(model.intercept_, dtype=np.float32)
    if n_classes == 2 and coef.shape[0] == 1:
        # One margin for the positive class; split it evenly so a softmax over
        # the two columns equals the sigmoid of the margin.
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2], dtype=np.float32)
    return np.ascontiguousarray(coef.T), intercept
