"""KPI buckets in Redis: one hash per minute, per hour and per day, ``field -> integer``.

A write is one Lua script for every minute it touches (``HINCRBY`` into the minute's
hash, its hour's and its day's, then ``EXPIRE`` them): atomic, and idempotent by its
write id (a marker key set with ``NX``), so a write that the client retries after a lost
reply counts once. Minute, hour and day hashes live
:data:`~router.core.kpi.MINUTE_TTL_S`, :data:`~router.core.kpi.HOUR_TTL_S` and
:data:`~router.core.kpi.DAY_TTL_S` after their last write: memory depends on how long
they live and how many distinct fields they hold, not on the number of tickets.

The keys (under the deployment's prefix): ``kpi:m:<epoch minute>``,
``kpi:h:<epoch hour>``, ``kpi:d:<epoch day>``, ``kpi:w:<write id>``. Like the other
stores this expects one Redis (a multi-key script, which a Redis Cluster would refuse
across slots).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Awaitable, Mapping, Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from queues.keys import Keys
from router.core.errors import TransientError
from router.core.kpi import DAY_TTL_S, HOUR_TTL_S, MINUTE_TTL_S

# Buckets read per pipeline: a year of hours is several pipelines, not one huge reply.
_CHUNK = 500
# Priority bands of a backlog's score (router.core.domain.backlog_score).
_BAND = 10**13
_BANDS = 4
_WRITE_TTL_S = 3600

# KEYS marker, then (minute, hour, day hash) per minute; ARGV marker TTL, minute TTL,
# hour TTL, day TTL, then per minute: its number of fields, then field, increment pairs.
# -> 1 added, 0 already added (a retried write).
_ADD = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
local at = 5
for k = 2, #KEYS, 3 do
  local n = tonumber(ARGV[at])
  for i = at + 1, at + 2 * n, 2 do
    for j = 0, 2 do redis.call('HINCRBY', KEYS[k + j], ARGV[i], ARGV[i + 1]) end
  end
  at = at + 2 * n + 1
  for j = 0, 2 do redis.call('EXPIRE', KEYS[k + j], ARGV[2 + j]) end
end
return 1
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisKpiStore:
    """:class:`router.service.ports.KpiStore` on one Redis under one key prefix."""

    def __init__(
        self,
        client: aioredis.Redis,
        keys: Keys,
        *,
        ttls_s: tuple[int, int, int] = (MINUTE_TTL_S, HOUR_TTL_S, DAY_TTL_S),
    ) -> None:
        self._r = client
        self._keys = keys
        self._ttls = ttls_s
        self._add = client.register_script(_ADD)

    def minute_key(self, minute: int) -> str:
        """Hash: the counts of one minute (epoch minutes)."""
        return f"{self._keys.prefix}kpi:m:{minute}"

    def hour_key(self, hour: int) -> str:
        """Hash: the counts of one hour (epoch hours), written with its minutes."""
        return f"{self._keys.prefix}kpi:h:{hour}"

    def day_key(self, day: int) -> str:
        """Hash: the counts of one day (epoch days, UTC), written with its minutes."""
        return f"{self._keys.prefix}kpi:d:{day}"

    async def _call(self, pending: Awaitable[Any]) -> Any:
        try:
            return await pending
        except RedisError as exc:
            raise TransientError(f"redis: {exc}") from exc

    async def add(
        self, buckets: Mapping[int, Mapping[str, int]], write_id: str | None = None
    ) -> None:
        """Add the counts of each minute to its minute, hour and day hashes, atomically;
        a ``write_id`` given again (a retry) adds nothing the second time."""
        keys = [f"{self._keys.prefix}kpi:w:{write_id or uuid.uuid4().hex}"]
        args: list[str | int] = [_WRITE_TTL_S, *self._ttls]
        for minute, fields in sorted(buckets.items()):
            pairs = [(f, n) for f, n in fields.items() if n]
            if not pairs:
                continue
            keys += [
                self.minute_key(minute), self.hour_key(minute // 60), self.day_key(minute // 1440)
            ]  # fmt: skip
            args.append(len(pairs))
            for name, n in pairs:
                args += [name, n]
        if len(keys) > 1:
            await self._call(self._add(keys=keys, args=args))

    async def read(
        self,
        minutes: Sequence[int],
        hours: Sequence[int],
        days: Sequence[int],
        fields: Sequence[str] | None = None,
    ) -> dict[str, int]:
        """The sum of the given buckets (``HGETALL``, or ``HMGET`` of ``fields``)."""
        keys = [
            *map(self.minute_key, minutes), *map(self.hour_key, hours), *map(self.day_key, days)
        ]  # fmt: skip
        total: Counter[str] = Counter()
        if fields is not None and not fields:
            return {}
        for i in range(0, len(keys), _CHUNK):
            async with self._r.pipeline(transaction=False) as pipe:
                for key in keys[i : i + _CHUNK]:
                    if fields is None:
                        pipe.hgetall(key)
                    else:
                        pipe.hmget(key, list(fields))
                rows = await self._call(pipe.execute())
            for row in rows:
                if fields is None:
                    total.update({_text(k): int(v) for k, v in row.items()})
                else:
                    total.update({f: int(v) for f, v in zip(fields, row, strict=True) if v})
        return {k: v for k, v in total.items() if v}

    async def oldest_waiting(self, pool_ids: Sequence[str]) -> dict[str, int]:
        """The receipt time (epoch ms) of each pool's longest-waiting queued ticket: the
        first of each priority band of its backlog, the earliest of those."""
        if not pool_ids:
            return {}
        async with self._r.pipeline(transaction=False) as pipe:
            for pool_id in pool_ids:
                for band in range(_BANDS):
                    low = band * _BAND
                    pipe.zrangebyscore(
                        self._keys.backlog(pool_id),
                        low,
                        f"({low + _BAND}",
                        start=0,
                        num=1,
                        withscores=True,
                    )
            rows = await self._call(pipe.execute())
        out: dict[str, int] = {}
        for i, pool_id in enumerate(pool_ids):
            bands = rows[i * _BANDS : (i + 1) * _BANDS]
            firsts = [int(score) % _BAND for row in bands for _, score in row]
            if firsts:
                out[pool_id] = min(firsts)
        return out

    async def memory_usage(self, minute: int) -> tuple[int, int, int]:
        """Bytes Redis uses for a minute's hash, its hour's and its day's (``MEMORY
        USAGE``; 0 when absent), for the sizing figures of the benchmark."""
        async with self._r.pipeline(transaction=False) as pipe:
            for key in (
                self.minute_key(minute), self.hour_key(minute // 60), self.day_key(minute // 1440)
            ):  # fmt: skip
                pipe.memory_usage(key, samples=0)
            used = await self._call(pipe.execute())
        return int(used[0] or 0), int(used[1] or 0), int(used[2] or 0)
