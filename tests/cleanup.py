"""Removing what one run left on the shared RabbitMQ and Redis."""

from __future__ import annotations

from collections.abc import Iterable

import aio_pika
import redis.asyncio as aioredis

from router.service.settings import Names
from tests.conftest import AMQP_URL


async def remove_run(redis: aioredis.Redis, names: Names, pools: Iterable[str]) -> None:
    """Delete the Redis keys under ``names``' prefix (then close ``redis``), and the
    inbound, dead-letter and ``pools``' queues and both exchanges of ``names``."""
    keys = [k async for k in redis.scan_iter(match=f"{names.redis_prefix}*", count=1000)]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()
    connection = await aio_pika.connect_robust(AMQP_URL)
    channel = await connection.channel()
    for queue in [names.inbound_queue, names.dead_queue, *map(names.pool_queue, pools)]:
        await channel.queue_delete(queue)
    for exchange in (names.tickets_exchange, names.assignments_exchange):
        await channel.exchange_delete(exchange)
    await connection.close()
