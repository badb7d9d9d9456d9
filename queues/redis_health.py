"""Is Redis keeping what the service writes? Persistence and data-loss checks.

Every claim, token, config version and backlog lives in Redis, so a Redis that does
not persist, or that came back empty after a restart, silently breaks "nothing lost,
nothing doubled": a re-sent ticket would be routed again. The service cannot bring
lost records back, but an operator must know at once. Two checks, run at start and
on every pass of a background loop (so also after every reconnect):

- persistence: ``INFO persistence`` says whether the append-only file is on;
- an epoch key written once with a random value: if it is gone, or holds another
  value, the data this replica wrote before has vanished (a restart without
  persistence, a flush, a failover to an empty replica).
"""

from __future__ import annotations

import logging
import secrets
import time

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from router.core.store_health import Persistence, RedisHealth

log = logging.getLogger(__name__)


class RedisHealthCheck:
    """Checks one Redis for persistence and for vanished data (see the module doc)."""

    def __init__(self, client: aioredis.Redis, epoch_key: str) -> None:
        self._r = client
        self._key = epoch_key
        self._epoch: bytes | None = None
        self._losses = 0
        self._last_loss: float | None = None
        self.last = RedisHealth(False, "unknown", 0, None)

    async def check(self) -> RedisHealth:
        """Run both checks once; never raises (an unreachable Redis is a result)."""
        try:
            persistence = await self._persistence()
            await self._check_epoch()
        except (RedisError, OSError) as exc:
            log.debug("redis health check: %s", exc)
            self.last = RedisHealth(False, self.last.persistence, self._losses, self._last_loss)
            return self.last
        self.last = RedisHealth(True, persistence, self._losses, self._last_loss)
        return self.last

    async def _persistence(self) -> Persistence:
        try:
            info = await self._r.info("persistence")
        except ResponseError:  # INFO disabled (some managed services)
            return "unknown"
        if int(info.get("aof_enabled", 0)) == 1:
            return "aof"
        try:
            save = await self._r.config_get("save")
        except ResponseError:  # CONFIG renamed or disabled
            return "unknown"
        return "rdb" if str(save.get("save", "")).strip() else "none"

    async def _check_epoch(self) -> None:
        if self._epoch is None:
            # First contact: adopt the deployment's epoch, or start one.
            fresh = secrets.token_hex(16).encode()
            await self._r.set(self._key, fresh, nx=True)
            self._epoch = _as_bytes(await self._r.get(self._key))
            return
        current = _as_bytes(await self._r.get(self._key))
        if current == self._epoch:
            return
        self._losses += 1
        self._last_loss = time.time()
        log.error(
            "redis data vanished: epoch key %s is %s; tickets, claims, tokens and config "
            "versions written before are lost (restore from backup if you have one)",
            self._key,
            "missing" if current is None else "another value",
        )
        if current is None:
            fresh = secrets.token_hex(16).encode()
            await self._r.set(self._key, fresh, nx=True)
            current = _as_bytes(await self._r.get(self._key))
        self._epoch = current


def _as_bytes(value: bytes | str | None) -> bytes | None:
    return value.encode() if isinstance(value, str) else value
