"""Routes batches of validated tickets: classify, decide, claim, publish, record.

Transport-agnostic: the AMQP consumer hands it tickets and acks what it reports
done. Exactly-once assignment rests on the claim in the :class:`TicketStore`:
the first consumer to claim a ticket id stores its decision; a redelivery or a
re-sent ticket finds the id done (duplicate) or, if the owner died before
publishing, takes the claim over and publishes the *stored* decision again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

from classifiers.types import Classifier, ClassifierInput
from router.assignment import MaskFn, build_assignment, for_pool
from router.config import RoutingConfig
from router.current import Current
from router.domain import Decision, Ticket
from router.errors import TransientError
from router.metrics import Metrics
from router.policy import decide
from router.ports import AssignmentPublisher, TicketStore

log = logging.getLogger(__name__)

OutcomeStatus = Literal["assigned", "duplicate", "retry"]
Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class Pending:
    """A ticket waiting to be routed, with the identity of its delivery.

    ``owner`` is unique per delivery attempt and kept across retries of that
    attempt, so a retry resumes its own claim while a concurrent duplicate waits.
    """

    ticket: Ticket
    owner: str
    received_at: datetime
    received_mono: float


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one ticket of a batch."""

    ticket_id: str
    status: OutcomeStatus
    pool_id: str | None = None
    error: str | None = None


def utc_now() -> datetime:
    """The current instant, time-zone aware (UTC)."""
    return datetime.now(UTC)


def classifier_input(ticket: Ticket) -> ClassifierInput:
    """What the classifiers see of a ticket."""
    c = ticket.customer
    return ClassifierInput(
        text=ticket.text, locale=c.locale, timezone=c.timezone, country=c.country, phone=c.phone
    )


class TicketRouter:
    """The routing step of the service, shared by every transport."""

    def __init__(
        self,
        *,
        store: TicketStore,
        publisher: AssignmentPublisher,
        model: Current[Classifier],
        config: Current[RoutingConfig],
        metrics: Metrics,
        mask: MaskFn,
        claim_ttl_ms: int = 30_000,
        clock: Clock = utc_now,
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._model = model
        self._config = config
        self._metrics = metrics
        self._mask = mask
        self._claim_ttl_ms = claim_ttl_ms
        self._clock = clock

    async def route_batch(self, batch: Sequence[Pending]) -> list[Outcome]:
        """Route every ticket of ``batch``; one outcome per ticket, in order.

        A ticket whose outcome is ``retry`` met a transient failure: the caller
        keeps its message and calls again later with the same :class:`Pending`.
        """
        if not batch:
            return []
        try:
            states = await self._store.states([p.ticket.id for p in batch])
        except TransientError as exc:
            self._metrics.transient_errors.labels("redis").inc()
            return [Outcome(p.ticket.id, "retry", error=str(exc)) for p in batch]
        todo = [p for p, s in zip(batch, states, strict=True) if s != "assigned"]
        records = await self._decide_all(todo) if todo else {}
        delivered = await asyncio.gather(
            *(self._deliver(p, records[p.owner]) for p in todo), return_exceptions=True
        )
        by_owner: dict[str, Outcome] = {}
        for pending, result in zip(todo, delivered, strict=True):
            if isinstance(result, TransientError):
                dep = "redis" if str(result).startswith("redis") else "broker"
                self._metrics.transient_errors.labels(dep).inc()
                by_owner[pending.owner] = Outcome(pending.ticket.id, "retry", error=str(result))
            elif isinstance(result, BaseException):
                raise result
            else:
                by_owner[pending.owner] = result
        outcomes = []
        for p in batch:
            outcome = by_owner.get(p.owner) or Outcome(p.ticket.id, "duplicate")
            if outcome.status == "duplicate":
                self._metrics.duplicates.inc()
            outcomes.append(outcome)
        return outcomes

    async def _decide_all(self, todo: Sequence[Pending]) -> dict[str, bytes]:
        """Classify the batch at once and decide each ticket; the records to claim."""
        model = self._model.value
        config = self._config.value
        # One call for the whole batch: per-call overhead dominates single predictions.
        predictions = model.predict([classifier_input(p.ticket) for p in todo])
        self._metrics.batch_size.observe(len(todo))
        try:
            loads = dict(await self._store.loads(config.pool_ids))
        except TransientError:
            loads = {}  # capacity is re-checked when the agent pulls; routing goes on
        now = self._clock()
        records: dict[str, bytes] = {}
        for pending, prediction in zip(todo, predictions, strict=True):
            decision = decide(pending.ticket, prediction, config, loads, now)
            # Count within the batch too, so a burst does not pile onto one pool.
            loads[decision.pool_id] = loads.get(decision.pool_id, 0) + 1
            self._note_fallback(decision)
            record = build_assignment(
                pending.ticket, prediction, decision, received_at=pending.received_at
            )
            records[pending.owner] = orjson.dumps(record)
        return records

    def _note_fallback(self, decision: Decision) -> None:
        if decision.fallback is not None:
            self._metrics.coverage_gaps.labels(decision.fallback).inc()

    async def _deliver(self, pending: Pending, record: bytes) -> Outcome:
        tid = pending.ticket.id
        deadline = time.monotonic() + self._claim_ttl_ms / 1000 + 5
        delay = 0.02
        while True:
            claim = await self._store.claim(tid, pending.owner, record, self._claim_ttl_ms)
            if claim.status == "done":
                return Outcome(tid, "duplicate")
            if claim.status != "busy":
                break
            # Another delivery of the same id is being routed right now: wait for it
            # to finish (then this one is a duplicate) or for its claim to expire.
            if time.monotonic() > deadline:
                raise TransientError(f"redis: ticket {tid} stays claimed by another consumer")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)
        stored = claim.record or record
        assignment: dict[str, Any] = orjson.loads(stored)
        pool_id = str(assignment["pool_id"])
        body = orjson.dumps(for_pool(assignment, self._mask))
        await self._publisher.publish_assignment(pool_id, tid, body)
        if not await self._store.mark_assigned(tid, pending.owner, pool_id):
            # Our claim expired mid-publish and another consumer took over: it will
            # publish the same stored decision; pool consumers de-duplicate on ticket id.
            log.warning("claim on ticket %s lost during publish", tid)
        self._metrics.assigned.labels(pool_id).inc()
        self._metrics.latency.observe(time.monotonic() - pending.received_mono)
        return Outcome(tid, "assigned", pool_id=pool_id)


def decision_summary(assignment: Mapping[str, Any]) -> str:
    """One log line for an assignment."""
    return (
        f"ticket={assignment['ticket_id']} pool={assignment['pool_id']} "
        f"rule={assignment['rule']} tier={assignment['tier']} lang={assignment['language']}"
    )
