"""Redis faults on the suite's own Redis, mid-flow: restarted as an operator would
(``SHUTDOWN``, start again) and killed with ``kill -9``, both with the append-only file;
and a Redis without persistence restarted, which the service must report.

Commands: see tests/faults/test_broker_faults.py.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from tests.faults.scenario import SCALE, Flow, assert_clean, wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.faults,
    pytest.mark.timeout(SCALE.deadline_s * 4 + 120),
]


async def _mid_flow_fault(flow: Flow, seed: int, name: str, fault: Callable[[], None]) -> None:
    router = await flow.start_router()
    tickets = flow.tickets(seed=seed)
    ids = [tid for tid, _ in tickets]
    publishing = flow.publish_in_background(tickets)
    await flow.wait_mid_flow(ids)
    began = time.monotonic()
    await asyncio.to_thread(fault)
    restart_s = await asyncio.to_thread(flow.redis.start)
    ended = time.monotonic()
    await publishing
    figures = await flow.outcome(name, ids, fault_began=began, fault_ended=ended)
    figures.notes.append(f"Redis down {ended - began:.1f} s (start {restart_s:.2f} s)")
    assert_clean(figures, [router])


async def test_redis_restart_with_aof(flow: Flow) -> None:
    await _mid_flow_fault(flow, 104, "Redis SHUTDOWN + start (AOF)", flow.redis.shutdown)


async def test_redis_kill9_with_aof(flow: Flow) -> None:
    await _mid_flow_fault(flow, 105, "Redis kill -9 + start (AOF everysec)", flow.redis.kill9)


async def test_redis_without_persistence_is_reported(volatile_flow: Flow) -> None:
    flow = volatile_flow
    router = await flow.start_router()
    # A demo or test run against a volatile Redis only warns (checked at the end, so
    # that the figures of a run that does not warn are reported too).
    _, at_start = await router.readyz()
    persistent_metric = (await router.metrics()).get("router_redis_persistent")

    tickets = flow.tickets(seed=108)
    ids = [tid for tid, _ in tickets]
    await flow.publish(tickets)
    await flow.wait_routed(ids)
    began = time.monotonic()
    await asyncio.to_thread(flow.redis.shutdown)
    await asyncio.to_thread(flow.redis.start)  # empty: nothing was persisted
    ended = time.monotonic()

    async def loss_counted() -> bool:
        samples = await router.metrics()
        return samples.get("router_redis_data_loss_total", 0.0) >= 1.0

    try:
        await wait_until(loss_counted, 15, "router_redis_data_loss_total >= 1")
        noticed = True
    except AssertionError:
        noticed = False
    after_status, after_loss = await router.readyz()

    # What the operator is warned about: the platform re-sends a third of the tickets
    # (as after a timeout of its own) and, their records gone, they are routed again.
    resend = tickets[: len(tickets) // 3]
    await flow.publish(resend)
    figures = await flow.outcome(
        "Redis restart without persistence", ids, fault_began=began, fault_ended=ended
    )
    figures.notes.append(
        f"re-sent {len(resend)} after the restart: {figures.doubled_pools} routed again; "
        f"data loss {'reported' if noticed else 'NOT reported'}"
    )
    print(figures.line())
    assert not any(n.startswith("NOT RECOVERED") for n in figures.notes), figures.line()
    assert (figures.lost, figures.stuck, figures.dead) == (0, 0, 0), figures.line()

    assert at_start.get("status") == "ready", at_start
    assert at_start.get("redis_persistence") == "none", at_start
    assert any("does not persist" in w for w in at_start.get("warnings", [])), at_start
    assert persistent_metric == 0.0, persistent_metric
    assert noticed, "router_redis_data_loss_total stayed 0 after Redis came back empty"
    assert after_status == 200, after_loss
    assert any("vanished" in w for w in after_loss.get("warnings", [])), after_loss

    # Production sets ROUTER_REQUIRE_PERSISTENT_REDIS: then such a Redis is a hard 503.
    strict = await flow.start_router({"ROUTER_REQUIRE_PERSISTENT_REDIS": "1"}, wait_ready=False)

    async def refused() -> bool:
        # Past start-up (while starting, /readyz is 503 too, saying what it waits for).
        status, body = await strict.readyz()
        return status == 503 and "redis_persistence" in body

    await wait_until(refused, SCALE.deadline_s, "/readyz 503 with persistence required")
    _, body = await strict.readyz()
    assert "ROUTER_REQUIRE_PERSISTENT_REDIS" in str(body.get("redis_persistence")), body
