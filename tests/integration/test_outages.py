"""Redis or the broker going away mid-flow: good tickets are retried, never
dead-lettered, lost or assigned twice."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator

import orjson
import pytest
import redis.asyncio as aioredis
from aio_pika.abc import AbstractRobustConnection
from yarl import URL

from queues.keys import Keys
from queues.topology import TopologyMismatch
from router.config.load import load_config
from router.service.settings import Names
from tests.conftest import AMQP_URL, EXAMPLE_CONFIG, REDIS_URL
from tests.integration.conftest import ServiceFactory, drain, drain_pools, publish, wait_for
from tests.integration.proxy import TcpProxy
from tests.tickets import make_tickets

pytestmark = pytest.mark.integration


async def _proxy(url: str) -> TcpProxy:
    target = URL(url)
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or 0)
    await proxy.start()
    return proxy


@pytest.fixture
async def redis_proxy() -> AsyncIterator[TcpProxy]:
    proxy = await _proxy(REDIS_URL)
    yield proxy
    await proxy.cut()


@pytest.fixture
async def amqp_proxy() -> AsyncIterator[TcpProxy]:
    proxy = await _proxy(AMQP_URL)
    yield proxy
    await proxy.cut()


async def _all_assigned(redis_client: aioredis.Redis, names: Names, n: int) -> None:
    recent = Keys(names.redis_prefix).recent

    async def done() -> bool:
        return int(await redis_client.llen(recent)) >= n

    await wait_for(done, timeout=60, what=f"{n} tickets assigned")


async def test_redis_outage_retries_and_loses_nothing(
    start_service: ServiceFactory,
    redis_proxy: TcpProxy,
    amqp: AbstractRobustConnection,
    redis_client: aioredis.Redis,
    names: Names,
) -> None:
    url = str(URL(REDIS_URL).with_port(redis_proxy.port))
    service = await start_service(redis_url=url)
    channel = await amqp.channel()
    tickets = make_tickets(150, seed=61)
    await publish(channel, names, [orjson.dumps(t) for t in tickets[:50]])
    await _all_assigned(redis_client, names, 50)

    await redis_proxy.cut()
    await publish(channel, names, [orjson.dumps(t) for t in tickets[50:]])

    async def retrying() -> bool:
        return service.metric("router_transient_errors_total", {"dependency": "redis"}) > 0

    await wait_for(retrying, what="the consumer to meet the outage")
    assert int(await redis_client.llen(Keys(names.redis_prefix).recent)) == 50
    await redis_proxy.restore()
    await _all_assigned(redis_client, names, 150)

    per_pool = await drain_pools(channel, names, load_config(EXAMPLE_CONFIG).pool_ids)
    ids = Counter(a["ticket_id"] for per in per_pool.values() for a in per)
    assert len(ids) == 150
    assert sum(ids.values()) == 150
    assert await drain(channel, names.dead_queue) == []


async def test_broker_connection_loss_redelivers_without_doubles(
    start_service: ServiceFactory,
    amqp_proxy: TcpProxy,
    amqp: AbstractRobustConnection,
    redis_client: aioredis.Redis,
    names: Names,
) -> None:
    url = str(URL(AMQP_URL).with_port(amqp_proxy.port))
    await start_service(amqp_url=url, batch_size=16)
    channel = await amqp.channel()
    tickets = make_tickets(1500, seed=62)
    await publish(channel, names, [orjson.dumps(t) for t in tickets])
    recent = Keys(names.redis_prefix).recent

    async def some() -> bool:
        return int(await redis_client.llen(recent)) >= 100

    await wait_for(some, what="the first 100 assignments")
    await amqp_proxy.cut()  # unacked deliveries go back to the queue; publishes fail
    done_at_cut = int(await redis_client.llen(recent))
    await amqp_proxy.restore()  # the robust connection reconnects and consumes again
    await _all_assigned(redis_client, names, 1500)
    assert done_at_cut < 1500, "the test needs tickets in flight at the cut"

    per_pool = await drain_pools(channel, names, load_config(EXAMPLE_CONFIG).pool_ids)
    ids = Counter(a["ticket_id"] for per in per_pool.values() for a in per)
    assert len(ids) == 1500
    assert await drain(channel, names.dead_queue) == []
    # An assignment published just before the cut, whose mark never happened, may be
    # published again by the consumer that takes the ticket over: the pool consumer
    # de-duplicates on message_id. Anything more than that window would be a bug.
    print(f"assignments published twice across the cut: {sum(ids.values()) - 1500}")
    assert sum(ids.values()) - 1500 <= 16


async def test_a_queue_declared_otherwise_is_a_clear_start_up_error(
    start_service: ServiceFactory, amqp: AbstractRobustConnection, names: Names
) -> None:
    channel = await amqp.channel()
    await channel.declare_queue(names.dead_queue, durable=True)  # classic, not quorum
    with pytest.raises(TopologyMismatch) as info:
        await start_service()
    assert names.dead_queue in str(info.value)
    assert "ROUTER_QUEUE_TYPE" in str(info.value)
