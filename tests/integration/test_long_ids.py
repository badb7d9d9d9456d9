"""Ticket ids of 128 characters outside the Basic Multilingual Plane: up to 512 bytes in
UTF-8, more than an AMQP ``message_id`` (a short string, 255 bytes) can hold."""

from __future__ import annotations

from urllib.parse import quote

import orjson
import pytest
import redis.asyncio as aioredis
from aio_pika.abc import AbstractRobustConnection
from aiohttp import ClientSession

from queues.message_ids import amqp_message_id
from router.http import appkeys as K
from router.service.settings import Names
from tests.integration.conftest import RunningService, drain, publish, wait_for
from tests.integration.test_leases_helpers import wait_all_assigned
from tests.tickets import make_tickets

pytestmark = pytest.mark.integration

# 128 characters each: 512, 384 and 255 bytes in UTF-8 (the last one still fits).
LONG_IDS = ["\U0001f600" * 128, "\u4e2d" * 128, "\u4e2d" * 85]


async def test_ids_past_255_bytes_are_routed_by_amqp_and_http(
    service: RunningService,
    http: ClientSession,
    amqp: AbstractRobustConnection,
    redis_client: aioredis.Redis,
    names: Names,
) -> None:
    base = make_tickets(len(LONG_IDS) + 1, seed=301)
    by_amqp = [{**t, "id": tid} for t, tid in zip(base, LONG_IDS, strict=False)]
    over_http = {**base[-1], "id": "\U0001f4e6" * 128}
    channel = await amqp.channel()
    await publish(channel, names, [orjson.dumps(t) for t in by_amqp])
    async with http.post(f"{service.url}/v1/tickets", json=over_http) as response:
        assert (response.status, (await response.json())["status"]) == (202, "accepted")
    ids = [*LONG_IDS, over_http["id"]]
    await wait_all_assigned(redis_client, names, ids)

    got = {}
    for pool in service.app[K.CONFIG].value.pool_ids:
        for message in await drain(channel, names.pool_queue(pool)):
            got[orjson.loads(message.body)["ticket_id"]] = message.message_id
    assert got == {tid: amqp_message_id(tid) for tid in ids}
    # The id itself when it fits; a digest of it, the same every time, when it does not.
    assert [len((m or "").encode()) <= 255 for m in got.values()] == [True] * len(ids)
    assert got[LONG_IDS[2]] == LONG_IDS[2]
    assert got[LONG_IDS[0]] == amqp_message_id(LONG_IDS[0]) != LONG_IDS[0]
    dead = await drain(channel, names.dead_queue)
    assert dead == []

    async def answered() -> bool:
        async with http.get(f"{service.url}/v1/tickets/{quote(ids[0])}") as r:
            return r.status == 200 and (await r.json())["state"] == "assigned"

    await wait_for(answered, what="the ticket read back by its id")
    # A re-send of a long id is a duplicate, like any other.
    async with http.post(f"{service.url}/v1/tickets", json=over_http) as response:
        assert (await response.json())["status"] == "duplicate"
