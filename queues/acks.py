"""Acking a batch of deliveries with one ``basic.ack(multiple=True)``.

The broker and the client both work per frame, so acking 128 tickets one by one costs
far more than one ack for all of them. A multiple ack settles *every* outstanding
delivery up to a tag on its channel, so it may only cover a prefix that is settled
entirely: a ticket still held (waiting on another consumer's claim, or retrying)
keeps its own tag unacked, and so do all later ones until it is settled.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Protocol

log = logging.getLogger(__name__)


class Settleable(Protocol):
    """What the batcher needs of a delivery (queues.delivery.Delivery has it)."""

    @property
    def delivery_tag(self) -> int | None:
        """The delivery's tag on its channel."""
        ...

    @property
    def channel(self) -> object:
        """The underlying channel it came on (only its identity is used)."""
        ...

    async def ack(self, multiple: bool = False) -> None:
        """Acknowledge it (with ``multiple``, every earlier one of its channel too)."""
        ...


@dataclass
class _ChannelAcks:
    """Deliveries of one channel: held (not yet settled) and settled but not acked."""

    held: dict[int, Settleable] = field(default_factory=dict)
    settled: set[int] = field(default_factory=set)


class AckBatcher:
    """Tracks deliveries per channel and acks the longest settled prefix at once."""

    def __init__(self) -> None:
        self._channels: dict[int, _ChannelAcks] = {}
        # Message -> its channel's key, taken at delivery (the key of a message settled
        # or forgotten is looked up here, not asked of the message again).
        self._where: dict[int, int] = {}
        # One flush at a time: two batches flushing together would ack a tag twice,
        # which the broker answers by closing the channel.
        self._lock = asyncio.Lock()

    def delivered(self, message: Settleable) -> None:
        """Note a delivery as held (call on receipt, before any settle)."""
        tag = message.delivery_tag
        if tag is None:
            return
        key = _channel_key(message)
        self._where[id(message)] = key
        self._channels.setdefault(key, _ChannelAcks()).held[tag] = message

    def settle(self, message: Settleable) -> None:
        """Mark a delivery done; its ack is sent by the next :meth:`flush`."""
        acks = self._channels.get(self._where.get(id(message), -1))
        tag = message.delivery_tag
        if acks is not None and tag is not None and tag in acks.held:
            acks.settled.add(tag)

    def forget(self, message: Settleable) -> None:
        """Stop tracking a delivery settled otherwise (a nack, or its channel closed)."""
        key = self._where.pop(id(message), -1)
        acks = self._channels.get(key)
        tag = message.delivery_tag
        if acks is None or tag is None:
            return
        acks.held.pop(tag, None)
        acks.settled.discard(tag)
        if not acks.held:
            del self._channels[key]

    async def flush(self) -> int:
        """Ack every settled delivery: one multiple ack per channel for its settled
        prefix, single acks for settled ones behind a delivery still held (so a ticket
        that waits never delays the others' acks). Returns how many were acked."""
        async with self._lock:
            return await self._flush()

    async def _flush(self) -> int:
        covered = 0
        for key, acks in list(self._channels.items()):
            if not acks.settled:
                continue
            pending = [t for t in acks.held if t not in acks.settled]
            limit = min(pending) if pending else None
            settled = sorted(acks.settled)
            prefix = [t for t in settled if limit is None or t < limit]
            rest = settled[len(prefix) :]
            try:
                if prefix:
                    await acks.held[prefix[-1]].ack(multiple=True)
                for tag in rest:
                    await acks.held[tag].ack()
            except Exception as exc:
                # The channel closed: the broker gives these back for redelivery, and the
                # ticket ids make that harmless.
                log.warning("could not ack messages (they will be redelivered): %s", exc)
                for message in acks.held.values():
                    self._where.pop(id(message), None)
                self._channels.pop(key, None)
                continue
            for tag in settled:
                if tag in acks.held:
                    self._where.pop(id(acks.held.pop(tag)), None)
            # Not clear(): another batch may have settled more during the awaits above.
            acks.settled.difference_update(settled)
            covered += len(settled)
            if not acks.held:
                self._channels.pop(key, None)
        return covered

    def __len__(self) -> int:
        """Deliveries tracked (held or settled, not yet acked)."""
        return len(self._where)


def _channel_key(message: Settleable) -> int:
    # Delivery tags count per channel; a reconnect opens a new underlying channel whose
    # tags start again at 1, so deliveries are grouped by that channel object.
    return id(message.channel)
