"""RabbitMQ topology: the service declares everything it uses, durable.

    exchange "tickets" (topic, "#") -> queue "tickets.inbound"
        (dead-letters to queue "tickets.dead" through the default exchange)
    exchange "assignments" (direct, key = pool id) -> queue "pool.<id>" per pool

Declaring is idempotent, so every replica declares at start and on config change.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractQueue

from router.settings import Names, Settings


def inbound_arguments(settings: Settings) -> dict[str, Any]:
    """Arguments of the inbound queue: dead-lettering, and its type."""
    names = settings.names
    args: dict[str, Any] = {
        # Messages the broker itself gives up on (delivery limit) still land in the
        # dead queue, never vanish.
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": names.dead_queue,
    }
    if settings.queue_type == "quorum":
        args["x-queue-type"] = "quorum"
        args["x-delivery-limit"] = settings.delivery_limit
    return args


async def declare_inbound(
    channel: AbstractChannel, settings: Settings
) -> tuple[AbstractExchange, AbstractQueue, AbstractQueue]:
    """Declare the tickets exchange, the inbound queue and the dead queue."""
    names = settings.names
    exchange = await channel.declare_exchange(
        names.tickets_exchange, aio_pika.ExchangeType.TOPIC, durable=True
    )
    dead = await channel.declare_queue(names.dead_queue, durable=True, arguments=_typed(settings))
    inbound = await channel.declare_queue(
        names.inbound_queue, durable=True, arguments=inbound_arguments(settings)
    )
    await inbound.bind(exchange, routing_key="#")
    return exchange, inbound, dead


async def declare_pools(
    channel: AbstractChannel, names: Names, pool_ids: Iterable[str], settings: Settings
) -> AbstractExchange:
    """Declare the assignments exchange and one bound queue per pool id."""
    exchange = await channel.declare_exchange(
        names.assignments_exchange, aio_pika.ExchangeType.DIRECT, durable=True
    )
    for pool_id in pool_ids:
        queue = await channel.declare_queue(
            names.pool_queue(pool_id), durable=True, arguments=_typed(settings)
        )
        await queue.bind(exchange, routing_key=pool_id)
    return exchange


def _typed(settings: Settings) -> dict[str, Any]:
    return {"x-queue-type": "quorum"} if settings.queue_type == "quorum" else {}
