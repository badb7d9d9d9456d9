"""Throughput of ``ticket-router serve`` against a bare relay, in the same run.

Every target gets exchange, queue and Redis key names of its own on the same
RabbitMQ and Redis, and runs as separate processes (like production replicas):

* ``relay``: tests/bench/relay.py, consume -> publish with confirm -> ack, nothing
  else, on the same queue types and prefetch as the service (the floor);
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
import signal
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aio_pika
import orjson
import redis.asyncio as aioredis
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractIncomingMessage
from aiohttp import ClientError, ClientSession

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from classifiers.paths import default_model_dir  # noqa: E402
from queues.topology import declare_inbound, declare_pools  # noqa: E402
from router.config import load_config  # noqa: E402
from router.settings import Names, Settings  # noqa: E402
from tests.tickets import make_tickets  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
WARMUP = 300


def log(msg: str) -> None:
    """Progress, on stderr so the table on stdout stays clean."""
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


@dataclass
class Proc:
    """One process of a target, with what /proc says about it."""

    proc: asyncio.subprocess.Process
    err_path: Path
    peak_rss_kib: int = 0

    def cpu_s(self) -> float:
        """User + system CPU seconds used so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def read_peak_rss(self) -> None:
        """Remember VmHWM (peak resident set) while the process still runs."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                self.peak_rss_kib = int(line.split()[1])


def _servers_cpu_s() -> float:
    """CPU seconds used so far by the RabbitMQ and Redis servers of this machine (shared
    with whatever else runs, so only a hint of where the time goes)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, rest = stat.read_text().rsplit(")", 1)
        except OSError:
            continue
        if head.endswith(("(beam.smp", "(redis-server")):
            fields = rest.split()
            total += (int(fields[11]) + int(fields[12])) / CLK_TCK
    return total


@dataclass
class Burst:
    """One measured burst."""

    rate: float
    publish_s: float
    cpu_ms_per_ticket: float
    servers_ms_per_ticket: float


@dataclass
class Target:
    """A system under test: its names, processes and what arrived from it."""

    label: str
    suffix: str
    pools: list[str]
    is_router: bool
    replicas: int = 1
    procs: list[Proc] = field(default_factory=list)
    sent: dict[str, float] = field(default_factory=dict)
    arrived: dict[str, float] = field(default_factory=dict)
    duplicates: int = 0
    bursts: list[Burst] = field(default_factory=list)
    steady: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    exchange: AbstractExchange | None = None
    _waiting: set[str] = field(default_factory=set)
    _done: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def names(self) -> Names:
        """Exchange, queue and Redis key names of this target."""
        return Names.with_suffix(self.suffix)

    def on_message(self, message: AbstractIncomingMessage) -> None:
        """An assignment arrived on a pool queue (auto-acked)."""
        now = time.monotonic()
        tid = message.message_id or orjson.loads(message.body)["ticket_id"]
        if tid in self.arrived:
            self.duplicates += 1
            return
        self.arrived[tid] = now
        self._waiting.discard(tid)
        if not self._waiting:
            self._done.set()

    async def wait_all(self, ids: Sequence[str], stall_s: float = 30.0) -> bool:
        """Wait until every id of ``ids`` has arrived; False (noted) when nothing more
        arrives for ``stall_s``."""
        self._waiting = {t for t in ids if t not in self.arrived}
        self._done.clear()
        seen, quiet_since = len(self.arrived), time.monotonic()
        while self._waiting:
            try:
                await asyncio.wait_for(self._done.wait(), 1.0)
            except TimeoutError:
                if len(self.arrived) > seen:
                    seen, quiet_since = len(self.arrived), time.monotonic()
                elif time.monotonic() - quiet_since > stall_s:
                    self.failures.append(f"{len(self._waiting)} of {len(ids)} never arrived")
                    return False
        return True

    def cpu_s(self) -> float:
        """CPU seconds of all processes of the target."""
        return sum(p.cpu_s() for p in self.procs)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _spawn(argv: list[str], env: dict[str, str], tmp: Path) -> Proc:
    err_path = tmp / f"proc-{uuid.uuid4().hex[:8]}.err"
    with err_path.open("wb") as err:
        proc = await asyncio.create_subprocess_exec(
            *argv, env=env, cwd=REPO, stdout=asyncio.subprocess.PIPE, stderr=err
        )
    return Proc(proc, err_path)


async def start_router(target: Target, args: argparse.Namespace, tmp: Path) -> None:
    """Start one replica and wait for /readyz."""
    port = _free_port()
    env = dict(
        os.environ,
        ROUTER_AMQP_URL=args.amqp,
        ROUTER_REDIS_URL=args.redis,
        ROUTER_NAME_SUFFIX=target.suffix,
        ROUTER_PREFETCH=str(args.prefetch),
        ROUTER_HTTP_PORT=str(port),
        ROUTER_CONFIG=str(args.config),
        ROUTER_MODEL_DIR=str(args.model_dir),
        ROUTER_LOG_LEVEL="WARNING",
    )
    exe = Path(sys.executable).parent / "ticket-router"
    argv = [str(exe), "serve"] if exe.exists() else [sys.executable, "-m", "router", "serve"]
    p = await _spawn(argv, env, tmp)
    target.procs.append(p)
    async with ClientSession() as http:
        for _ in range(1200):
            try:
                async with http.get(f"http://127.0.0.1:{port}/readyz") as r:
                    if r.status == 200:
                        return
            except ClientError:
                pass
            if p.proc.returncode is not None:
                raise SystemExit(f"a replica exited at start:\n{p.err_path.read_text()}")
            await asyncio.sleep(0.1)
    raise SystemExit("a replica did not become ready in 120 s")


async def start_relay(
    target: Target, channel: AbstractChannel, args: argparse.Namespace, tmp: Path
) -> None:
    """Declare the service's topology under the relay's names and start the relay."""
    settings = Settings(names=target.names)
    await declare_inbound(channel, settings)
    await declare_pools(channel, target.names, target.pools, settings)
    argv = [sys.executable, str(REPO / "tests" / "bench" / "relay.py"), "--amqp", args.amqp]
    argv += ["--inbound", target.names.inbound_queue]
    argv += ["--exchange", target.names.assignments_exchange, "--pools", ",".join(target.pools)]
    argv += ["--prefetch", str(args.prefetch)]
    p = await _spawn(argv, dict(os.environ), tmp)
    target.procs.append(p)
    assert p.proc.stdout is not None
    line = await asyncio.wait_for(p.proc.stdout.readline(), 30)
    if line.strip() != b"ready":
        raise SystemExit(f"the relay did not start:\n{p.err_path.read_text()}")


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


async def burst(target: Target, items: Sequence[tuple[str, bytes]], record: bool) -> None:
    """N tickets at once; record tickets/s from the first publish to the last arrival."""
    ids = [t for t, _ in items]
    cpu0, servers0 = target.cpu_s(), _servers_cpu_s()
    publish_s = await publish(target, items, None)
    if not await target.wait_all(ids):
        log(f"!! {target.label}: {target.failures[-1]}")
        return
    if record:
        first = min(target.sent[t] for t in ids)
        last = max(target.arrived[t] for t in ids)
        cpu_ms = (target.cpu_s() - cpu0) * 1000 / len(ids)
        servers_ms = (_servers_cpu_s() - servers0) * 1000 / len(ids)
        target.bursts.append(Burst(len(ids) / (last - first), publish_s, cpu_ms, servers_ms))
        log(f"{target.label}: burst {len(ids) / (last - first):,.0f} tickets/s")


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


async def verify_and_clean(
    target: Target, channel: AbstractChannel, r: aioredis.Redis, expected: int
) -> None:
    """After the processes stopped: drain, check the counts, delete everything."""
    names = target.names
    pool_queues = [names.pool_queue(p) for p in target.pools]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # whatever is still on a pool queue is a duplicate
        counts = [
            (await channel.declare_queue(q, passive=True)).declaration_result for q in pool_queues
        ]
        if all(c.message_count == 0 for c in counts):
            break
        await asyncio.sleep(0.1)
    for q in (names.inbound_queue, names.dead_queue):
        queue = await channel.declare_queue(q, passive=True)
        left = queue.declaration_result.message_count
        if left:
            target.failures.append(f"{left} messages left on {q}")
            if q == names.dead_queue and (dead := await queue.get(no_ack=True, fail=False)):
                target.failures.append(f"first dead letter: {dead.headers.get('x-router-error')!r}")
    if len(target.arrived) != expected:
        target.failures.append(f"{len(target.arrived)} assigned of {expected} published")
    if target.duplicates:
        target.failures.append(f"{target.duplicates} duplicate assignments")
    keys = [k async for k in r.scan_iter(match=f"{names.redis_prefix}*", count=1000)]
    if target.is_router:
        tickets = [k for k in keys if k.startswith(f"{names.redis_prefix}t:".encode())]
        async with r.pipeline(transaction=False) as pipe:
            for k in tickets:
                pipe.hget(k, "state")
            states = await pipe.execute()
        assigned = sum(1 for s in states if s == b"assigned")
        if assigned != expected:
            target.failures.append(f"{assigned} tickets assigned in Redis of {expected}")
    for q in [names.inbound_queue, names.dead_queue, *pool_queues]:
        await channel.queue_delete(q)
    for ex in (names.tickets_exchange, names.assignments_exchange):
        await channel.exchange_delete(ex)
    for i in range(0, len(keys), 1000):
        await r.delete(*keys[i : i + 1000])


async def stop(target: Target) -> None:
    """Note peak RSS, then SIGTERM every process and wait for it."""
    for p in target.procs:
        if p.proc.returncode is None:
            p.read_peak_rss()
            p.proc.send_signal(signal.SIGTERM)
    for p in target.procs:
        if await p.proc.wait() != 0:
            target.failures.append(f"pid {p.proc.pid} exited {p.proc.returncode}")


class Bench:
    """The whole run: tickets, connections, targets and the rate they share."""

    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.args = args
        self.tmp = tmp
        self.base = f"tput{uuid.uuid4().hex[:6]}"
        self.pools = list(load_config(args.config).pool_ids)
        self.rate: float | None = args.rate
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
                            await q.consume(t.on_message, no_ack=True)  # type: ignore[arg-type]
                    await self._measure(group)
                finally:
                    for t in group:
                        await stop(t)
                    for t, sub in zip(group, subs, strict=False):
                        await verify_and_clean(t, admin, r, len(t.sent))
                        await sub.close()
        finally:
            await r.aclose()
            await sub_conn.close()
            await pub_conn.close()

    async def _measure(self, group: list[Target]) -> None:
        for t in group:
            log(f"{t.label}: warm-up, {len(self.warm)} tickets")
            await burst(t, self.warm, record=False)
        for i, items in enumerate(self.bursts):
            for t in group:  # take turns, so load that comes and goes hits both
                log(f"{t.label}: burst {i + 1}/{len(self.bursts)}, {len(items)} tickets")
                await burst(t, items, record=True)
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
        "the target's processes, srv = RabbitMQ + Redis (shared: includes other load)"
    )
    relay = next((t for t in bench.targets if not t.is_router and t.bursts), None)
    one = next((t for t in bench.targets if t.label == "router x1" and t.bursts), None)
    if relay and one:
        best = max(b.rate for b in one.bursts) / max(b.rate for b in relay.bursts)
        pairs = [o.rate / r.rate for o, r in zip(one.bursts, relay.bursts, strict=False)]
        print(
            f"router x1 / relay: {_median(one) / _median(relay):.2f} (medians; best/best "
            f"{best:.2f}; burst by burst {', '.join(f'{x:.2f}' for x in pairs)})"
        )
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
        paired = [] if args.skip_relay else [bench.target("relay", "relay", 0)]
        if 1 in args.replicas:
            paired.append(bench.target("router x1", "r1", 1))
        groups = [paired] if paired else []
        groups += [[bench.target(f"router x{k}", f"r{k}", k)] for k in args.replicas if k != 1]
        await bench.run(groups)
    return 0 if report(bench, (before, _load())) else 1


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
    p.add_argument("--no-steady", dest="n_steady", action="store_false")
    p.add_argument("--prefetch", type=int, default=Settings().prefetch)
    p.add_argument(
        "--amqp", default=os.environ.get("ROUTER_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
    )
    p.add_argument(
        "--redis", default=os.environ.get("ROUTER_REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    p.add_argument("--config", type=Path, default=REPO / "deploy" / "config.example.yaml")
    p.add_argument("--model-dir", type=Path, default=default_model_dir())
    raise SystemExit(asyncio.run(main(p.parse_args())))
