"""Publishing with publisher confirms: assignments, dead letters and inbound tickets."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange
from aio_pika.exceptions import AMQPError, DeliveryError
from aiormq.exceptions import AMQPError as LowAMQPError
from aiormq.exceptions import ChannelInvalidStateError

from router.core.errors import TransientError

ERROR_HEADER = "x-router-error"

# Everything publishing raises while the connection is down or being re-established
# (the robust channel reports "closed" with ChannelInvalidStateError, a RuntimeError).
_BROKER_ERRORS = (
    AMQPError,
    LowAMQPError,
    DeliveryError,
    ChannelInvalidStateError,
    ConnectionError,
    asyncio.TimeoutError,
)


class AmqpPublisher:
    """Publishes persistent messages and returns only once the broker confirmed them.

    The channel must be opened with ``publisher_confirms=True`` and
    ``on_return_raises=True``, so an unroutable message (a pool queue that does not
    exist) is an error rather than a silent loss.
    """

    def __init__(
        self,
        channel: AbstractChannel,
        *,
        tickets: AbstractExchange,
        assignments: AbstractExchange,
        dead_queue: str,
        timeout: float = 10.0,
    ) -> None:
        self._channel = channel
        self._tickets = tickets
        self._assignments = assignments
        self._dead_queue = dead_queue
        self._timeout = timeout

    async def publish_assignment(self, pool_id: str, ticket_id: str, body: bytes) -> None:
        """Publish an assignment to ``pool.<pool_id>`` (routing key = pool id)."""
        message = aio_pika.Message(
            body,
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            # Consumers of pool queues de-duplicate on message_id = ticket id.
            message_id=ticket_id,
            type="assignment",
        )
        await self._publish(self._assignments, message, pool_id)

    async def publish_ticket(self, ticket_id: str, body: bytes, source: str | None) -> None:
        """Publish an inbound ticket (the HTTP ingestion path) to the tickets exchange."""
        message = aio_pika.Message(
            body,
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=ticket_id,
            timestamp=datetime.now(UTC),
            headers={"x-router-ingest": "http"},
        )
        await self._publish(self._tickets, message, f"ticket.{source or 'http'}")

    async def publish_dead(
        self, body: bytes, error: str, reason: str, headers: Mapping[str, Any] | None
    ) -> None:
        """Send the original body to the dead queue with a one-line error header."""
        out_headers: dict[str, Any] = dict(headers or {})
        out_headers[ERROR_HEADER] = error.replace("\n", " ")[:1000]
        out_headers["x-router-reason"] = reason
        out_headers["x-router-failed-at"] = datetime.now(UTC).isoformat()
        message = aio_pika.Message(
            body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT, headers=out_headers
        )
        await self._publish(self._channel.default_exchange, message, self._dead_queue)

    async def _publish(
        self, exchange: AbstractExchange, message: aio_pika.Message, key: str
    ) -> None:
        try:
            await exchange.publish(message, routing_key=key, mandatory=True, timeout=self._timeout)
        except _BROKER_ERRORS as exc:
            raise TransientError(f"broker: {type(exc).__name__}: {exc}") from exc
