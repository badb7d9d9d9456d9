"""A poison ticket delivered at once with 30 good ones, end to end through
``ticket-router serve``: its ``metadata`` nests 300 levels deep (it used to crash
``orjson.dumps`` while routing and take its batch to the dead queue). Now only it is
dead-lettered, with its reason; the 30 others are assigned.

(The isolation of a ticket that crashes *routing* itself is tested in-process in
tests/integration/test_poison.py.)
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import orjson
import pytest

from tests.faults.scenario import Flow, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.faults]

GOOD = 30
DEPTH = 300


def _nested(depth: int) -> dict[str, Any]:
    inner: dict[str, Any] = {"leaf": True}
    for _ in range(depth - 1):
        inner = {"a": inner}
    return inner


async def test_a_poison_ticket_is_dead_lettered_alone(flow: Flow) -> None:
    router = await flow.start_router()
    good = flow.tickets(seed=109, n=GOOD + 1)
    poison_id, poison_body = good.pop(GOOD // 2)
    poison = orjson.loads(poison_body)
    poison["metadata"] = _nested(DEPTH)
    # orjson refuses to encode past 254 levels; a platform's encoder need not.
    tickets = [*good[: GOOD // 2], (poison_id, json.dumps(poison).encode()), *good[GOOD // 2 :]]
    # Delivered together: the replica is frozen while all 31 reach its socket, so on
    # SIGCONT it reads them at once (its 2 ms batch window may still cut them in two).
    router.freeze()
    try:
        await flow.publish(tickets, rate=10_000)

        async def delivered() -> bool:
            queues = await asyncio.to_thread(flow.rabbit.queues)
            return queues.get(flow.names.inbound_queue, {}).get("unacked") == len(tickets)

        await wait_until(delivered, 30, "all 31 delivered to the frozen replica", poll=0.3)
    finally:
        router.thaw()
    ids = [tid for tid, _ in tickets]
    began = time.monotonic()
    figures = await flow.outcome("poison ticket", ids, fault_began=began, fault_ended=began)
    batches = (await router.metrics()).get("router_batch_size_count", 0.0)
    figures.notes.append(f"the 30 good ones classified in {batches:.0f} batch(es)")
    print(figures.line())
    got = flow.collector.received
    assert sorted(got.pools) == sorted(tid for tid, _ in good), figures.line()
    assert dict(got.dead) == {poison_id: ["too_deep"]}, figures.line()
    assert figures.doubled_pools == 0 and figures.lost == 0, figures.line()
    samples = await router.metrics()
    # The poison ticket never reached the classifier: refused at validation.
    assert samples.get("router_batch_size_sum") == float(GOOD), samples
