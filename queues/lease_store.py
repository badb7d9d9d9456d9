"""Leases in Redis: agents pull, claim and work the tickets of their pool's backlog.

Each operation is one Lua script (:mod:`queues.lease_scripts`), so the capacity
check and the lease, or a lease check and the move that follows it, can never be
split by another replica. A pool's open count is the size of its leases set.

The scripts name the ticket hash of a popped id from the key prefix, which a Redis
Cluster would refuse; like the router's ticket store this expects one Redis (with
replicas or Sentinel for failover).
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from queues import lease_scripts as lua
from queues.keys import Keys
from router.core.errors import TransientError
from router.core.leases import Acted, Action, Held, Lease, Refusal, RefusalReason


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _refusal(raw: Sequence[Any]) -> Refusal:
    reason: RefusalReason = _text(raw[0])  # type: ignore[assignment]
    detail = _text(raw[1]) if len(raw) > 1 and raw[1] not in (None, False) else None
    return Refusal(reason, detail)


class RedisLeaseStore:
    """Lease operations on one Redis under one key prefix."""

    def __init__(self, client: aioredis.Redis, keys: Keys) -> None:
        self._r = client
        self._keys = keys
        self._pull = client.register_script(lua.PULL)
        self._claim = client.register_script(lua.CLAIM)
        self._act = client.register_script(lua.ACT)
        self._move = client.register_script(lua.MOVE)
        self._expire = client.register_script(lua.EXPIRE)
        self._discover = client.register_script(lua.DISCOVER)
        self._reschedule = client.register_script(lua.RESCHEDULE)

    @property
    def keys(self) -> Keys:
        """The key builders in use."""
        return self._keys

    async def _call(self, pending: Awaitable[Any]) -> Any:
        try:
            return await pending
        except RedisError as exc:
            raise TransientError(f"redis: {exc}") from exc

    async def pull(
        self, pool_id: str, agent: str, lease_id: str, lease_ms: int, capacity: int
    ) -> Lease | Refusal:
        """Lease the most urgent queued ticket of the pool to ``agent`` if the pool is
        under ``capacity``; ``Refusal('full' | 'empty', open count)`` otherwise."""
        k = self._keys
        raw = await self._call(
            self._pull(
                keys=[k.backlog(pool_id), k.leases(pool_id), k.escalations],
                args=[pool_id, agent, lease_id, lease_ms, capacity, k.ticket_prefix],
            )
        )
        if _text(raw[0]) != "leased":
            return _refusal(raw)
        return Lease(_text(raw[1]), agent, lease_id, int(raw[2]), bytes(raw[3]))

    async def claim(
        self,
        pool_id: str,
        ticket_id: str,
        agent: str,
        lease_id: str,
        lease_ms: int,
        capacity: int,
    ) -> Lease | Refusal:
        """Lease one named queued ticket (a message taken from the pool's queue)."""
        k = self._keys
        raw = await self._call(
            self._claim(
                keys=[
                    k.ticket(ticket_id), k.backlog(pool_id), k.leases(pool_id), k.escalations
                ],
                args=[pool_id, agent, lease_id, lease_ms, capacity, ticket_id],
            )
        )  # fmt: skip
        if _text(raw[0]) != "leased":
            return _refusal(raw)
        return Lease(ticket_id, agent, _text(raw[1]), int(raw[2]), bytes(raw[3]))

    async def act(
        self, action: Action, pool_id: str, ticket_id: str, lease_id: str, argument: str = ""
    ) -> Acted | Refusal:
        """Do ``action`` for the holder of ``lease_id``: ``check`` (read the record),
        ``accept``, ``extend`` (``argument`` = ms from now), ``complete`` (``argument``
        = outcome) or ``release`` (``argument`` = reason)."""
        k = self._keys
        raw = await self._call(
            self._act(
                keys=[
                    k.ticket(ticket_id), k.backlog(pool_id), k.leases(pool_id),
                    k.escalations, k.load(pool_id),
                ],
                args=[action, pool_id, ticket_id, lease_id, argument],
            )
        )  # fmt: skip
        if _text(raw[0]) != "ok":
            return _refusal(raw)
        record = bytes(raw[3]) if len(raw) > 3 and isinstance(raw[3], bytes) else None
        agent = _text(raw[4]) if len(raw) > 4 and isinstance(raw[4], bytes) else None
        return Acted(_text(raw[1]), int(raw[2]), record, agent)

    async def move(
        self,
        ticket_id: str,
        *,
        from_pool: str,
        to_pool: str,
        record: bytes,
        lease_id: str | None = None,
        steps_used: int | None = None,
        new_steps_used: int,
        why: str,
    ) -> Refusal | None:
        """Store ``record`` and queue the ticket in ``to_pool``, as one check-and-set:
        either the holder of ``lease_id`` moves it, or (the SLA sweep) it must still be
        unaccepted in ``from_pool`` with ``steps_used`` steps used. None when done."""
        if (lease_id is None) == (steps_used is None):
            raise ValueError("give exactly one of lease_id and steps_used")
        k = self._keys
        mode, check = ("lease", lease_id) if lease_id is not None else ("sla", str(steps_used))
        raw = await self._call(
            self._move(
                keys=[
                    k.ticket(ticket_id), k.backlog(from_pool), k.leases(from_pool),
                    k.backlog(to_pool), k.load(from_pool), k.load(to_pool), k.escalations,
                ],
                args=[mode, from_pool, ticket_id, check, to_pool, record, new_steps_used, why],
            )
        )  # fmt: skip
        return None if _text(raw[0]) == "ok" else _refusal(raw)

    async def expire(self, pool_id: str, limit: int = 200) -> list[str]:
        """Return the pool's expired leases to its backlog; the ids returned."""
        k = self._keys
        raw = await self._call(
            self._expire(
                keys=[k.leases(pool_id), k.backlog(pool_id)],
                args=[pool_id, k.ticket_prefix, limit],
            )
        )
        return [_text(v) for v in raw]

    async def discover(self, pool_id: str) -> int:
        """Put the pool's queued tickets the escalation schedule lacks on it (due now):
        released after acceptance, or recorded without a schedule entry (older version)."""
        k = self._keys
        raw = await self._call(self._discover(keys=[k.backlog(pool_id), k.escalations]))
        return int(raw)

    async def due(self, now_ms: int, limit: int = 200) -> list[tuple[str, int, bytes, str]]:
        """Tickets whose escalation check is due: (id, steps used, record, state)."""
        ids = await self._call(
            self._r.zrangebyscore(self._keys.escalations, "-inf", now_ms, start=0, num=limit)
        )
        if not ids:
            return []
        async with self._r.pipeline(transaction=False) as pipe:
            for tid in ids:
                pipe.hmget(self._keys.ticket(_text(tid)), ["step", "record", "state"])
            rows = await self._call(pipe.execute())
        out = []
        for tid, (step, record, state) in zip(ids, rows, strict=True):
            out.append((_text(tid), int(step or 0), bytes(record or b"{}"), _text(state or b"")))
        return out

    async def reschedule(self, ticket_id: str, steps_used: int, due_ms: float) -> bool:
        """Look at the ticket again at ``due_ms`` (``math.inf``: never), unless it moved
        on meanwhile; a ticket accepted or completed leaves the schedule."""
        score = "+inf" if math.isinf(due_ms) else str(int(due_ms))
        k = self._keys
        raw = await self._call(
            self._reschedule(
                keys=[k.ticket(ticket_id), k.escalations], args=[ticket_id, steps_used, score]
            )
        )
        return bool(raw)

    async def reschedule_many(self, items: Sequence[tuple[str, int, float]]) -> None:
        """:meth:`reschedule` for many ``(ticket id, steps used, due ms)`` in one round
        trip (the tickets of one sweep's due checks)."""
        if not items:
            return
        k = self._keys
        async with self._r.pipeline(transaction=False) as pipe:
            for ticket_id, steps_used, due_ms in items:
                score = "+inf" if math.isinf(due_ms) else str(int(due_ms))
                await self._reschedule(
                    keys=[k.ticket(ticket_id), k.escalations],
                    args=[ticket_id, steps_used, score],
                    client=pipe,
                )
            await self._call(pipe.execute())

    async def server_ms(self) -> int:
        """The Redis server clock in ms, the clock every lease is judged by."""
        seconds, micros = await self._call(self._r.time())
        return int(seconds) * 1000 + int(micros) // 1000

    async def counts(self, pool_id: str) -> tuple[int, int]:
        """(queued, open) of a pool."""
        async with self._r.pipeline(transaction=False) as pipe:
            pipe.zcard(self._keys.backlog(pool_id))
            pipe.zcard(self._keys.leases(pool_id))
            queued, open_ = await self._call(pipe.execute())
        return int(queued), int(open_)

    async def loads(self, pool_ids: Sequence[str]) -> dict[str, int]:
        """Open assignments per pool, as the routing decision counts them."""
        if not pool_ids:
            return {}
        raw = await self._call(self._r.mget([self._keys.load(p) for p in pool_ids]))
        return {p: int(v) if v is not None else 0 for p, v in zip(pool_ids, raw, strict=True)}

    async def listing(self, pool_id: str, limit: int) -> tuple[list[Held], list[Held]]:
        """The pool's first ``limit`` queued tickets (most urgent first) and its leased
        and accepted ones (soonest expiry first)."""
        k = self._keys
        async with self._r.pipeline(transaction=False) as pipe:
            pipe.zrange(k.backlog(pool_id), 0, limit - 1)
            pipe.zrange(k.leases(pool_id), 0, limit - 1)
            queued_ids, leased_ids = await self._call(pipe.execute())
        ids = [_text(t) for t in [*queued_ids, *leased_ids]]
        async with self._r.pipeline(transaction=False) as pipe:
            for tid in ids:
                pipe.hmget(k.ticket(tid), ["state", "agent", "lease_until", "record"])
            rows = await self._call(pipe.execute())
        held = [
            Held(
                tid,
                _text(state or b"missing"),
                _text(agent) if agent else None,
                int(until) if until else None,
                bytes(record) if record else None,
            )
            for tid, (state, agent, until, record) in zip(ids, rows, strict=True)
        ]
        return held[: len(queued_ids)], held[len(queued_ids) :]
