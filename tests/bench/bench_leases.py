"""Agents pulling from two replicas: lease cycles per second and how fast a waiting
pull wakes when a ticket comes back on the other replica.

Starts two ``ticket-router serve`` processes against the local RabbitMQ and Redis
(names unique to this run, removed afterwards), routes ``--tickets`` tickets to one
pool, and lets ``--agents`` agents pull, accept and complete them all.

    python tests/bench/bench_leases.py --tickets 1000 --agents 50 --capacity 20
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from pathlib import Path

import aio_pika
import orjson
import redis.asyncio as aioredis
from aiohttp import ClientSession, ClientTimeout, TCPConnector

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from classifiers.paths import default_model_dir
from router.service.settings import Names
from tests.conftest import AMQP_URL, REDIS_URL
from tests.integration.conftest import publish
from tests.integration.test_leases_helpers import (
    POOLS,
    Agent,
    ServiceFleet,
    delete_queues,
    lease_config,
    make_tokens,
    ticket,
    wait_all_assigned,
    write_config,
)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


async def _cycles(agents: list[Agent], n: int) -> list[float]:
    """Every agent pulls, accepts and completes until ``n`` tickets are done."""
    done = 0
    cycle: list[float] = []

    async def work(agent: Agent) -> None:
        nonlocal done
        while done < n:
            start = time.perf_counter()
            status, body = await agent.pull(wait=1)
            if status != 200:
                continue
            lease = body["lease"]
            await agent.act(lease["ticket_id"], "accept", lease_id=lease["lease_id"])
            await agent.act(
                lease["ticket_id"], "complete", lease_id=lease["lease_id"], outcome="ok"
            )
            cycle.append(time.perf_counter() - start)
            done += 1

    await asyncio.gather(*(work(a) for a in agents))
    return sorted(cycle)


async def _wakes(a: Agent, b: Agent, samples: int) -> list[float]:
    """One ticket passed back and forth: each release on one replica wakes a pull
    waiting on the other; the time from the release's answer to the pull's."""
    status, body = await a.pull()
    assert status == 200, "the wake measurement needs one queued ticket"
    waits = []
    for _ in range(samples):
        holder, other = (a, b) if body["lease"]["agent"] == a.name else (b, a)
        waiting = asyncio.create_task(other.pull(wait=10))
        await asyncio.sleep(0.2)  # let the pull reach the server and start waiting
        lease = body["lease"]
        await holder.act(lease["ticket_id"], "release", lease_id=lease["lease_id"])
        start = time.perf_counter()
        status, body = await waiting
        waits.append(time.perf_counter() - start)
        assert status == 200
    return sorted(waits)


async def run(args: argparse.Namespace) -> None:
    """Start the replicas, measure, clean up."""
    suffix = f"bench{uuid.uuid4().hex[:8]}"
    names = Names.with_suffix(suffix)
    model_dir = default_model_dir()
    redis = aioredis.Redis.from_url(REDIS_URL)
    amqp = await aio_pika.connect_robust(AMQP_URL)
    config = lease_config(model_dir, vendor_capacity=args.capacity)
    path = write_config(Path(f"/tmp/{suffix}.json"), config)
    session = ClientSession(connector=TCPConnector(limit=args.agents * 2 + 10),
                            timeout=ClientTimeout(total=60))  # fmt: skip
    services = ServiceFleet(names, suffix, model_dir, path, [])
    try:
        replicas = [await services.start(session), await services.start(session)]
        tokens = await make_tokens(redis, names)
        channel = await amqp.channel()
        tickets = [ticket(suffix, i) for i in range(args.tickets + 1)]
        await publish(channel, names, [orjson.dumps(t) for t in tickets[:-1]])
        await wait_all_assigned(redis, names, [str(t["id"]) for t in tickets[:-1]])
        token = tokens["agent:vendor"]
        agents = [
            Agent(session, replicas[i % 2].url, "vendor", token, f"agent-{i}")
            for i in range(args.agents)
        ]
        start = time.perf_counter()
        cycle = await _cycles(agents, args.tickets)
        elapsed = time.perf_counter() - start
        print(
            f"{args.tickets} tickets, {args.agents} agents, 2 replicas, capacity "
            f"{args.capacity}: {elapsed:.2f} s, {args.tickets / elapsed:.0f} lease cycles/s "
            f"(pull + accept + complete); cycle p50 {_ms(statistics.median(cycle))}, "
            f"p95 {_ms(cycle[int(len(cycle) * 0.95)])}"
        )
        await publish(channel, names, [orjson.dumps(tickets[-1])])
        await wait_all_assigned(redis, names, [str(tickets[-1]["id"])])
        waits = await _wakes(
            Agent(session, replicas[0].url, "vendor", token, "A"),
            Agent(session, replicas[1].url, "vendor", token, "B"),
            args.samples,
        )
        print(
            f"a waiting pull woken by a release on the other replica: p50 "
            f"{_ms(statistics.median(waits))}, max {_ms(waits[-1])} ({len(waits)} samples)"
        )
    finally:
        await services.stop()
        await session.close()
        keys = [k async for k in redis.scan_iter(match=f"{names.redis_prefix}*", count=1000)]
        if keys:
            await redis.delete(*keys)
        await delete_queues(amqp, names, POOLS)
        cleanup = await amqp.channel()
        for queue in (names.inbound_queue, names.dead_queue):
            await cleanup.queue_delete(queue)
        for exchange in (names.tickets_exchange, names.assignments_exchange):
            await cleanup.exchange_delete(exchange)
        await amqp.close()
        await redis.aclose()
        path.unlink(missing_ok=True)


def main() -> None:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--capacity", type=int, default=20)
    parser.add_argument("--samples", type=int, default=30, help="wake-latency samples")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
