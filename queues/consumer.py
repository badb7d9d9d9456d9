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
import itertools
import logging
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import orjson
from aio_pika.abc import AbstractQueue, AbstractRobustChannel, AbstractRobustConnection
from aiormq.abc import DeliveredMessage

from queues.acks import AckBatcher
from queues.delivery import Delivery
from queues.publisher import AmqpPublisher
from router.core.errors import InvalidInput, TransientError
from router.core.ticket_schema import parse_ticket
from router.service.inbound import BatchRouter, Outcome, Pending
from router.service.metrics import Metrics

log = logging.getLogger(__name__)

# A ticket that crashes the router this many times in a row (a bug, not bad input)
# goes to the dead queue with the exception, instead of blocking the queue forever.
MAX_INTERNAL_FAILURES = 3
# Batches routed at the same time by one consumer (see _run).
BATCHES_IN_FLIGHT = 2

# A held message, when it arrived, and its Pending once decoded (kept across tries,
# so a retry resumes its own claim).
Held = tuple[Delivery, datetime, float, "Pending | None"]


class InboundConsumer:
    """Consumes ``tickets.inbound`` in batches with a bounded prefetch."""

    def __init__(
        self,
        queue: AbstractQueue,
        channel: AbstractRobustChannel,
        router: BatchRouter,
        publisher: AmqpPublisher,
        metrics: Metrics,
        *,
        batch_size: int = 128,
        batch_wait_s: float = 0.002,
        max_bytes: int = 64 * 1024,
        replica: str | None = None,
    ) -> None:
        self._queue = queue
        self._channel = channel
        self._router = router
        self._publisher = publisher
        self._metrics = metrics
        self._received = metrics.received.labels("amqp")  # looked up once, not a message
        self._batch_size = batch_size
        self._batch_wait_s = batch_wait_s
        self._max_bytes = max_bytes
        self._replica = replica or uuid.uuid4().hex[:12]
        self._inbox: asyncio.Queue[Held] = asyncio.Queue()
        # Set when the inbox holds a full batch (the batching loop waits on it).
        self._batch_full = asyncio.Event()
        # Owners are unique per delivery attempt: the replica's id and a count.
        self._owners = itertools.count(1)
        # Tickets waiting for another consumer's claim, put back in the inbox later.
        self._deferred: dict[asyncio.TimerHandle, Held] = {}
        self._acks = AckBatcher()
        self._slots = asyncio.Semaphore(BATCHES_IN_FLIGHT)
        self._active = 0
        self._batches: set[asyncio.Task[None]] = set()
        self._tag: str | None = None
        self._worker: asyncio.Task[None] | None = None
        # Set while nothing is held: no batch in progress and nothing waiting.
        self._idle = asyncio.Event()
        self._idle.set()
        self._closing = False

    async def start(self) -> None:
        """Start consuming; returns at once, work goes on in a background task."""
        self._worker = asyncio.create_task(self._run(), name="inbound-consumer")
        # After any reconnect the robust channel declares the queue again, then calls
        # this: the consumer comes back by itself (the watchdog is the backstop).
        self._channel.reopen_callbacks.add(self._reopened)
        self._tag = await self._consume()

    async def _consume(self, timeout: float | None = None) -> str:
        """Consume the queue on the channel's current underlying channel; the tag.

        Straight on the AMQP client, not through aio-pika's queue.consume: that wraps
        each delivery in a fully decoded message and one more task (about 20 us of a
        ticket's CPU), where the consumer reads five fields (see queues.delivery)."""
        underlay = await self._channel.get_underlay_channel()
        ok = await underlay.basic_consume(
            self._queue.name, self._on_delivery, no_ack=False, timeout=timeout
        )
        if ok.consumer_tag is None:
            raise RuntimeError("the broker gave no consumer tag")
        return ok.consumer_tag

    async def _reopened(self, _channel: object) -> None:
        if self._closing:
            return
        try:
            self._tag = await self._consume(timeout=10)
        except Exception as exc:  # the watchdog re-attaches later
            log.warning("consuming again after a reconnect failed: %r", exc)
            return
        log.info("consuming %s again as %s after a reconnect", self._queue.name, self._tag)

    async def attached(self, timeout_s: float = 1.0) -> bool:
        """True when the broker is delivering to this consumer right now: its channel
        is open and knows the consumer. False while reconnecting or after the broker
        cancelled the consumer (the robust channel restores it; see :meth:`reattach`)."""
        if self._tag is None or self._closing:
            return False
        try:
            underlay = await asyncio.wait_for(self._channel.get_underlay_channel(), timeout_s)
        except Exception:
            return False
        consumers = getattr(underlay, "consumers", {})
        return not underlay.is_closed and self._tag in consumers

    async def reattach(self) -> None:
        """Consume again under a new tag: the last resort when the robust channel is open
        but did not restore the consumer (it normally does by itself)."""
        if self._closing:
            return
        old, self._tag = self._tag, None
        if old is not None:
            with contextlib.suppress(Exception):
                await self._queue.cancel(old, timeout=5)
        self._tag = await self._consume(timeout=10)
        log.warning("re-attached to %s as consumer %s", self._queue.name, self._tag)

    async def stop(self, grace_s: float) -> None:
        """Stop taking messages, finish the ones held (within ``grace_s``), then return.

        Messages still held after the grace period are returned to the queue
        (nack with requeue) for another replica.
        """
        self._closing = True
        self._channel.reopen_callbacks.discard(self._reopened)
        if self._tag is not None:
            try:
                # The broker's CancelOk can fail to come (a known client hang): bounded,
                # and deliveries that still arrive are handed back in _on_message.
                await self._queue.cancel(self._tag, timeout=5)
            except Exception as exc:
                log.warning("consumer cancel not confirmed (%r); going on", exc)
            self._tag = None
        for handle, held in list(self._deferred.items()):
            handle.cancel()
            self._inbox.put_nowait(held)
        self._deferred.clear()
        try:
            await asyncio.wait_for(self._idle.wait(), grace_s)
        except TimeoutError:
            log.warning("grace period over; returning held tickets to the queue")
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        for task in list(self._batches):
            task.cancel()
        if self._batches:
            await asyncio.wait(list(self._batches))
        while not self._inbox.empty():
            message, _, _, pending = self._inbox.get_nowait()
            if pending is not None:
                self._router.forget(pending.owner)
            self._acks.forget(message)
            await _settle(message.nack(requeue=True))
            self._metrics.in_flight.dec()

    async def _on_delivery(self, delivered: DeliveredMessage) -> None:
        message = Delivery(delivered)
        # Counted once where a ticket enters: the HTTP path counted its own already, and
        # a redelivery was counted when first delivered (even if handed back unread).
        headers = message.headers
        if not message.redelivered and headers.get("x-router-ingest") not in ("http", b"http"):
            self._received.inc()
        if self._closing:
            await _settle(message.nack(requeue=True))
            return
        self._metrics.in_flight.inc()
        self._acks.delivered(message)
        self._idle.clear()
        self._inbox.put_nowait((message, datetime.now(UTC), time.monotonic(), None))
        if self._inbox.qsize() + 1 >= self._batch_size:  # with the one the loop took
            self._batch_full.set()

    async def _run(self) -> None:
        while True:
            # Two batches at once: one is classified and decided while the other waits
            # for Redis and the broker's confirms, so neither the CPU nor the round trips
            # sit idle. The slot is taken before the batch is gathered, so what arrives
            # while both are busy goes in the next one (fewer, fuller batches under load).
            await self._slots.acquire()
            try:
                first = await self._inbox.get()
            except BaseException:
                self._slots.release()
                raise
            self._active += 1  # held from here: not idle, even with the inbox empty
            if self._inbox.qsize() + 1 < self._batch_size and self._batch_wait_s > 0:
                # Wait for a full batch, at most batch_wait_s: one timer a batch (waiting
                # on each get with a timeout costs a task and a timer a message).
                self._batch_full.clear()
                try:
                    async with asyncio.timeout(self._batch_wait_s):
                        await self._batch_full.wait()
                except TimeoutError:
                    pass
                except asyncio.CancelledError:  # stopping: stop() hands it back
                    self._inbox.put_nowait(first)
                    self._active -= 1
                    self._slots.release()
                    raise
            batch = [first]
            while len(batch) < self._batch_size and not self._inbox.empty():
                batch.append(self._inbox.get_nowait())
            task = asyncio.create_task(self._process_guarded(batch), name="inbound-batch")
            self._batches.add(task)
            task.add_done_callback(self._batches.discard)

    async def _process_guarded(self, batch: Sequence[Held]) -> None:
        try:
            await self._process(batch)
        except Exception:
            # A bug here must not end consuming for good (a silent stop is the worst
            # failure): log it loudly and go on; unsettled messages of this batch come
            # back when the channel closes.
            log.exception("the inbound consumer hit a bug processing %d messages", len(batch))
        finally:
            self._active -= 1
            self._slots.release()
            if self._active == 0 and self._inbox.empty() and not self._deferred:
                self._idle.set()

    async def _process(self, batch: Sequence[Held]) -> None:
        pending: list[tuple[Delivery, Pending]] = []
        for message, received_at, mono, known in batch:
            if _channel_closed(message):
                # Delivered on a channel that has since closed: the broker redelivers it
                # on the new one, and an ack on the old one could not be sent anyway.
                if known is not None:
                    self._router.forget(known.owner)
                self._acks.forget(message)
                self._metrics.in_flight.dec()
                continue
            if known is not None:
                pending.append((message, known))
                continue
            try:
                ticket = parse_ticket(message.body, max_bytes=self._max_bytes)
            except InvalidInput as exc:
                await self._dead_letter(
                    message, str(exc), exc.reason, ticket_id=_id_hint(message.body)
                )
                continue
            owner = f"{self._replica}:{next(self._owners)}"
            pending.append((message, Pending(ticket, owner, received_at, mono)))
        await self._route_until_done(pending)
        await self._acks.flush()  # the dead letters of this batch

    async def _route_until_done(self, pending: list[tuple[Delivery, Pending]]) -> None:
        delay = 0.1
        failures = 0
        while pending:
            try:
                outcomes = await self._router.route_batch([p for _, p in pending])
            except Exception as exc:  # a bug: isolate the ticket that causes it
                if len(pending) > 1:
                    # Halve until the failing ticket stands alone: the others go through.
                    log.exception("routing %d tickets failed; retrying in halves", len(pending))
                    half = len(pending) // 2
                    await self._route_until_done(pending[:half])
                    await self._route_until_done(pending[half:])
                    return
                failures += 1
                [(message, p)] = pending
                log.exception("routing ticket %s failed (attempt %d)", p.ticket.id, failures)
                if failures >= MAX_INTERNAL_FAILURES:
                    await self._fail(message, p, f"internal error: {exc!r}")
                    return
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            retry = []
            for (message, p), outcome in zip(pending, outcomes, strict=True):
                if outcome.status == "retry":
                    retry.append((message, p))
                elif outcome.status == "wait":
                    self._defer((message, p.received_at, p.received_mono, p), outcome)
                elif outcome.status == "failed":
                    await self._fail(message, p, outcome.error or "internal error")
                else:
                    self._acks.settle(message)
                    self._metrics.in_flight.dec()
            await self._acks.flush()
            if retry:
                log.warning(
                    "%d tickets wait for a transient failure to pass: %s",
                    len(retry),
                    next(o.error for o in outcomes if o.status == "retry"),
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            pending = retry

    def _defer(self, held: Held, outcome: Outcome) -> None:
        """Put a ticket back in the inbox once another consumer's claim on it may be over."""
        loop = asyncio.get_running_loop()

        def back() -> None:
            if self._deferred.pop(handle, None) is not None:
                self._idle.clear()
                self._inbox.put_nowait(held)

        handle = loop.call_later(outcome.retry_after_s, back)
        self._deferred[handle] = held

    async def _fail(self, message: Delivery, p: Pending, error: str) -> None:
        log.error("dead-lettering ticket %s: %s", p.ticket.id, error)
        self._router.forget(p.owner)
        await self._dead_letter(message, error, "internal", ticket_id=p.ticket.id)

    async def _dead_letter(
        self,
        message: Delivery,
        error: str,
        reason: str,
        *,
        ticket_id: str | None = None,
    ) -> None:
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
        log.info(
            "dead-lettered ticket %s: %s", ticket_id or f"(message {message.message_id})", error
        )
        self._metrics.dead_lettered.labels(reason).inc()
        self._acks.settle(message)
        self._metrics.in_flight.dec()


class ConsumerWatchdog:
    """Keeps an eye on one consumer: exports whether it is attached, and re-attaches it
    when the connection is up but the consumer stayed missing (the robust channel
    normally restores it within a second or two; this is the backstop)."""

    def __init__(
        self,
        consumer: InboundConsumer,
        connection: AbstractRobustConnection,
        metrics: Metrics,
        *,
        patience_checks: int = 10,
    ) -> None:
        self._consumer = consumer
        self._connection = connection
        self._metrics = metrics
        self._patience = patience_checks
        self._missing = 0

    async def check(self) -> None:
        """One look; call it about once a second."""
        attached = await self._consumer.attached()
        self._metrics.consumer_attached.set(1 if attached else 0)
        if attached or self._connection.is_closed:
            self._missing = 0
            return
        self._missing += 1
        if self._missing >= self._patience:
            self._missing = 0
            log.warning("inbound consumer missing for %d checks; re-attaching", self._patience)
            try:
                await self._consumer.reattach()
            except Exception as exc:  # the next checks try again
                log.warning("re-attaching the inbound consumer failed: %r", exc)


def _id_hint(body: bytes) -> str | None:
    """The ``id`` of an invalid ticket, when it has a readable one, for the log line."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    tid = value.get("id") if isinstance(value, dict) else None
    return tid[:128] if isinstance(tid, str) else None


def _channel_closed(message: Delivery) -> bool:
    return bool(message.channel.is_closed)


async def _settle(awaitable: object) -> None:
    """Ack or nack; a channel that closed meanwhile redelivers the message anyway,
    and the ticket id makes that redelivery harmless."""
    try:
        await awaitable  # type: ignore[misc]
    except Exception as exc:
        log.warning("could not settle a message (it will be redelivered): %s", exc)
