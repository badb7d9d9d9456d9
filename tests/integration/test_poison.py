"""A ticket that makes routing itself crash (a bug, not bad input) is dead-lettered
alone: the good tickets of its batch are assigned, none lost, none doubled.

Two places a bug can strike: deciding one ticket (isolated directly), and the
batch-wide classification call (isolated by halving the batch until the ticket that
triggers it stands alone).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import orjson
import pytest
from aio_pika.abc import AbstractRobustConnection

from classifiers.types import Classifier, ClassifierInput, Prediction
from router.config.load import load_config
from router.core.policy import decide as real_decide
from router.http import appkeys as K
from router.service.settings import Names
from tests.conftest import EXAMPLE_CONFIG
from tests.integration.conftest import ServiceFactory, drain, drain_pools, publish, wait_for
from tests.tickets import make_tickets

pytestmark = pytest.mark.integration

POISON = "POISON-0001"
GOOD = 30


def _batch(seed: int) -> list[bytes]:
    good = make_tickets(GOOD, seed=seed)
    poison = {"id": POISON, "subject": "Refund", "body": "poison pill in the middle"}
    bodies = [orjson.dumps(t) for t in good]
    bodies.insert(GOOD // 2, orjson.dumps(poison))
    return bodies


async def _check(
    amqp: AbstractRobustConnection, names: Names, service_metric: Any, expect_error: str
) -> None:
    channel = await amqp.channel()

    async def settled() -> bool:
        assigned = sum(
            service_metric("router_tickets_assigned_total", {"pool": p})
            for p in load_config(EXAMPLE_CONFIG).pool_ids
        )
        dead = service_metric("router_tickets_dead_lettered_total", {"reason": "internal"})
        return bool(assigned + dead >= GOOD + 1 and service_metric("router_tickets_in_flight") == 0)

    await wait_for(settled, what="the batch settled")
    per_pool = await drain_pools(channel, names, load_config(EXAMPLE_CONFIG).pool_ids)
    ids = Counter(a["ticket_id"] for per in per_pool.values() for a in per)
    assert len(ids) == GOOD, ids
    assert POISON not in ids
    assert max(ids.values()) == 1
    dead = await drain(channel, names.dead_queue)
    assert len(dead) == 1
    assert orjson.loads(dead[0].body)["id"] == POISON
    headers = dead[0].headers or {}
    assert headers["x-router-reason"] == "internal"
    assert expect_error in str(headers["x-router-error"])


async def test_a_ticket_that_crashes_its_decision_is_dead_lettered_alone(
    start_service: ServiceFactory,
    amqp: AbstractRobustConnection,
    names: Names,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def decide(ticket: Any, *args: Any) -> Any:
        if ticket.id == POISON:
            raise RecursionError("maximum recursion depth exceeded (planted)")
        return real_decide(ticket, *args)

    monkeypatch.setattr("router.service.routing.decide", decide)
    # One batch holds all 31: batch_wait long enough that they arrive together.
    service = await start_service(batch_size=64, batch_wait_ms=200.0)
    await publish(await amqp.channel(), names, _batch(seed=71))
    await _check(amqp, names, service.metric, "RecursionError")


class _CrashOnPoison:
    """Wraps the real model; its batch call raises when the poison ticket is in it."""

    def __init__(self, inner: Classifier) -> None:
        self._inner = inner
        self.version = inner.version
        self.calls: list[int] = []

    def predict(self, items: Sequence[ClassifierInput]) -> list[Prediction]:
        self.calls.append(len(items))
        if any("poison pill" in item.text for item in items):
            raise ValueError("model blew up on this batch (planted)")
        return self._inner.predict(items)


async def test_a_ticket_that_crashes_the_batch_call_is_isolated_by_halving(
    start_service: ServiceFactory, amqp: AbstractRobustConnection, names: Names
) -> None:
    service = await start_service(batch_size=64, batch_wait_ms=200.0)
    current = service.app[K.MODEL]
    crashing = _CrashOnPoison(current.value)
    current.value = crashing
    await publish(await amqp.channel(), names, _batch(seed=72))
    await _check(amqp, names, service.metric, "ValueError")
    # Halving: the poison ticket ends up alone and is tried a few times on its own.
    assert crashing.calls.count(1) >= 3
