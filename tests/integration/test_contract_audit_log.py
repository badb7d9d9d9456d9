"""The audit log's contract, run against the in-memory fake and the Redis stream:
append, newest first, limits, the cap, ids and details through storage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from router.core.audit import AuditRecord
from router.service.ports import AuditLog
from router.service.settings import Names
from tests.integration.contract_backends import KINDS, Backend, backend_for

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 30, 0, 30, tzinfo=UTC)


class Ticking:
    """A clock one minute later at each reading."""

    def __init__(self) -> None:
        self.readings = 0

    def __call__(self) -> datetime:
        self.readings += 1
        return START + timedelta(minutes=self.readings)


@pytest.fixture(params=KINDS)
def backend(request: pytest.FixtureRequest, names: Names) -> Backend:
    return backend_for(request, names)


@pytest.fixture
def log(backend: Backend) -> AuditLog:
    return backend.audit(maxlen=3, clock=Ticking())


def _id(entry_id: str | None) -> tuple[int, int]:
    assert entry_id is not None
    ms, seq = entry_id.split("-")
    return int(ms), int(seq)


async def test_a_record_comes_back_with_its_id(log: AuditLog) -> None:
    details = {"scopes": "admin ingest", "nested": {"n": [1, 2]}, "none": None}
    entry = await log.record("cli:ops", "token.create", "abc", details)
    assert entry == AuditRecord(
        START + timedelta(minutes=1), "cli:ops", "token.create", "abc", details, entry.entry_id
    )
    assert await log.recent(10) == [
        {
            "id": entry.entry_id,
            "at": "2025-03-30T00:31:00+00:00",
            "actor": "cli:ops",
            "action": "token.create",
            "target": "abc",
            "details": details,
        }
    ]


async def test_newest_first_limited_and_capped(log: AuditLog) -> None:
    assert await log.recent(10) == []
    entries = [await log.record("a", "act", f"t{i}") for i in range(5)]
    ids = [_id(e.entry_id) for e in entries]
    assert ids == sorted(set(ids))  # unique and increasing
    assert [r["target"] for r in await log.recent(10)] == ["t4", "t3", "t2"]  # maxlen 3
    assert [r["target"] for r in await log.recent(2)] == ["t4", "t3"]
    assert [r["details"] for r in await log.recent(1)] == [{}]
    assert await log.recent(0) == []
    assert await log.recent(-1) == []


async def test_a_record_needs_an_actor_and_an_action(log: AuditLog) -> None:
    for actor, action in (("", "x"), ("x", "")):
        with pytest.raises(ValueError):
            await log.record(actor, action, "t")
    assert await log.recent(10) == []
