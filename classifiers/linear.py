"""A linear classification head over hashed features, with temperature calibration.

Prediction is one sparse-times-dense product: ``X @ W + b`` then a softmax of the
scores divided by a fitted temperature. Only the hash buckets seen in training
get a weight row (``rows`` maps a bucket to its row, 0 meaning "never seen",
whose weights are zero), so a model for 150 classes stays small.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import optimize, sparse

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True, eq=False)
class LinearHead:
    """Weights of one task: ``classes[k]`` scores ``X @ weights[rows][:, k] + intercept[k]``."""

    classes: tuple[str, ...]
    rows: npt.NDArray[np.int32]
    weights: FloatArray
    intercept: FloatArray
    temperature: float = 1.0

    @classmethod
    def from_dense(
        cls,
        classes: Sequence[str],
        coef: npt.NDArray[np.floating],
        intercept: npt.NDArray[np.floating],
        temperature: float = 1.0,
    ) -> LinearHead:
        """Build from a ``(n_features, n_classes)`` weight matrix, dropping zero rows."""
        coef = np.asarray(coef, dtype=np.float32)
        used = np.flatnonzero(np.any(coef != 0.0, axis=1))
        return cls.from_compact(classes, used, coef.shape[0], coef[used], intercept, temperature)

    @classmethod
    def from_compact(
        cls,
        classes: Sequence[str],
        used: npt.NDArray[np.int64],
        n_features: int,
        coef: npt.NDArray[np.floating],
        intercept: npt.NDArray[np.floating],
        temperature: float = 1.0,
    ) -> LinearHead:
        """Build from weights ``coef[j]`` of the buckets ``used[j]`` (all others zero)."""
        rows = np.zeros(n_features, dtype=np.int32)
        rows[used] = np.arange(1, used.size + 1, dtype=np.int32)
        weights = np.zeros((used.size + 1, coef.shape[1]), dtype=np.float32)
        weights[1:] = coef
        return cls(
            classes=tuple(classes),
            rows=rows,
            weights=weights,
            intercept=np.asarray(intercept, dtype=np.float32).reshape(-1),
            temperature=float(temperature),
        )

    @property
    def n_features(self) -> int:
        """Width of the feature matrix this head expects."""
        return int(self.rows.shape[0])

    def scores(self, features: sparse.csr_matrix) -> FloatArray:
        """Raw linear scores, shape ``(n_rows, n_classes)``."""
        return _product(features, self.rows, self.weights, self.intercept)

    def proba(self, features: sparse.csr_matrix) -> FloatArray:
        """Calibrated class probabilities, shape ``(n_rows, n_classes)``."""
        return softmax(self.scores(features) / np.float32(self.temperature))

    def predict(self, features: sparse.csr_matrix) -> tuple[IntArray, FloatArray]:
        """Index of the best class and its calibrated probability, per row."""
        return best_of(self.scores(features), self.temperature)

    def arrays(self) -> dict[str, npt.NDArray[np.generic]]:
        """The arrays to store (classes go in the manifest)."""
        return {"rows": self.rows, "weights": self.weights, "intercept": self.intercept}


def softmax(scores: FloatArray) -> FloatArray:
    """Row-wise softmax, stable for large scores."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    np.exp(shifted, out=shifted)
    shifted /= shifted.sum(axis=1, keepdims=True)
    out: FloatArray = shifted
    return out


def fit_temperature(scores: FloatArray, target: IntArray) -> float:
    """The temperature that minimises held-out log-loss (Guo et al., 2017).

    One scalar keeps the argmax (so accuracy) unchanged and only fixes how sure
    the model claims to be; it needs far less held-out data than isotonic or
    per-class Platt scaling.
    """
    if scores.shape[0] == 0:
        return 1.0
    rows = np.arange(scores.shape[0])

    def nll(log_t: float) -> float:
        z = scores / np.exp(log_t)
        z = z - z.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(z).sum(axis=1))
        return float(np.mean(log_norm - z[rows, target]))

    res = optimize.minimize_scalar(nll, bounds=(-6.0, 4.0), method="bounded")
    return float(np.exp(res.x))


class StackedHeads:
    """Several heads over the same features, scored with one matrix product.

    The per-row cost of a sparse-times-dense product is mostly walking the
    row's non-zeros, so side by side the tier and category heads cost little
    more than one of them.
    """

    def __init__(self, heads: Sequence[LinearHead]) -> None:
        if not heads or len({h.n_features for h in heads}) != 1:
            raise ValueError("stacked heads must read features of one width")
        self.heads = tuple(heads)
        self.slices: list[slice] = []
        if len(heads) == 1:
            # Nothing to stack: share the head's arrays instead of copying them.
            self.rows, self.weights = heads[0].rows, heads[0].weights
            self.intercept = heads[0].intercept
            self.slices.append(slice(0, len(heads[0].classes)))
            return
        n_features = heads[0].n_features
        used = np.flatnonzero(np.any(np.stack([h.rows for h in heads]) > 0, axis=0))
        self.rows = np.zeros(n_features, dtype=np.int32)
        self.rows[used] = np.arange(1, used.size + 1, dtype=np.int32)
        widths = [len(h.classes) for h in heads]
        self.weights = np.zeros((used.size + 1, sum(widths)), dtype=np.float32)
        start = 0
        for head, width in zip(heads, widths, strict=True):
            cols = slice(start, start + width)
            mine = used[head.rows[used] > 0]
            self.weights[self.rows[mine], cols] = head.weights[head.rows[mine]]
            self.slices.append(cols)
            start += width
        self.intercept = np.concatenate([h.intercept for h in heads]).astype(np.float32)

    def predict(
        self, features: sparse.csr_matrix, bias: FloatArray | None = None
    ) -> list[tuple[IntArray, FloatArray]]:
        """Per head, as :meth:`LinearHead.predict`; ``bias`` is added to the raw scores."""
        scores = _product(features, self.rows, self.weights, self.intercept)
        if bias is not None:
            scores += bias
        return [
            best_of(scores[:, cols], head.temperature)
            for head, cols in zip(self.heads, self.slices, strict=True)
        ]


def _product(
    features: sparse.csr_matrix,
    rows: npt.NDArray[np.int32],
    weights: FloatArray,
    intercept: FloatArray,
) -> FloatArray:
    """``features @ W + b`` where bucket ``j`` has weights ``weights[rows[j]]``."""
    compact = sparse.csr_matrix(
        (features.data, rows[features.indices], features.indptr),
        shape=(features.shape[0], weights.shape[0]),
    )
    out: FloatArray = np.asarray(compact @ weights, dtype=np.float32)
    out += intercept
    return out


def best_of(scores: FloatArray, temperature: float) -> tuple[IntArray, FloatArray]:
    """Best class per row and its probability after temperature scaling."""
    prob = softmax(scores / np.float32(temperature))
    best = prob.argmax(axis=1)
    return best, prob[np.arange(prob.shape[0]), best]
