"""Agent presence per pool in Redis: a status and a heartbeat that goes stale.

An agent posts its status (online, away, offline) as a heartbeat; one that has not
been heard of for ``ttl_ms`` reads as offline, whatever it said last. Entries silent
for ``forget_ms`` are dropped by :meth:`RedisPresence.prune`.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from queues.keys import Keys
from router.core.errors import TransientError
from router.core.leases import PresenceStatus as Status

STATUSES: tuple[Status, ...] = ("online", "away", "offline")
DEFAULT_TTL_MS = 60_000
DEFAULT_FORGET_MS = 24 * 3600 * 1000

# KEYS statuses hash, heartbeats zset; ARGV agent, status. -> the heartbeat time (ms).
_BEAT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], string.format('%d', now), ARGV[1])
return now
"""

# KEYS statuses hash, heartbeats zset; ARGV cutoff ms. -> how many agents were forgotten.
_PRUNE = """
local gone = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
for _, agent in ipairs(gone) do
  redis.call('ZREM', KEYS[2], agent)
  redis.call('HDEL', KEYS[1], agent)
end
return #gone
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisPresence:
    """Presence of the agents of every pool under one key prefix."""

    def __init__(
        self,
        client: aioredis.Redis,
        keys: Keys,
        *,
        ttl_ms: int = DEFAULT_TTL_MS,
        forget_ms: int = DEFAULT_FORGET_MS,
    ) -> None:
        self._r = client
        self._keys = keys
        self.ttl_ms = ttl_ms
        self._forget_ms = forget_ms
        self._beat = client.register_script(_BEAT)
        self._prune = client.register_script(_PRUNE)

    async def _call(self, pending: Awaitable[Any]) -> Any:
        try:
            return await pending
        except RedisError as exc:
            raise TransientError(f"redis: {exc}") from exc

    async def beat(self, pool_id: str, agent: str, status: Status) -> int:
        """Record ``agent``'s status; returns when it reads as offline unless heard from
        again (ms since the epoch, Redis clock)."""
        k = self._keys
        now = await self._call(
            self._beat(keys=[k.presence(pool_id), k.heartbeats(pool_id)], args=[agent, status])
        )
        return int(now) + self.ttl_ms

    async def agents(self, pool_id: str) -> dict[Status, list[str]]:
        """The pool's known agents by status, each list sorted; stale ones are offline."""
        k = self._keys
        async with self._r.pipeline(transaction=False) as pipe:
            pipe.time()
            pipe.zrange(k.heartbeats(pool_id), 0, -1, withscores=True)
            pipe.hgetall(k.presence(pool_id))
            (seconds, micros), beats, statuses = await self._call(pipe.execute())
        now = int(seconds) * 1000 + int(micros) // 1000
        said = {_text(a): _text(s) for a, s in statuses.items()}
        out: dict[Status, list[str]] = {s: [] for s in STATUSES}
        for raw_agent, last in beats:
            agent = _text(raw_agent)
            status = said.get(agent, "offline")
            if now - int(last) > self.ttl_ms or status not in out:
                status = "offline"
            out[status].append(agent)  # type: ignore[index]
        for names in out.values():
            names.sort()
        return out

    async def prune(self, pool_id: str, now_ms: int) -> int:
        """Forget agents silent for longer than the retention; how many went."""
        k = self._keys
        gone = await self._call(
            self._prune(
                keys=[k.presence(pool_id), k.heartbeats(pool_id)],
                args=[now_ms - self._forget_ms],
            )
        )
        return int(gone)
