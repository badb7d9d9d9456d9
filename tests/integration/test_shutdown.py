"""SIGTERM with tickets in flight loses none and doubles none."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from pathlib import Path

import orjson
import pytest
import redis.asyncio as aioredis
from aio_pika.abc import AbstractRobustConnection
from aiohttp import ClientError, ClientSession

from queues.keys import Keys
from router.config.load import load_config
from router.service.settings import Names
from tests.conftest import AMQP_URL, EXAMPLE_CONFIG, REDIS_URL, REPO
from tests.integration.conftest import ServiceFactory, drain_pools, free_port, publish, wait_for
from tests.tickets import make_tickets

pytestmark = pytest.mark.integration

N = 3000


async def test_sigterm_with_tickets_in_flight_loses_none(
    start_service: ServiceFactory,
    amqp: AbstractRobustConnection,
    redis_client: aioredis.Redis,
    names: Names,
    suffix: str,
    model_dir: Path,
    http: ClientSession,
) -> None:
    port = free_port()
    env = dict(
        os.environ,
        ROUTER_AMQP_URL=AMQP_URL,
        ROUTER_REDIS_URL=REDIS_URL,
        ROUTER_NAME_SUFFIX=suffix,
        ROUTER_HTTP_PORT=str(port),
        ROUTER_MODEL_DIR=str(model_dir),
        ROUTER_CONFIG=str(EXAMPLE_CONFIG),
        # Small batches and prefetch: the first replica is still busy when SIGTERM comes.
        ROUTER_BATCH_SIZE="8",
        ROUTER_PREFETCH="32",
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "router",
        "serve",
        env=env,
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )

    async def ready() -> bool:
        try:
            async with http.get(f"http://127.0.0.1:{port}/readyz") as response:
                return response.status == 200
        except ClientError:
            return False

    await wait_for(ready, timeout=60, what="the service process to be ready")
    channel = await amqp.channel()
    await publish(channel, names, [orjson.dumps(t) for t in make_tickets(N, seed=31)])
    recent = Keys(names.redis_prefix).recent

    async def some_assigned() -> bool:
        return int(await redis_client.llen(recent)) > 0

    await wait_for(some_assigned, what="the first assignments")
    proc.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, stderr.decode()[-2000:]
    assert b"stopped cleanly" in stderr
    done_by_first = int(await redis_client.llen(recent))
    assert 0 < done_by_first < N, "the test needs tickets still in flight at SIGTERM"

    # A second replica takes over what the first handed back.
    await start_service()

    async def all_assigned() -> bool:
        return int(await redis_client.llen(recent)) >= N

    await wait_for(all_assigned, timeout=60, what=f"all {N} tickets assigned")
    pool_ids = load_config(EXAMPLE_CONFIG).pool_ids
    per_pool = await drain_pools(channel, names, pool_ids)
    ids = Counter(a["ticket_id"] for per in per_pool.values() for a in per)
    assert len(ids) == N
    assert sum(ids.values()) == N
