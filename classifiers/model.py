"""The loaded model set: language, tier and category heads, any extra heads, time zones.

:func:`load_model` reads a model folder into a new, immutable
:class:`ModelBundle`; nothing global changes, so a service can load a new
bundle while the old one keeps serving and swap the reference when it is ready.
Every head of the folder is predicted in the same batch pass: the built-in ones
and each extra head (``priority``, ``queue``, ...; :mod:`classifiers.heads`),
whose predictions go in :attr:`Prediction.extra`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.errors import ModelError
from classifiers.features import FeatureSpec, featurize_many, prepare
from classifiers.heads import BUILTIN_HEADS, is_extra_head_name
from classifiers.langid import decide_malay_indonesian, script_bias
from classifiers.linear import LinearHead, StackedHeads
from classifiers.store import StoredHead, load_head, read_manifest
from classifiers.timezones import resolve_timezone
from classifiers.types import NO_EXTRA, ClassifierInput, HeadLabel, Prediction

__all__ = ["REQUIRED_HEADS", "ModelBundle", "ModelError", "load_model"]

REQUIRED_HEADS = BUILTIN_HEADS


class ModelBundle:
    """A :class:`~classifiers.types.Classifier`: every prediction in one batch call."""

    def __init__(self, model_dir: Path, manifest: dict[str, Any], heads: dict[str, StoredHead]):
        self.model_dir = model_dir
        self.manifest = manifest
        self.heads = heads
        # What decides the predictions: arrays, feature settings, temperature, classes.
        digest = hashlib.sha256(
            json.dumps(
                {
                    task: [h.info["sha256"], h.spec.to_json(), h.head.temperature, h.head.classes]
                    for task, h in sorted(heads.items())
                },
                sort_keys=True,
            ).encode()
        ).hexdigest()
        self._version = f"{manifest.get('name', 'model')}-{digest[:12]}"
        self._extra = tuple(t for t in heads if t not in REQUIRED_HEADS)
        # Heads reading the same features share one feature pass and one product:
        # extra heads trained like tier and category add columns to their product.
        # Heads that differ only in their subject block (or in having one) share
        # them too: see _widened.
        by_spec: dict[FeatureSpec, list[str]] = {}
        for task in (*REQUIRED_HEADS, *self._extra):
            by_spec.setdefault(heads[task].spec.text_spec, []).append(task)
        self._groups = []
        for text_spec, tasks in by_spec.items():
            if all(heads[t].spec.subject_weight == 0 for t in tasks):
                stacked = StackedHeads([heads[t].head for t in tasks])
                self._groups.append((text_spec, tasks, stacked))
            else:
                block = replace(text_spec, subject_weight=1.0)
                stacked = StackedHeads([_widened(heads[t]) for t in tasks])
                self._groups.append((block, tasks, stacked))
        self._subjects = any(spec.subject_weight > 0 for spec, _, _ in self._groups)

    @property
    def version(self) -> str:
        """Model name plus a short hash of what decides its predictions (files, settings)."""
        return self._version

    @property
    def extra_heads(self) -> dict[str, tuple[str, ...]]:
        """Extra head name -> its labels, in the folder's order (built-in heads not listed)."""
        return {task: self.heads[task].head.classes for task in self._extra}

    def predict(self, items: Sequence[ClassifierInput]) -> list[Prediction]:
        """One prediction per input, in order."""
        if not items:
            return []
        texts = [item.text for item in items]
        batch = prepare(texts)
        results: dict[str, tuple[list[str], list[float]]] = {}
        # Only a head with a subject block reads the subjects apart (older folders: none).
        subjects = [item.subject or "" for item in items] if self._subjects else None
        matrices = featurize_many(batch, [spec for spec, _, _ in self._groups], subjects=subjects)
        for (_, tasks, stacked), features in zip(self._groups, matrices, strict=True):
            if "language" in tasks:
                bias = np.zeros((len(items), stacked.weights.shape[1]), dtype=np.float32)
                cols = stacked.slices[tasks.index("language")]
                classes = self.heads["language"].head.classes
                bias[:, cols] = script_bias(batch, classes)
                scores = stacked.scores(features, bias)
                # A view: the Malay/Indonesian decision swaps the head's own columns.
                decide_malay_indonesian(texts, scores[:, cols], classes)
                outputs = stacked.best_of(scores)
            else:
                outputs = stacked.predict(features)
            for task, (best, conf) in zip(tasks, outputs, strict=True):
                classes = self.heads[task].head.classes
                results[task] = ([classes[i] for i in best.tolist()], conf.tolist())
        langs, lang_conf = results["language"]
        tiers, tier_conf = results["tier"]
        cats, cat_conf = results["category"]
        extra = [(task, *results[task]) for task in self._extra]
        out = []
        for i, item in enumerate(items):
            zone, source = resolve_timezone(item, langs[i])
            labels: dict[str, HeadLabel] | None = (
                {task: (names[i], conf[i]) for task, names, conf in extra} if extra else None
            )
            out.append(
                Prediction(
                    language=langs[i],
                    language_confidence=lang_conf[i],
                    tier=tiers[i],
                    tier_confidence=tier_conf[i],
                    category=cats[i],
                    category_confidence=cat_conf[i],
                    timezone=zone,
                    timezone_source=source,
                    model_version=self._version,
                    extra=NO_EXTRA if labels is None else labels,
                )
            )
        return out


def _widened(stored: StoredHead) -> LinearHead:
    """``stored``'s head reading features with a subject block of weight 1.

    A block of weight ``w`` read at weight 1 is the same input once the block's
    bucket weights are multiplied by ``w`` (weights and row length alike), so
    heads with different subject weights, or none, share one feature matrix and
    one product. A head without a block gets zero rows for the block's buckets:
    neither its scores nor its row length see them.
    """
    head, weight = stored.head, stored.spec.subject_weight
    width = stored.spec.text_spec.n_features
    if weight == 0:
        rows = np.concatenate((head.rows, np.zeros(width, dtype=np.int32)))
        return LinearHead(
            head.classes, rows, head.weights, head.intercept, head.temperature, head.scale
        )
    assert head.scale is not None  # a spec with a subject block learns bucket weights
    scale = head.scale.copy()
    block = head.rows[width:]
    scale[block[block > 0]] *= np.float32(weight)
    return LinearHead(
        head.classes, head.rows, head.weights, head.intercept, head.temperature, scale
    )


def load_model(model_dir: Path) -> ModelBundle:
    """Load a model folder; raises :class:`ModelError` if it is missing, corrupt or incompatible."""
    model_dir = Path(model_dir)
    manifest = read_manifest(model_dir)
    missing = [t for t in REQUIRED_HEADS if t not in manifest["heads"]]
    if missing:
        raise ModelError(
            f"model {model_dir} lacks the {', '.join(missing)} head(s); "
            "train them with `ticket-router train --task ...` "
            "or run `ticket-router build-default-model`"
        )
    # Heads whose names an older version allowed ("my-head") and no rule could name
    # are kept in the folder but not predicted.
    extra = [t for t in manifest["heads"] if t not in REQUIRED_HEADS and is_extra_head_name(t)]
    heads = {task: load_head(model_dir, manifest, task) for task in (*REQUIRED_HEADS, *extra)}
    return ModelBundle(model_dir, manifest, heads)
