"""Start-up with Redis and the broker unreachable: the HTTP server answers at once,
``/readyz`` names what the start waits for, the service becomes ready by itself when
they come, and SIGTERM during the wait is a clean stop (exit code 0).

The suite's RabbitMQ stops its application (connections refused) and a Redis of the
test's own starts late. Short form: 6 s away; long form (ROUTER_FAULTS=long): 20 s.

    .venv/bin/pytest tests/faults/test_startup.py -m faults -s
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.faults.router_proc import RouterProcess
from tests.faults.scenario import SCALE, Flow, wait_until
from tests.faults.servers import RabbitNode, RedisServer

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.timeout(240)]

AWAY_S = 20.0 if SCALE.name == "long" else 6.0
# /healthz must answer this soon after launch (a liveness or start-up probe's budget):
# serve opens its port before it imports the model's and the clients' libraries.
HEALTHZ_WITHIN_S = 2.0


@pytest.fixture
def late_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis-late", persistent=True)  # not started yet
    yield server
    server.stop()


async def _both_away(
    rabbit: RabbitNode, redis: RedisServer, model_dir: Path, tmp_path: Path
) -> Flow:
    """A scenario whose broker refuses connections and whose Redis is not started."""
    rabbit.ensure_up()
    flow = Flow(rabbit, redis, model_dir, tmp_path, f"u{uuid.uuid4().hex[:10]}")
    await asyncio.to_thread(rabbit.stop_app)
    return flow


async def _launch(flow: Flow) -> tuple[RouterProcess, float]:
    """Start a replica without waiting for it: (replica, seconds until /healthz is 200)."""
    router = RouterProcess(flow.env, flow.tmp / "router-startup.log")
    flow.routers.append(router)
    began = time.monotonic()
    router._spawn()
    while await router.healthz() != 200:
        assert router.running, router.tail()
        assert time.monotonic() < began + 10, "no /healthz within 10 s: " + router.tail()
        await asyncio.sleep(0.05)
    return router, time.monotonic() - began


async def _waiting_for_both(router: RouterProcess) -> dict[str, Any]:
    body: dict[str, Any] = {}

    async def named() -> bool:
        nonlocal body
        status, body = await router.readyz()
        return status == 503 and all(
            str(body.get(d, "")).startswith("waiting: ") for d in ("redis", "broker")
        )

    await wait_until(named, 15, f"/readyz never named both: {body}")
    return body


async def test_start_with_redis_and_broker_away(
    rabbit: RabbitNode, late_redis: RedisServer, model_dir: Path, tmp_path: Path
) -> None:
    flow = await _both_away(rabbit, late_redis, model_dir, tmp_path)
    try:
        router, health_s = await _launch(flow)
        body = await _waiting_for_both(router)
        print(f"/healthz 200 after {health_s:.2f} s; /readyz 503: {body}")
        # /healthz answers while both are away (before, it answered nothing until Redis
        # came), and soon: the heavy imports (scikit-learn, the clients) come after the
        # port is open.
        assert health_s < HEALTHZ_WITHIN_S, router.tail()
        assert body["status"] == "starting"
        await asyncio.sleep(AWAY_S)  # the outage itself: both stay away this long
        status, _ = await router.readyz()
        assert status == 503
        came = time.monotonic()
        await asyncio.to_thread(late_redis.start)
        await asyncio.to_thread(rabbit.start_app)

        async def ready() -> bool:
            return (await router.readyz())[0] == 200

        await wait_until(ready, 60, "not ready after Redis and the broker came")
        print(f"ready {time.monotonic() - came:.1f} s after both came back")
        flow.collector.start()  # the pool queues exist now
        tickets = flow.tickets(seed=141, n=20)
        await flow.publish(tickets)
        await flow.wait_routed([tid for tid, _ in tickets])
        assert router.terminate() == 0, router.tail()
    finally:
        rabbit.ensure_up()
        await flow.close()


async def test_sigterm_while_waiting_for_redis_and_the_broker_exits_0(
    rabbit: RabbitNode, late_redis: RedisServer, model_dir: Path, tmp_path: Path
) -> None:
    flow = await _both_away(rabbit, late_redis, model_dir, tmp_path)
    try:
        router, _ = await _launch(flow)
        await _waiting_for_both(router)
        began = time.monotonic()
        code = await asyncio.to_thread(router.terminate)
        print(f"SIGTERM while starting: exit {code} after {time.monotonic() - began:.2f} s")
        assert code == 0, router.tail()
    finally:
        await asyncio.to_thread(rabbit.start_app)
        rabbit.ensure_up()
        await flow.close()
