"""Training text heads (tier, category, or any labelled task).

A head is a linear support vector machine (liblinear, one-vs-rest) over the
hashed features: word unigrams and bigrams plus in-word character 3- and
5-grams, which carry inflected and misspelled words across languages. Term
frequencies are sublinear (``1 + ln n``); each bucket gets a weight learned
from the training texts (inverse document frequency, 0 for buckets seen in
fewer than ``min_df`` texts), stored with the head; rows are then scaled to
unit length. On CLINC150 this matched or beat multinomial logistic regression
at a tenth of the training time (``tests/bench/bench_trainer.py``).

Model selection: :func:`train_head` cross-validates a small grid
(:data:`GRID`: three values of ``C`` with IDF weights, three without;
stratified ``folds``-fold, on at most ``cv_limit`` texts) and keeps the candidate with the best
out-of-fold accuracy (macro-F1 breaks ties, then the grid order). Long
tickets gain from IDF weights, short requests from a flatter weighting and a
larger ``C``: the data decides. The grid and every candidate's figures go into
the training figures (the manifest's ``training.selection``).

Subject block: given the texts' subjects apart (``train --subject-column``),
the winner of that grid is cross-validated again with the subject as a
feature block of its own (:attr:`FeatureSpec.subject_weight`) at each weight
of :data:`SUBJECT_WEIGHTS`, on the same folds; weight 0, the plain text,
stays the choice unless a weight does better. :func:`head_spec` is the spec
the chosen head reads.

Confidence: the margins go through a softmax divided by one temperature,
fitted on the winner's out-of-fold margins; the final model is then refitted
on all the texts.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.svm import LinearSVC

from classifiers.defaults import DEFAULT_C as DEFAULT_C  # re-exported: it was defined here
from classifiers.features import FeatureSpec, featurize, with_subject_block
from classifiers.linear import LinearHead, fit_temperature, scaled_rows

TOPIC_SPEC = FeatureSpec(
    char_orders=(3, 5),
    words=True,
    word_bigrams=True,
    digits=False,
    bits=18,
    max_chars=0,
    normalise=True,
    sublinear_tf=True,
    idf=True,
)

Progress = Callable[[str], None]
Floats = npt.NDArray[np.float32]
Labels = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Candidate:
    """One point of the selection grid: the SVM's ``C`` and how buckets are weighted.

    ``idf``: each bucket weighs ``ln((1 + n) / (1 + df)) + 1`` (scikit-learn's
    smoothed IDF), else 1. Buckets in fewer than ``min_df`` training texts
    weigh 0 either way (a bucket no training text has always does).
    """

    c: float
    idf: bool = True
    min_df: int = 1

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (for the training figures)."""
        return {"c": self.c, "idf": self.idf, "min_df": self.min_df}

    def describe(self) -> str:
        """A short label for progress lines."""
        return f"C={self.c:g} {'idf' if self.idf else 'no-idf'} min_df={self.min_df}"


# Small on purpose: every candidate costs `folds` fits. Measured on the
# it-tickets and CLINC150 dev sets: with IDF weights the best C was 0.25-0.5
# (rare, telling n-grams already weigh more, so less is needed of the SVM),
# without them 2-4; min_df 2 gained nothing measurable, so it is not searched.
GRID: tuple[Candidate, ...] = (
    *(Candidate(c, idf=True) for c in (0.25, 0.5, 1.0)),
    *(Candidate(c, idf=False) for c in (1.0, 2.0, 4.0)),
)
# Used when there are too few texts per label to cross-validate.
FALLBACK = Candidate(c=1.0, idf=True, min_df=1)
FOLDS = 3
CV_LIMIT = 6000
# Weights of the subject block tried after the grid (0, no block, is the grid's own
# result). Only the grid winner's C and weighting are tried with them: each weight
# costs `folds` fits, and the C chosen without the block was the best with it too
# on the data tried (see the classifiers README).
SUBJECT_WEIGHTS: tuple[float, ...] = (0.5, 1.0, 2.0)


def _quiet(_msg: str) -> None:
    """Progress sink that drops messages."""


def train_head(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    spec: FeatureSpec = TOPIC_SPEC,
    c: float | None = None,
    grid: Sequence[Candidate] = GRID,
    folds: int = FOLDS,
    cv_limit: int = CV_LIMIT,
    seed: int = 0,
    progress: Progress | None = None,
    subjects: Sequence[str] | None = None,
    subject_weights: Sequence[float] = SUBJECT_WEIGHTS,
) -> tuple[LinearHead, dict[str, Any]]:
    """Fit a calibrated head on ``texts``; returns it and training figures.

    ``subjects`` (one per text, ``""`` for none; the texts still hold them)
    let cross-validation try a subject block at each of ``subject_weights``;
    the chosen weight is ``figures["subject_weight"]`` (0 when none won or
    none was tried) and the head reads :func:`head_spec` ``(figures, spec)``.

    ``c`` given fixes ``C``: only the grid's weightings are searched, at that
    ``C``. A grid of one candidate is still cross-validated: its out-of-fold
    margins fit the temperature. With
    fewer than two texts for some label there is no cross-validation: the
    head is :data:`FALLBACK` and its confidences uncalibrated. A ``spec``
    without ``idf`` reads normalised rows as they are (weightings ignored).

    Raises ``ValueError`` when the data cannot train a classifier (fewer than
    two labels, or texts and labels of different lengths).
    """
    say = progress or _quiet
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise ValueError(f"need at least two labels to train, got {classes}")
    if subjects is not None and len(subjects) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(subjects)} subjects")
    if spec.subject_weight > 0:
        raise ValueError("give train_head the spec without a subject block (its text_spec)")
    started = time.perf_counter()
    candidates = _candidates(grid, c, spec)
    say(f"featurising {len(texts)} texts")
    text_x = featurize(texts, spec)
    x, used = _compact(text_x)
    y: Labels = np.searchsorted(np.array(classes), np.array(labels)).astype(np.int64)
    counts = np.bincount(y, minlength=len(classes))
    problem = _Problem(x, y, len(classes), spec.idf, seed)
    # A subject block needs learned weights (row lengths are taken after them).
    weights = [float(w) for w in subject_weights if w > 0] if spec.idf else []
    with_subjects = subjects is not None and any(s.strip() for s in subjects) and weights
    temperature = 1.0
    held_accuracy: float | None = None
    selection: dict[str, Any] | None = None
    subject_weight = 0.0
    chosen = FALLBACK if c is None else Candidate(c, FALLBACK.idf, FALLBACK.min_df)
    # np.min, not counts.min(): numpy 2.5's stubs give the method no overload without arguments.
    if np.min(counts) >= 2:
        selection = _select(problem, candidates, folds, cv_limit, say)
        chosen = candidates[selection["chosen_index"]]
        for entry in selection["grid"]:
            entry["subject_weight"] = 0.0
        if with_subjects:
            assert subjects is not None
            say(f"featurising {len(texts)} subjects")
            subject_x = featurize(subjects, spec)
            best = (selection["chosen"]["accuracy"], selection["chosen"]["macro_f1"])
            for weight in weights:
                say(f"subject block, weight {weight:g}:")
                x_w, used_w = _compact(with_subject_block(text_x, subject_x, weight))
                problem_w = _Problem(x_w, y, len(classes), spec.idf, seed)
                trial = _select(problem_w, [chosen], folds, cv_limit, say)
                entry = {**trial["chosen"], "subject_weight": weight}
                selection["grid"].append(entry)
                # Strictly better only: the plain text (or a lower weight) wins ties.
                if (entry["accuracy"], entry["macro_f1"]) > best:
                    best = (entry["accuracy"], entry["macro_f1"])
                    selection["chosen"], selection["temperature"] = entry, trial["temperature"]
                    selection["chosen_index"] = len(selection["grid"]) - 1
                    subject_weight, problem, used = weight, problem_w, used_w
            selection["subject_weights"] = [0.0, *weights]
        temperature = selection.pop("temperature")
        held_accuracy = selection["chosen"]["accuracy"]
        block = f", subject weight {subject_weight:g}" if with_subjects else ""
        say(
            f"chose {chosen.describe()}{block}: out-of-fold accuracy {held_accuracy:.4f}, "
            f"temperature {temperature:.3f}"
        )
    else:
        say("too few examples per label to cross-validate: confidences are uncalibrated")
    say(f"fitting on all {len(texts)} texts")
    coef, intercept, scale = problem.fit(np.arange(len(texts)), chosen)
    keep = np.flatnonzero(scale > 0) if spec.idf else np.arange(used.size)
    head = LinearHead.from_compact(
        classes,
        used[keep],
        replace(spec, subject_weight=subject_weight).n_features,
        coef[keep],
        intercept,
        temperature,
        scale=scale[keep] if spec.idf else None,
    )
    seconds = time.perf_counter() - started
    say(f"trained in {seconds:.1f}s")
    figures = {
        "n_samples": len(texts),
        "class_counts": {cls: int(n) for cls, n in zip(classes, counts, strict=True)},
        "calibration_accuracy": held_accuracy,
        "temperature": temperature,
        "learner": "LinearSVC",
        "c": chosen.c,
        "idf": chosen.idf and spec.idf,
        "min_df": chosen.min_df,
        "subject_weight": subject_weight,
        "selection": selection,
        "seconds": round(seconds, 2),
    }
    return head, figures


def head_spec(figures: dict[str, Any], spec: FeatureSpec = TOPIC_SPEC) -> FeatureSpec:
    """The spec a head trained by :func:`train_head` with ``spec`` reads: ``spec`` with
    the subject block it chose (``figures["subject_weight"]``; none if absent)."""
    return replace(spec, subject_weight=float(figures.get("subject_weight", 0.0)))


def _candidates(grid: Sequence[Candidate], c: float | None, spec: FeatureSpec) -> list[Candidate]:
    """The grid to search: restricted to ``c`` if given, weightings merged without IDF."""
    if not grid:
        raise ValueError("the selection grid is empty")
    out = list(grid)
    if c is not None:
        out = list(dict.fromkeys(Candidate(c, k.idf, k.min_df) for k in out))
    if not spec.idf:
        # Without learned weights only C matters: one candidate per C.
        out = list(dict.fromkeys(Candidate(k.c, FALLBACK.idf, FALLBACK.min_df) for k in out))
    return out


class _Problem:
    """The featurised training set, and fitting one candidate on some of its rows."""

    def __init__(
        self, x: sparse.csr_matrix, y: Labels, n_classes: int, learned: bool, seed: int
    ) -> None:
        self.x, self.y, self.n_classes, self.learned, self.seed = x, y, n_classes, learned, seed
        # One entry per (row, column) for document frequencies: a word and an
        # n-gram sharing a bucket are two entries of x but one occurrence.
        present = x.copy()
        present.sum_duplicates()
        self.present = present

    def weights(self, rows: npt.NDArray[np.intp], cand: Candidate) -> Floats:
        """Per column, the candidate's weight learned from ``rows``."""
        df = np.bincount(self.present[rows].indices, minlength=self.x.shape[1])
        n = rows.size
        scale = np.log((1.0 + n) / (1.0 + df)) + 1.0 if cand.idf else np.ones(df.size)
        scale[df < max(cand.min_df, 1)] = 0.0
        return scale.astype(np.float32)

    def design(self, rows: npt.NDArray[np.intp], scale: Floats) -> sparse.csr_matrix:
        """The learner's input for ``rows``: weighted, unit-length, duplicates summed."""
        x = self.x[rows]
        if self.learned:
            x = scaled_rows(x, scale)
            x.eliminate_zeros()
        x.sum_duplicates()
        return x

    def fit(self, rows: npt.NDArray[np.intp], cand: Candidate) -> tuple[Floats, Floats, Floats]:
        """Weights ``(columns, classes)``, intercepts and column weights from ``rows``."""
        scale = self.weights(rows, cand)
        coef, intercept = _fit(
            self.design(rows, scale), self.y[rows], self.n_classes, cand.c, self.seed
        )
        return coef, intercept, scale


def _select(
    problem: _Problem,
    candidates: Sequence[Candidate],
    folds: int,
    cv_limit: int,
    say: Progress,
) -> dict[str, Any]:
    """Cross-validate every candidate; the winner, every candidate's figures, a temperature.

    Candidates that weight alike share each fold's feature matrices; only
    the fits differ.
    """
    y = problem.y
    rows = np.arange(y.size)
    if y.size > cv_limit:
        rows, _ = train_test_split(rows, train_size=cv_limit, random_state=problem.seed, stratify=y)
        rows = np.sort(rows)
    k = max(2, min(folds, int(np.min(np.bincount(y[rows])))))
    with warnings.catch_warnings():
        # A label with fewer texts than folds (possible after subsampling) is fine.
        warnings.simplefilter("ignore", UserWarning)
        splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=problem.seed)
        splits = list(splitter.split(rows, y[rows]))
    say(
        f"cross-validating {len(candidates)} candidate(s) x {k} folds on {rows.size} texts "
        f"({problem.n_classes} classes)"
    )
    scores = np.zeros((len(candidates), rows.size, problem.n_classes), dtype=np.float32)
    seconds = [0.0] * len(candidates)
    weightings = dict.fromkeys((cand.idf, cand.min_df) for cand in candidates)
    for idf, min_df in weightings:
        same = [i for i, cand in enumerate(candidates) if (cand.idf, cand.min_df) == (idf, min_df)]
        for fit_at, test_at in splits:
            scale = problem.weights(rows[fit_at], candidates[same[0]])
            fit_x, test_x = (
                problem.design(rows[fit_at], scale),
                problem.design(rows[test_at], scale),
            )
            for i in same:
                t0 = time.perf_counter()
                coef, intercept = _fit(
                    fit_x, y[rows[fit_at]], problem.n_classes, candidates[i].c, problem.seed
                )
                scores[i, test_at] = np.asarray(test_x @ coef, dtype=np.float32) + intercept
                seconds[i] += time.perf_counter() - t0
    results: list[dict[str, Any]] = []
    for i, cand in enumerate(candidates):
        predicted = scores[i].argmax(axis=1)
        accuracy = float(np.mean(predicted == y[rows]))
        macro_f1 = float(f1_score(y[rows], predicted, average="macro"))
        results.append({**cand.to_json(), "accuracy": accuracy, "macro_f1": macro_f1})
        figures = f"accuracy {accuracy:.4f} macro-F1 {macro_f1:.4f}"
        say(f"  {cand.describe()}: {figures} ({seconds[i]:.1f}s of fitting)")
    # Best accuracy, then macro-F1; max() keeps the earliest of equals.
    chosen = max(
        range(len(results)), key=lambda i: (results[i]["accuracy"], results[i]["macro_f1"])
    )
    return {
        "metric": "out-of-fold accuracy, then macro-F1",
        "folds": k,
        "cv_samples": int(rows.size),
        "grid": results,
        "chosen": results[chosen],
        "chosen_index": chosen,
        "temperature": fit_temperature(scores[chosen], y[rows]),
    }


def _compact(x: sparse.csr_matrix) -> tuple[sparse.csr_matrix, npt.NDArray[np.int64]]:
    """Keep only the columns some text uses: the learner's dense weight matrix
    is ``classes x columns``, so 2**18 columns would cost hundreds of MB.
    Duplicate entries stay: row lengths count them as prediction does."""
    used = np.unique(x.indices).astype(np.int64)
    cols = np.searchsorted(used, x.indices).astype(np.int32)
    return sparse.csr_matrix((x.data, cols, x.indptr), shape=(x.shape[0], used.size)), used


def _fit(
    x: sparse.csr_matrix, y: npt.NDArray[np.int64], n_classes: int, c: float, seed: int
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """``(columns, n_classes)`` weights and intercepts; binary tasks get two columns.

    A class absent from ``y`` (possible in a small fold) gets zero weights and
    a very low intercept, so it is never predicted.
    """
    present = np.unique(y)
    if present.size < 2:
        coef = np.zeros((x.shape[1], n_classes), dtype=np.float32)
        intercept = np.full(n_classes, -1e3, dtype=np.float32)
        intercept[present] = 0.0
        return coef, intercept
    model = LinearSVC(C=c, random_state=seed, max_iter=2000)
    with warnings.catch_warnings():
        # Not fully converged after max_iter still gives usable weights.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x, y)
    coef = np.asarray(model.coef_, dtype=np.float32)
    intercept = np.asarray(model.intercept_, dtype=np.float32)
    if coef.shape[0] == 1:
        # One margin for the positive class; split it evenly so a softmax over
        # the two columns equals the sigmoid of the margin.
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2], dtype=np.float32)
    full = np.zeros((n_classes, x.shape[1]), dtype=np.float32)
    full_intercept = np.full(n_classes, -1e3, dtype=np.float32)
    full[present], full_intercept[present] = coef, intercept
    return np.ascontiguousarray(full.T), full_intercept
