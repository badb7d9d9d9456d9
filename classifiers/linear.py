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
        rows = np.zeros(coef.shape[0], dtype=np.int32)
        rows[used] = np.arange(1, used.size + 1, dtype=np.int32)
        weights = np.zeros((used.size + 1, coef.shape[1]), dtype=np.float32)
        weights[1:] = coef[used]
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
        compact = sparse.csr_matrix(
            (features.data, self.rows[features.indices], features.indptr),
            shape=(features.shape[0], self.weights.shape[0]),
        )
        out: FloatArray = np.asarray(compact @ self.weights, dtype=np.float32)
        out += self.intercept
        return out

    def proba(self, features: sparse.csr_matrix) -> FloatArray:
        """Calibrated class probabilities, shape ``(n_rows, n_classes)``."""
        return softmax(self.scores(features) / np.float32(self.temperature))

    def predict(self, features: sparse.csr_matrix) -> tuple[IntArray, FloatArray]:
        """Index of the best class and its calibrated probability, per row."""
        prob = self.proba(features)
        best = prob.argmax(axis=1)
        return best, prob[np.arange(prob.shape[0]), best]

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

    res = optimize.minimize_scalar(nll, bounds=(-4.0, 4.0), method="bounded")
    return float(np.exp(res.x))
