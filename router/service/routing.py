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
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

from classifiers.types import Classifier, ClassifierInput
from router.config.load import RoutingConfig
from router.core.assignment import Assignment, MaskFn
from router.core.domain import PRIORITY_RANK, Decision, Ticket, backlog_score
from router.core.errors import TransientError
from router.core.policy import decide
from router.service.current import Current
from router.service.escalation import first_check_ms
from router.service.inbound import Outcome, Pending
from router.service.metrics import Metrics
from router.service.ports import AssignmentPublisher, TicketStore
from router.service.stats import KpiRecorder

log = logging.getLogger(__name__)
# One line a routed ticket (ticket id, pool, rule, fallback, latency): its own logger,
# so a deployment can turn it down (ROUTER_LOG_LEVEL=WARNING silences it with the rest).
routed_log = logging.getLogger("router.tickets")

Clock = Callable[[], datetime]


# Outcomes after which the consumer acks the message.
_ACKED = frozenset({"assigned", "duplicate"})


def utc_now() -> datetime:
    """The current instant, time-zone aware (UTC)."""
    return datetime.now(UTC)


def classifier_input(ticket: Ticket) -> ClassifierInput:
    """What the classifiers see of a ticket."""
    c = ticket.customer
    return ClassifierInput(
        text=ticket.text,
        locale=c.locale,
        timezone=c.timezone,
        country=c.country,
        phone=c.phone,
        subject=ticket.subject or None,
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
        kpi: KpiRecorder | None = None,
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._model = model
        self._config = config
        self._metrics = metrics
        self._mask = mask
        self._claim_ttl_ms = claim_ttl_ms
        self._clock = clock
        self._kpi = kpi
        # Claims held (owner -> ticket id) and deliveries published but not yet acked
        # (owner -> pool id and the record published): until the record is stored (and
        # on the replicas, see TicketStore.replicated), a retry records, never publishes.
        self._held: dict[str, str] = {}
        self._published: dict[str, tuple[str, bytes]] = {}
        # Deliveries whose assignment is counted (metrics, KPIs): a record a failover lost
        # and recorded again on a retry is still one ticket routed.
        self._counted: set[str] = set()

    async def route_batch(self, batch: Sequence[Pending]) -> list[Outcome]:
        """Route every ticket of ``batch``; one outcome per ticket, in order.

        A ticket whose outcome is ``retry`` met a transient failure: the caller
        keeps its message and calls again later with the same :class:`Pending`.
        """
        if not batch:
            return []
        # Both reads at once: one round trip of waiting instead of two.
        states_read, loads_read = await asyncio.gather(
            self._store.states([p.ticket.id for p in batch]),
            self._store.loads(self._config.value.pool_ids),
            return_exceptions=True,
        )
        if isinstance(states_read, BaseException):
            if not isinstance(states_read, TransientError):
                raise states_read
            self._metrics.transient_errors.labels("redis").inc()
            return [Outcome(p.ticket.id, "retry", error=str(states_read)) for p in batch]
        states = states_read
        # Without loads, capacity is re-checked when the agent pulls; routing goes on.
        loads = {} if isinstance(loads_read, BaseException) else dict(loads_read)
        # Only new or half-done ids need work; assigned, leased, accepted or completed
        # ones are duplicates and are not even classified again. The same id twice in
        # one batch is routed once: the later copies take the first one's outcome.
        first: dict[str, Pending] = {}
        todo: list[Pending] = []
        by_owner: dict[str, Outcome] = {}
        for p, state in zip(batch, states, strict=True):
            earlier = self._published.get(p.owner)
            if earlier is not None and state not in (None, "claimed"):
                # This delivery's own assignment, recorded on a try whose wait for the
                # replicas failed: done, not a duplicate (nor counted a second time).
                by_owner[p.owner] = Outcome(p.ticket.id, "assigned", pool_id=earlier[0])
            elif (state is None or state == "claimed") and p.ticket.id not in first:
                first[p.ticket.id] = p
                todo.append(p)
        if todo:
            records = self._decide_all(todo, loads, by_owner)
            todo = [p for p in todo if p.owner in records]
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
            outcome = by_owner.get(p.owner)
            if outcome is None:
                outcome = self._copy_outcome(p, first, by_owner)
            outcomes.append(outcome)
        return await self._replicated(batch, outcomes)

    async def _replicated(self, batch: Sequence[Pending], outcomes: list[Outcome]) -> list[Outcome]:
        """The outcomes once the records behind the acks to come are on Redis' replicas
        (when the store waits for any); every one of them ``retry`` when they are not."""
        done = [o.status in _ACKED for o in outcomes]
        if any(done):
            try:
                await self._store.replicated()
            except TransientError as exc:
                self._metrics.transient_errors.labels("redis").inc()
                return [
                    Outcome(o.ticket_id, "retry", error=str(exc)) if d else o
                    for o, d in zip(outcomes, done, strict=True)
                ]
        for p, outcome, d in zip(batch, outcomes, done, strict=True):
            if d:
                self._published.pop(p.owner, None)
                self._held.pop(p.owner, None)
                self._counted.discard(p.owner)
            if outcome.status == "duplicate":
                self._metrics.duplicates.inc()
        return outcomes

    @staticmethod
    def _copy_outcome(
        p: Pending, first: Mapping[str, Pending], by_owner: Mapping[str, Outcome]
    ) -> Outcome:
        """The outcome of a ticket that was not routed itself: a duplicate of a known id,
        or a second copy of an id routed earlier in the same batch."""
        original = first.get(p.ticket.id)
        if original is None or original.owner == p.owner:
            return Outcome(p.ticket.id, "duplicate")
        done = by_owner.get(original.owner)
        if done is None or done.status in ("assigned", "duplicate"):
            return Outcome(p.ticket.id, "duplicate")
        # The first copy did not get through: this one tries again on its own.
        return Outcome(
            p.ticket.id,
            "retry" if done.status == "failed" else done.status,
            error=done.error,
            retry_after_s=done.retry_after_s,
        )

    def _decide_all(
        self, todo: Sequence[Pending], loads: dict[str, int], failed: dict[str, Outcome]
    ) -> dict[str, tuple[bytes, Assignment]]:
        """Classify the batch at once and decide each ticket; the records to claim
        (encoded once, and the typed object itself, so publishing need not decode it).

        A ticket whose decision raises gets a ``failed`` outcome in ``failed`` and no
        record, so one bad ticket never takes the rest of the batch with it.
        """
        model = self._model.value
        config = self._config.value
        # One call for the whole batch: per-call overhead dominates single predictions.
        predictions = model.predict([classifier_input(p.ticket) for p in todo])
        self._metrics.batch_size.observe(len(todo))
        now = self._clock()
        records: dict[str, tuple[bytes, Assignment]] = {}
        for pending, prediction in zip(todo, predictions, strict=True):
            try:
                decision = decide(pending.ticket, prediction, config, loads, now)
                record = Assignment.build(
                    pending.ticket, prediction, decision, received_at=pending.received_at
                )
                records[pending.owner] = (record.encode(), record)
            except Exception as exc:  # a bug this ticket triggers; see Outcome "failed"
                log.exception("routing ticket %s failed", pending.ticket.id)
                failed[pending.owner] = Outcome(
                    pending.ticket.id, "failed", error=f"internal error: {exc!r}"
                )
                continue
            # Count within the batch too, so a burst does not pile onto one pool.
            loads[decision.pool_id] = loads.get(decision.pool_id, 0) + 1
            self._note_fallback(decision)
        return records

    async def renew_claims(self) -> None:
        """Extend the claims this replica holds while it works on them, so claims can be
        short: a killed or frozen replica's tickets are taken over within a claim TTL."""
        held = list(self._held.items())
        if not held:
            return
        try:
            await self._store.renew_many([(tid, owner) for owner, tid in held], self._claim_ttl_ms)
        except TransientError as exc:
            log.warning("claims not renewed: %s", exc)

    def _note_fallback(self, decision: Decision) -> None:
        if decision.fallback is not None:
            self._metrics.coverage_gaps.labels(decision.fallback).inc()

    async def _deliver_all(
        self, todo: Sequence[Pending], records: Mapping[str, tuple[bytes, Assignment]]
    ) -> list[tuple[str, Outcome]]:
        """Claim, publish and mark the batch; (owner, outcome) for each ticket of ``todo``."""
        records = dict(records)
        for p in todo:
            earlier = self._published.get(p.owner)
            if earlier is not None:
                # Published on an earlier try whose record then went missing (a failover
                # took it): what the pool received is the decision to record again.
                records[p.owner] = (earlier[1], Assignment.decode(earlier[1]))
        claims = await self._store.claim_many(
            [(p.ticket.id, p.owner, records[p.owner][0]) for p in todo], self._claim_ttl_ms
        )
        out: list[tuple[str, Outcome]] = []
        owned: list[tuple[Pending, Assignment, bytes]] = []
        for pending, claim in zip(todo, claims, strict=True):
            if claim.status == "done":
                out.append((pending.owner, Outcome(pending.ticket.id, "duplicate")))
            elif claim.status == "busy":
                # Another delivery of this id is being routed (a re-send, or a frozen
                # replica's): come back when its claim ends, without holding up the rest.
                wait_s = max(0.05, min(claim.until_ms / 1000 - time.time(), 2.0))
                out.append(
                    (pending.owner, Outcome(pending.ticket.id, "wait", retry_after_s=wait_s))
                )
            else:
                self._held[pending.owner] = pending.ticket.id
                encoded, record = records[pending.owner]
                if claim.record is not None and claim.record != encoded:
                    # A take-over: deliver the decision stored first, not ours.
                    encoded, record = claim.record, Assignment.decode(claim.record)
                owned.append((pending, record, encoded))
        # A ticket whose publish was confirmed on an earlier try of this delivery (its
        # record then failed on Redis) is not published again: only recorded.
        to_publish = [(p, r, e) for p, r, e in owned if p.owner not in self._published]
        results = await self._publish_all(to_publish)
        failure: BaseException | None = None
        for (pending, record, encoded), result in zip(to_publish, results, strict=True):
            if result is not None:
                failure = failure or result
                out.append((pending.owner, Outcome(pending.ticket.id, "retry", error=str(result))))
            else:
                self._published[pending.owner] = (record.pool_id, encoded)
        published = [
            (p, self._published[p.owner][0]) for p, _, _ in owned if p.owner in self._published
        ]
        stored = {p.owner: r for p, r, _ in owned}
        marks = await self._store.mark_assigned_many(
            [(p.ticket.id, p.owner, pool, self._score(p)) for p, pool in published],
            [first_check_ms(stored[p.owner]) for p, _ in published],
        )
        fresh = [p.owner not in self._counted for p, _ in published]
        if self._kpi is not None:  # counted in memory; written behind our back
            self._kpi.routed(
                stored[p.owner]
                for (p, _), ours, new in zip(published, marks, fresh, strict=True)
                if ours and new
            )
        assigned: Counter[str] = Counter()
        for (pending, pool_id), still_ours, new in zip(published, marks, fresh, strict=True):
            if not still_ours:
                # Our claim expired mid-publish and another consumer took over: it
                # publishes the same stored decision; pool consumers de-duplicate on id.
                log.warning("claim on ticket %s lost during publish", pending.ticket.id)
            latency = time.monotonic() - pending.received_mono
            if new:
                self._counted.add(pending.owner)
                assigned[pool_id] += 1
                self._metrics.latency.observe(latency)
            if routed_log.isEnabledFor(logging.INFO):
                record = stored[pending.owner]
                routed_log.info(
                    "ticket %s routed to %s",
                    pending.ticket.id,
                    pool_id,
                    extra={
                        "ticket_id": pending.ticket.id,
                        "pool": pool_id,
                        "rule": record.rule,
                        "fallback": record.fallback,
                        "latency_ms": round(latency * 1000, 1),
                    },
                )
            out.append((pending.owner, Outcome(pending.ticket.id, "assigned", pool_id=pool_id)))
        for pool_id, n in assigned.items():  # one series lookup a pool, not a ticket
            self._metrics.assigned.labels(pool_id).inc(n)
        if failure is not None and not isinstance(failure, TransientError):
            raise failure
        if failure is not None:
            self._metrics.transient_errors.labels("broker").inc()
        return out

    def forget(self, owner: str) -> None:
        """Drop what is remembered of a delivery that will not be retried (dead-lettered,
        or handed back to the broker)."""
        self._held.pop(owner, None)
        self._published.pop(owner, None)
        self._counted.discard(owner)

    @staticmethod
    def _score(pending: Pending) -> float:
        rank = PRIORITY_RANK.get(pending.ticket.priority, 1)
        return backlog_score(rank, int(pending.received_at.timestamp() * 1000))

    async def _publish_all(
        self, items: Sequence[tuple[Pending, Assignment, bytes]]
    ) -> list[BaseException | None]:
        """Publish each pool's copy, all at once; per item None or what went wrong."""
        results: list[BaseException | None] = [None] * len(items)
        batch: list[tuple[str, str, bytes]] = []
        where: list[int] = []
        for i, (pending, assignment, encoded) in enumerate(items):
            try:
                # The pool's copy through the choke point; a full-access in-house pool's
                # copy is the stored encoding itself, so a record is encoded once.
                body = assignment.for_pool(self._mask, encoded)
            except Exception as exc:  # a bug this ticket triggers: it alone fails
                results[i] = exc
                continue
            batch.append((assignment.pool_id, pending.ticket.id, body))
            where.append(i)
        for i, result in zip(where, await self._publisher.publish_assignments(batch), strict=True):
            results[i] = result
        return results
