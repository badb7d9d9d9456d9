"""The outside world of the router, with a plain AMQP client (aiormq, not aio-pika's
robust connection the product uses): a helpdesk platform publishing tickets, and the
pool systems consuming assignments. Both reconnect by themselves, as real ones do, so
a broker restart tests the router and not these."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import aiormq
import orjson
from aiormq import spec
from aiormq.abc import AbstractChannel, AbstractConnection, DeliveredMessage

log = logging.getLogger(__name__)


class Link:
    """One connection and channel, opened again after any failure."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._conn: AbstractConnection | None = None
        self._channel: AbstractChannel | None = None
        self.reconnects = 0

    async def channel(self) -> AbstractChannel:
        """An open channel; waits (retrying every 0.2 s) while the broker is away."""
        while self._channel is None or self._channel.is_closed:
            await self.reset()
            try:
                self._conn = await asyncio.wait_for(aiormq.connect(self._url), 5)
                self._channel = await asyncio.wait_for(self._conn.channel(), 5)
                self.reconnects += 1
            except (aiormq.AMQPError, OSError, ConnectionError, TimeoutError) as exc:
                log.debug("broker not reachable yet: %r", exc)
                await asyncio.sleep(0.2)
        return self._channel

    async def reset(self) -> None:
        """Drop the connection (after a failure); the next :meth:`channel` opens one."""
        conn, self._conn, self._channel = self._conn, None, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 2)


class Platform:
    """Publishes tickets as a helpdesk platform does: persistent, with publisher confirms,
    mandatory, and re-published until confirmed (so a broker outage may deliver one
    twice: the router must de-duplicate on the ticket id)."""

    WINDOW = 32  # confirms awaited at once

    def __init__(self, url: str, exchange: str) -> None:
        self._link = Link(url)
        self._exchange = exchange
        self.sent = 0
        self.republished = 0
        # ticket id -> monotonic time the broker first confirmed a copy of it
        self.confirmed_at: dict[str, float] = {}

    async def publish(self, tickets: Sequence[tuple[str, bytes]], rate: float) -> None:
        """Publish (id, body) pairs in order at about ``rate`` per second; returns once
        every one is confirmed by the broker."""
        began = time.monotonic()
        for start in range(0, len(tickets), self.WINDOW):
            due = began + start / rate
            if (wait := due - time.monotonic()) > 0:
                await asyncio.sleep(wait)  # pacing a steady flow, not waiting for a state
            chunk = tickets[start : start + self.WINDOW]
            await self._confirmed([body for _, body in chunk])
            now = time.monotonic()
            for tid, _ in chunk:
                self.confirmed_at.setdefault(tid, now)

    async def _confirmed(self, chunk: Sequence[bytes]) -> None:
        pending = list(chunk)
        while pending:
            channel = await self._link.channel()
            results = await asyncio.gather(
                *(self._one(channel, body) for body in pending), return_exceptions=True
            )
            self.sent += len(pending)
            failed = [b for b, ok in zip(pending, results, strict=True) if ok is not True]
            if failed:
                self.republished += len(failed)
                await self._link.reset()
            pending = failed

    async def _one(self, channel: AbstractChannel, body: bytes) -> bool:
        confirm = await channel.basic_publish(
            body,
            exchange=self._exchange,
            routing_key="ticket.faults",
            mandatory=True,
            properties=spec.Basic.Properties(delivery_mode=2, content_type="application/json"),
            timeout=5,
        )
        return isinstance(confirm, spec.Basic.Ack)

    async def close(self) -> None:
        """Close the connection."""
        await self._link.reset()


@dataclass
class Received:
    """What the pool systems and the dead-letter reader got."""

    # ticket id -> pools it arrived on, one entry per fresh (not redelivered) copy
    pools: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    # ticket id -> (pool, message_id, body digest) of each fresh copy, in arrival order
    copies: dict[str, list[tuple[str, str, str]]] = field(default_factory=lambda: defaultdict(list))
    # ticket id -> every delivery of its assignments: (monotonic time, redelivered,
    # x-delivery-count), redeliveries included (to tell a doubled copy's story)
    deliveries: dict[str, list[tuple[float, bool, int]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    # ticket id -> monotonic time its first assignment arrived
    first_at: dict[str, float] = field(default_factory=dict)
    # ticket id -> dead-letter reasons, one per fresh copy
    dead: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    messages: int = 0

    @property
    def assigned(self) -> int:
        """Distinct tickets that arrived on a pool queue."""
        return len(self.pools)

    @property
    def doubled(self) -> int:
        """Copies beyond the first, over every ticket (a ticket on two pools counts)."""
        return sum(len(p) - 1 for p in self.pools.values())

    @property
    def doubled_identical(self) -> int:
        """Copies beyond the first that equal it (same pool, message id and body): a
        pool system de-duplicating on the message id sees them once."""
        return sum(sum(1 for c in copies[1:] if c == copies[0]) for copies in self.copies.values())

    def in_flight_at(self, instant: float, margin: float = 1.0) -> set[str]:
        """Tickets whose assignment was on its way at ``instant`` (a broker crash): its
        first copy arrived within ``margin`` seconds of it, or arrived only as a
        redelivery (the broker had sent it and the crash lost it on the wire)."""
        return {
            tid
            for tid, seen in self.deliveries.items()
            if seen and (seen[0][1] or abs(seen[0][0] - instant) <= margin)
        }

    def doubled_story(self, since: float) -> list[str]:
        """For each doubled ticket: when (seconds after ``since``) each delivery came,
        and whether the broker marked it redelivered."""
        out = []
        for tid, copies in self.copies.items():
            if len(copies) > 1:
                steps = ", ".join(
                    f"{t - since:+.1f}s{' redelivered' if r else ''}{f' x{n}' if n else ''}"
                    for t, r, n in self.deliveries[tid]
                )
                out.append(f"{tid}: {steps}")
        return out

    def dead_reasons(self) -> Counter[str]:
        """How many tickets were dead-lettered, per reason."""
        return Counter(r for reasons in self.dead.values() for r in reasons)


class PoolCollector:
    """Consumes every pool queue and the dead queue, as the pool systems would, and
    records each assignment once per fresh delivery.

    Acks only after recording; a copy the broker *re*delivers (its ack was lost in a
    broker restart) is not counted again when its ticket was already seen, so a doubled
    count means the router published the ticket twice.
    """

    def __init__(self, url: str, pool_queues: Sequence[str], dead_queue: str) -> None:
        self._link = Link(url)
        self._pool_queues = list(pool_queues)
        self._dead_queue = dead_queue
        self.received = Received()
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    def start(self) -> None:
        """Consume in the background until :meth:`stop`."""
        self._task = asyncio.create_task(self._run(), name="pool-collector")

    async def stop(self) -> None:
        """Stop consuming and close."""
        self._stop.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._link.reset()

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                channel = await self._link.channel()
                await channel.basic_qos(prefetch_count=500)
                for queue in self._pool_queues:
                    await channel.basic_consume(queue, self._on_assignment, no_ack=False)
                await channel.basic_consume(self._dead_queue, self._on_dead, no_ack=False)
                await channel.closing
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.debug("collector channel lost: %r", exc)
            await self._link.reset()
            await asyncio.sleep(0.2)

    async def _on_assignment(self, message: DeliveredMessage) -> None:
        tid = str(orjson.loads(message.body)["ticket_id"])
        # Assignments are published with the pool id as routing key.
        pool = str(message.routing_key)
        headers = message.header.properties.headers or {}
        count = headers.get("x-delivery-count", 0)
        self.received.deliveries[tid].append(
            (time.monotonic(), _redelivered(message), count if isinstance(count, int) else -1)
        )
        if self._record(message, tid, self.received.pools, pool):
            digest = hashlib.sha256(message.body).hexdigest()
            mid = str(message.header.properties.message_id)
            self.received.copies[tid].append((pool, mid, digest))
        self.received.first_at.setdefault(tid, time.monotonic())
        await self._ack(message)

    async def _on_dead(self, message: DeliveredMessage) -> None:
        headers = message.header.properties.headers or {}
        reason = headers.get("x-router-reason", "broker")
        try:
            tid = str(orjson.loads(message.body)["id"])
        except (orjson.JSONDecodeError, KeyError, TypeError):
            tid = f"<unparsable:{message.body[:40]!r}>"
        self._record(message, tid, self.received.dead, str(reason))
        await self._ack(message)

    def _record(
        self, message: DeliveredMessage, tid: str, into: dict[str, list[str]], what: str
    ) -> bool:
        """Count a fresh copy (True); a redelivery of a seen ticket is not one (False)."""
        self.received.messages += 1
        if _redelivered(message) and tid in into:
            return False  # the same copy again, after its ack was lost
        into[tid].append(what)
        return True

    @staticmethod
    async def _ack(message: DeliveredMessage) -> None:
        tag = message.delivery_tag
        if tag is None:
            return
        with contextlib.suppress(Exception):  # lost ack: the copy comes again, redelivered
            await message.channel.basic_ack(tag)


def _redelivered(message: DeliveredMessage) -> bool:
    return isinstance(message.delivery, spec.Basic.Deliver) and bool(message.delivery.redelivered)
