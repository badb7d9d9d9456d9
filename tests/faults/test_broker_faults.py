"""Broker faults on the suite's own RabbitMQ node, mid-flow: nothing lost, nothing
doubled, and the router recovers by itself (no restart), with ``/readyz`` 503 while it
does not consume.

Short form (CI, in ``bash deploy/test.sh``): ``.venv/bin/pytest tests/faults -m faults``.
Long form (2,400 tickets a scenario, 40 s freeze, the product's default timeouts):
``ROUTER_FAULTS=long .venv/bin/pytest tests/faults -m faults``.
"""

from __future__ import annotations

import asyncio
import random
import time

import pytest

from tests.faults.readiness import ReadinessWatch
from tests.faults.scenario import SCALE, Flow, assert_clean

pytestmark = [
    pytest.mark.integration,
    pytest.mark.faults,
    pytest.mark.timeout(SCALE.deadline_s * 4 + 120),
]


async def test_every_ticket_published_twice(flow: Flow) -> None:
    router = await flow.start_router()
    tickets = flow.tickets(seed=101)
    # Each ticket twice, in a shuffled order: some copies land in the same batch as
    # their twin, some seconds later.
    copies = tickets * 2
    random.Random(101).shuffle(copies)
    began = time.monotonic()
    await flow.publish(copies)
    ended = time.monotonic()  # no fault: "recovered" is the time from the last publish
    ids = [tid for tid, _ in tickets]
    figures = await flow.outcome("published twice", ids, fault_began=began, fault_ended=ended)
    assert figures.sent >= 2 * len(tickets)
    assert_clean(figures, [router])


async def test_broker_stop_app_and_start_app(flow: Flow) -> None:
    router = await flow.start_router()
    tickets = flow.tickets(seed=102)
    ids = [tid for tid, _ in tickets]
    publishing = flow.publish_in_background(tickets)
    await flow.wait_mid_flow(ids)
    watch = ReadinessWatch(flow, router).start()
    began = time.monotonic()
    await asyncio.to_thread(flow.rabbit.stop_app)
    await asyncio.sleep(3)  # the outage itself: 3 s with the RabbitMQ application stopped
    await asyncio.to_thread(flow.rabbit.start_app)
    ended = time.monotonic()
    await publishing
    figures = await flow.outcome("RabbitMQ stop_app 3 s", ids, fault_began=began, fault_ended=ended)
    await watch.stop()
    figures.notes.append(watch.summary())
    assert_clean(figures, [router])
    assert watch.not_ready > 0, "never 503 while the broker was stopped: " + watch.summary()
    assert watch.ready_without_consumer == 0, watch.summary()


async def test_broker_node_kill9_and_restart(flow: Flow) -> None:
    router = await flow.start_router()
    tickets = flow.tickets(seed=103)
    ids = [tid for tid, _ in tickets]
    publishing = flow.publish_in_background(tickets)
    await flow.wait_mid_flow(ids)
    watch = ReadinessWatch(flow, router).start()
    began = time.monotonic()
    await asyncio.to_thread(flow.rabbit.kill9)
    restart_s = await asyncio.to_thread(flow.rabbit.start)
    ended = time.monotonic()
    await publishing
    figures = await flow.outcome("RabbitMQ node kill -9", ids, fault_began=began, fault_ended=ended)
    await watch.stop()
    figures.notes.extend([f"node restart {restart_s:.1f} s", watch.summary()])
    # An assignment the broker stored and then crashed before confirming is published
    # again (the router cannot know it landed): one identical extra copy, only for the
    # tickets whose assignment was on its way at the kill.
    received = flow.collector.received
    assert_clean(figures, [router], received=received, may_double=received.in_flight_at(began))
    assert watch.not_ready > 0, "never 503 while the broker was down: " + watch.summary()
    assert watch.ready_without_consumer == 0, watch.summary()
