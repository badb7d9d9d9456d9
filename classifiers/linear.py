"""A linear classification head over hashed features, with temperature calibration.

Prediction is one sparse-times-dense product: ``X @ W + b`` then a softmax of the
scores divided by a fitted temperature. Only the hash buckets seen in training
get a weight row (``rows`` maps a bucket to its row, 0 meaning "never seen",
whose weights are zero), so a model for 150 classes stays small.

A head may carry a per-row ``scale`` learned at training (IDF weights, 0 for
buckets too rare to keep): its input is then ``x * scale`` divided by that
row's Euclidean length (:func:`scaled_rows`). The scale is folded into the
weights once, so prediction adds only the row lengths: ``(X @ (scale * W)) /
|X * scale| + b`` equals the product of the scaled, normalised rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

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
    scale: FloatArray | None = None
    # scale[:, None] * weights and scale**2, computed once (see the module docstring).
    folded: FloatArray = field(init=False, repr=False, compare=False)
    squared_scale: FloatArray | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.scale is None:
            object.__setattr__(self, "folded", self.weights)
            object.__setattr__(self, "squared_scale", None)
        else:
            object.__setattr__(self, "folded", self.weights * self.scale[:, None])
            object.__setattr__(self, "squared_scale", self.scale * self.scale)

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
        scale: npt.NDArray[np.floating] | None = None,
    ) -> LinearHead:
        """Build from weights ``coef[j]`` of the buckets ``used[j]`` (all others zero).

        ``scale[j]``, if given, is bucket ``used[j]``'s learned weight (every
        other bucket's is 0: it is ignored, also in the row length).
        """
        rows = np.zeros(n_features, dtype=np.int32)
        rows[used] = np.arange(1, used.size + 1, dtype=np.int32)
        weights = np.zeros((used.size + 1, coef.shape[1]), dtype=np.float32)
        weights[1:] = coef
        row_scale = None
        if scale is not None:
            row_scale = np.zeros(used.size + 1, dtype=np.float32)
            row_scale[1:] = scale
        return cls(
            classes=tuple(classes),
            rows=rows,
            weights=weights,
            intercept=np.asarray(intercept, dtype=np.float32).reshape(-1),
            temperature=float(temperature),
            scale=row_scale,
        )

    @property
    def n_features(self) -> int:
        """Width of the feature matrix this head expects."""
        return int(self.rows.shape[0])

    def scores(self, features: sparse.csr_matrix) -> FloatArray:
        """Raw linear scores, shape ``(n_rows, n_classes)``."""
        groups = [] if self.squared_scale is None else [(self.squared_scale, slice(None))]
        return _product(features, self.rows, self.folded, self.intercept, groups)

    def proba(self, features: sparse.csr_matrix) -> FloatArray:
        """Calibrated class probabilities, shape ``(n_rows, n_classes)``."""
        return softmax(self.scores(features) / np.float32(self.temperature))

    def predict(self, features: sparse.csr_matrix) -> tuple[IntArray, FloatArray]:
        """Index of the best class and its calibrated probability, per row."""
        return best_of(self.scores(features), self.temperature)

    def arrays(self) -> dict[str, npt.NDArray[np.generic]]:
        """The arrays to store (classes go in the manifest)."""
        out: dict[str, npt.NDArray[np.generic]] = {
            "rows": self.rows,
            "weights": self.weights,
            "intercept": self.intercept,
        }
        if self.scale is not None:
            out["scale"] = self.scale
        return out


def scaled_rows(features: sparse.csr_matrix, scale: FloatArray) -> sparse.csr_matrix:
    """``features`` with column ``j`` times ``scale[j]``, each row then of unit length.

    The length counts every stored entry on its own, as prediction does
    (duplicate columns are summed only afterwards); a row with nothing left
    stays zero. Training feeds the learner exactly these rows.
    """
    data = (features.data * scale[features.indices]).astype(np.float32)
    squares = sparse.csr_matrix((data * data, features.indices, features.indptr), features.shape)
    row_ids = np.repeat(np.arange(features.shape[0]), np.diff(features.indptr))
    data /= _lengths(np.asarray(squares.sum(axis=1)).ravel())[row_ids]
    return sparse.csr_matrix((data, features.indices, features.indptr), shape=features.shape)


def _lengths(squares: npt.NDArray[np.floating]) -> FloatArray:
    """Square roots of the rows' squared lengths; 1 for an empty row (nothing to divide)."""
    out: FloatArray = np.sqrt(np.where(squares > 0.0, squares, 1.0)).astype(np.float32)
    return out


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
        # (squared scale in this object's rows, columns it normalises); equal
        # scales (heads trained on the same data) are one array, measured once.
        self.scaled: list[tuple[FloatArray, slice]] = []
        if len(heads) == 1:
            # Nothing to stack: share the head's arrays instead of copying them.
            self.rows, self.weights = heads[0].rows, heads[0].folded
            self.intercept = heads[0].intercept
            self.slices.append(slice(0, len(heads[0].classes)))
            if heads[0].squared_scale is not None:
                self.scaled.append((heads[0].squared_scale, self.slices[0]))
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
            self.weights[self.rows[mine], cols] = head.folded[head.rows[mine]]
            self.slices.append(cols)
            start += width
            if head.squared_scale is not None:
                squared = np.zeros(used.size + 1, dtype=np.float32)
                squared[self.rows[mine]] = head.squared_scale[head.rows[mine]]
                same = [s for s, _ in self.scaled if np.array_equal(s, squared)]
                self.scaled.append((same[0] if same else squared, cols))
        self.intercept = np.concatenate([h.intercept for h in heads]).astype(np.float32)

    def predict(
        self, features: sparse.csr_matrix, bias: FloatArray | None = None
    ) -> list[tuple[IntArray, FloatArray]]:
        """Per head, as :meth:`LinearHead.predict`; ``bias`` is added to the raw scores."""
        return self.best_of(self.scores(features, bias))

    def scores(self, features: sparse.csr_matrix, bias: FloatArray | None = None) -> FloatArray:
        """Every head's raw scores side by side (head ``k`` in ``slices[k]``), plus ``bias``."""
        scores = _product(features, self.rows, self.weights, self.intercept, self.scaled)
        if bias is not None:
            scores += bias
        return scores

    def best_of(self, scores: FloatArray) -> list[tuple[IntArray, FloatArray]]:
        """Per head, its best class and calibrated probability from :meth:`scores`."""
        return [
            best_of(scores[:, cols], head.temperature)
            for head, cols in zip(self.heads, self.slices, strict=True)
        ]


def _product(
    features: sparse.csr_matrix,
    rows: npt.NDArray[np.int32],
    weights: FloatArray,
    intercept: FloatArray,
    scaled: Sequence[tuple[FloatArray, slice]] = (),
) -> FloatArray:
    """``features @ W + b`` where bucket ``j`` has weights ``weights[rows[j]]``.

    The columns of each ``(squared, cols)`` in ``scaled`` are divided by the
    length of the rows scaled by ``sqrt(squared)`` (indexed like ``weights``)
    before the intercept is added; their weights are expected folded already.
    """
    at = rows[features.indices]
    shape = (features.shape[0], weights.shape[0])
    compact = sparse.csr_matrix((features.data, at, features.indptr), shape=shape)
    out: FloatArray = np.asarray(compact @ weights, dtype=np.float32)
    if scaled:
        # Squared lengths as one more sparse product: sum_j (x_j s_j)^2 = x^2 @ s^2.
        squares = sparse.csr_matrix((features.data * features.data, at, features.indptr), shape)
        lengths: dict[int, FloatArray] = {}
        for squared, cols in scaled:
            if id(squared) not in lengths:
                lengths[id(squared)] = _lengths(np.asarray(squares @ squared))
            out[:, cols] /= lengths[id(squared)][:, None]
    out += intercept
    return out


def best_of(scores: FloatArray, temperature: float) -> tuple[IntArray, FloatArray]:
    """Best class per row and its probability after temperature scaling."""
    prob = softmax(scores / np.float32(temperature))
    best = prob.argmax(axis=1)
    return best, prob[np.arange(prob.shape[0]), best]
