"""Tickets in from RabbitMQ, assignments out to pool queues: exact counts."""

from __future__ import annotations

import random
from collections import Counter

import orjson
import pytest
import redis.asyncio as aioredis
from aio_pika.abc import AbstractRobustConnection

from queues.keys import Keys
from router.http import appkeys as K
from router.http.openapi import openapi_document
from router.service.settings import Names
from tests.integration.conftest import RunningService, drain, drain_pools, publish, wait_for
from tests.tickets import make_tickets

pytestmark = pytest.mark.integration


async def _settled(service: RunningService, received: int) -> bool:
    return (
        service.metric("router_tickets_received_total", {"transport": "amqp"}) >= received
        and service.metric("router_tickets_in_flight") == 0
    )


async def _records(redis_client: aioredis.Redis, names: Names) -> dict[str, dict[bytes, bytes]]:
    keys = Keys(names.redis_prefix)
    out: dict[str, dict[bytes, bytes]] = {}
    async for key in redis_client.scan_iter(match=keys.ticket("*"), count=1000):
        fields = await redis_client.hgetall(key)
        out[key.decode()] = {bytes(k): bytes(v) for k, v in fields.items()}  # type: ignore[arg-type]
    return out


async def test_n_tickets_give_exactly_n_assignments(
    service: RunningService,
    amqp: AbstractRobustConnection,
    redis_client: aioredis.Redis,
    names: Names,
) -> None:
    tickets = make_tickets(300, seed=1)
    channel = await amqp.channel()
    await publish(channel, names, [orjson.dumps(t) for t in tickets])
    await wait_for(lambda: _settled(service, 300), what="300 tickets processed")

    per_pool = await drain_pools(channel, names, service.app[K.CONFIG].value.pool_ids)
    assignments = [a for per in per_pool.values() for a in per]
    ids = Counter(a["ticket_id"] for a in assignments)
    assert len(assignments) == 300
    assert set(ids) == {t["id"] for t in tickets}
    assert max(ids.values()) == 1
    records = await _records(redis_client, names)
    assert len(records) == 300
    assert {r[b"state"] for r in records.values()} == {b"assigned"}
    assert await drain(channel, names.dead_queue) == []
    assert service.metric("router_tickets_duplicate_total") == 0


async def test_every_message_delivered_twice_still_one_assignment_each(
    service: RunningService,
    amqp: AbstractRobustConnection,
    redis_client: aioredis.Redis,
    names: Names,
) -> None:
    tickets = make_tickets(200, seed=2)
    bodies = [orjson.dumps(t) for t in tickets] * 2
    random.Random(3).shuffle(bodies)  # duplicates land in the same and in later batches
    channel = await amqp.channel()
    await publish(channel, names, bodies)
    await wait_for(lambda: _settled(service, 400), what="400 messages processed")

    per_pool = await drain_pools(channel, names, service.app[K.CONFIG].value.pool_ids)
    ids = Counter(a["ticket_id"] for per in per_pool.values() for a in per)
    assert sum(ids.values()) == 200
    assert len(ids) == 200
    assert len(await _records(redis_client, names)) == 200
    assert service.metric("router_tickets_duplicate_total") == 200


async def test_two_replicas_share_the_queue_without_doubles(
    start_service: object,
    amqp: AbstractRobustConnection,
    redis_client: aioredis.Redis,
    names: Names,
) -> None:
    first = await start_service()  # type: ignore[operator]
    second = await start_service()  # type: ignore[operator]
    tickets = make_tickets(400, seed=4)
    bodies = [orjson.dumps(t) for t in tickets] * 2
    random.Random(5).shuffle(bodies)
    channel = await amqp.channel()
    await publish(channel, names, bodies)

    async def both_settled() -> bool:
        got = sum(
            s.metric("router_tickets_received_total", {"transport": "amqp"})
            for s in (first, second)
        )
        idle = all(s.metric("router_tickets_in_flight") == 0 for s in (first, second))
        return got >= 800 and idle

    await wait_for(both_settled, what="800 messages processed by two replicas")
    per_pool = await drain_pools(channel, names, first.app[K.CONFIG].value.pool_ids)
    ids = Counter(a["ticket_id"] for per in per_pool.values() for a in per)
    assert sum(ids.values()) == 400
    assert len(ids) == 400
    assert first.metric("router_tickets_received_total", {"transport": "amqp"}) > 0
    assert second.metric("router_tickets_received_total", {"transport": "amqp"}) > 0


async def test_assignment_carries_the_decision_and_the_ticket(
    service: RunningService, amqp: AbstractRobustConnection, names: Names
) -> None:
    ticket = make_tickets(1, seed=6)[0] | {"x_platform_field": {"keep": True}}
    channel = await amqp.channel()
    await publish(channel, names, [orjson.dumps(ticket)])
    await wait_for(lambda: _settled(service, 1), what="one ticket processed")
    per_pool = await drain_pools(channel, names, service.app[K.CONFIG].value.pool_ids)
    [assignment] = [a for per in per_pool.values() for a in per]
    required = openapi_document()["components"]["schemas"]["Assignment"]["required"]
    for key in required:
        assert key in assignment, key
    assert assignment["ticket_id"] == ticket["id"]
    assert assignment["config_version"] == service.app[K.CONFIG].value.version
    assert assignment["model_version"] == service.app[K.MODEL].value.version
    assert assignment["ticket"]["x_platform_field"] == {"keep": True}
    assert assignment["reasons"]


async def test_card_data_stays_in_house(
    service: RunningService, amqp: AbstractRobustConnection, names: Names
) -> None:
    ticket = make_tickets(1, seed=7)[0] | {"body": "Please charge 4111 1111 1111 1111 again."}
    channel = await amqp.channel()
    await publish(channel, names, [orjson.dumps(ticket)])
    await wait_for(lambda: _settled(service, 1), what="one ticket processed")
    per_pool = await drain_pools(channel, names, service.app[K.CONFIG].value.pool_ids)
    [assignment] = [a for per in per_pool.values() for a in per]
    assert assignment["rule"] == "card-data"
    assert assignment["pool_kind"] == "in_house"
