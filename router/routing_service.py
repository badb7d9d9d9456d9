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
from router.domain import PRIORITY_RANK, Decision, Ticket, backlog_score
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
        # Only new or half-done ids need work; assigned, leased, accepted or completed
        # ones are duplicates and are not even classified again.
        todo = [p for p, s in zip(batch, states, strict=True) if s is None or s == "claimed"]
        by_owner: dict[str, Outcome] = {}
        if todo:
            records = await self._decide_all(todo)
            try:
                for owner, delivered in await self._deliver_all(todo, records):
                    by_owner[owner] = delivered
            except TransientError as exc:
                dep = "redis" if str(exc).startswith("redis") else "broker"
                self._metrics.transient_errors.labels(dep).inc()
                for p in todo:
                    by_owner.setdefault(p.owner, Outcome(p.ticket.id, "retry", error=str(exc)))
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

    async def _deliver_all(
        self, todo: Sequence[Pending], records: Mapping[str, bytes]
    ) -> list[tuple[str, Outcome]]:
        """Claim, publish and mark the batch; (owner, outcome) for each ticket of ``todo``."""
        claims = await self._store.claim_many(
            [(p.ticket.id, p.owner, records[p.owner]) for p in todo], self._claim_ttl_ms
        )
        out: list[tuple[str, Outcome]] = []
        owned: list[tuple[Pending, bytes]] = []
        waiting: list[Pending] = []
        for pending, claim in zip(todo, claims, strict=True):
            if claim.status == "done":
                out.append((pending.owner, Outcome(pending.ticket.id, "duplicate")))
            elif claim.status == "busy":
                waiting.append(pending)
            else:
                owned.append((pending, claim.record or records[pending.owner]))
        published: list[tuple[Pending, str]] = []
        results = await asyncio.gather(
            *(self._publish(p, stored) for p, stored in owned), return_exceptions=True
        )
        failure: BaseException | None = None
        for (pending, _), result in zip(owned, results, strict=True):
            if isinstance(result, BaseException):
                failure = failure or result
                out.append((pending.owner, Outcome(pending.ticket.id, "retry", error=str(result))))
            else:
                published.append((pending, result))
        marks = await self._store.mark_assigned_many(
            [(p.ticket.id, p.owner, pool, self._score(p)) for p, pool in published]
        )
        for (pending, pool_id), still_ours in zip(published, marks, strict=True):
            if not still_ours:
                # Our claim expired mid-publish and another consumer took over: it
                # publishes the same stored decision; pool consumers de-duplicate on id.
                log.warning("claim on ticket %s lost during publish", pending.ticket.id)
            self._metrics.assigned.labels(pool_id).inc()
            self._metrics.latency.observe(time.monotonic() - pending.received_mono)
            out.append((pending.owner, Outcome(pending.ticket.id, "assigned", pool_id=pool_id)))
        # Another delivery of the same id is being routed (a re-send in the same burst,
        # maybe in this very batch, now done): wait for it; then this one is a duplicate.
        waited = await asyncio.gather(*(self._wait_for_other(p, records) for p in waiting))
        out.extend((p.owner, o) for p, o in zip(waiting, waited, strict=True))
        if failure is not None and not isinstance(failure, TransientError):
            raise failure
        if failure is not None:
            self._metrics.transient_errors.labels("broker").inc()
        return out

    @staticmethod
    def _score(pending: Pending) -> float:
        rank = PRIORITY_RANK.get(pending.ticket.priority, 1)
        return backlog_score(rank, int(pending.received_at.timestamp() * 1000))

    async def _publish(self, pending: Pending, stored: bytes) -> str:
        assignment: dict[str, Any] = orjson.loads(stored)
        pool_id = str(assignment["pool_id"])
        body = orjson.dumps(for_pool(assignment, self._mask))
        await self._publisher.publish_assignment(pool_id, pending.ticket.id, body)
        return pool_id

    async def _wait_for_other(self, pending: Pending, records: Mapping[str, bytes]) -> Outcome:
        deadline = time.monotonic() + self._claim_ttl_ms / 1000 + 5
        delay = 0.02
        while time.monotonic() < deadline:
            [state] = await self._store.states([pending.ticket.id])
            if state == "assigned":
                return Outcome(pending.ticket.id, "duplicate")
            [claim] = await self._store.claim_many(
                [(pending.ticket.id, pending.owner, records[pending.owner])], self._claim_ttl_ms
            )
            if claim.status == "done":
                return Outcome(pending.ticket.id, "duplicate")
            if claim.status != "busy":
                # The other owner died with the claim: deliver its stored decision.
                pool_id = await self._publish(pending, claim.record or records[pending.owner])
                await self._store.mark_assigned_many(
                    [(pending.ticket.id, pending.owner, pool_id, self._score(pending))]
                )
                self._metrics.assigned.labels(pool_id).inc()
                return Outcome(pending.ticket.id, "assigned", pool_id=pool_id)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)
        return Outcome(pending.ticket.id, "retry", error="stays claimed by another consumer")

