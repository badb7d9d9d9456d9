"""Two ``ticket-router serve`` processes against one RabbitMQ and one Redis: many agents
pulling at once get each ticket exactly once and never more than the pool's capacity;
expired leases and due escalation steps are carried out exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis.asyncio as aioredis
from aio_pika.abc import AbstractRobustConnection
from aiohttp import ClientSession, ClientTimeout, TCPConnector

from router.service.settings import Names
from tests.integration.conftest import counted, drain, publish, wait_for
from tests.integration.test_leases_helpers import (
    POOLS,
    Agent,
    ServiceFleet,
    delete_queues,
    lease_config,
    make_tokens,
    states,
    ticket,
    wait_all_assigned,
    write_config,
)

pytestmark = pytest.mark.integration

AGENTS = 50
TICKETS = 400
CAPACITY = 20


@pytest.fixture
async def session() -> AsyncIterator[ClientSession]:
    """A client with room for every agent's connection at once."""
    connector = TCPConnector(limit=AGENTS * 2)
    async with ClientSession(connector=connector, timeout=ClientTimeout(total=60)) as s:
        yield s


FleetFactory = Callable[..., Awaitable[ServiceFleet]]


@pytest.fixture
async def make_fleet(
    amqp: AbstractRobustConnection,
    redis_client: aioredis.Redis,
    names: Names,
    suffix: str,
    model_dir: Path,
    tmp_path: Path,
) -> AsyncIterator[FleetFactory]:
    """Replicas serving the lease tests' config (options as :func:`lease_config`)."""
    made: list[ServiceFleet] = []

    async def make(**config: Any) -> ServiceFleet:
        path = write_config(tmp_path / "config.json", lease_config(model_dir, **config))
        made.append(ServiceFleet(names, suffix, model_dir, path, []))
        return made[-1]

    yield make
    for services in made:
        await services.stop()
    await delete_queues(amqp, names, POOLS)


async def _send(
    amqp: AbstractRobustConnection, redis: aioredis.Redis, names: Names, n: int, run: str
) -> list[str]:
    channel = await amqp.channel()
    tickets = [ticket(run, i) for i in range(n)]
    await publish(channel, names, [orjson.dumps(t) for t in tickets])
    ids = [str(t["id"]) for t in tickets]
    await wait_all_assigned(redis, names, ids)
    return ids


@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_fifty_agents_on_two_replicas_get_each_ticket_once_within_capacity(
    amqp: AbstractRobustConnection,
    redis_client: aioredis.Redis,
    names: Names,
    suffix: str,
    session: ClientSession,
    make_fleet: FleetFactory,
) -> None:
    services = await make_fleet(vendor_capacity=CAPACITY)
    replicas = [await services.start(session), await services.start(session)]
    tokens = await make_tokens(redis_client, names)
    ids = await _send(amqp, redis_client, names, TICKETS, suffix)
    received: list[str] = []
    open_now = 0
    max_open = 0
    agents = [
        Agent(session, replicas[n % 2].url, "vendor", tokens["agent:vendor"], f"agent-{n}")
        for n in range(AGENTS)
    ]

    # Contention first, deterministically: all agents pull at once and keep what they
    # get; exactly the pool's capacity is handed out, across both replicas.
    first = await asyncio.gather(*(agent.pull(wait=0) for agent in agents))
    held = [
        (agent, body["lease"])
        for agent, (status, body) in zip(agents, first, strict=True)
        if status == 200
    ]
    assert len(held) == CAPACITY
    assert sorted(status for status, _ in first) == [200] * CAPACITY + [204] * (AGENTS - CAPACITY)
    for agent, lease in held:
        received.append(lease["ticket_id"])
        status, _ = await agent.act(
            lease["ticket_id"], "complete", lease_id=lease["lease_id"], outcome="resolved"
        )
        assert status == 200

    async def work(n: int) -> None:
        nonlocal open_now, max_open
        agent = agents[n]
        while len(received) < TICKETS:
            status, body = await agent.pull(wait=1)
            if status == 204:
                continue
            assert status == 200, body
            open_now += 1
            max_open = max(max_open, open_now)
            lease = body["lease"]
            received.append(lease["ticket_id"])
            status, _ = await agent.act(lease["ticket_id"], "accept", lease_id=lease["lease_id"])
            assert status == 200
            # Counted closed before the server frees it: this count never exceeds
            # the server's, so it may not exceed the capacity either.
            open_now -= 1
            status, _ = await agent.act(
                lease["ticket_id"], "complete", lease_id=lease["lease_id"], outcome="resolved"
            )
            assert status == 200

    await asyncio.gather(*(work(n) for n in range(AGENTS)))
    counts = Counter(received)
    assert len(received) == TICKETS
    assert set(counts) == set(ids)
    assert max(counts.values()) == 1
    assert max_open <= CAPACITY
    granted = [
        await r.metric(session, "router_leases_granted_total", {"pool": "vendor"}) for r in replicas
    ]
    assert sum(granted) == TICKETS and min(granted) > 0, granted
    assert set((await states(redis_client, names, ids)).values()) == {"completed"}
    status, pool = await Agent(
        session, replicas[0].url, "vendor", tokens["agent:vendor"], "sup"
    ).get()
    assert (status, pool["open"], pool["queued"]) == (200, 0, 0)
    assert await redis_client.get(f"{names.redis_prefix}load:vendor") == b"0"


@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_two_replicas_expire_leases_and_escalate_each_ticket_once(
    amqp: AbstractRobustConnection,
    redis_client: aioredis.Redis,
    names: Names,
    suffix: str,
    session: ClientSession,
    make_fleet: FleetFactory,
) -> None:
    n, abandoned = 20, 8
    services = await make_fleet(escalate_after_minutes=1)
    replicas = [await services.start(session), await services.start(session)]
    tokens = await make_tokens(redis_client, names)
    ids = await _send(amqp, redis_client, names, n, suffix)
    agents = [
        Agent(session, replicas[i % 2].url, "vendor", tokens["agent:vendor"], f"a{i}")
        for i in range(abandoned)
    ]
    leases = [(await a.pull(lease_seconds=1))[1]["lease"] for a in agents]
    assert len({lease["ticket_id"] for lease in leases}) == abandoned

    async def all_queued_again() -> bool:
        status, listing = await agents[0].get("/assignments?limit=100")
        return status == 200 and listing["queued"] == n and listing["open"] == 0

    await wait_for(all_queued_again, timeout=20, what="expired leases back in the backlog")

    async def expired() -> float:
        name, labels = "router_leases_expired_total", {"pool": "vendor"}
        return sum([await r.metric(session, name, labels) for r in replicas])

    assert await counted(expired, abandoned, "the expiries counted") == abandoned

    # Nobody accepts: one minute after the decision every ticket moves to desk2.
    prefix = names.redis_prefix

    async def all_moved() -> bool:
        async with redis_client.pipeline(transaction=False) as pipe:
            for tid in ids:
                pipe.hget(f"{prefix}t:{tid}", "pool")
            pools = await pipe.execute()
        return set(pools) == {b"desk2"}

    await wait_for(all_moved, timeout=120, what="every ticket escalated to desk2")
    labels = {"kind": "sla", "from_pool": "vendor", "to_pool": "desk2"}

    async def moved() -> float:
        return sum([await r.metric(session, "router_escalations_total", labels) for r in replicas])

    assert await counted(moved, n, "the escalations counted") == n
    channel = await amqp.channel()
    messages = await drain(channel, names.pool_queue("desk2"))
    assert sorted(m.message_id or "" for m in messages) == sorted(ids)
    for message in messages:
        assignment = orjson.loads(message.body)
        assert assignment["pool_id"] == "desk2"
        assert [(m["kind"], m["from"], m["to"]) for m in assignment["moves"]] == [
            ("sla", "vendor", "desk2")
        ]
    vendor = agents[0]
    status, err = await vendor.post(f"/assignments/{ids[0]}/claim", {"agent": "late"})
    # A vendor hears that the ticket moved, never to which other pool.
    assert (status, err["error"]["message"]) == (409, "the ticket moved to another pool")
    status, body = await vendor.act(
        leases[0]["ticket_id"], "accept", lease_id=leases[0]["lease_id"]
    )
    assert (status, body["error"]["reason"]) == (409, "moved")
    desk2 = Agent(session, replicas[1].url, "desk2", tokens["agent:desk2"], "dee")
    status, pool = await desk2.get()
    assert (pool["queued"], pool["open"]) == (n, 0)
    loads = await redis_client.mget([f"{prefix}load:vendor", f"{prefix}load:desk2"])
    assert loads == [b"0", str(n).encode()]
