"""The lease store's contract, run against the in-memory fake and the Redis scripts:
pull and claim within capacity, the holder's actions and refusals, expiry, moves,
the escalation schedule and the supervisors' listing."""

from __future__ import annotations

import math

import pytest

from router.core.leases import Acted, Held, Lease, Refusal
from router.service.ports import LeaseStore, TicketStore
from router.service.settings import Names
from tests.integration.contract_backends import KINDS, Backend, backend_for

pytestmark = pytest.mark.integration

MINUTE = 60_000
# A lease whose time is up as soon as it is granted: expiry without waiting for it.
UP = 0


@pytest.fixture(params=KINDS)
def backend(request: pytest.FixtureRequest, names: Names) -> Backend:
    return backend_for(request, names)


@pytest.fixture
def stores(backend: Backend) -> tuple[TicketStore, LeaseStore]:
    return backend.leases()


@pytest.fixture
def leases(stores: tuple[TicketStore, LeaseStore]) -> LeaseStore:
    return stores[1]


async def _queue(stores: tuple[TicketStore, LeaseStore], pool: str, **scores: float) -> None:
    """Route tickets to ``pool`` as the router does: claim, then mark assigned (queued)."""
    tickets = stores[0]
    await tickets.claim_many([(tid, "r", f"rec-{tid}".encode()) for tid in scores], MINUTE)
    marks = [(tid, "r", pool, score) for tid, score in scores.items()]
    assert await tickets.mark_assigned_many(marks) == [True] * len(scores)


async def test_pull_serves_the_most_urgent_within_capacity(
    stores: tuple[TicketStore, LeaseStore], leases: LeaseStore, backend: Backend
) -> None:
    assert await leases.pull("p", "ana", "l0", MINUTE, 2) == Refusal("empty", None)
    await _queue(stores, "p", B=2.0, A=1.0, C=3.0)
    before = await backend.now_ms()
    first = await leases.pull("p", "ana", "l1", MINUTE, 2)
    after = await backend.now_ms()
    assert isinstance(first, Lease)
    assert (first.ticket_id, first.agent, first.lease_id, first.record) == (
        "A", "ana", "l1", b"rec-A",
    )  # fmt: skip
    assert before + MINUTE <= first.expires_ms <= after + MINUTE
    second = await leases.pull("p", "bob", "l2", MINUTE, 2)
    assert isinstance(second, Lease) and second.ticket_id == "B"
    assert await leases.pull("p", "cy", "l3", MINUTE, 2) == Refusal("full", "2")
    assert await leases.counts("p") == (1, 2)
    assert await stores[0].states(["A", "C"]) == ["leased", "assigned"]
    assert await leases.pull("other", "ana", "l4", MINUTE, 5) == Refusal("empty", None)
    third = await leases.pull("p", "cy", "l5", MINUTE, 9)
    assert isinstance(third, Lease) and third.ticket_id == "C"
    assert await leases.pull("p", "cy", "l6", MINUTE, 9) == Refusal("empty", "3")


async def test_claim_leases_a_named_ticket_once(
    stores: tuple[TicketStore, LeaseStore], leases: LeaseStore
) -> None:
    await _queue(stores, "p", A=1.0, B=2.0)
    got = await leases.claim("p", "B", "ana", "l1", MINUTE, 1)
    assert isinstance(got, Lease) and (got.ticket_id, got.lease_id) == ("B", "l1")
    again = await leases.claim("p", "B", "ana", "l9", MINUTE, 1)  # a retried claim
    assert again == got
    assert await leases.claim("p", "B", "bob", "l2", MINUTE, 5) == Refusal("taken")
    assert await leases.claim("p", "A", "bob", "l3", MINUTE, 1) == Refusal("full", "1")
    assert await leases.claim("p", "nope", "bob", "l4", MINUTE, 5) == Refusal("missing")
    assert await leases.claim("q", "A", "bob", "l5", MINUTE, 5) == Refusal("missing")
    await stores[0].claim_many([("R", "r", b"routing")], MINUTE)  # claimed, not assigned yet
    assert await leases.claim("p", "R", "bob", "l6", MINUTE, 5) == Refusal("missing")
    # A claimed ticket left the backlog: a pull serves the other one.
    pulled = await leases.pull("p", "bob", "l7", MINUTE, 5)
    assert isinstance(pulled, Lease) and pulled.ticket_id == "A"


async def test_the_holders_actions(
    stores: tuple[TicketStore, LeaseStore], leases: LeaseStore, backend: Backend
) -> None:
    await _queue(stores, "p", A=1.0)
    lease = await leases.pull("p", "ana", "l1", MINUTE, 5)
    assert isinstance(lease, Lease)
    assert await leases.act("check", "p", "A", "l1") == Acted(
        "leased", lease.expires_ms, b"rec-A", "ana"
    )
    assert await leases.act("accept", "p", "A", "nope") == Refusal("not_yours")
    assert await leases.act("accept", "q", "A", "l1") == Refusal("missing")
    before = await backend.now_ms()
    accepted = await leases.act("accept", "p", "A", "l1")
    assert isinstance(accepted, Acted) and accepted.state == "accepted"
    assert before + MINUTE <= accepted.expires_ms
    extended = await leases.act("extend", "p", "A", "l1", str(10 * MINUTE))
    assert isinstance(extended, Acted) and extended.state == "accepted"
    assert before + 10 * MINUTE <= extended.expires_ms
    shorter = await leases.act("extend", "p", "A", "l1", "1")  # never shortens
    assert shorter == Acted("accepted", extended.expires_ms)
    assert await leases.loads(["p"]) == {"p": 1}
    assert await leases.act("complete", "p", "A", "l1", "resolved") == Acted("completed", 0)
    assert await leases.act("complete", "p", "A", "l1", "resolved") == Acted("completed", 0)
    assert await leases.act("accept", "p", "A", "l1") == Refusal("ended", "completed")
    assert await leases.act("accept", "p", "A", "other") == Refusal("state", "completed")
    assert await leases.loads(["p"]) == {"p": 0}
    assert await leases.counts("p") == (0, 0)
    assert await stores[0].states(["A"]) == ["completed"]


async def test_a_release_queues_the_ticket_again(
    stores: tuple[TicketStore, LeaseStore], leases: LeaseStore
) -> None:
    await _queue(stores, "p", A=1.0)
    await leases.pull("p", "ana", "l1", MINUTE, 5)
    assert await leases.act("release", "p", "A", "l1", "lunch") == Acted("assigned", 0)
    assert await leases.counts("p") == (1, 0)
    assert await leases.act("extend", "p", "A", "l1", "1000") == Refusal("ended", "released")
    again = await leases.pull("p", "bob", "l2", MINUTE, 5)
    assert isinstance(again, Lease) and again.ticket_id == "A"
    assert await leases.act("check", "p", "A", "l1") == Refusal("ended", "released")


async def test_an_expired_lease_returns_to_the_backlog(
    stores: tuple[TicketStore, LeaseStore], leases: LeaseStore
) -> None:
    await _queue(stores, "p", A=1.0, B=2.0)
    await leases.pull("p", "ana", "l1", UP, 5)
    await leases.pull("p", "bob", "l2", MINUTE, 5)
    assert await leases.act("accept", "p", "A", "l1") == Refusal("expired")
    assert await leases.expire("p") == ["A"]
    assert await leases.expire("p") == []
    assert await leases.counts("p") == (1, 1)
    assert await leases.act("accept", "p", "A", "l1") == Refusal("ended", "expired")
    assert await stores[0].states(["A", "B"]) == ["assigned", "leased"]


async def test_a_holder_moves_a_ticket_to_another_pool(
    stores: tuple[TicketStore, LeaseStore], leases: LeaseStore
) -> None:
    await _queue(stores, "p", A=1.0)
    await leases.pull("p", "ana", "l1", MINUTE, 5)
    assert await leases.move(
        "A", from_pool="p", to_pool="q", record=b"moved", lease_id="nope", new_steps_used=0,
        why="escalated",
    ) == Refusal("not_yours")  # fmt: skip
    moved = await leases.move(
        "A",
        from_pool="p",
        to_pool="q",
        record=b"moved",
        lease_id="l1",
        new_steps_used=0,
        why="escalated",
    )
    assert moved is None
    assert (await leases.counts("p"), await leases.counts("q")) == ((0, 0), (1, 0))
    assert await leases.loads(["p", "q"]) == {"p": 0, "q": 1}
    assert await leases.act("accept", "p", "A", "l1") == Refusal("moved", "q")
    assert await leases.claim("p", "A", "ana", "l2", MINUTE, 5) == Refusal("moved", "q")
    pulled = await leases.pull("q", "bob", "l3", MINUTE, 5)
    assert isinstance(pulled, Lease) and (pulled.ticket_id, pulled.record) == ("A", b"moved")
    with pytest.raises(ValueError):
        await leases.move("A", from_pool="q", to_pool="p", record=b"", new_steps_used=0, why="x")


async def test_escalation_steps_are_checked_and_scheduled(
    stores: tuple[TicketStore, LeaseStore], leases: LeaseStore, backend: Backend
) -> None:
    await _queue(stores, "p", A=1.0, B=2.0)
    now = await backend.now_ms()
    assert await leases.due(now) == []
    assert await leases.discover("p") == 2
    assert await leases.discover("p") == 0
    assert await leases.due(now) == [("A", 0, b"rec-A", "assigned"), ("B", 0, b"rec-B", "assigned")]
    await leases.reschedule_many([("A", 0, now + MINUTE), ("B", 0, math.inf), ("B", 7, 0)])
    assert await leases.due(now) == []
    assert [row[0] for row in await leases.due(now + MINUTE)] == ["A"]
    # The sweep's move: only with the steps it saw, then due again at once.
    stale = await leases.move(
        "A", from_pool="p", to_pool="q", record=b"r2", steps_used=3, new_steps_used=4, why="sla"
    )
    assert stale == Refusal("stale")
    moved = await leases.move(
        "A",
        from_pool="p",
        to_pool="q",
        record=b"r2",
        steps_used=0,
        new_steps_used=1,
        why="sla",
    )
    assert moved is None
    assert await leases.due(now) == [("A", 1, b"r2", "assigned")]
    assert (await leases.counts("p"), await leases.counts("q")) == ((1, 0), (1, 0))
    # An accepted ticket leaves the schedule.
    lease = await leases.pull("q", "ana", "l1", MINUTE, 5)
    assert isinstance(lease, Lease)
    await leases.act("accept", "q", "A", "l1")
    await leases.reschedule_many([("A", 1, 0)])
    assert await leases.due(now + MINUTE) == []


async def test_the_record_step_schedules_the_first_escalation_check(
    stores: tuple[TicketStore, LeaseStore], leases: LeaseStore, backend: Backend
) -> None:
    tickets = stores[0]
    now = await backend.now_ms()
    await tickets.claim_many([(tid, "r", f"rec-{tid}".encode()) for tid in "ABC"], MINUTE)
    marks = [(tid, "r", "p", 1.0) for tid in "ABC"]
    with pytest.raises(ValueError):
        await tickets.mark_assigned_many(marks, [now])
    assert await tickets.mark_assigned_many(marks, [now + MINUTE, math.inf, now - 1]) == [True] * 3
    # Each is on the schedule at its own time: discovery has nothing to add.
    assert await leases.discover("p") == 0
    assert await leases.due(now) == [("C", 0, b"rec-C", "assigned")]
    assert [row[0] for row in await leases.due(now + MINUTE)] == ["C", "A"]
    # A retried mark of an assigned ticket leaves its schedule entry as it is.
    assert await tickets.mark_assigned_many(marks[:1], [now - 5]) == [True]
    assert [row[0] for row in await leases.due(now)] == ["C"]
    # Recorded without a due time (an older version): discovery finds it, due at once.
    await _queue(stores, "p", D=1.0)
    assert await leases.discover("p") == 1
    assert [row[0] for row in await leases.due(now)] == ["D", "C"]


async def test_the_listing_and_the_clock(
    stores: tuple[TicketStore, LeaseStore], leases: LeaseStore, backend: Backend
) -> None:
    await _queue(stores, "p", A=3.0, B=1.0, C=2.0)
    lease = await leases.pull("p", "ana", "l1", MINUTE, 5)
    assert isinstance(lease, Lease) and lease.ticket_id == "B"
    queued, leased = await leases.listing("p", 10)
    assert queued == [
        Held("C", "assigned", None, None, b"rec-C"),
        Held("A", "assigned", None, None, b"rec-A"),
    ]
    assert leased == [Held("B", "leased", "ana", lease.expires_ms, b"rec-B")]
    assert [h.ticket_id for h in (await leases.listing("p", 1))[0]] == ["C"]
    assert await leases.listing("empty", 10) == ([], [])
    before = await backend.now_ms()
    assert before <= await leases.server_ms() <= await backend.now_ms()
