"""Every kind of invalid message lands in the dead queue with its reason, while
valid traffic keeps flowing."""

from __future__ import annotations

import orjson
import pytest
from aio_pika.abc import AbstractRobustConnection

from router.http import appkeys as K
from router.service.settings import Names
from tests.integration.conftest import RunningService, drain, drain_pools, publish, wait_for
from tests.tickets import make_tickets

pytestmark = pytest.mark.integration

# (body, the text x-router-error must contain)
INVALID: list[tuple[bytes, str]] = [
    (b"this is not json", "not valid JSON"),
    (b"[1, 2, 3]", "must be a JSON object, got an array"),
    (b'"just a string"', "must be a JSON object, got a string"),
    (b'{"subject": "no id", "body": "x"}', "id:"),
    (b'{"id": "", "body": "x"}', "id:"),
    (b'{"id": 12345, "body": "x"}', "id:"),
    (b'{"id": "no-text-1", "subject": "  ", "body": ""}', "subject and body are both empty"),
    (b'{"id": "types-1", "body": "x", "tags": "not-a-list"}', "tags:"),
    (b'{"id": "types-2", "body": "x", "priority": "asap"}', "priority:"),
    (b'{"id": "types-3", "body": "x", "channel": "fax"}', "channel:"),
    (b'{"id": "types-4", "body": "x", "created_at": "yesterday"}', "created_at:"),
    (
        b'{"id": "tz-1", "body": "x", "customer": {"timezone": "Mars/Olympus"}}',
        "customer.timezone:",
    ),
    (b'{"id": "cc-1", "body": "x", "customer": {"country": "Germany"}}', "customer.country:"),
    (orjson.dumps({"id": "big-1", "body": "x" * (64 * 1024)}), "over the 65536-byte limit"),
]


async def test_invalid_messages_are_dead_lettered_with_their_reason(
    service: RunningService, amqp: AbstractRobustConnection, names: Names
) -> None:
    valid = make_tickets(100, seed=11)
    channel = await amqp.channel()
    # Interleave: bad messages between good ones must not stall the good ones.
    bodies: list[bytes] = []
    for i, ticket in enumerate(valid):
        bodies.append(orjson.dumps(ticket))
        if i < len(INVALID):
            bodies.append(INVALID[i][0])
    await publish(channel, names, bodies, headers={"x-platform": "test"})

    total = len(valid) + len(INVALID)

    async def settled() -> bool:
        received = service.metric("router_tickets_received_total", {"transport": "amqp"})
        return received >= total and service.metric("router_tickets_in_flight") == 0

    await wait_for(settled, what="all messages processed")

    dead = await drain(channel, names.dead_queue)
    assert len(dead) == len(INVALID)
    by_body = {m.body: m for m in dead}
    for body, expected in INVALID:
        message = by_body[body]  # the original body, unchanged
        error = message.headers["x-router-error"]
        assert isinstance(error, str)
        assert expected in error, (expected, error)
        assert "\n" not in error
        assert message.headers["x-platform"] == "test"  # original headers kept
    per_pool = await drain_pools(channel, names, service.app[K.CONFIG].value.pool_ids)
    assert sum(len(v) for v in per_pool.values()) == len(valid)
    assert service.metric("router_tickets_dead_lettered_total", {"reason": "not_json"}) == 1
    assert service.metric("router_tickets_dead_lettered_total", {"reason": "too_large"}) == 1
    assert service.metric("router_tickets_dead_lettered_total", {"reason": "invalid_id"}) == 3
    dead_total = sum(
        service.metric("router_tickets_dead_lettered_total", {"reason": r})
        for r in {str(m.headers["x-router-reason"]) for m in dead}
    )
    assert dead_total == len(INVALID)
