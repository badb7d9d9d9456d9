"""A scripted sequence of KPI events and the figures it must give, computed by hand.

Six tickets of the example config's pools are routed at ``T0`` (a Tuesday, 10:00 UTC),
then worked through the lease store the service counts on (:class:`KpiLeaseStore`):
accepted, completed (one straight from its lease), released, escalated to another pool,
expired. Every duration sits on a histogram edge, so percentiles are exact. The script
runs on the ports only: on the memory fakes (unit tests) and on Redis (integration),
on one replica or spread over several (events alternate between their stores).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from router.core.assignment import Assignment
from router.core.domain import backlog_score
from router.core.leases import Acted, Lease
from router.service.escalation import iso
from router.service.ports import LeaseStore, TicketStore
from router.service.stats import KpiRecorder

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
DAY_MS = 86_400_000
# From 09:00 to 12:00: every event of the script (the last at 11:00) is inside.
RANGE = {"start": "2026-11-24T09:00:00Z", "end": "2026-11-24T12:00:00Z"}
REPORTED_AT = T0 + timedelta(hours=2)


@dataclass
class Clock:
    """A clock the test moves."""

    at: datetime = T0

    def __call__(self) -> datetime:
        return self.at

    def set(self, seconds: float) -> None:
        """Now is ``seconds`` after T0."""
        self.at = T0 + timedelta(seconds=seconds)


# id, pool, kind, language, tier, SLA minutes, fallback
TICKETS = [
    ("A", "hq-tier1", "in_house", "en", "tier1", 30, None),
    ("B", "hq-tier1", "in_house", "es", "tier1", 1, None),
    ("C", "andes-bpo", "outsourced", "en", "tier2", 60, None),
    ("D", "andes-bpo", "outsourced", "es", "tier1", 60, "opens_soonest"),
    ("E", "pacific-night", "outsourced", "en", "tier1", 120, None),
    ("F", "pacific-night", "outsourced", "pt", "tier1", 10, None),
]


def record(
    ticket_id: str,
    pool: str,
    kind: str,
    language: str,
    tier: str,
    sla_minutes: int,
    fallback: str | None,
) -> Assignment:
    """The stored assignment of one ticket, received and decided at T0."""
    return Assignment.from_dict(
        {
            "ticket_id": ticket_id,
            "pool_id": pool,
            "pool_kind": kind,
            "data_access": "full",
            "language": language,
            "tier": tier,
            "priority": "normal",
            "sla_due": iso(T0 + timedelta(minutes=sla_minutes)),
            "fallback": fallback,
            "received_at": iso(T0),
            "decided_at": iso(T0),
            "ticket": {"id": ticket_id},
        }
    )


async def seed(tickets: TicketStore, recorders: Sequence[KpiRecorder]) -> None:
    """Store the six assignments in their pools' backlogs and count them routed (one
    recorder after the other)."""
    records = [record(*t) for t in TICKETS]
    await tickets.claim_many([(r.ticket_id, "owner", r.encode()) for r in records], 60_000)
    score = backlog_score(1, int(T0.timestamp() * 1000))
    marks = await tickets.mark_assigned_many(
        [(r.ticket_id, "owner", r.pool_id, score) for r in records]
    )
    assert marks == [True] * len(records)
    for i, r in enumerate(records):
        recorders[i % len(recorders)].routed([r])


async def _lease(store: LeaseStore, pool: str, ticket_id: str, lease_id: str, ms: int) -> None:
    got = await store.claim(pool, ticket_id, "ana", lease_id, ms, 10)
    assert isinstance(got, Lease) and got.lease_id == lease_id, got


async def _act(store: LeaseStore, action: Any, pool: str, ticket_id: str, lease_id: str) -> None:
    done = await store.act(action, pool, ticket_id, lease_id, "done")
    assert isinstance(done, Acted), (action, ticket_id, done)


async def play(stores: Sequence[LeaseStore], clock: Clock) -> None:
    """Work the tickets (each step on the next of ``stores``, as replicas would)."""
    turn = iter(range(10**6))

    def store() -> LeaseStore:
        return stores[next(turn) % len(stores)]

    for tid, pool, lease in (("A", "hq-tier1", "LA"), ("B", "hq-tier1", "LB")):
        await _lease(store(), pool, tid, lease, DAY_MS)
    await _lease(store(), "andes-bpo", "C", "LC", DAY_MS)
    await _lease(store(), "andes-bpo", "D", "LD1", DAY_MS)
    await _lease(store(), "pacific-night", "F", "LF", DAY_MS)
    clock.set(60)
    await _act(store(), "accept", "hq-tier1", "A", "LA")  # 60 s: met (due after 30 min)
    await _act(store(), "accept", "hq-tier1", "A", "LA")  # again: not counted twice
    await _act(store(), "release", "andes-bpo", "D", "LD1")
    clock.set(120)
    await _act(store(), "accept", "hq-tier1", "B", "LB")  # 120 s: missed (due after 1 min)
    await _lease(store(), "andes-bpo", "D", "LD2", DAY_MS)
    moved = record("D", "pacific-night", "outsourced", "es", "tier2", 60, None)
    refused = await store().move(
        "D", from_pool="andes-bpo", to_pool="pacific-night", record=moved.encode(),
        lease_id="LD2", new_steps_used=0, why="escalated",
    )  # fmt: skip
    assert refused is None
    clock.set(300)
    await _act(store(), "accept", "andes-bpo", "C", "LC")  # 300 s: met
    clock.set(450)
    await _act(store(), "complete", "pacific-night", "F", "LF")  # straight from the lease
    clock.set(600)
    await _act(store(), "complete", "hq-tier1", "A", "LA")
    await _act(store(), "complete", "hq-tier1", "A", "LA")  # again: not counted twice
    clock.set(1800)
    await _act(store(), "complete", "hq-tier1", "B", "LB")
    clock.set(3600)
    await _act(store(), "complete", "andes-bpo", "C", "LC")
    # E's lease of 1 ms runs out on the store's clock; the sweeper returns it.
    sweeper = store()
    await _lease(sweeper, "pacific-night", "E", "LE", 1)
    deadline = time.monotonic() + 5
    while not await sweeper.expire("pacific-night"):
        assert time.monotonic() < deadline, "E's lease did not expire"
        await asyncio.sleep(0.005)


def figures(**given: Any) -> dict[str, Any]:
    """A summary with every count 0 but those given."""
    out: dict[str, Any] = {
        "routed": 0, "accepted": 0, "completed": 0, "escalated": 0, "released": 0,
        "expired": 0, "coverage_gaps": 0, "cost": 0.0,
        "sla": {"met": 0, "missed": 0, "attainment": None},
        "time_to_accept": {"count": 0, "p50": None, "p90": None, "p99": None},
        "time_to_complete": {"count": 0, "p50": None, "p90": None, "p99": None},
    }  # fmt: skip
    out.update(given)
    return out


def _durations(count: int, p50: float, p90: float, p99: float) -> dict[str, Any]:
    return {"count": count, "p50": p50, "p90": p90, "p99": p99}


def _sla(met: int, missed: int) -> dict[str, Any]:
    return {"met": met, "missed": missed, "attainment": met / (met + missed)}


# By hand: costs 9 (hq-tier1), 7.5 (andes-bpo), 4.5 (pacific-night) per ticket routed.
OVERALL = figures(
    routed=6, accepted=4, completed=4, escalated=1, released=1, expired=1, coverage_gaps=1,
    cost=42.0, sla=_sla(3, 1),
    time_to_accept=_durations(4, 120, 450, 450),  # 60, 120, 300, 450 s
    time_to_complete=_durations(4, 600, 3600, 3600),  # 450, 600, 1800, 3600
)  # fmt: skip
POOLS = {
    "hq-tier1": figures(
        routed=2, accepted=2, completed=2, cost=18.0, sla=_sla(1, 1),
        time_to_accept=_durations(2, 60, 120, 120),
        time_to_complete=_durations(2, 600, 1800, 1800),
    ),
    "andes-bpo": figures(
        routed=2, accepted=1, completed=1, escalated=1, released=1, coverage_gaps=1,
        cost=15.0, sla=_sla(1, 0),
        time_to_accept=_durations(1, 300, 300, 300),
        time_to_complete=_durations(1, 3600, 3600, 3600),
    ),
    "pacific-night": figures(
        routed=2, accepted=1, completed=1, expired=1, cost=9.0, sla=_sla(1, 0),
        time_to_accept=_durations(1, 450, 450, 450),
        time_to_complete=_durations(1, 450, 450, 450),
    ),
    "hq-tier2": figures(),
    "eu-dublin": figures(),
}  # fmt: skip
LANGUAGES = {
    "en": figures(
        routed=3, accepted=2, completed=2, expired=1, cost=21.0, sla=_sla(2, 0),
        time_to_accept=_durations(2, 60, 300, 300),
        time_to_complete=_durations(2, 600, 3600, 3600),
    ),
    "es": figures(
        routed=2, accepted=1, completed=1, escalated=1, released=1, coverage_gaps=1,
        cost=16.5, sla=_sla(0, 1),
        time_to_accept=_durations(1, 120, 120, 120),
        time_to_complete=_durations(1, 1800, 1800, 1800),
    ),
    "pt": figures(
        routed=1, accepted=1, completed=1, cost=4.5, sla=_sla(1, 0),
        time_to_accept=_durations(1, 450, 450, 450),
        time_to_complete=_durations(1, 450, 450, 450),
    ),
}  # fmt: skip
VENDORS = {
    "in-house": POOLS["hq-tier1"],
    "andes-contact-center-s-a-s": POOLS["andes-bpo"],
    "pacific-support-services-inc": POOLS["pacific-night"],
}
SHARE = {
    "in_house": {"routed": 2, "cost": 18.0, "volume_share": 2 / 6, "cost_share": 18 / 42},
    "outsourced": {"routed": 4, "cost": 24.0, "volume_share": 4 / 6, "cost_share": 24 / 42},
}
# At T0 + 2 h: D (moved) and E (expired) wait in pacific-night since T0.
WAITING_S = 7200.0
