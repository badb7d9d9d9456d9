"""The inbound consumer: AMQP messages in, batches to the router, acks out.

A message is acked only after its assignment is recorded and confirmed (or it
was a duplicate, or it went to the dead queue with confirm). Transient failures
keep the message and retry it in-process with backoff, so the broker's delivery
count does not grow and a good ticket is never dead-lettered while Redis or the
broker is briefly away.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from aio_pika.abc import AbstractIncomingMessage, AbstractQueue

from queues.publisher import AmqpPublisher
from router.errors import InvalidInput, TransientError
from router.metrics import Metrics
from router.routing_service import Pending, TicketRouter
from router.ticket_schema import parse_ticket

log = logging.getLogger(__name__)

# A ticket that crashes the router this many times in a row (a bug, not bad input)
# goes to the dead queue with the exception, instead of blocking the queue forever.
MAX_INTERNAL_FAILURES = 3


class InboundConsumer:
    """Consumes ``tickets.inbound`` in batches with a bounded prefetch."""

    def __init__(
        self,
        queue: AbstractQueue,
        router: TicketRouter,
        publisher: AmqpPublisher,
        metrics: Metrics,
        *,
        batch_size: int = 128,
        batch_wait_s: float = 0.002,
        max_bytes: int = 64 * 1024,
        replica: str | None = None,
    ) -> None:
        self._queue = queue
        self._router = router
        self._publisher = publisher
        self._metrics = metrics
        self._batch_size = batch_size
        self._batch_wait_s = batch_wait_s
        self._max_bytes = max_bytes
        self._replica = replica or uuid.uuid4().hex[:12]
        self._inbox: asyncio.Queue[tuple[AbstractIncomingMessage, datetime, float]] = (
            asyncio.Queue()
        )
        self._tag: str | None = None
        self._worker: asyncio.Task[None] | None = None
        # Set while nothing is held: no batch in progress and nothing waiting.
        self._idle = asyncio.Event()
        self._idle.set()
        self._closing = False

    async def start(self) -> None:
        """Start consuming; returns at once, work goes on in a background task."""
        self._worker = asyncio.create_task(self._run(), name="inbound-consumer")
        self._tag = await self._queue.consume(self._on_message, no_ack=False)

    async def stop(self, grace_s: float) -> None:
        """Stop taking messages, finish the ones held (within ``grace_s``), then return.

        Messages still held after the grace period are returned to the queue
        (nack with requeue) for another replica.
        """
        self._closing = True
        if self._tag is not None:
            try:
                # The broker's CancelOk can fail to come (a known client hang): bounded,
                # and deliveries that still arrive are handed back in _on_message.
                await self._queue.cancel(self._tag, timeout=5)
            except Exception as exc:
                log.warning("consumer cancel not confirmed (%r); going on", exc)
            self._tag = None
        try:
            await asyncio.wait_for(self._idle.wait(), grace_s)
        except TimeoutError:
            log.warning("grace period over; returning held tickets to the queue")
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        while not self._inbox.empty():
            message, _, _ = self._inbox.get_nowait()
            await _settle(message.nack(requeue=True))
            self._metrics.in_flight.dec()

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        if self._closing:
            await _settle(message.nack(requeue=True))
            return
        self._metrics.received.labels("amqp").inc()
        self._metrics.in_flight.inc()
        self._idle.clear()
        self._inbox.put_nowait((message, datetime.now(UTC), time.monotonic()))

    async def _run(self) -> None:
        while True:
            first = await self._inbox.get()
            try:
                batch = [first]
                deadline = time.monotonic() + self._batch_wait_s
                while len(batch) < self._batch_size:
                    if not self._inbox.empty():
                        batch.append(self._inbox.get_nowait())
                        continue
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    try:
                        batch.append(await asyncio.wait_for(self._inbox.get(), remaining))
                    except TimeoutError:
                        break
                await self._process(batch)
            finally:
                if self._inbox.empty():
                    self._idle.set()

    async def _process(
        self, batch: Sequence[tuple[AbstractIncomingMessage, datetime, float]]
    ) -> None:
        pending: list[tuple[AbstractIncomingMessage, Pending]] = []
        for message, received_at, mono in batch:
            try:
                ticket = parse_ticket(message.body, max_bytes=self._max_bytes)
            except InvalidInput as exc:
                await self._dead_letter(message, str(exc), exc.reason)
                continue
            owner = f"{self._replica}:{uuid.uuid4().hex[:12]}"
            pending.append((message, Pending(ticket, owner, received_at, mono)))
        await self._route_until_done(pending)

    async def _route_until_done(
        self, pending: list[tuple[AbstractIncomingMessage, Pending]]
    ) -> None:
        delay = 0.1
        failures = 0
        while pending:
            try:
                outcomes = await self._router.route_batch([p for _, p in pending])
            except Exception as exc:  # a bug: retry a little, then dead-letter with the reason
                failures += 1
                log.exception("routing failed (attempt %d) for %d tickets", failures, len(pending))
                if failures >= MAX_INTERNAL_FAILURES:
                    for message, p in pending:
                        log.error("dead-lettering ticket %s after internal errors", p.ticket.id)
                        await self._dead_letter(message, f"internal error: {exc!r}", "internal")
                    return
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            retry = []
            for (message, p), outcome in zip(pending, outcomes, strict=True):
                if outcome.status == "retry":
                    retry.append((message, p))
                    continue
                await _settle(message.ack())
                self._metrics.in_flight.dec()
            if retry:
                log.warning(
                    "%d tickets wait for a transient failure to pass: %s",
                    len(retry),
                    next(o.error for o in outcomes if o.status == "retry"),
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            pending = retry

    async def _dead_letter(self, message: AbstractIncomingMessage, error: str, reason: str) -> None:
        delay = 0.1
        while True:
            try:
                await self._publisher.publish_dead(message.body, error, reason, message.headers)
                break
            except TransientError as exc:
                self._metrics.transient_errors.labels("broker").inc()
                log.warning("dead-lettering waits for the broker: %s", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        log.info("dead-lettered message %s: %s", message.message_id, error)
        self._metrics.dead_lettered.labels(reason).inc()
        await _settle(message.ack())
        self._metrics.in_flight.dec()


async def _settle(awaitable: object) -> None:
    """Ack or nack; a channel that closed meanwhile redelivers the message anyway,
    and the ticket id makes that redelivery harmless."""
    try:
        await awaitable  # type: ignore[misc]
    except Exception as exc:
        log.warning("could not settle a message (it will be redelivered): %s", exc)
