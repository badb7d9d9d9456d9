"""The audit log on a Redis stream: append-only, capped, newest read first.

One stream key, ``<prefix>audit``; XADD trims it to about ``maxlen`` entries
(approximate trimming costs Redis nothing extra, exact trimming is for tests).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError
from redis.typing import EncodableT, FieldT

from router.core.audit import AuditRecord
from router.core.errors import TransientError


def _utcnow() -> datetime:
    return datetime.now(UTC)


class RedisAuditLog:
    """Audit records in a Redis stream under ``<prefix>audit``."""

    def __init__(
        self,
        redis: aioredis.Redis,
        prefix: str = "tr:",
        maxlen: int = 100_000,
        *,
        approximate: bool = True,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        if maxlen < 1:
            raise ValueError("maxlen must be at least 1")
        self._r = redis
        self.key = f"{prefix}audit"
        self._maxlen = maxlen
        self._approximate = approximate
        self._clock = clock

    async def record(
        self, actor: str, action: str, target: str, details: Mapping[str, Any] | None = None
    ) -> AuditRecord:
        """Append one record; return it with its stream entry id."""
        entry = AuditRecord(self._clock(), actor, action, target, details or {})
        fields: dict[FieldT, EncodableT] = {k: v for k, v in entry.to_fields().items()}
        try:
            entry_id = await self._r.xadd(
                self.key, fields, maxlen=self._maxlen, approximate=self._approximate
            )
        except RedisError as exc:
            raise TransientError(f"redis: {exc}") from exc
        return replace(entry, entry_id=_text(entry_id))

    async def recent(self, n: int = 100) -> list[dict[str, Any]]:
        """The ``n`` newest records, newest first, as JSON-ready dicts."""
        if n < 1:
            return []
        try:
            entries = await self._r.xrevrange(self.key, count=n)
        except RedisError as exc:
            raise TransientError(f"redis: {exc}") from exc
        return [
            AuditRecord.from_fields(_text(eid), fields or {}).to_dict()
            for eid, fields in entries or ()
        ]


def _text(value: bytes | str | None) -> str:
    if isinstance(value, bytes):
        return value.decode()
    return value or ""
