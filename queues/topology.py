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
from aiormq.exceptions import ChannelPreconditionFailed

from router.core.errors import RouterError
from router.service.settings import Names, Settings


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
    dead = await _queue(channel, names.dead_queue, _typed(settings), settings)
    inbound = await _queue(channel, names.inbound_queue, inbound_arguments(settings), settings)
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
        queue = await _queue(channel, names.pool_queue(pool_id), _typed(settings), settings)
        await queue.bind(exchange, routing_key=pool_id)
    return exchange


class TopologyMismatch(RouterError, RuntimeError):
    """A queue exists on the broker with other arguments than this service declares."""


async def _queue(
    channel: AbstractChannel, name: str, arguments: dict[str, Any], settings: Settings
) -> AbstractQueue:
    try:
        return await channel.declare_queue(name, durable=True, arguments=arguments)
    except ChannelPreconditionFailed as exc:
        # The broker closes the channel and names only the argument: say what to do.
        raise TopologyMismatch(
            f"queue {name!r} already exists with other arguments than "
            f"{arguments} (ROUTER_QUEUE_TYPE={settings.queue_type}): {exc}. Set "
            "ROUTER_QUEUE_TYPE to the type it has, or drain and delete the queue."
        ) from exc


def _typed(settings: Settings) -> dict[str, Any]:
    return {"x-queue-type": "quorum"} if settings.queue_type == "quorum" else {}
