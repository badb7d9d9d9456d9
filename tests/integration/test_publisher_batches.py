"""Assignments published together go out in one write and are confirmed one by one,
on the real broker: every message arrives once with its properties, an unroutable one
fails alone, and what is published while a write is on its way follows it in order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aio_pika
import pytest
from aio_pika.abc import AbstractIncomingMessage, AbstractQueue, AbstractRobustConnection

from queues.message_ids import amqp_message_id
from queues.publisher import AmqpPublisher
from queues.topology import declare_inbound, declare_pools
from router.core.errors import TransientError
from router.service.settings import Names, Settings
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration

POOLS = ["p-one", "p-two"]


@pytest.fixture
def extra_pools() -> list[str]:
    """This test's pools, deleted after it by the ``amqp`` fixture."""
    return list(POOLS)


@pytest.fixture
async def publisher(
    amqp: AbstractRobustConnection, names: Names
) -> AsyncIterator[tuple[AmqpPublisher, list[AbstractQueue]]]:
    """A publisher on a confirming channel, as the service opens it, and the pool queues."""
    settings = Settings(names=names)
    channel = await amqp.channel(publisher_confirms=True, on_return_raises=True)
    tickets, _, _ = await declare_inbound(channel, settings)
    assignments = await declare_pools(channel, names, POOLS, settings)
    queues = [await channel.get_queue(names.pool_queue(p)) for p in POOLS]
    yield (
        AmqpPublisher(
            channel, tickets=tickets, assignments=assignments, dead_queue=names.dead_queue
        ),
        queues,
    )
    await channel.close()


async def _drain(queue: AbstractQueue, expect: int) -> list[AbstractIncomingMessage]:
    got: list[AbstractIncomingMessage] = []

    async def all_there() -> bool:
        while (message := await queue.get(no_ack=True, fail=False)) is not None:
            got.append(message)
        return len(got) >= expect

    await wait_for(all_there, timeout=20, what=f"{expect} messages on {queue.name}")
    assert await queue.get(no_ack=True, fail=False) is None  # and no more
    return got


async def test_a_gathered_batch_arrives_whole_with_each_message_confirmed(
    publisher: tuple[AmqpPublisher, list[AbstractQueue]],
) -> None:
    pub, (one, two) = publisher
    ids = [f"t-{i:03d}" for i in range(300)]
    writes = 0
    write_queue = (await one.channel.get_underlay_channel()).connection.write_queue
    put = write_queue.put

    async def counting_put(frame: object) -> None:
        nonlocal writes
        writes += 1
        await put(frame)

    setattr(write_queue, "put", counting_put)  # noqa: B010 (an instance attribute)
    try:
        await asyncio.gather(
            *(
                pub.publish_assignment(POOLS[i % 2], tid, f'{{"ticket_id":"{tid}"}}'.encode())
                for i, tid in enumerate(ids)
            )
        )
    finally:
        delattr(write_queue, "put")
    assert writes == 1  # 300 publications, one write
    first = await _drain(one, 150)
    second = await _drain(two, 150)
    assert sorted(m.message_id or "" for m in first + second) == ids
    message = first[0]
    assert message.body == b'{"ticket_id":"t-000"}'
    assert message.type == "assignment"
    assert message.content_type == "application/json"
    assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT


async def test_an_unroutable_assignment_fails_alone(
    publisher: tuple[AmqpPublisher, list[AbstractQueue]],
) -> None:
    pub, (one, _) = publisher
    results = await asyncio.gather(
        pub.publish_assignment(POOLS[0], "t-a", b"{}"),
        pub.publish_assignment("no-such-pool", "t-b", b"{}"),
        pub.publish_assignment(POOLS[0], "t-c", b"{}"),
        return_exceptions=True,
    )
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], TransientError)
    assert "PublishError" in str(results[1])
    assert sorted(m.message_id or "" for m in await _drain(one, 2)) == ["t-a", "t-c"]


async def test_a_batch_call_is_one_write_and_an_unroutable_item_fails_alone(
    publisher: tuple[AmqpPublisher, list[AbstractQueue]],
) -> None:
    pub, (one, two) = publisher
    items = [(POOLS[i % 2], f"b-{i:03d}", b'{"n":%d}' % i) for i in range(200)]
    items[77] = ("no-such-pool", "b-077", b"{}")
    items.append((POOLS[0], "\U0001f600" * 128, b"{}"))  # a message id past 255 bytes
    results = await pub.publish_assignments(items)
    assert [i for i, r in enumerate(results) if r is not None] == [77]
    assert isinstance(results[77], TransientError) and "PublishError" in str(results[77])
    got = await _drain(one, 101) + await _drain(two, 99)
    expected = [amqp_message_id(tid) for pool, tid, _ in items if pool != "no-such-pool"]
    assert sorted(m.message_id or "" for m in got) == sorted(expected)
    assert await pub.publish_assignments([]) == []


async def test_publications_during_a_write_follow_it_in_order(
    publisher: tuple[AmqpPublisher, list[AbstractQueue]],
) -> None:
    pub, (one, _) = publisher
    first = [
        asyncio.create_task(pub.publish_assignment(POOLS[0], f"a-{i}", b"x" * 200_000))
        for i in range(5)
    ]
    await asyncio.sleep(0)  # the first write is under way
    later = [
        asyncio.create_task(pub.publish_assignment(POOLS[0], f"b-{i}", b"{}")) for i in range(5)
    ]
    await asyncio.gather(*first, *later)
    got = await _drain(one, 10)
    assert [m.message_id for m in got] == [
        *(f"a-{i}" for i in range(5)),
        *(f"b-{i}" for i in range(5)),
    ]
    assert [len(m.body) for m in got[:5]] == [200_000] * 5  # split in frames and whole again
