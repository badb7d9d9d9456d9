"""Replica faults with two replicas of ``ticket-router serve``: one killed with
``kill -9`` while it holds claims, one frozen with SIGSTOP past its timeouts. The other
replica must take the work over within seconds, without a restart of anything.

A replica caught between publishing an assignment and recording it may leave a second,
byte-identical copy on the pool queue after the takeover (nothing can tell whether its
publish landed); the tests allow exactly that for the tickets it held claimed, and
nothing else (see :func:`tests.faults.scenario.assert_clean`).

Commands: see tests/faults/test_broker_faults.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest

from tests.faults.router_proc import RouterProcess
from tests.faults.scenario import SCALE, Flow, assert_clean

pytestmark = [
    pytest.mark.integration,
    pytest.mark.faults,
    pytest.mark.timeout(SCALE.deadline_s * 4 + SCALE.freeze_s + 120),
]

# "Within seconds": a killed replica's claims are taken over well before the old
# 30 s claim expiry stalled everything behind them.
TAKEOVER_LIMIT_S = 15.0


async def _freeze_holding_claims(flow: Flow, router: RouterProcess, ids: list[str]) -> set[str]:
    """SIGSTOP ``router`` at a moment it holds claims (the worst moment to lose it).

    Freezes it; if Redis shows claimed tickets that are still claimed 0.3 s later (the
    other replica finishes its own in milliseconds), they are the frozen one's: keep it
    frozen. Else let it go on and try again. Returns how many claims it holds (0 when
    the flow ended before it was caught holding any: it stays frozen all the same).
    """
    deadline = time.monotonic() + SCALE.deadline_s
    while time.monotonic() < deadline and flow.unrouted(ids):
        router.freeze()
        held = set(await asyncio.to_thread(flow.claimed, ids))
        if held:
            await asyncio.sleep(0.3)  # the other replica's claims are done by then
            held &= set(await asyncio.to_thread(flow.claimed, ids))
            if held:
                return held
        router.thaw()
        await asyncio.sleep(0.01)  # let it take the next batch
    router.freeze()
    return set()


async def test_replica_kill9_holding_claims(flow: Flow) -> None:
    doomed = await flow.start_router()
    survivor = await flow.start_router()
    tickets = flow.tickets(seed=106)
    ids = [tid for tid, _ in tickets]
    publishing = flow.publish_in_background(tickets)
    await flow.wait_mid_flow(ids)
    held = await _freeze_holding_claims(flow, doomed, ids)
    began = time.monotonic()
    doomed.kill9()
    await publishing
    figures = await flow.outcome(
        "replica kill -9 (1 of 2)",
        ids,
        fault_began=began,
        fault_ended=began,
        timeout=max(SCALE.deadline_s, 60),
    )
    figures.notes.append(f"killed holding {len(held)} claims")
    assert_clean(figures, [survivor], received=flow.collector.received, may_double=held)
    assert figures.stall_s <= TAKEOVER_LIMIT_S, figures.line()
    assert figures.recover_s is not None and figures.recover_s <= TAKEOVER_LIMIT_S, figures.line()


async def test_replica_sigstop_past_its_timeouts(flow: Flow) -> None:
    # The short form lowers the heartbeat and claim expiry so a freeze of 12 s is past
    # both; the long form keeps the product's defaults and freezes 40 s.
    env: dict[str, str] = {}
    if SCALE.heartbeat_s is not None:
        env["ROUTER_AMQP_HEARTBEAT"] = str(SCALE.heartbeat_s)
    if SCALE.claim_ttl_s is not None:
        env["ROUTER_CLAIM_TTL"] = str(SCALE.claim_ttl_s)
    frozen = await flow.start_router(env)
    other = await flow.start_router(env)
    tickets = flow.tickets(seed=107)
    ids = [tid for tid, _ in tickets]
    publishing = flow.publish_in_background(tickets)
    await flow.wait_mid_flow(ids)
    held = await _freeze_holding_claims(flow, frozen, ids)
    began = time.monotonic()
    # Its prefetched and claimed tickets must be routed by the other replica while it is
    # still frozen: the broker takes them back when the heartbeat times out.
    with contextlib.suppress(AssertionError):  # counted below: those routed after SIGCONT
        await flow.wait_routed(ids, timeout=SCALE.freeze_s)
    if (left := began + SCALE.freeze_s - time.monotonic()) > 0:
        await asyncio.sleep(left)  # the fault itself: frozen for the whole freeze_s
    frozen.thaw()
    thawed = time.monotonic()
    await publishing
    figures = await flow.outcome(
        f"replica SIGSTOP {SCALE.freeze_s:.0f} s (1 of 2)",
        ids,
        fault_began=began,
        fault_ended=began,
    )
    got = flow.collector.received.first_at
    late = sum(1 for tid in ids if got.get(tid, thawed) >= thawed)
    figures.notes.append(
        f"frozen holding {len(held)} claims; {late} tickets routed only after SIGCONT"
        " (recovered = seconds from SIGSTOP)"
    )
    # Both replicas run and consume again: the frozen one re-consumed after SIGCONT.
    assert_clean(figures, [frozen, other], received=flow.collector.received, may_double=held)
    assert late == 0, figures.line()
