"""Routing config versions in Redis: every change is a new numbered version with who,
when, why and the diff; one pointer says which version is in force.

Replicas learn of a change by pub/sub and, because pub/sub drops messages while a
connection is down, by also re-reading the pointer every few seconds. Appending is
a compare-and-set on the pointer, so two ops editing at once cannot overwrite each
other silently and replicas starting together store the file only once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from router.core.config_version import ConfigConflict as ConfigConflict
from router.core.config_version import ConfigVersion
from router.core.errors import TransientError

# KEYS: seq, current, versions hash; ARGV: expected current ('' = none), record JSON
# (with "number" filled in here), channel. Returns the new number, or -current on conflict.
_APPEND = """
local cur = redis.call('GET', KEYS[2])
if (cur or '') ~= ARGV[1] then
  return -(tonumber(cur) or 0)
end
local n = redis.call('INCR', KEYS[1])
local rec = string.gsub(ARGV[2], '"number":0', '"number":' .. n, 1)
redis.call('HSET', KEYS[3], n, rec)
redis.call('SET', KEYS[2], n)
redis.call('PUBLISH', ARGV[3], n)
return n
"""


class RedisConfigStore:
    """Versioned routing configs under one key prefix (one hash slot, Cluster-safe)."""

    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self._r = client
        # The hash tag keeps the three keys in one slot so the append script is legal
        # on a Redis Cluster.
        base = f"{prefix}{{config}}"
        self._seq = f"{base}:seq"
        self._current = f"{base}:current"
        self._versions = f"{base}:versions"
        self.channel = f"{prefix}config:changed"
        self._append = client.register_script(_APPEND)

    async def current_number(self) -> int | None:
        """The number of the version in force, or None when none was stored yet."""
        try:
            raw = await self._r.get(self._current)
        except RedisError as exc:
            raise TransientError(f"redis: {exc}") from exc
        return int(raw) if raw is not None else None

    async def get(self, number: int) -> ConfigVersion | None:
        """One version, or None."""
        try:
            raw = await self._r.hget(self._versions, str(number))
        except RedisError as exc:
            raise TransientError(f"redis: {exc}") from exc
        return _decode(raw) if raw is not None else None

    async def current(self) -> ConfigVersion | None:
        """The version in force, or None."""
        number = await self.current_number()
        return await self.get(number) if number is not None else None

    async def history(self, limit: int = 50) -> list[ConfigVersion]:
        """The newest ``limit`` versions, newest first."""
        number = await self.current_number()
        if number is None:
            return []
        try:
            seq = int(await self._r.get(self._seq) or number)
            wanted = [str(n) for n in range(seq, max(seq - limit, 0), -1)]
            raws = await self._r.hmget(self._versions, wanted) if wanted else []
        except RedisError as exc:
            raise TransientError(f"redis: {exc}") from exc
        return [_decode(r) for r in raws if r is not None]

    async def append(
        self,
        document: Mapping[str, Any],
        *,
        version: str,
        author: str,
        source: str,
        comment: str,
        diff: Sequence[str],
        expect: int | None,
    ) -> ConfigVersion:
        """Store ``document`` as the new version in force, if ``expect`` is still current.

        Raises :class:`ConfigConflict` when another version was put in force meanwhile.
        """
        at = datetime.now(UTC)
        record = {
            "number": 0,
            "version": version,
            "author": author,
            "at": at.isoformat(),
            "source": source,
            "comment": comment,
            "diff": list(diff),
            "document": document,
        }
        try:
            n = int(
                await self._append(
                    keys=[self._seq, self._current, self._versions],
                    args=[
                        "" if expect is None else str(expect),
                        orjson.dumps(record),
                        self.channel,
                    ],
                )
            )
        except RedisError as exc:
            raise TransientError(f"redis: {exc}") from exc
        if n <= 0:
            raise ConfigConflict(-n)
        return ConfigVersion(n, version, author, at, source, comment, tuple(diff), document)


def _decode(raw: bytes | str) -> ConfigVersion:
    data = orjson.loads(raw)
    return ConfigVersion(
        number=int(data["number"]),
        version=str(data["version"]),
        author=str(data["author"]),
        at=datetime.fromisoformat(data["at"]),
        source=str(data["source"]),
        comment=str(data.get("comment", "")),
        diff=tuple(data.get("diff", ())),
        document=data["document"],
    )
