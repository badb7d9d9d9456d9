"""The routing config in force on a running replica: bootstrapped from the file or
Redis at start, replaced at runtime by any replica, followed by all of them.

A batch reads the config once when it starts, so every ticket is decided by one
version, and the claim on each ticket id keeps a change from routing anything
twice; a switch only affects batches that start after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from classifiers.types import Classifier, extra_heads_of
from router.config.load import (
    RoutingConfig,
    content_version,
    diff_configs,
    load_config,
    parse_config,
)
from router.core.config_version import ConfigConflict, ConfigVersion
from router.core.errors import TransientError
from router.core.model_heads import check_heads, head_problems
from router.service.current import Current
from router.service.ports import ConfigStore

log = logging.getLogger(__name__)

OnSwitch = Callable[[RoutingConfig], Awaitable[None]]


def compile_version(document: Mapping[str, Any], number: int, source: str) -> RoutingConfig:
    """The config of a stored version; its ``version`` is ``<number>.<content hash>``."""
    doc = copy.deepcopy(dict(document))
    doc["version"] = f"{number}.{content_version(doc)}"
    return parse_config(doc, source=source)


def candidate(
    document: Mapping[str, Any], source: str, model: Classifier | None = None
) -> RoutingConfig:
    """Validate a proposed document without storing it (raises ``ConfigError``); with
    ``model``, also that the model has every extra head and label its rules match."""
    doc = {k: v for k, v in document.items() if k != "version"}
    config = parse_config(doc, source=source)
    if model is not None:
        fit_model(config, model)
    return config


def fit_model(config: RoutingConfig, model: Classifier) -> None:
    """Raise ``ConfigError`` naming each rule that matches an extra head (or a label of
    one) ``model`` lacks."""
    check_heads(config, extra_heads_of(model), model.version)


async def bootstrap(store: ConfigStore, path: Path) -> tuple[RoutingConfig, int]:
    """The config to start with, and its version number.

    Redis holds the version in force for every replica. The file is stored as a new
    version when Redis has none yet, or when the version in force came from a file
    whose content differs (the file was edited and the service redeployed). A
    version put in force through the API is kept, and a differing file is reported.
    """
    from_file = load_config(path)
    file_doc = {k: v for k, v in from_file.to_dict().items() if k != "version"}
    file_hash = content_version(file_doc)
    for _ in range(5):
        current = await store.current()
        if current is not None and (
            current.source != "file" or current.version.split(".", 1)[-1] == file_hash
        ):
            if current.source != "file" and current.version.split(".", 1)[-1] != file_hash:
                log.warning(
                    "config file %s differs from version %d in force (set by %s through the "
                    "API); keeping version %d",
                    path,
                    current.number,
                    current.author,
                    current.number,
                )
            return _compiled(current), current.number
        old = _compiled(current) if current is not None else None
        try:
            stored = await store.append(
                file_doc,
                version=f"?.{file_hash}",
                author=f"file:{path}",
                source="file",
                comment="loaded from the config file at start",
                diff=diff_configs(old, from_file) if old is not None else ["initial version"],
                expect=current.number if current is not None else None,
            )
        except ConfigConflict:
            continue  # another replica stored it first: read again
        return _compiled(stored), stored.number
    raise TransientError("redis: config version kept changing during start-up")


def _compiled(stored: ConfigVersion) -> RoutingConfig:
    return compile_version(stored.document, stored.number, f"config version {stored.number}")


class ConfigFollower:
    """Keeps a replica's :class:`Current` config equal to the version in force."""

    def __init__(
        self,
        store: ConfigStore,
        config: Current[RoutingConfig],
        number: int,
        on_switch: OnSwitch,
        *,
        poll_s: float = 0.5,
        model: Current[Classifier] | None = None,
    ) -> None:
        self._store = store
        self._model = model
        self._config = config
        self.number = number
        self._on_switch = on_switch
        self._poll_s = poll_s
        self._lock = asyncio.Lock()
        self._pubsub: Any = None

    async def apply(self, stored: ConfigVersion) -> RoutingConfig:
        """Put ``stored`` in force on this replica (declaring new pool queues first).

        Any number other than the one in force switches, lower ones included: a
        rollback is a new, higher number, but Redis restored from a backup may go back.
        """
        async with self._lock:
            if stored.number != self.number:
                # Compiling a 500-pool config takes a noticeable fraction of a second:
                # in a thread, so health checks and ingestion keep answering.
                compiled = await asyncio.to_thread(_compiled, stored)
                self._warn_unfit(compiled)
                await self._on_switch(compiled)
                self._config.swap(compiled)
                self.number = stored.number
                log.info("config version %s in force (%s)", compiled.version, stored.author)
            return self._config.value

    def _warn_unfit(self, config: RoutingConfig) -> None:
        """Say which rules cannot match with this replica's model. The version is in
        force on every replica (another one checked it against its model), so it is
        applied all the same: those rules match nothing here until the model has them."""
        if self._model is None:
            return
        model = self._model.value
        for path, problem in head_problems(config, extra_heads_of(model), model.version):
            log.error("config version %s: %s: %s", config.version, path, problem)

    async def refresh(self) -> None:
        """Read the pointer; switch if another replica changed it."""
        number = await self._store.current_number()
        if number is not None and number != self.number:
            stored = await self._store.get(number)
            if stored is not None:
                await self.apply(stored)

    async def subscribe(self, client: Any) -> None:
        """Listen for change notices on ``client`` (a Redis client)."""
        self._pubsub = client.pubsub()
        await self._pubsub.subscribe(self._store.channel)

    async def follow_once(self) -> None:
        """Switch if the version in force changed, then wait up to ``poll_s`` for a notice.

        Pub/sub makes a switch fast; reading the pointer every pass makes it certain,
        since pub/sub drops notices while a connection is down.
        """
        with contextlib.suppress(TransientError, OSError):
            await self.refresh()
        if self._pubsub is None:
            await asyncio.sleep(self._poll_s)
            return
        try:
            await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=self._poll_s)
        except Exception as exc:  # connection lost: polling carries on; subscribe again
            log.warning("config change channel: %s", exc)
            await asyncio.sleep(self._poll_s)
            with contextlib.suppress(Exception):
                await self._pubsub.subscribe(self._store.channel)

    async def close(self) -> None:
        """Stop listening."""
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
            self._pubsub = None
