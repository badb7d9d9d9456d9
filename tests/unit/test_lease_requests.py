"""The agents' request bodies, and how waiting pulls are woken (no servers needed)."""

from __future__ import annotations

import asyncio

import pytest

from router.core.errors import InvalidInput
from router.http.agent_requests import (
    ClaimBody,
    CompleteBody,
    ExtendBody,
    LeaseBody,
    PresenceBody,
    PullBody,
    ReleaseBody,
    parse_body,
    valid_agent,
)
from router.service.leases import BacklogWatch


def test_pull_defaults_and_limits() -> None:
    body = parse_body(b'{"agent": "ana@vendor-x"}', PullBody)
    assert (body.agent, body.wait, body.lease_seconds) == ("ana@vendor-x", 0, 300)
    assert parse_body(b'{"agent": "a", "wait": 30, "lease_seconds": 3600}', PullBody).wait == 30


@pytest.mark.parametrize(
    ("raw", "model", "field"),
    [
        (b"{nope", PullBody, "body"),
        (b"[1]", PullBody, "body"),
        (b"{}", PullBody, "agent"),
        (b'{"agent": "-a"}', PullBody, "agent"),
        (b'{"agent": "a", "wait": -1}', PullBody, "wait"),
        (b'{"agent": "a", "wait": 30.5}', PullBody, "wait"),
        (b'{"agent": "a", "lease_seconds": 0}', ClaimBody, "lease_seconds"),
        (b'{"agent": "a", "extra": 1}', ClaimBody, "extra"),
        (b'{"lease_id": ""}', LeaseBody, "lease_id"),
        (b'{"lease_id": "x", "outcome": ""}', CompleteBody, "outcome"),
        (b'{"lease_id": "x", "seconds": 3601}', ExtendBody, "seconds"),
        (b'{"status": "busy"}', PresenceBody, "status"),
    ],
)
def test_bad_bodies_name_the_field(raw: bytes, model: type[PullBody], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_body(raw, model)
    assert caught.value.field == field
    assert caught.value.status == 400


def test_lease_actions_carry_their_argument() -> None:
    assert parse_body(b'{"lease_id": "x"}', LeaseBody).argument() == ""
    assert parse_body(b'{"lease_id": "x", "seconds": 90}', ExtendBody).argument() == "90000"
    done = parse_body(b'{"lease_id": "x", "outcome": "resolved"}', CompleteBody)
    assert done.argument() == "resolved"
    assert parse_body(b'{"lease_id": "x"}', ReleaseBody).argument() == ""


@pytest.mark.parametrize(
    ("agent", "ok"),
    [("ana", True), ("a.b_c-d@x.io:7+1", True), ("", False), ("an a", False), ("x" * 129, False)],
)
def test_agent_ids(agent: str, ok: bool) -> None:
    assert valid_agent(agent) is ok


class Probe:
    """A pool that has work once ``ready`` is set; counts how often it was asked."""

    def __init__(self) -> None:
        self.ready = False
        self.calls = 0
        self.asked_thrice = asyncio.Event()

    async def __call__(self, pool_id: str) -> bool:
        self.calls += 1
        if self.calls >= 3:
            self.asked_thrice.set()
        return self.ready


async def test_a_waiting_pull_wakes_when_the_probe_finds_work() -> None:
    probe = Probe()
    watch = BacklogWatch(probe, interval_s=0.005)
    waiter = asyncio.create_task(watch.wait("p", 10))
    await asyncio.wait_for(probe.asked_thrice.wait(), 2)
    assert not waiter.done()
    probe.ready = True
    await asyncio.wait_for(waiter, 2)
    await watch.close()


async def test_notify_wakes_every_waiter_of_that_pool_only() -> None:
    watch = BacklogWatch(Probe(), interval_s=0.005)
    mine = [asyncio.create_task(watch.wait("p", 10)) for _ in range(3)]
    other = asyncio.create_task(watch.wait("q", 10))
    await asyncio.sleep(0)  # one loop turn: every waiter is now waiting
    watch.notify("p")
    await asyncio.wait_for(asyncio.gather(*mine), 2)
    assert not other.done()
    other.cancel()
    await watch.close()


async def test_one_poller_per_pool_and_none_without_waiters() -> None:
    probe = Probe()
    watch = BacklogWatch(probe, interval_s=0.005)
    waiters = [asyncio.create_task(watch.wait("p", 0.05)) for _ in range(20)]
    await asyncio.sleep(0)  # one loop turn: every waiter is now waiting
    [poller] = watch._pollers.values()  # one for the twenty
    await asyncio.gather(*waiters)
    # One poll every 5 ms for 50 ms, not twenty: the cost does not grow with waiters.
    assert 1 <= probe.calls <= 15
    # With nobody waiting the poller ends by itself (or the wait times out and fails).
    await asyncio.wait_for(asyncio.shield(poller), 2)
    asked = probe.calls
    await asyncio.sleep(0)  # one loop turn: nothing is left to ask the probe
    assert probe.calls == asked, "the poller kept asking with nobody waiting"
    await watch.close()


async def test_shut_answers_every_waiting_pull_at_once() -> None:
    watch = BacklogWatch(Probe(), interval_s=0.005)
    waiting = [asyncio.create_task(watch.wait(pool, 30)) for pool in ("p", "q")]
    await asyncio.sleep(0)  # one loop turn: both are waiting
    watch.shut()
    await asyncio.wait_for(asyncio.gather(*waiting), 2)
    await asyncio.wait_for(watch.wait("p", 30), 1)  # and no new wait blocks
    await watch.close()
