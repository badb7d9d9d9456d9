"""Hot reload of the classifier model: a replica follows the model directory.

``ticket-router train``/``build-default-model`` replace a model directory by a rename,
so a reader sees the old files or the new ones. Every few seconds each replica
compares the directory's manifest with the model in force and loads a new one
alongside the old, then swaps; a batch in progress finishes on the model it started.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from classifiers.errors import ModelError
from classifiers.model import load_model
from classifiers.types import Classifier
from router.service.current import Current
from router.service.metrics import Metrics

log = logging.getLogger(__name__)


def _stamp(model_dir: Path) -> float | None:
    try:
        return (model_dir / "manifest.json").stat().st_mtime
    except OSError:
        return None


class ModelFollower:
    """Reloads the model when its directory's manifest changes."""

    def __init__(self, model_dir: Path, model: Current[Classifier], metrics: Metrics) -> None:
        self._dir = model_dir
        self._model = model
        self._metrics = metrics
        self._stamp = _stamp(model_dir)
        self._failed_stamp: float | None = None

    async def reload(self) -> str:
        """Load the directory's model now and put it in force; returns its version.

        Raises ``ModelError`` (and keeps the old model) when the files are not valid.
        """
        new = await asyncio.to_thread(load_model, self._dir)
        old = self._model.swap(new)
        self._stamp = _stamp(self._dir)
        if old.version != new.version:
            self._metrics.model_version.remove(old.version)
            self._metrics.model_version.labels(new.version).set(1)
            log.info("model %s in force (was %s)", new.version, old.version)
        return new.version

    async def check(self) -> None:
        """Reload if the manifest changed since the model in force was loaded."""
        stamp = _stamp(self._dir)
        if stamp is not None and stamp != self._stamp:
            try:
                await self.reload()
            except ModelError as exc:
                # Tried again next poll: the files may still be being written. Said once.
                if stamp != self._failed_stamp:
                    log.error("new model in %s not loaded, keeping the old one: %s", self._dir, exc)
                self._failed_stamp = stamp
