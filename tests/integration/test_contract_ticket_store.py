"""The ticket store's contract, run against the in-memory fake and the Redis store:
claims (first, busy, takeover, done), marks and pool loads, renewal, recent ids."""

from __future__ import annotations

import math

import pytest

from router.service.ports import ClaimResult, StoredTicket, TicketStore
from router.service.settings import Names
from tests.integration.contract_backends import KINDS, Backend, backend_for

pytestmark = pytest.mark.integration

TTL = 60_000
# A claim whose time is already up when it is made: expiry without waiting for it.
EXPIRED = -1


@pytest.fixture(params=KINDS)
def backend(request: pytest.FixtureRequest, names: Names) -> Backend:
    return backend_for(request, names)


@pytest.fixture
def store(backend: Backend) -> TicketStore:
    return backend.tickets(recent_max=3)


async def test_a_first_claim_stores_the_record(store: TicketStore) -> None:
    assert await store.states(["A", "B"]) == [None, None]
    assert await store.get("A") is None
    results = await store.claim_many([("A", "o1", b"rec-a"), ("B", "o1", b"rec-b")], TTL)
    assert results == [ClaimResult("claimed", b"rec-a", 0), ClaimResult("claimed", b"rec-b", 0)]
    assert await store.states(["B", "X", "A"]) == ["claimed", None, "claimed"]
    assert await store.get("A") == StoredTicket("claimed", b"rec-a")


async def test_a_live_claim_of_another_owner_is_busy_until_it_expires(
    store: TicketStore, backend: Backend
) -> None:
    before = await backend.now_ms()
    await store.claim_many([("A", "o1", b"rec-a")], TTL)
    after = await backend.now_ms()
    [busy] = await store.claim_many([("A", "o2", b"other")], TTL)
    assert (busy.status, busy.record) == ("busy", None)
    assert before + TTL <= busy.until_ms <= after + TTL
    assert await store.get("A") == StoredTicket("claimed", b"rec-a")


async def test_the_same_owner_or_an_expired_claim_is_taken_over_with_the_stored_record(
    store: TicketStore,
) -> None:
    await store.claim_many([("A", "o1", b"first"), ("B", "o1", b"first-b")], EXPIRED)
    again, expired = await store.claim_many([("A", "o1", b"second"), ("B", "o2", b"x")], TTL)
    assert again == ClaimResult("takeover", b"first", 0)
    assert expired == ClaimResult("takeover", b"first-b", 0)
    # B is o2's now: o1 lost it, o2 may renew and mark it.
    assert await store.renew_many([("B", "o1"), ("B", "o2")], TTL) == [False, True]
    assert await store.mark_assigned_many([("B", "o1", "p", 1.0)]) == [False]
    assert await store.mark_assigned_many([("B", "o2", "p", 1.0)]) == [True]


async def test_a_mark_assigns_once_and_counts_the_pool_once(store: TicketStore) -> None:
    await store.claim_many([("A", "o1", b"rec-a"), ("B", "o1", b"rec-b")], TTL)
    assert await store.mark_assigned_many([("A", "o2", "p", 1.0), ("Z", "o1", "p", 1.0)]) == [
        False,
        False,
    ]
    assert await store.states(["A"]) == ["claimed"]
    marks = [("A", "o1", "p", 1.0), ("B", "o1", "q", 2.0)]
    assert await store.mark_assigned_many(marks) == [True, True]
    assert await store.mark_assigned_many(marks) == [True, True]  # a retried mark
    assert await store.loads(["p", "q", "r"]) == {"p": 1, "q": 1, "r": 0}
    assert await store.loads([]) == {}
    assert await store.states(["A", "B"]) == ["assigned", "assigned"]
    assert await store.get("B") == StoredTicket("assigned", b"rec-b")
    done = await store.claim_many([("A", "o3", b"new"), ("A", "o1", b"new")], TTL)
    assert done == [ClaimResult("done", b"rec-a", 0), ClaimResult("done", b"rec-a", 0)]
    assert await store.renew_many([("A", "o1")], TTL) == [False]


async def test_marks_of_several_pools_and_odd_ids_land_on_their_own_pools(
    store: TicketStore,
) -> None:
    # Pools interleaved (the Redis script numbers a batch's pools), ids with a tab, a
    # space and other scripts (the Redis script reads each mark as one tab-separated string).
    ids = ["a\tb", "ü-1", "T 3", "票-4"]
    pools = ["p", "q", "p", "r"]
    await store.claim_many([(t, "o1", t.encode()) for t in ids], TTL)
    marks = [(t, "o1", p, float(i)) for i, (t, p) in enumerate(zip(ids, pools, strict=True))]
    assert await store.mark_assigned_many(marks, [0.0, math.inf, 5.0, 7.0]) == [True] * 4
    assert await store.loads(["p", "q", "r"]) == {"p": 2, "q": 1, "r": 1}
    assert await store.states(ids) == ["assigned"] * 4
    assert await store.recent_ids(3) == ["票-4", "T 3", "ü-1"]
    assert await store.get("a\tb") == StoredTicket("assigned", b"a\tb")


async def test_renewal_extends_only_the_owners_live_claims(
    store: TicketStore, backend: Backend
) -> None:
    await store.claim_many([("A", "o1", b"rec-a")], EXPIRED)
    before = await backend.now_ms()
    assert await store.renew_many([("A", "o1"), ("A", "o2"), ("Z", "o1")], TTL) == [
        True,
        False,
        False,
    ]
    after = await backend.now_ms()
    [busy] = await store.claim_many([("A", "o2", b"x")], TTL)  # renewed: no longer expired
    assert busy.status == "busy"
    assert before + TTL <= busy.until_ms <= after + TTL


async def test_recent_ids_are_the_newest_assigned_first_and_capped(store: TicketStore) -> None:
    assert await store.recent_ids(10) == []
    ids = ["A", "B", "C", "D"]
    await store.claim_many([(t, "o1", b"r") for t in ids], TTL)
    for tid in ids:
        assert await store.mark_assigned_many([(tid, "o1", "p", 1.0)]) == [True]
    await store.mark_assigned_many([("B", "o1", "p", 1.0)])  # already assigned: not listed again
    assert await store.recent_ids(10) == ["D", "C", "B"]  # recent_max is 3
    assert await store.recent_ids(2) == ["D", "C"]


async def test_empty_batches_and_ping(store: TicketStore) -> None:
    assert await store.claim_many([], TTL) == []
    assert await store.mark_assigned_many([]) == []
    assert await store.renew_many([], TTL) == []
    assert await store.states([]) == []
    assert await store.ping() is True
