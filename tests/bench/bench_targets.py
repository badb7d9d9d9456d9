"""The processes a throughput benchmark measures: service replicas or the bare relay.

Each :class:`Target` has exchange, queue and Redis key names of its own, its
processes (with their CPU time and peak RSS from ``/proc``) and what arrived on
its pool queues; :func:`verify` checks the counts after the processes stopped
and :func:`clean` removes everything the target declared or wrote.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import os
import signal
import socket
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import redis.asyncio as aioredis
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractIncomingMessage, AbstractQueue
from aiohttp import ClientError, ClientSession

from queues.topology import declare_inbound, declare_pools
from router.service.settings import Names, Settings

REPO = Path(__file__).resolve().parents[2]

CLK_TCK = os.sysconf("SC_CLK_TCK")


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


def listening_pids(ports: Sequence[int]) -> list[int]:
    """PIDs of the processes listening on TCP ``ports`` on this machine (the broker and
    Redis when they run here; nothing when they run elsewhere)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for row in Path(table).read_text().splitlines()[1:]:
                cols = row.split()
                if cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) in ports:  # LISTEN
                    inodes.add(f"socket:[{cols[9]}]")
    pids = []
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        with contextlib.suppress(OSError):
            if any(os.readlink(fd) in inodes for fd in fd_dir.iterdir()):
                pids.append(int(fd_dir.parent.name))
    return pids


def cpu_s_of(pids: Sequence[int]) -> float:
    """CPU seconds used so far by ``pids`` (0 for one that is gone)."""
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
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
    #: The consumer prefetch of this target's processes (None: the benchmark's --prefetch).
    prefetch: int | None = None
    #: More ``ROUTER_*`` settings of this target's replicas (a same-run comparison).
    env: dict[str, str] = field(default_factory=dict)
    procs: list[Proc] = field(repr=False, default_factory=list)
    sent: dict[str, float] = field(repr=False, default_factory=dict)
    arrived: dict[str, float] = field(repr=False, default_factory=dict)
    duplicates: int = 0
    bursts: list[Burst] = field(repr=False, default_factory=list)
    steady: list[float] = field(repr=False, default_factory=list)
    failures: list[str] = field(default_factory=list)
    by_pool: collections.Counter[str] = field(repr=False, default_factory=collections.Counter)
    exchange: AbstractExchange | None = None
    _waiting: set[str] = field(repr=False, default_factory=set)
    _done: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def names(self) -> Names:
        """Exchange, queue and Redis key names of this target."""
        return Names.with_suffix(self.suffix)

    async def on_message(self, message: AbstractIncomingMessage) -> None:
        """An assignment arrived on a pool queue (auto-acked). A coroutine: aio-pika
        formats a warning with the repr of a plain function's owner on every call."""
        now = time.monotonic()
        tid = message.message_id or orjson.loads(message.body)["ticket_id"]
        if tid in self.arrived:
            self.duplicates += 1
            return
        self.arrived[tid] = now
        self.by_pool[message.routing_key or "?"] += 1
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
        ROUTER_PREFETCH=str(target.prefetch or args.prefetch),
        ROUTER_HTTP_PORT=str(port),
        ROUTER_CONFIG=str(args.config),
        ROUTER_MODEL_DIR=str(args.model_dir),
        ROUTER_LOG_LEVEL="WARNING",
        **target.env,
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
                        log(f"{target.label}: replica ready, pid {p.proc.pid}")  # for profilers
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
    if target.label.endswith("batched"):
        argv.append("--batched")
    p = await _spawn(argv, dict(os.environ), tmp)
    target.procs.append(p)
    assert p.proc.stdout is not None
    line = await asyncio.wait_for(p.proc.stdout.readline(), 30)
    if line.strip() != b"ready":
        raise SystemExit(f"the relay did not start:\n{p.err_path.read_text()}")


async def verify(target: Target, channel: AbstractChannel, r: aioredis.Redis) -> None:
    """After the processes stopped: let the pool queues drain into the collector, then
    check every ticket published arrived once, nothing is left inbound or dead, and
    (router) every ticket is ``assigned`` in Redis; failures are noted on the target."""
    names = target.names
    expected = len(target.sent)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # whatever is still on a pool queue is a duplicate
        counts = [
            (await channel.declare_queue(names.pool_queue(p), passive=True)).declaration_result
            for p in target.pools
        ]
        if all(c.message_count == 0 for c in counts):
            break
        await asyncio.sleep(0.1)
    else:
        target.failures.append("pool queues did not drain in 30 s")
    for q in (names.inbound_queue, names.dead_queue):
        queue = await channel.declare_queue(q, passive=True)
        left = queue.declaration_result.message_count
        if left:
            target.failures.append(f"{left} messages left on {q}")
            if q == names.dead_queue and (dead := await queue.get(no_ack=True, fail=False)):
                target.failures.append(f"first dead letter: {dead.headers.get('x-router-error')!r}")
            if q == names.inbound_queue:
                target.failures.append(await _left_inbound(queue, r, names))
    if len(target.arrived) != expected:
        target.failures.append(f"{len(target.arrived)} assigned of {expected} published")
    if target.duplicates:
        target.failures.append(f"{target.duplicates} duplicate assignments")
    if target.is_router:
        prefix = f"{names.redis_prefix}t:"
        tickets = [k async for k in r.scan_iter(match=f"{prefix}*", count=1000)]
        async with r.pipeline(transaction=False) as pipe:
            for k in tickets:
                pipe.hget(k, "state")
            states = await pipe.execute()
        assigned = sum(1 for s in states if s == b"assigned")
        if assigned != expected:
            target.failures.append(f"{assigned} tickets assigned in Redis of {expected}")


async def _left_inbound(queue: AbstractQueue, r: aioredis.Redis, names: Names) -> str:
    """What the tickets left on the inbound queue are: redelivered or not, and their state
    in Redis (``assigned`` ones were routed, only their ack did not reach the broker)."""
    seen: collections.Counter[str] = collections.Counter()
    while (message := await queue.get(no_ack=True, fail=False)) is not None:
        tid = message.message_id or ""
        raw = await r.hget(f"{names.redis_prefix}t:{tid}", "state")
        state = raw.decode() if isinstance(raw, bytes) else "not in Redis"
        again = "redelivered" if message.redelivered else "first delivery"
        seen[f"{again}, {state}"] += 1
    return "left inbound: " + ", ".join(f"{n} {what}" for what, n in seen.most_common())


async def clean(target: Target, channel: AbstractChannel, r: aioredis.Redis) -> None:
    """Delete the target's queues, exchanges and Redis keys."""
    names = target.names
    for q in [names.inbound_queue, names.dead_queue, *map(names.pool_queue, target.pools)]:
        await channel.queue_delete(q)
    for ex in (names.tickets_exchange, names.assignments_exchange):
        await channel.exchange_delete(ex)
    keys = [k async for k in r.scan_iter(match=f"{names.redis_prefix}*", count=1000)]
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
