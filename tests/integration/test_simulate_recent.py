"""``ticket-router simulate --recent`` against a real Redis: the service's own recent
tickets, read the way the config preview reads them, replayed with their recorded
predictions."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio as aioredis

from classifiers.types import Prediction
from queues.keys import Keys
from queues.ticket_store import RedisTicketStore
from router.cli.main import main
from router.config.load import load_config
from router.core.assignment import Assignment
from router.core.policy import decide
from router.core.ticket_schema import ticket_from_object
from tests.conftest import EXAMPLE_CONFIG, REDIS_URL

pytestmark = pytest.mark.integration

MONDAY = datetime(2026, 3, 2, tzinfo=UTC)


async def store_routed(prefix: str, n: int) -> list[str]:
    """Route ``n`` tickets by the example config and store them as the service does
    (claim, then mark assigned: the record, the backlog, the recent list)."""
    config = load_config(EXAMPLE_CONFIG)
    client = aioredis.Redis.from_url(REDIS_URL)
    store = RedisTicketStore(client, Keys(prefix))
    pools = []
    try:
        for i in range(n):
            at = MONDAY + timedelta(hours=9, minutes=7 * i)
            ticket = ticket_from_object(
                {
                    "id": f"r{i}",
                    "subject": "cannot log in",
                    "created_at": at.isoformat(),
                    "customer": {"country": "DE" if i % 3 == 0 else "US"},
                }
            )
            tier = "tier2" if i % 4 == 0 else "tier1"
            prediction = Prediction("en", 0.99, tier, 0.9, "account", 0.8, None, "none", "m1")
            decision = decide(ticket, prediction, config, {}, at)
            record = Assignment.build(ticket, prediction, decision, received_at=at).encode()
            (claim,) = await store.claim_many([(ticket.id, "test", record)], 30_000)
            assert claim.status == "claimed"
            assert await store.mark_assigned_many([(ticket.id, "test", decision.pool_id, 0.0)])
            pools.append(decision.pool_id)
    finally:
        await client.aclose()
    return pools


async def remove(prefix: str) -> None:
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        keys = [k async for k in client.scan_iter(match=f"{prefix}*", count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


def test_recent_tickets_are_replayed_with_their_recorded_predictions(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    prefix = f"test:{uuid.uuid4().hex}:"
    monkeypatch.setenv("ROUTER_REDIS_URL", REDIS_URL)
    monkeypatch.setenv("ROUTER_REDIS_PREFIX", prefix)
    try:
        pools = asyncio.run(store_routed(prefix, 30))
        code = main(["simulate", "--recent", "25", "--config", str(EXAMPLE_CONFIG), "--json"])
        out, err = capsys.readouterr()
    finally:
        asyncio.run(remove(prefix))
    assert (code, err) == (0, "")
    data = json.loads(out)
    # The 25 most recent of the 30: r5 .. r29, replayed in the week they were routed in.
    assert data["arrivals"] == 25
    assert data["source"] == {
        "kind": "recent", "requested": 25, "refused": 0, "outside_week": 0, "classified": 0,
    }  # fmt: skip
    assert data["week"]["start"] == "2026-03-02T00:00:00+00:00"
    # Same config, same instants, same recorded predictions: the same first pools.
    run = data["runs"][0]
    assert run["totals"]["routed_first"] == dict(sorted(Counter(pools[5:]).items()))


def test_recent_without_redis_is_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ROUTER_REDIS_URL", "redis://127.0.0.1:1/0")
    code = main(["simulate", "--recent", "--config", str(EXAMPLE_CONFIG)])
    _, err = capsys.readouterr()
    assert code == 1
    assert err.startswith("ticket-router simulate: cannot reach Redis")
