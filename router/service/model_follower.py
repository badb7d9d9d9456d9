"""Hot reload of the classifier model: a replica follows the model directory.

``ticket-router train``/``build-default-model`` replace a model directory by a rename,
so a reader sees the old files or the new ones. Every few seconds each replica
compares the directory's manifest with the model in force and loads a new one
alongside the old, then swaps; a batch in progress finishes on the model it started.

A new model that lacks an extra head (or a label of one) that a rule of the config
in force matches is refused: the old model stays in force, the refusal is logged
once and ``router_model_refused`` is 1 until a model is put in force again. It is
tried again at every poll, so it goes in once the config no longer needs the head.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from classifiers.errors import ModelError
from classifiers.model import load_model
from classifiers.types import Classifier, extra_heads_of
from router.config.load import RoutingConfig
from router.core.model_heads import head_problems
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

    def __init__(
        self,
        model_dir: Path,
        model: Current[Classifier],
        metrics: Metrics,
        config: Current[RoutingConfig] | None = None,
    ) -> None:
        self._dir = model_dir
        self._model = model
        self._metrics = metrics
        self._config = config
        self._stamp = _stamp(model_dir)
        self._failed_stamp: float | None = None
        #: Why the directory's model is not in force (``None`` when it is).
        self.refused: str | None = None

    def follow_config(self, config: Current[RoutingConfig]) -> None:
        """Check every new model against ``config`` (the config in force) from now on."""
        self._config = config

    async def reload(self) -> str:
        """Load the directory's model now and put it in force; returns its version.

        Raises ``ModelError`` (and keeps the old model) when the files are not valid,
        or when the config in force matches an extra head or label the model lacks.
        """
        new = await asyncio.to_thread(load_model, self._dir)
        if self._config is not None:
            problems = head_problems(self._config.value, extra_heads_of(new), new.version)
            if problems:
                self.refused = "; ".join(f"{path}: {problem}" for path, problem in problems)
                self._metrics.model_refused.set(1)
                raise ModelError(
                    f"model {new.version} does not fit config version "
                    f"{self._config.value.version}: {self.refused}"
                )
        old = self._model.swap(new)
        self.refused = None
        self._metrics.model_refused.set(0)
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
