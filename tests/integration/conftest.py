"""Fixtures for tests against the real RabbitMQ and Redis.

Every test gets its own exchange, queue and Redis key names (a random suffix) and
removes them afterwards, so tests never see each other's messages.
"""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aio_pika
import orjson
import pytest
import redis.asyncio as aioredis
from aio_pika.abc import AbstractChannel, AbstractRobustConnection
from aiohttp import ClientSession, web, web_app

from queues.token_store import RedisTokenStore
from router.config.load import load_config
from router.core.tokens import parse_scopes
from router.http import appkeys as K
from router.http.app import create_app
from router.service.settings import Names, Settings
from tests.conftest import AMQP_URL, EXAMPLE_CONFIG, REDIS_URL
from tests.faults.router_proc import RouterProcess
from tests.integration.health_probe import serve_process

pytestmark = pytest.mark.integration


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_for(
    condition: Callable[[], Awaitable[bool]], timeout: float = 30.0, what: str = "condition"
) -> None:
    """Poll ``condition`` until true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)


async def counted(
    read: Callable[[], Awaitable[float]], expected: float, what: str, timeout: float = 15.0
) -> float:
    """A counter's value once it reached ``expected`` (or after ``timeout`` seconds).

    A service counts what it did after Redis answered, so a test that saw the change in
    Redis may read the counter a moment too early; this waits for the count, and the
    caller still asserts the exact value (a double count shows as more)."""
    value = await read()
    deadline = time.monotonic() + timeout
    while value < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
        value = await read()
    return value


@pytest.fixture
def suffix() -> str:
    """A random suffix that makes this test's names unique."""
    return f"t{uuid.uuid4().hex[:12]}"


@pytest.fixture
def names(suffix: str) -> Names:
    """Broker and Redis names unique to this test."""
    return Names.with_suffix(suffix)


def local_settings(names: Names, model_dir: Path, **overrides: Any) -> Settings:
    """Service settings pointing at the local servers with ``names``, on a free port."""
    base: dict[str, Any] = {
        "amqp_url": AMQP_URL,
        "redis_url": REDIS_URL,
        "http_host": "127.0.0.1",
        "http_port": free_port(),
        "config_path": EXAMPLE_CONFIG,
        "model_dir": model_dir,
        "names": names,
        "claim_ttl_s": 5.0,
        "shutdown_grace_s": 10.0,
    }
    return Settings(**{**base, **overrides})


@pytest.fixture
def settings(names: Names, model_dir: Path) -> Settings:
    """Service settings pointing at the local servers with this test's names."""
    return local_settings(names, model_dir)


@pytest.fixture
async def redis_client(names: Names) -> AsyncIterator[aioredis.Redis]:
    """A Redis client; deletes every key of this test's prefix afterwards."""
    client = aioredis.Redis.from_url(REDIS_URL)
    yield client
    keys = [k async for k in client.scan_iter(match=f"{names.redis_prefix}*", count=1000)]
    if keys:
        await client.delete(*keys)
    await client.aclose()


@pytest.fixture
def extra_pools() -> list[str]:
    """Pool ids beyond the example config's that this test's services declare queues
    for; a test that uses its own config appends them so they are deleted after it."""
    return []


@pytest.fixture
async def amqp(names: Names, extra_pools: list[str]) -> AsyncIterator[AbstractRobustConnection]:
    """A broker connection for the test; deletes this test's queues and exchanges after."""
    connection = await aio_pika.connect_robust(AMQP_URL)
    yield connection
    channel = await connection.channel()
    pool_ids = (*load_config(EXAMPLE_CONFIG).pool_ids, *extra_pools)
    for queue in [names.inbound_queue, names.dead_queue, *map(names.pool_queue, pool_ids)]:
        await channel.queue_delete(queue)
    for exchange in (names.tickets_exchange, names.assignments_exchange):
        await channel.exchange_delete(exchange)
    await connection.close()


@dataclass
class RunningService:
    """A service instance running inside the test's event loop."""

    app: web.Application
    runner: web.AppRunner
    url: str

    def metric(self, name: str, labels: dict[str, str] | None = None) -> float:
        """The current value of one Prometheus sample (0 when absent)."""
        value = self.app[K.METRICS].registry.get_sample_value(name, labels or {})
        return float(value or 0.0)

    async def stop(self) -> None:
        """Stop as on SIGTERM: stop consuming, drain, close."""
        await self.runner.cleanup()


ServiceFactory = Callable[..., Awaitable[RunningService]]


@pytest.fixture
async def start_service(
    settings: Settings, amqp: AbstractRobustConnection, redis_client: aioredis.Redis
) -> AsyncIterator[ServiceFactory]:
    """Start one or more service instances (same names, like replicas); stopped after."""
    running: list[RunningService] = []

    async def start(**overrides: Any) -> RunningService:
        s = replace(settings, http_port=free_port(), **overrides)
        app = create_app(s)
        runner = web.AppRunner(app, handle_signals=False)
        await runner.setup()
        await web.TCPSite(runner, s.http_host, s.http_port).start()
        service = RunningService(app, runner, f"http://{s.http_host}:{s.http_port}")
        running.append(service)
        return service

    yield start
    for service in running:
        await service.stop()
    # aiohttp caches each application's middleware chain (an lru_cache of 1024 keyed by
    # the application): every stopped service, its model (~55 MB) included, would stay
    # alive for the rest of the run. One application per process, as in production,
    # is no leak; hundreds in one test process are.
    cached = getattr(web_app, "_cached_build_middleware", None)
    if cached is not None:
        cached.cache_clear()


@pytest.fixture
async def service(start_service: ServiceFactory) -> RunningService:
    """One running service instance."""
    return await start_service()


@pytest.fixture
async def tokens(redis_client: aioredis.Redis, names: Names) -> dict[str, str]:
    """Plaintext bearer tokens of this test's token store, by scope."""
    store = RedisTokenStore(redis_client, names.redis_prefix)
    out = {}
    pools = load_config(EXAMPLE_CONFIG).pool_ids
    for scope in ["admin", "ingest", *(f"agent:{p}" for p in pools)]:
        plaintext, _ = await store.create(f"test {scope}", parse_scopes([scope]))
        out[scope] = plaintext
    return out


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for ``token``."""
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def http(tokens: dict[str, str]) -> AsyncIterator[ClientSession]:
    """An HTTP client session that authenticates as a helpdesk platform (``ingest``)."""
    async with ClientSession(headers=bearer(tokens["ingest"])) as session:
        yield session


@pytest.fixture
async def admin_http(tokens: dict[str, str]) -> AsyncIterator[ClientSession]:
    """An HTTP client session with the ``admin`` scope."""
    async with ClientSession(headers=bearer(tokens["admin"])) as session:
        yield session


async def publish(
    channel: AbstractChannel,
    names: Names,
    bodies: list[bytes],
    headers: dict[str, Any] | None = None,
) -> None:
    """Publish raw bodies to the tickets exchange as a platform would (persistent, confirmed)."""
    exchange = await channel.get_exchange(names.tickets_exchange)
    for body in bodies:
        await exchange.publish(
            aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT, headers=headers),
            routing_key="ticket.test",
        )


async def drain(
    channel: AbstractChannel, queue_name: str
) -> list[aio_pika.abc.AbstractIncomingMessage]:
    """Take every message now in ``queue_name`` (acked)."""
    queue = await channel.get_queue(queue_name, ensure=False)
    out = []
    while (message := await queue.get(no_ack=True, fail=False)) is not None:
        out.append(message)
    return out


async def drain_pools(
    channel: AbstractChannel, names: Names, pool_ids: tuple[str, ...]
) -> dict[str, list[dict[str, Any]]]:
    """Every assignment now in every pool queue, decoded, per pool."""
    return {
        pool: [orjson.loads(m.body) for m in await drain(channel, names.pool_queue(pool))]
        for pool in pool_ids
    }


@pytest.fixture
async def served(
    suffix: str,
    model_dir: Path,
    tmp_path: Path,
    amqp: AbstractRobustConnection,
    redis_client: aioredis.Redis,
) -> AsyncIterator[RouterProcess]:
    """``ticket-router serve`` as its own process with this test's names, as in
    production (``amqp`` and ``redis_client``: its queues and keys are deleted after)."""
    async with serve_process(suffix, model_dir, tmp_path / "router.log") as router:
        yield router
