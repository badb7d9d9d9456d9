"""The audit record shape, and RedisAuditLog against a real Redis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio as aioredis

from queues.audit_log import RedisAuditLog
from router.core.audit import AuditRecord
from router.service.settings import Names

AT = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def test_record_round_trips_through_fields() -> None:
    record = AuditRecord(AT, "cli:ops", "token.create", "abc", {"scopes": ["ingest"], "n": 1})
    fields = record.to_fields()
    assert set(fields) == {"at", "actor", "action", "target", "details"}
    encoded = {k.encode(): v.encode() for k, v in fields.items()}
    back = AuditRecord.from_fields("1-0", encoded)
    assert back.to_dict() == {
        "id": "1-0",
        "at": "2025-06-01T12:00:00+00:00",
        "actor": "cli:ops",
        "action": "token.create",
        "target": "abc",
        "details": {"scopes": ["ingest"], "n": 1},
    }


def test_record_refuses_missing_actor_and_naive_time() -> None:
    with pytest.raises(ValueError, match="actor"):
        AuditRecord(AT, "", "x", "t")
    with pytest.raises(ValueError, match="time-zone aware"):
        AuditRecord(datetime(2025, 1, 1), "a", "x", "t")


class Clock:
    def __init__(self) -> None:
        self.now = AT

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.mark.integration
async def test_recent_is_newest_first(redis_client: aioredis.Redis, names: Names) -> None:
    log = RedisAuditLog(redis_client, names.redis_prefix, clock=Clock())
    written = [
        await log.record("cli:ops", "token.create", f"id{i}", {"i": i, "nested": {"a": [1]}})
        for i in range(3)
    ]
    assert all(r.entry_id for r in written)
    recent = await log.recent(2)
    assert [r["target"] for r in recent] == ["id2", "id1"]
    assert recent[0] == written[2].to_dict()
    assert recent[0]["details"] == {"i": 2, "nested": {"a": [1]}}
    assert recent[0]["at"] == "2025-06-01T12:00:03+00:00"
    assert len(await log.recent(100)) == 3
    assert await log.recent(0) == []
    keys = [k async for k in redis_client.scan_iter(match=f"{names.redis_prefix}*")]
    assert keys == [f"{names.redis_prefix}audit".encode()]


@pytest.mark.integration
async def test_maxlen_caps_the_stream(redis_client: aioredis.Redis, names: Names) -> None:
    log = RedisAuditLog(redis_client, names.redis_prefix, maxlen=5, approximate=False)
    for i in range(12):
        await log.record("svc", "config.apply", f"v{i}")
    assert await redis_client.xlen(log.key) == 5
    assert [r["target"] for r in await log.recent(10)] == [f"v{i}" for i in range(11, 6, -1)]


@pytest.mark.integration
async def test_empty_log(redis_client: aioredis.Redis, names: Names) -> None:
    assert await RedisAuditLog(redis_client, names.redis_prefix).recent(10) == []
