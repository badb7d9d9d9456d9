"""One inbound delivery, as the consumer needs it: what aio-pika's message gives, less.

aio-pika's consumer wraps every delivery in an ``IncomingMessage`` (which decodes all
the AMQP properties, about 15 us) and runs the callback in a task of its own on top of
the client's; the inbound consumer reads five of those fields, so it takes the client's
delivery as it comes and wraps it in this (under 1 us).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiormq.abc import AbstractChannel, DeliveredMessage


class Delivery:
    """A delivered message: its body, the few properties read, and its settling."""

    __slots__ = ("_message", "body", "channel", "delivery_tag")

    def __init__(self, message: DeliveredMessage) -> None:
        self._message = message
        self.body: bytes = message.body
        # Tags count per channel; the channel object tells a reconnect's deliveries apart.
        self.channel: AbstractChannel = message.channel
        self.delivery_tag: int | None = message.delivery_tag

    @property
    def headers(self) -> Mapping[str, Any]:
        """The message's headers (empty when it has none)."""
        return self._message.header.properties.headers or {}

    @property
    def redelivered(self) -> bool:
        """True when the broker delivered this message before (to anyone)."""
        return bool(self._message.redelivered)

    @property
    def message_id(self) -> str | None:
        """The sender's message id, if any."""
        return self._message.header.properties.message_id

    async def ack(self, multiple: bool = False) -> None:
        """Acknowledge this delivery (and, with ``multiple``, every earlier one)."""
        if self.delivery_tag is not None:
            await self.channel.basic_ack(self.delivery_tag, multiple=multiple)

    async def nack(self, requeue: bool = True) -> None:
        """Hand the delivery back (to the queue, with ``requeue``)."""
        if self.delivery_tag is not None:
            await self.channel.basic_nack(self.delivery_tag, requeue=requeue)
