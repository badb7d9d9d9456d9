"""Throughput of ``ticket-router serve`` against a bare relay, in the same run.

Every target gets exchange, queue and Redis key names of its own on the same
RabbitMQ and Redis, and runs as separate processes (like production replicas):

* ``relay``: tests/bench/relay.py, consume -> publish with confirm -> ack, nothing
  else, on the same queue types and prefetch as the service (the floor); per
  message, and ``relay batched`` (publish what arrived, one multiple-ack per
  batch); the ratio is taken against the faster of the two;
* ``router xK``: K replicas of ``ticket-router serve``.

For each target it publishes a warm-up, then bursts of ``--n`` tickets at once
(persistent, publisher confirms) and measures tickets/s from the first publish to
the last assignment arriving on the pool queues; the relay and one replica run
side by side and take turns, so both see the same machine load. Then ``--n``
tickets at a steady rate (default: half of one replica's best burst) give the
publish -> assignment latency. It prints peak RSS (VmHWM) and CPU time per
process, checks N in = N assigned with 0 duplicates, an empty inbound and dead
queue and (for the router) N tickets ``assigned`` in Redis, and exits 1 when a
check fails. Everything it declares or writes is removed at the end.

    .venv/bin/python tests/bench/bench_throughput.py --n 5000 --replicas 1,2,3
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

import aio_pika
import orjson
import redis.asyncio as aioredis

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from classifiers.paths import default_model_dir  # noqa: E402
from router.config.load import load_config  # noqa: E402
from router.service.settings import Settings  # noqa: E402
from tests.bench.bench_targets import (  # noqa: E402
    Burst,
    Target,
    clean,
    cpu_s_of,
    listening_pids,
    log,
    start_relay,
    start_router,
    stop,
    verify,
)
from tests.tickets import make_tickets  # noqa: E402

WARMUP = 300


async def publish(target: Target, items: Sequence[tuple[str, bytes]], rate: float | None) -> float:
    """Publish with confirms (at once, or paced at ``rate``); returns when all are
    confirmed, the seconds since the first publish."""
    assert target.exchange is not None
    exchange = target.exchange
    window = asyncio.Semaphore(2000)  # outstanding confirms

    async def one(tid: str, body: bytes) -> None:
        try:
            message = aio_pika.Message(
                body, message_id=tid, delivery_mode=aio_pika.DeliveryMode.PERSISTENT
            )
            target.sent[tid] = time.monotonic()
            await exchange.publish(message, routing_key="ticket.bench", timeout=60)
        finally:
            window.release()

    start = time.monotonic()
    tasks = []
    for i, (tid, body) in enumerate(items):
        if rate:
            delay = start + i / rate - time.monotonic()
            if delay > 0.002:  # a tick every few ms; the rest go out at once
                await asyncio.sleep(delay)
        await window.acquire()
        tasks.append(asyncio.create_task(one(tid, body)))
    await asyncio.gather(*tasks)
    return time.monotonic() - start


async def burst(
    target: Target, items: Sequence[tuple[str, bytes]], record: bool, servers: Sequence[int]
) -> None:
    """N tickets at once; record tickets/s from the first publish to the last arrival,
    and the CPU time of the target and of the ``servers`` (broker, Redis) per ticket."""
    ids = [t for t, _ in items]
    cpu0, servers0, own0 = target.cpu_s(), cpu_s_of(servers), time.process_time()
    publish_s = await publish(target, items, None)
    if not await target.wait_all(ids):
        log(f"!! {target.label}: {target.failures[-1]}")
        return
    if record:
        first = min(target.sent[t] for t in ids)
        last = max(target.arrived[t] for t in ids)
        cpu_ms = (target.cpu_s() - cpu0) * 1000 / len(ids)
        servers_ms = (cpu_s_of(servers) - servers0) * 1000 / len(ids)
        target.bursts.append(Burst(len(ids) / (last - first), publish_s, cpu_ms, servers_ms))
        own_ms = (time.process_time() - own0) * 1000 / len(ids)
        log(
            f"{target.label}: burst {len(ids) / (last - first):,.0f} tickets/s, cpu per "
            f"ticket: target {cpu_ms:.2f} ms, servers {servers_ms:.2f}, this load generator "
            f"{own_ms:.2f}"
        )


async def steady(target: Target, items: Sequence[tuple[str, bytes]], rate: float) -> None:
    """N tickets at ``rate``; record publish -> assignment latency of each."""
    ids = [t for t, _ in items]
    await publish(target, items, rate)
    if await target.wait_all(ids):
        target.steady = [target.arrived[t] - target.sent[t] for t in ids]
        log(f"{target.label}: steady p50 {_pct(target.steady, 0.5) * 1000:.1f} ms")
    else:
        log(f"!! {target.label}: {target.failures[-1]}")


def _pct(values: Sequence[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=1000, method="inclusive")[int(q * 1000) - 1]


class Bench:
    """The whole run: tickets, connections, targets and the rate they share."""

    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.args = args
        self.tmp = tmp
        self.base = f"tput{uuid.uuid4().hex[:6]}"
        self.pools = list(load_config(args.config).pool_ids)
        self.rate: float | None = args.rate
        ports = [urlsplit(args.amqp).port or 5672, urlsplit(args.redis).port or 6379]
        self.servers = listening_pids(ports)
        n, repeat = args.n, args.repeat
        log(f"generating {WARMUP + (repeat + 1) * n} tickets ...")
        items = [(t["id"], orjson.dumps(t)) for t in make_tickets(WARMUP + (repeat + 1) * n, 7)]
        self.warm = items[:WARMUP]
        self.bursts = [items[WARMUP + i * n : WARMUP + (i + 1) * n] for i in range(repeat)]
        self.steady = items[WARMUP + repeat * n :]
        self.targets: list[Target] = []

    def target(self, label: str, tag: str, replicas: int) -> Target:
        """A new target with names of its own; ``replicas`` 0 is the relay."""
        t = Target(label, f"{self.base}{tag}", self.pools, replicas > 0, max(replicas, 1))
        self.targets.append(t)
        return t

    async def run(self, groups: list[list[Target]]) -> None:
        """Run each group (targets side by side), one after the other."""
        args = self.args
        pub_conn = await aio_pika.connect(args.amqp)
        sub_conn = await aio_pika.connect(args.amqp)
        r = aioredis.Redis.from_url(args.redis)
        try:
            admin = await pub_conn.channel()
            pub = await pub_conn.channel(publisher_confirms=True)
            for group in groups:
                subs = []
                try:
                    for t in group:
                        log(f"starting {t.label} ...")
                        if t.is_router:
                            for _ in range(t.replicas):
                                await start_router(t, args, self.tmp)
                        else:
                            await start_relay(t, admin, args, self.tmp)
                        t.exchange = await pub.get_exchange(t.names.tickets_exchange, ensure=False)
                        sub = await sub_conn.channel()
                        subs.append(sub)
                        for pool in t.pools:
                            q = await sub.get_queue(t.names.pool_queue(pool), ensure=False)
                            await q.consume(t.on_message, no_ack=True)
                    await self._measure(group)
                finally:
                    for t in group:
                        await stop(t)
                    # (a target that did not start has nothing to verify; its error stands)
                    for t, sub in zip(group, subs, strict=False):
                        await verify(t, admin, r)
                        await sub.close()
                    for t in group:
                        await clean(t, admin, r)
        finally:
            await r.aclose()
            await sub_conn.close()
            await pub_conn.close()

    async def _measure(self, group: list[Target]) -> None:
        for t in group:
            log(f"{t.label}: warm-up, {len(self.warm)} tickets")
            await burst(t, self.warm, False, self.servers)
        for i, items in enumerate(self.bursts):
            for t in group:  # take turns, so load that comes and goes hits both
                log(f"{t.label}: burst {i + 1}/{len(self.bursts)}, {len(items)} tickets")
                await burst(t, items, True, self.servers)
        if self.rate is None:
            ones = [t for t in group if t.label == "router x1" and t.bursts]
            src = ones or [t for t in group if t.bursts]
            if not src:
                return
            self.rate = max(b.rate for b in src[0].bursts) / 2
            log(f"steady rate: half of {src[0].label}'s best burst = {self.rate:.0f}/s")
        if self.args.n_steady:
            for t in group:
                log(f"{t.label}: steady, {len(self.steady)} tickets at {self.rate:.0f}/s")
                await steady(t, self.steady, self.rate)


def _median(t: Target) -> float:
    return statistics.median(b.rate for b in t.bursts) if t.bursts else float("nan")


def _cpu_cost(t: Target) -> float:
    return statistics.median(b.cpu_ms_per_ticket + b.servers_ms_per_ticket for b in t.bursts)


def report(bench: Bench, load: tuple[str, str]) -> bool:
    """Print the table; True when every check passed."""
    a = bench.args
    print(
        f"\nticket-router throughput: {a.n} tickets per burst x {a.repeat}, prefetch "
        f"{a.prefetch}, {len(bench.pools)} pools, {os.cpu_count()} cores; "
        f"load average before {load[0]}, after {load[1]}"
    )
    head = f"{'target':<10} {'burst tickets/s':>22} {'cpu ms/t':>8} {'srv ms/t':>8} {'pub s':>5}"
    head += f" {'steady p50/p90/p99 ms':>22} {'peak RSS MiB per process':>25}  checks"
    print(head)
    for t in bench.targets:
        rates = [b.rate for b in t.bursts]
        span = f"{_median(t):,.0f} ({min(rates):,.0f}-{max(rates):,.0f})" if rates else "-"
        cpu = statistics.median(b.cpu_ms_per_ticket for b in t.bursts) if rates else float("nan")
        pub = statistics.median(b.publish_s for b in t.bursts) if rates else float("nan")
        srv = statistics.median(b.servers_ms_per_ticket for b in t.bursts) if rates else 0.0
        lat = "/".join(f"{_pct(t.steady, q) * 1000:.0f}" for q in (0.5, 0.9, 0.99))
        rss = ", ".join(f"{p.peak_rss_kib / 1024:.0f}" for p in t.procs)
        checks = "ok" if not t.failures else "FAILED: " + "; ".join(t.failures)
        print(
            f"{t.label:<10} {span:>22} {cpu:>8.2f} {srv:>8.2f} {pub:>5.2f}"
            f" {lat if t.steady else '-':>22} {rss:>25}  {checks}"
        )
    print(
        f"steady rate: {bench.rate or 0:.0f} tickets/s; latency = publish -> assignment; cpu = "
        "the target's processes, srv = RabbitMQ + Redis (shared: includes others' load)"
    )
    # Against the fastest relay measured: the floor is what a relay can do.
    relays = [t for t in bench.targets if not t.is_router and t.bursts]
    relay = max(relays, key=_median) if relays else None
    ones = [t for t in bench.targets if t.label.startswith("router x1") and t.bursts]
    for one in ones if relay else []:
        assert relay is not None
        best = max(b.rate for b in one.bursts) / max(b.rate for b in relay.bursts)
        pairs = [o.rate / r.rate for o, r in zip(one.bursts, relay.bursts, strict=False)]
        print(
            f"{one.label} / {relay.label}: {_median(one) / _median(relay):.2f} (medians; best/best "
            f"{best:.2f}; burst by burst {', '.join(f'{x:.2f}' for x in pairs)}, their median "
            f"{statistics.median(pairs):.2f})"
        )
        # What a CPU-bound machine (few cores, other work on them) makes of it, independent of how
        # much CPU other load leaves: CPU per ticket of the target plus broker and Redis.
        cost = {t.label: _cpu_cost(t) for t in (relay, one)}
        print(
            f"cpu per ticket, target + broker + Redis: {relay.label} {cost[relay.label]:.2f} ms, "
            f"{one.label} {cost[one.label]:.2f} ms: ratio {cost[relay.label] / cost[one.label]:.2f}"
        )
    for t in bench.targets:
        if t.is_router and t.by_pool:
            # Masked and outsourced pools cost the masking walk; the mix follows the clock.
            total = sum(t.by_pool.values())
            mix = ", ".join(f"{p} {100 * n / total:.0f}%" for p, n in t.by_pool.most_common())
            print(f"{t.label} assignments by pool: {mix}")
            break
    ok = all(not t.failures for t in bench.targets)
    if not ok:
        print("!! CHECKS FAILED: see the checks column", file=sys.stderr)
    return ok


def _load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


async def main(args: argparse.Namespace) -> int:
    """Build the targets, run them and print the table; the exit status."""
    before = _load()
    with tempfile.TemporaryDirectory(prefix="bench-tput-") as tmp:
        bench = Bench(args, Path(tmp))
        paired = []
        if not args.skip_relay:
            if args.relay in ("per-message", "both"):
                paired.append(bench.target("relay", "relay", 0))
            if args.relay in ("batched", "both"):
                paired.append(bench.target("relay batched", "relayb", 0))
        if 1 in args.replicas:
            paired.append(bench.target("router x1", "r1", 1))
        for prefetch in args.also_prefetch:
            # Another prefetch, taking turns with the rest: a same-run comparison.
            paired.append(bench.target(f"router x1 p{prefetch}", f"r1p{prefetch}", 1))
            paired[-1].prefetch = prefetch
        for batch in args.also_batch:
            # Another batch size with a prefetch of four such batches, likewise.
            paired.append(bench.target(f"router x1 b{batch}", f"r1b{batch}", 1))
            paired[-1].prefetch = 4 * batch
            paired[-1].env["ROUTER_BATCH_SIZE"] = str(batch)
        groups = [paired] if paired else []
        groups += [[bench.target(f"router x{k}", f"r{k}", k)] for k in args.replicas if k != 1]
        await bench.run(groups)
        for t in bench.targets:
            for p in t.procs if t.failures else ():
                tail = p.err_path.read_text(errors="replace").splitlines()[-20:]
                log(f"{t.label}: pid {p.proc.pid} stderr (last lines):\n" + "\n".join(tail))
    return 0 if report(bench, (before, _load())) else 1


def add_service_arguments(p: argparse.ArgumentParser) -> None:
    """--amqp, --redis, --config and --model-dir, as every service benchmark takes them."""
    p.add_argument(
        "--amqp", default=os.environ.get("ROUTER_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
    )
    p.add_argument(
        "--redis", default=os.environ.get("ROUTER_REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    p.add_argument("--config", type=Path, default=REPO / "deploy" / "config.example.yaml")
    p.add_argument("--model-dir", type=Path, default=default_model_dir())


def _replicas(raw: str) -> list[int]:
    return [int(x) for x in raw.split(",") if x.strip()]


if __name__ == "__main__":
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--n", type=int, default=5000, help="tickets per burst and steady phase")
    p.add_argument("--repeat", type=int, default=3, help="bursts per target")
    p.add_argument(
        "--rate",
        type=float,
        default=None,
        help="steady tickets/s (default: half of one replica's best burst)",
    )
    p.add_argument("--replicas", type=_replicas, default=[1, 2, 3], help="e.g. 1,2,3")
    p.add_argument("--skip-relay", action="store_true")
    p.add_argument(
        "--relay",
        choices=("per-message", "batched", "both"),
        default="both",
        help="which relay (tests/bench/relay.py) to run; the ratio uses the faster one",
    )
    p.add_argument("--no-steady", dest="n_steady", action="store_false")
    p.add_argument("--prefetch", type=int, default=Settings().prefetch)
    p.add_argument(
        "--also-prefetch",
        type=_replicas,
        default=[],
        help="e.g. 512: one more replica with this prefetch, in the same turns",
    )
    p.add_argument(
        "--also-batch",
        type=_replicas,
        default=[],
        help="e.g. 256: one more replica with this batch size (prefetch four batches), likewise",
    )
    add_service_arguments(p)
    raise SystemExit(asyncio.run(main(p.parse_args())))
