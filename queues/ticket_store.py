"""Redis implementation of :class:`router.service.ports.TicketStore`.

Each ticket has one hash. Claims are single-key Lua scripts (so they work on a
Redis Cluster too) and use the Redis server clock, so replicas with skewed
clocks still agree on when a claim expired.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError, RedisError

from queues.keys import Keys
from router.core.errors import TransientError
from router.service.ports import ClaimResult, ClaimStatus, StoredTicket

# KEYS[1] ticket hash; ARGV owner, ttl_ms, record.
_CLAIM = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HGET', KEYS[1], 'state')
if not state then
  redis.call('HSET', KEYS[1], 'state', 'claimed', 'owner', ARGV[1],
             'until', now + tonumber(ARGV[2]), 'record', ARGV[3])
  return {'claimed', ARGV[3], 0}
end
if state ~= 'claimed' then
  return {'done', redis.call('HGET', KEYS[1], 'record'), 0}
end
local until_ms = tonumber(redis.call('HGET', KEYS[1], 'until'))
if until_ms < now or redis.call('HGET', KEYS[1], 'owner') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'until', now + tonumber(ARGV[2]))
  return {'takeover', redis.call('HGET', KEYS[1], 'record'), 0}
end
return {'busy', false, until_ms}
"""

# KEYS[1] ticket hash, KEYS[2] the pool's backlog, KEYS[3] the pool's load counter,
# KEYS[4] the recent-ids list; ARGV owner, pool id, ticket id, score, recent max.
# 1 = marked and queued for agents, 0 = already assigned, -1 = not ours.
# One script does it all, so a reply lost on a dropped connection and the command
# retried never counts the pool's load twice.
_MARK = """
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'claimed' and redis.call('HGET', KEYS[1], 'owner') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'state', 'assigned', 'pool', ARGV[2], 'score', ARGV[4])
  redis.call('HDEL', KEYS[1], 'owner', 'until')
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
  redis.call('INCR', KEYS[3])
  redis.call('LPUSH', KEYS[4], ARGV[3])
  redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[5]) - 1)
  return 1
end
if state == 'claimed' or not state then return -1 end
return 0
"""

# KEYS[1] ticket hash; ARGV owner, ttl_ms. 1 = renewed, 0 = not (any longer) ours.
_RENEW = """
if redis.call('HGET', KEYS[1], 'state') == 'claimed'
   and redis.call('HGET', KEYS[1], 'owner') == ARGV[1] then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('HSET', KEYS[1], 'until', now + tonumber(ARGV[2]))
  return 1
end
return 0
"""


class RedisTicketStore:
    """Ticket state in Redis under one key prefix."""

    def __init__(self, client: aioredis.Redis, keys: Keys, *, recent_max: int = 10_000) -> None:
        self._r = client
        self._keys = keys
        self._recent_max = recent_max
        self._claim = client.register_script(_CLAIM)
        self._mark = client.register_script(_MARK)
        self._renew = client.register_script(_RENEW)

    async def states(self, ticket_ids: Sequence[str]) -> list[str | None]:
        """Current state of each id (``None`` when never seen), in order."""
        try:
            async with self._r.pipeline(transaction=False) as pipe:
                for tid in ticket_ids:
                    pipe.hget(self._keys.ticket(tid), "state")
                raw = await pipe.execute()
        except RedisError as exc:
            raise TransientError(f"redis: {exc}") from exc
        return [v.decode() if v is not None else None for v in raw]

    async def claim_many(
        self, claims: Sequence[tuple[str, str, bytes]], ttl_ms: int
    ) -> list[ClaimResult]:
        """Atomically, per ticket, take ownership of routing it (one round trip)."""
        if not claims:
            return []
        raw = await self._eval_many(
            self._claim,
            [([self._keys.ticket(tid)], [owner, ttl_ms, record]) for tid, owner, record in claims],
        )
        out = []
        for status, stored, until_ms in raw:
            st: ClaimStatus = status.decode()
            found = stored if isinstance(stored, bytes) else None
            out.append(ClaimResult(st, found, int(until_ms)))
        return out

    async def _eval_many(
        self, script: AsyncScript, calls: Sequence[tuple[list[str], list[Any]]]
    ) -> list[Any]:
        """Run ``script`` once per call in one pipeline, by its SHA.

        (redis-py's Script objects in a pipeline send SCRIPT EXISTS first on every
        execute: a round trip per batch for nothing.) After a Redis restart the script
        cache is empty: load it and run the batch again; every script here is safe to
        repeat for the same owner.
        """
        for attempt in range(2):
            try:
                async with self._r.pipeline(transaction=False) as pipe:
                    for keys, args in calls:
                        pipe.evalsha(script.sha, len(keys), *keys, *args)
                    return list(await pipe.execute())
            except NoScriptError:
                if attempt:
                    raise TransientError("redis: script cache lost twice") from None
                try:
                    await self._r.script_load(script.script)
                except RedisError as exc:
                    raise TransientError(f"redis: {exc}") from exc
            except RedisError as exc:
                raise TransientError(f"redis: {exc}") from exc
        raise AssertionError("unreachable")

    async def mark_assigned_many(self, marks: Sequence[tuple[str, str, str, float]]) -> list[bool]:
        """Record published assignments, queue them in their pool's backlog, count pool
        load and remember the ids (one round trip)."""
        if not marks:
            return []
        raw = await self._eval_many(
            self._mark,
            [
                (
                    [
                        self._keys.ticket(tid),
                        self._keys.backlog(pool_id),
                        self._keys.load(pool_id),
                        self._keys.recent,
                    ],
                    [owner, pool_id, tid, repr(score), self._recent_max],
                )
                for tid, owner, pool_id, score in marks
            ],
        )
        results = [int(v) for v in raw]
        return [r >= 0 for r in results]

    async def renew_many(self, claims: Sequence[tuple[str, str]], ttl_ms: int) -> list[bool]:
        """Extend live claims ``(ticket_id, owner)`` by ``ttl_ms``; per claim, False when
        it is no longer the owner's (one round trip)."""
        if not claims:
            return []
        raw = await self._eval_many(
            self._renew, [([self._keys.ticket(tid)], [owner, ttl_ms]) for tid, owner in claims]
        )
        return [int(v) == 1 for v in raw]

    async def get(self, ticket_id: str) -> StoredTicket | None:
        """The stored state and record, or None."""
        try:
            state, record = await self._r.hmget(self._keys.ticket(ticket_id), ["state", "record"])
        except RedisError as exc:
            raise TransientError(f"redis: {exc}") from exc
        if not isinstance(state, bytes) or not isinstance(record, bytes):
            return None
        return StoredTicket(state.decode(), record)

    async def loads(self, pool_ids: Sequence[str]) -> dict[str, int]:
        """Open assignments per pool."""
        if not pool_ids:
            return {}
        try:
            raw = await self._r.mget([self._keys.load(p) for p in pool_ids])
        except RedisError as exc:
            raise TransientError(f"redis: {exc}") from exc
        return {p: int(v) if v is not None else 0 for p, v in zip(pool_ids, raw, strict=True)}

    async def recent_ids(self, n: int) -> list[str]:
        """Ids of the ``n`` most recently assigned tickets, newest first."""
        raw = await self._r.lrange(self._keys.recent, 0, n - 1)
        return [v.decode() if isinstance(v, bytes) else v for v in raw]

    async def ping(self) -> bool:
        """True when Redis answers."""
        try:
            return bool(await self._r.ping())
        except (RedisError, OSError):
            return False
