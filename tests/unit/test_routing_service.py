"""The routing step with in-memory ports: idempotency, take-over and retries."""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from classifiers.types import Classifier, ClassifierInput, Prediction
from router.config.load import load_config
from router.core.assignment import Assignment
from router.core.errors import TransientError
from router.core.masking import mask_ticket
from router.core.policy import decide as routing_service_decide
from router.core.ticket_schema import ticket_from_object
from router.service.current import Current
from router.service.escalation import due_step, parse_time
from router.service.inbound import Pending
from router.service.metrics import Metrics
from router.service.routing import TicketRouter
from router.service.stats import KpiMetrics, KpiRecorder
from tests.conftest import EXAMPLE_CONFIG
from tests.fakes import MemoryKpiStore, MemoryLeaseStore, MemoryPublisher, MemoryTicketStore

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # a Tuesday afternoon: pools open


class FixedClassifier:
    """Predicts English tier-1 billing for everything (the model is not under test)."""

    version = "fixed-1"

    def predict(self, items: Sequence[ClassifierInput]) -> list[Prediction]:
        return [
            Prediction("en", 0.99, "tier1", 0.9, "billing", 0.9, "UTC", "none", self.version)
            for _ in items
        ]


def _router(
    store: MemoryTicketStore,
    publisher: MemoryPublisher,
    clock: Callable[[], datetime] = lambda: NOW,
    metrics: Metrics | None = None,
    kpi: KpiRecorder | None = None,
) -> TicketRouter:
    return TicketRouter(
        store=store,
        publisher=publisher,
        model=Current[Classifier](FixedClassifier()),
        config=Current(load_config(EXAMPLE_CONFIG)),
        metrics=metrics or Metrics(),
        mask=mask_ticket,
        claim_ttl_ms=1000,
        clock=clock,
        kpi=kpi,
    )


def _pending(ticket_id: str, owner: str) -> Pending:
    ticket = ticket_from_object(
        {"id": ticket_id, "subject": "Refund", "body": "Charged twice, email me at a@b.co"}
    )
    return Pending(ticket, owner, NOW, time.monotonic())


async def test_same_id_twice_in_one_batch_is_assigned_once() -> None:
    store, publisher = MemoryTicketStore(), MemoryPublisher()
    outcomes = await _router(store, publisher).route_batch(
        [_pending("A", "o1"), _pending("B", "o2"), _pending("A", "o3")]
    )
    assert [o.status for o in outcomes] == ["assigned", "assigned", "duplicate"]
    assert sorted(t for _, t, _ in publisher.published) == ["A", "B"]


async def test_redelivery_after_assignment_is_a_duplicate() -> None:
    store, publisher = MemoryTicketStore(), MemoryPublisher()
    router = _router(store, publisher)
    await router.route_batch([_pending("A", "o1")])
    [again] = await router.route_batch([_pending("A", "o2")])
    assert again.status == "duplicate"
    assert len(publisher.published) == 1


async def test_a_dead_owners_claim_is_taken_over_with_its_stored_decision() -> None:
    store, publisher = MemoryTicketStore(now_ms=0), MemoryPublisher()
    router = _router(store, publisher)
    stored = orjson.dumps({"pool_id": "andes-bpo", "data_access": "full", "ticket": {}})
    # A replica claimed the ticket, stored its decision and died before publishing.
    await store.claim_many([("A", "dead-replica", stored)], ttl_ms=1000)
    store.now_ms = 5000  # its claim has expired
    [outcome] = await router.route_batch([_pending("A", "o2")])
    assert outcome.status == "assigned"
    assert outcome.pool_id == "andes-bpo"  # the stored decision, not a new one
    assert [(p, t) for p, t, _ in publisher.published] == [("andes-bpo", "A")]


async def test_transient_failures_ask_for_a_retry_then_succeed_once() -> None:
    store, publisher = MemoryTicketStore(fail_next=1), MemoryPublisher(fail_next=1)
    router = _router(store, publisher)
    batch = [_pending("A", "o1")]
    first = await router.route_batch(batch)  # Redis down
    second = await router.route_batch(batch)  # broker down
    third = await router.route_batch(batch)
    assert [o.status for o in (*first, *second, *third)] == ["retry", "retry", "assigned"]
    assert len(publisher.published) == 1


@pytest.mark.parametrize("access", ["masked", "full"])
async def test_masked_pools_get_the_ticket_masked(access: str) -> None:
    store, publisher = MemoryTicketStore(), MemoryPublisher()
    stored = orjson.dumps(
        {"pool_id": "p", "data_access": access, "ticket": {"id": "A", "body": "write to a@b.co"}}
    )
    await store.claim_many([("A", "gone", stored)], ttl_ms=-1)
    await _router(store, publisher).route_batch([_pending("A", "o1")])
    [(_, _, body)] = publisher.published
    sent = orjson.loads(body)
    assert ("a@b.co" in sent["ticket"]["body"]) is (access == "full")
    assert sent["ticket_masked"] is (access == "masked")
    # What Redis keeps for ops stays unmasked.
    record = await store.get("A")
    assert record is not None and b"a@b.co" in record.record


class _MarkFailsOnce(MemoryTicketStore):
    """Redis drops the connection on the record that follows a confirmed publish."""

    async def mark_assigned_many(
        self,
        marks: Sequence[tuple[str, str, str, float]],
        first_due_ms: Sequence[float] | None = None,
    ) -> list[bool]:
        if not getattr(self, "_failed", False):
            self._failed = True
            raise TransientError("redis: connection reset (simulated)")
        return await super().mark_assigned_many(marks, first_due_ms)


async def test_a_publish_whose_record_failed_is_not_published_again_on_retry() -> None:
    store, publisher = _MarkFailsOnce(), MemoryPublisher()
    router = _router(store, publisher)
    batch = [_pending("A", "o1"), _pending("B", "o2")]
    first = await router.route_batch(batch)
    assert [o.status for o in first] == ["retry", "retry"]
    assert len(publisher.published) == 2  # confirmed by the broker before Redis failed
    second = await router.route_batch(batch)
    assert [o.status for o in second] == ["assigned", "assigned"]
    assert sorted(t for _, t, _ in publisher.published) == ["A", "B"]  # not twice
    assert [(await store.states([t]))[0] for t in ("A", "B")] == ["assigned", "assigned"]


async def test_nothing_is_acked_before_the_records_are_on_the_replicas() -> None:
    store, publisher, metrics = MemoryTicketStore(replication_fails=2), MemoryPublisher(), Metrics()
    router = _router(store, publisher, metrics=metrics)
    batch = [_pending("A", "o1"), _pending("B", "o2")]
    first = await router.route_batch(batch)
    assert [o.status for o in first] == ["retry", "retry"]
    assert "0 of 1 replicas" in (first[0].error or "")
    assert len(publisher.published) == 2  # published and recorded, but not yet replicated
    # The records survived on this primary: the retry finds them and waits again.
    assert [o.status for o in await router.route_batch(batch)] == ["retry", "retry"]
    third = await router.route_batch(batch)
    # Its own assignments, done now: not duplicates, and counted once.
    pools = {tid: pool for pool, tid, _ in publisher.published}
    assert [(o.status, o.pool_id) for o in third] == [
        ("assigned", pools["A"]),
        ("assigned", pools["B"]),
    ]
    assert store.replication_waits == 3
    assert sorted(t for _, t, _ in publisher.published) == ["A", "B"]  # never twice
    samples = {
        (s.name, s.labels.get("pool")): s.value
        for family in metrics.registry.collect()
        for s in family.samples
        if s.name in ("router_tickets_duplicate_total", "router_tickets_assigned_total")
    }
    expected: dict[tuple[str, str | None], float] = {("router_tickets_duplicate_total", None): 0.0}
    for pool, n in Counter(pools.values()).items():
        expected["router_tickets_assigned_total", pool] = float(n)
    assert samples == expected


async def test_a_record_a_failover_lost_is_recorded_again_as_published() -> None:
    store, publisher = MemoryTicketStore(replication_fails=1), MemoryPublisher()
    ticks = iter(range(100))
    metrics = Metrics()
    kpi = KpiRecorder(
        MemoryKpiStore(), Current(load_config(EXAMPLE_CONFIG)), KpiMetrics(metrics.registry)
    )
    # Each decision its own time, so a decision made again differs from the first.
    router = _router(
        store, publisher, lambda: NOW + timedelta(seconds=next(ticks)), metrics=metrics, kpi=kpi
    )
    [first] = await router.route_batch([_pending("A", "o1")])
    assert first.status == "retry"
    published = store.tickets["A"]["record"]
    # The promoted replica never had the record, nor the claim.
    store.tickets.clear()
    store.load.clear()
    [second] = await router.route_batch([_pending("A", "o1")])
    assert second.status == "assigned"
    assert [t for _, t, _ in publisher.published] == ["A"]  # recorded, not published again
    assert store.tickets["A"]["record"] == published  # the decision the pool received
    assert store.tickets["A"]["state"] == "assigned"
    # One ticket routed, though recorded twice: counted once in the metrics and the KPIs.
    [(pool, _, _)] = publisher.published
    counted = {
        (s.name, s.labels.get("event")): s.value
        for family in metrics.registry.collect()
        for s in family.samples
        if s.name in ("router_tickets_assigned_total", "router_kpi_events_total")
        and s.labels.get("pool") == pool
    }
    assert counted == {
        ("router_tickets_assigned_total", None): 1.0,
        ("router_kpi_events_total", "routed"): 1.0,
    }


async def test_a_batch_with_nothing_to_ack_does_not_wait_for_replicas() -> None:
    store, publisher = MemoryTicketStore(), MemoryPublisher(fail_next=1)
    [outcome] = await _router(store, publisher).route_batch([_pending("A", "o1")])
    assert outcome.status == "retry"
    assert store.replication_waits == 0


async def test_a_ticket_claimed_elsewhere_waits_without_holding_up_the_batch() -> None:
    store, publisher = MemoryTicketStore(now_ms=0), MemoryPublisher()
    router = _router(store, publisher)
    await store.claim_many([("A", "other-replica", b"{}")], ttl_ms=60_000)
    outcomes = await router.route_batch([_pending("A", "o1"), _pending("B", "o2")])
    assert [o.status for o in outcomes] == ["wait", "assigned"]
    assert 0.05 <= outcomes[0].retry_after_s <= 2.0
    assert [t for _, t, _ in publisher.published] == ["B"]


async def test_a_ticket_whose_decision_raises_fails_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    real = routing_service_decide

    def decide(ticket: Any, *args: Any) -> Any:
        if ticket.id == "BAD":
            raise RecursionError("planted")
        return real(ticket, *args)

    monkeypatch.setattr("router.service.routing.decide", decide)
    store, publisher = MemoryTicketStore(), MemoryPublisher()
    outcomes = await _router(store, publisher).route_batch(
        [_pending("A", "o1"), _pending("BAD", "o2"), _pending("C", "o3")]
    )
    assert [o.status for o in outcomes] == ["assigned", "failed", "assigned"]
    assert "RecursionError" in (outcomes[1].error or "")
    assert await store.states(["BAD"]) == [None]  # never claimed: nothing to take over


def _claim_until(store: MemoryTicketStore, ticket_id: str) -> int:
    value = store.tickets[ticket_id]["until"]
    assert isinstance(value, int)
    return value


async def test_claims_in_progress_are_renewed() -> None:
    store, publisher = MemoryTicketStore(now_ms=0), MemoryPublisher(fail_next=1)
    router = _router(store, publisher)
    [outcome] = await router.route_batch([_pending("A", "o1")])  # claimed, publish failed
    assert outcome.status == "retry"
    assert _claim_until(store, "A") == 1000
    store.now_ms = 900
    await router.renew_claims()
    assert _claim_until(store, "A") == 1900
    router.forget("o1")
    store.now_ms = 1800
    await router.renew_claims()  # forgotten: no longer renewed
    assert _claim_until(store, "A") == 1900


async def test_the_record_step_puts_each_ticket_on_the_escalation_schedule() -> None:
    store, publisher = MemoryTicketStore(), MemoryPublisher()
    urgent = ticket_from_object(
        {
            "id": "U",
            "subject": "Outage",
            "body": "Nothing loads",
            "priority": "urgent",
            "customer": {"plan": "enterprise", "country": "US"},
        }
    )
    batch = [Pending(urgent, "o1", NOW, time.monotonic()), _pending("B", "o2")]
    await _router(store, publisher).route_batch(batch)
    records = {}
    for tid in ("U", "B"):
        stored = await store.get(tid)
        assert stored is not None
        records[tid] = Assignment.decode(stored.record)
    # The example config plans steps for enterprise urgent tickets only.
    record = records["U"]
    assert (len(record.escalation), records["B"].escalation) == (2, ())
    decided = parse_time(record.decided_at)
    first = decided + timedelta(seconds=record.escalation[0].after_seconds)
    # Where the sweeper's first look right after the record would have rescheduled it.
    assert due_step(record, 0, decided).next_due == first
    assert store.escalations == {"U": int(first.timestamp() * 1000), "B": math.inf}
    # Nothing is left for the sweeper's discovery to read back.
    leases = MemoryLeaseStore(store)
    assert sum([await leases.discover(p) for p in load_config(EXAMPLE_CONFIG).pool_ids]) == 0


async def test_a_take_over_schedules_the_stored_decisions_plan() -> None:
    store, publisher = MemoryTicketStore(), MemoryPublisher()
    stored = orjson.dumps({"pool_id": "p", "data_access": "full", "ticket": {"id": "A"}})
    await store.claim_many([("A", "gone", stored)], ttl_ms=-1)
    await _router(store, publisher).route_batch([_pending("A", "o1")])
    assert store.escalations == {"A": math.inf}  # the stored record plans no step
