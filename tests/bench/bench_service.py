"""End-to-end benchmark: tickets published to RabbitMQ -> assignments on pool queues.

Starts the service as separate processes (like production replicas) against the
local RabbitMQ and Redis, with names of its own, and prints:

* burst throughput: N tickets published at once, tickets/s until the last assignment;
* latency at a steady rate: p50/p90/p99 from publish to the assignment arriving
  on its pool queue.

    .venv/bin/python tests/bench/bench_service.py --n 5000 --rate 1000 --replicas 1

Everything it declares or writes is removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import aio_pika
import orjson
import redis.asyncio as aioredis
from aiohttp import ClientError, ClientSession

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from router.config.load import load_config  # noqa: E402
from router.service.settings import Names  # noqa: E402
from tests.tickets import make_tickets  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _start_replica(suffix: str, args: argparse.Namespace) -> tuple[Any, int]:
    port = _free_port()
    env = dict(
        os.environ,
        ROUTER_AMQP_URL=args.amqp,
        ROUTER_REDIS_URL=args.redis,
        ROUTER_NAME_SUFFIX=suffix,
        ROUTER_HTTP_PORT=str(port),
        ROUTER_CONFIG=str(args.config),
        ROUTER_LOG_LEVEL="WARNING",
    )
    if args.model_dir:
        env["ROUTER_MODEL_DIR"] = str(args.model_dir)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "router",
        "serve",
        env=env,
        cwd=REPO,
        stdout=asyncio.subprocess.DEVNULL,
    )
    async with ClientSession() as http:
        for _ in range(600):
            try:
                async with http.get(f"http://127.0.0.1:{port}/readyz") as r:
                    if r.status == 200:
                        return proc, port
            except ClientError:
                pass
            if proc.returncode is not None:
                raise SystemExit("a replica exited during start-up")
            await asyncio.sleep(0.1)
    raise SystemExit("a replica did not become ready")


class Collector:
    """Receives assignments and records publish-to-assignment latency."""

    def __init__(self) -> None:
        self.latencies: dict[str, float] = {}
        self.last_at = 0.0
        self.duplicates = 0
        self.event = asyncio.Event()
        self.expect = 0

    async def on_message(self, message: aio_pika.abc.AbstractIncomingMessage) -> None:
        now = time.time()
        assignment = orjson.loads(message.body)
        tid = assignment["ticket_id"]
        if tid in self.latencies:
            self.duplicates += 1
        else:
            self.latencies[tid] = now - assignment["ticket"]["metadata"]["sent_at"]
        self.last_at = now
        await message.ack()
        if len(self.latencies) >= self.expect:
            self.event.set()

    async def wait(self, expect: int, timeout: float) -> None:
        self.expect = expect
        if len(self.latencies) >= expect:
            return
        self.event.clear()
        await asyncio.wait_for(self.event.wait(), timeout)


async def _publish(
    exchange: aio_pika.abc.AbstractExchange, tickets: list[dict[str, Any]], rate: float | None
) -> float:
    start = time.time()
    # Paced: a small chunk every few milliseconds, so latency is not our own burst.
    chunk = max(1, int(rate / 200)) if rate else 100
    for i in range(0, len(tickets), chunk):
        part = tickets[i : i + chunk]
        if rate:
            due = start + i / rate
            delay = due - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
        sends = []
        for t in part:
            t["metadata"] = {"sent_at": time.time()}
            sends.append(
                exchange.publish(
                    aio_pika.Message(
                        orjson.dumps(t), delivery_mode=aio_pika.DeliveryMode.PERSISTENT
                    ),
                    routing_key="ticket.bench",
                )
            )
        await asyncio.gather(*sends)
    return start


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000)[int(q * 1000) - 1] if len(values) > 1 else values[0]


async def main(args: argparse.Namespace) -> None:
    suffix = f"bench{uuid.uuid4().hex[:8]}"
    names = Names.with_suffix(suffix)
    pool_ids = load_config(args.config).pool_ids
    print(f"generating {args.n * 2} tickets ...", file=sys.stderr)
    tickets = make_tickets(args.n * 2, seed=99)
    print(f"starting {args.replicas} replica(s) ...", file=sys.stderr)
    replicas = [await _start_replica(suffix, args) for _ in range(args.replicas)]
    connection = await aio_pika.connect_robust(args.amqp)
    try:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=1000)
        collector = Collector()
        for pool in pool_ids:
            queue = await channel.get_queue(names.pool_queue(pool))
            await queue.consume(collector.on_message)
        pub_channel = await connection.channel(publisher_confirms=True)
        exchange = await pub_channel.get_exchange(names.tickets_exchange)

        print(f"burst: publishing {args.n} tickets at once ...", file=sys.stderr)
        start = await _publish(exchange, tickets[: args.n], None)
        await collector.wait(args.n, timeout=600)
        burst_s = collector.last_at - start
        burst_lat = list(collector.latencies.values())

        rate = args.rate
        print(f"steady: {args.n} tickets at {rate}/s ...", file=sys.stderr)
        before = set(collector.latencies)
        await _publish(exchange, tickets[args.n :], rate)
        await collector.wait(2 * args.n, timeout=600)
        steady = [v for k, v in collector.latencies.items() if k not in before]

        print(f"replicas: {args.replicas}, pools: {len(pool_ids)}, cores: {os.cpu_count()}")
        print(
            f"burst  : {args.n} tickets in {burst_s:.2f}s = {args.n / burst_s:,.0f} tickets/s "
            f"(p50 {_pct(burst_lat, 0.5) * 1000:.0f} ms, p99 {_pct(burst_lat, 0.99) * 1000:.0f} ms "
            "incl. queueing)"
        )
        print(
            f"steady : {rate:.0f} tickets/s offered, publish->assignment latency "
            f"p50 {_pct(steady, 0.5) * 1000:.1f} ms, p90 {_pct(steady, 0.9) * 1000:.1f} ms, "
            f"p99 {_pct(steady, 0.99) * 1000:.1f} ms"
        )
        print(f"assignments: {len(collector.latencies)} unique, {collector.duplicates} duplicates")
    finally:
        for proc, _ in replicas:
            proc.send_signal(signal.SIGTERM)
        for proc, _ in replicas:
            await proc.wait()
        channel = await connection.channel()
        for q in [names.inbound_queue, names.dead_queue, *map(names.pool_queue, pool_ids)]:
            await channel.queue_delete(q)
        for ex in (names.tickets_exchange, names.assignments_exchange):
            await channel.exchange_delete(ex)
        await connection.close()
        r = aioredis.Redis.from_url(args.redis)
        keys = [k async for k in r.scan_iter(match=f"{names.redis_prefix}*", count=1000)]
        for i in range(0, len(keys), 1000):
            await r.delete(*keys[i : i + 1000])
        await r.aclose()


if __name__ == "__main__":
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--n", type=int, default=5000, help="tickets per phase")
    p.add_argument("--rate", type=float, default=1000.0, help="steady-phase tickets/s")
    p.add_argument("--replicas", type=int, default=1)
    p.add_argument(
        "--amqp", default=os.environ.get("ROUTER_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
    )
    p.add_argument(
        "--redis", default=os.environ.get("ROUTER_REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    p.add_argument("--config", type=Path, default=REPO / "deploy" / "config.example.yaml")
    p.add_argument("--model-dir", type=Path, default=None)
    asyncio.run(main(p.parse_args()))
