"""Redis implementation of :class:`router.service.ports.TicketStore`.

Each ticket has one hash. A batch's states, claims and marks are one Lua script
each (one command, one reply: in a pipeline of a script call per ticket, the
client's packing and parsing per command cost twice the CPU); each ticket in the
script is handled as on its own. Claims use the Redis server clock, so replicas
with skewed clocks still agree on when a claim expired.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.sentinel import SentinelConnectionPool
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError, RedisError

from queues.keys import Keys
from router.core.errors import TransientError
from router.service.ports import ClaimResult, ClaimStatus, StoredTicket

# KEYS the tickets' hashes; ARGV[1] ttl_ms, then every owner, then every record.
# Per ticket {status, stored record or false, until_ms}; a new claim's record is the
# one given, not sent back.
_CLAIM = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
local n = #KEYS
local out = {}
for i = 1, n do
  local key, owner = KEYS[i], ARGV[1 + i]
  local state = redis.call('HGET', key, 'state')
  if not state then
    redis.call('HSET', key, 'state', 'claimed', 'owner', owner, 'until', now + ttl,
               'record', ARGV[1 + n + i])
    out[i] = {'claimed', false, 0}
  elseif state ~= 'claimed' then
    out[i] = {'done', redis.call('HGET', key, 'record'), 0}
  else
    local until_ms = tonumber(redis.call('HGET', key, 'until'))
    if until_ms < now or redis.call('HGET', key, 'owner') == owner then
      redis.call('HSET', key, 'owner', owner, 'until', now + ttl)
      out[i] = {'takeover', redis.call('HGET', key, 'record'), 0}
    else
      out[i] = {'busy', false, until_ms}
    end
  end
end
return out
"""

# KEYS[1] the recent-ids list, KEYS[2] the escalation schedule, then every ticket's
# hash, then per pool of the batch its backlog and its load counter. ARGV[1] recent
# max, ARGV[2] the number of tickets n, then per ticket one string "owner TAB pool
# number TAB score TAB first escalation check (ms, '+inf', or '' to leave the ticket to
# the sweeper's discovery) TAB ticket id" (one argument a ticket, not five: the client
# packs and sends each argument on its own, and a batch's pools are named once), then
# the pools' ids. Per ticket 1 = marked and queued for agents, 0 = already assigned,
# -1 = not ours. One script does it all, so a reply lost on a dropped connection and
# the command retried never counts a pool's load twice, and a queued ticket is never
# without its schedule entry.
_MARK = """
local n = tonumber(ARGV[2])
local out = {}
for i = 1, n do
  local hash, a = KEYS[2 + i], ARGV[2 + i]
  local t1 = string.find(a, '\t', 1, true)
  local t2 = string.find(a, '\t', t1 + 1, true)
  local t3 = string.find(a, '\t', t2 + 1, true)
  local t4 = string.find(a, '\t', t3 + 1, true)
  local owner = string.sub(a, 1, t1 - 1)
  local p = tonumber(string.sub(a, t1 + 1, t2 - 1))
  local score, due = string.sub(a, t2 + 1, t3 - 1), string.sub(a, t3 + 1, t4 - 1)
  local tid = string.sub(a, t4 + 1)
  local backlog, load, pool = KEYS[1 + n + 2 * p], KEYS[2 + n + 2 * p], ARGV[2 + n + p]
  local state = redis.call('HGET', hash, 'state')
  if state == 'claimed' and redis.call('HGET', hash, 'owner') == owner then
    redis.call('HSET', hash, 'state', 'assigned', 'pool', pool, 'score', score)
    redis.call('HDEL', hash, 'owner', 'until')
    redis.call('ZADD', backlog, score, tid)
    if due ~= '' then redis.call('ZADD', KEYS[2], due, tid) end
    redis.call('INCR', load)
    redis.call('LPUSH', KEYS[1], tid)
    out[i] = 1
  elseif state == 'claimed' or not state then
    out[i] = -1
  else
    out[i] = 0
  end
end
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[1]) - 1)
return out
"""

# KEYS the tickets' hashes: each one's state, or false.
_STATES = """
local out = {}
for i = 1, #KEYS do
  out[i] = redis.call('HGET', KEYS[i], 'state')
end
return out
"""

# KEYS the tickets' hashes; ARGV[1] ttl_ms, then every owner. Per ticket 1 = renewed,
# 0 = not (any longer) ours.
_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
for i = 1, #KEYS do
  if redis.call('HGET', KEYS[i], 'state') == 'claimed'
     and redis.call('HGET', KEYS[i], 'owner') == ARGV[1 + i] then
    redis.call('HSET', KEYS[i], 'until', now + tonumber(ARGV[1]))
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
"""


def _due_arg(first_due_ms: Sequence[float] | None, i: int) -> str:
    """The schedule score of mark ``i`` as the lease store writes it ('' for none)."""
    if first_due_ms is None:
        return ""
    due = first_due_ms[i]
    return "+inf" if math.isinf(due) else str(int(due))


class RedisTicketStore:
    """Ticket state in Redis under one key prefix."""

    def __init__(
        self,
        client: aioredis.Redis,
        keys: Keys,
        *,
        recent_max: int = 10_000,
        wait_replicas: int = 0,
        wait_timeout_ms: int = 1000,
    ) -> None:
        self._r = client
        self._keys = keys
        self._recent_max = recent_max
        self._wait_replicas = wait_replicas
        self._wait_timeout_ms = wait_timeout_ms
        self._claim = client.register_script(_CLAIM)
        self._mark = client.register_script(_MARK)
        self._renew = client.register_script(_RENEW)
        self._states = client.register_script(_STATES)

    async def states(self, ticket_ids: Sequence[str]) -> list[str | None]:
        """Current state of each id (``None`` when never seen), in order."""
        if not ticket_ids:
            return []
        raw = await self._eval(self._states, [self._keys.ticket(t) for t in ticket_ids], [])
        return [v.decode() if isinstance(v, bytes) else None for v in raw]

    async def claim_many(
        self, claims: Sequence[tuple[str, str, bytes]], ttl_ms: int
    ) -> list[ClaimResult]:
        """Atomically, per ticket, take ownership of routing it (one round trip)."""
        if not claims:
            return []
        raw = await self._eval(
            self._claim,
            [self._keys.ticket(tid) for tid, _, _ in claims],
            [ttl_ms, *(owner for _, owner, _ in claims), *(record for _, _, record in claims)],
        )
        out = []
        for (_, _, record), (status, stored, until_ms) in zip(claims, raw, strict=True):
            st: ClaimStatus = status.decode()
            found = record if st == "claimed" else stored if isinstance(stored, bytes) else None
            out.append(ClaimResult(st, found, int(until_ms)))
        return out

    async def _eval(self, script: AsyncScript, keys: list[str], args: list[Any]) -> list[Any]:
        """Run ``script`` by its SHA; after a Redis restart (an empty script cache) load
        it and run it again (every script here is safe to repeat for the same owner)."""
        for attempt in range(2):
            try:
                return list(await self._r.evalsha(script.sha, len(keys), *keys, *args))
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

    async def mark_assigned_many(
        self,
        marks: Sequence[tuple[str, str, str, float]],
        first_due_ms: Sequence[float] | None = None,
    ) -> list[bool]:
        """Record published assignments, queue them in their pool's backlog, count pool
        load, remember the ids and, with ``first_due_ms``, put each on the escalation
        schedule at its first check (one round trip)."""
        if not marks:
            return []
        if first_due_ms is not None and len(first_due_ms) != len(marks):
            raise ValueError("one first due time per mark")
        keys = [self._keys.recent, self._keys.escalations]
        args: list[Any] = [self._recent_max, len(marks)]
        pools: dict[str, int] = {}
        for i, (tid, owner, pool_id, score) in enumerate(marks):
            if "\t" in owner:
                raise ValueError(f"an owner holds no tab: {owner!r}")
            number = pools.setdefault(pool_id, len(pools) + 1)
            keys.append(self._keys.ticket(tid))
            args.append(f"{owner}\t{number}\t{score!r}\t{_due_arg(first_due_ms, i)}\t{tid}")
        for pool_id in pools:
            keys += (self._keys.backlog(pool_id), self._keys.load(pool_id))
        args += pools
        raw = await self._eval(self._mark, keys, args)
        return [int(v) >= 0 for v in raw]

    async def renew_many(self, claims: Sequence[tuple[str, str]], ttl_ms: int) -> list[bool]:
        """Extend live claims ``(ticket_id, owner)`` by ``ttl_ms``; per claim, False when
        it is no longer the owner's (one round trip)."""
        if not claims:
            return []
        raw = await self._eval(
            self._renew,
            [self._keys.ticket(tid) for tid, _ in claims],
            [ttl_ms, *(owner for _, owner in claims)],
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

    async def replicated(self) -> None:
        """``WAIT`` until the configured number of replicas holds every write made so far.

        Redis replicates asynchronously: without this, what a primary took just before a
        failover (records of tickets already acked) is missing on the promoted replica.
        ``WAIT`` counts the writes of its own connection, so a mark is written first on
        the same connection (a pipeline): the replication stream is ordered, so a replica
        that has the mark has every write that came before it, from any connection."""
        if self._wait_replicas <= 0:
            return
        try:
            async with self._r.pipeline(transaction=False) as pipe:
                pipe.set(self._keys.replication_mark, "1", px=60_000)
                pipe.wait(self._wait_replicas, self._wait_timeout_ms)
                _, acked = await pipe.execute()
        except RedisError as exc:
            raise TransientError(f"redis: {exc}") from exc
        if int(acked) < self._wait_replicas:
            await self._follow_failover()
            raise TransientError(
                f"redis: the writes reached {int(acked)} of {self._wait_replicas} replicas "
                f"within {self._wait_timeout_ms} ms"
            )

    async def _follow_failover(self) -> None:
        """Behind Sentinel, ask which server is the primary now. After a failover the old
        primary takes writes until Sentinel demotes it (seconds), and a WAIT there never
        succeeds: its replica is the new primary. Asking moves the idle connections to
        the new primary at once (redis-py drops them when the primary changed)."""
        pool = self._r.connection_pool
        if isinstance(pool, SentinelConnectionPool):
            with contextlib.suppress(RedisError, OSError):
                await pool.get_master_address()  # type: ignore[no-untyped-call]  # redis-py: untyped

    async def ping(self) -> bool:
        """True when Redis answers."""
        try:
            return bool(await self._r.ping())
        except (RedisError, OSError):
            return False
