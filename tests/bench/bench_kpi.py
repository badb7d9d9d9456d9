"""What the KPI bookkeeping costs: end-to-end throughput with and without it in the same
run, and the Redis memory of a week of KPI buckets at a million tickets.

1. Throughput: two single-replica targets of tests/bench/bench_throughput.py side by
   side, ``ROUTER_KPI=on`` and ``ROUTER_KPI=off``, taking turns on the same bursts
   (published with confirms, timed to the last assignment on the pool queues). It
   prints both rates, the ratio (on / off: at least 0.90 means at most 10% of the
   throughput) and checks the KPI-on target's buckets count every ticket routed once.
2. Memory: a week at 1,000,000 tickets is 99.2 tickets a minute. The real recorder and
   Redis store write a day of such minutes (the example config's pools, three
   languages, two tiers, every ticket routed, accepted and completed, some released,
   escalated or expired, durations spread over the histogram), then ``MEMORY USAGE``
   of every bucket written gives the sizes; a week is 10,080 minute buckets, 168 hour
   buckets and 7 day buckets, and the buckets alive at once are 48 h of minutes, 35 days
   of hours and 400 days.
   The same at ten times the volume shows the size follows the fields, not the tickets.

    .venv/bin/python tests/bench/bench_kpi.py --n 5000 --repeat 3
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis.asyncio as aioredis
from aio_pika.abc import AbstractChannel
from prometheus_client import CollectorRegistry

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import tests.bench.bench_throughput as tput  # noqa: E402
from queues.keys import Keys  # noqa: E402
from queues.kpi_store import RedisKpiStore  # noqa: E402
from router.config.load import load_config  # noqa: E402
from router.core import kpi  # noqa: E402
from router.core.assignment import Assignment  # noqa: E402
from router.service.current import Current  # noqa: E402
from router.service.escalation import iso  # noqa: E402
from router.service.settings import Settings  # noqa: E402
from router.service.stats import KpiMetrics, KpiRecorder  # noqa: E402
from tests.bench.bench_targets import Target, log  # noqa: E402

ON, OFF = "router kpi on", "router kpi off"
PER_WEEK = 1_000_000
MINUTES_PER_WEEK = 7 * 24 * 60
BUDGET = 0.90  # KPI on must keep at least this share of the throughput without it
# Events some tickets have, and how many of them.
_SOMETIMES: tuple[tuple[kpi.Event, float], ...] = (
    ("released", 0.05),
    ("escalated", 0.03),
    ("expired", 0.02),
)


@contextmanager
def _environment(**values: str) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


_start_router = vars(tput)["start_router"]
_verify = vars(tput)["verify"]
_kpi_routed: dict[str, int] = {}


async def _start(target: Target, args: argparse.Namespace, tmp: Path) -> None:
    """A replica with ROUTER_KPI as its label says (the targets start one at a time)."""
    with _environment(ROUTER_KPI="off" if target.label == OFF else "on"):
        await _start_router(target, args, tmp)


async def _verify_kpi(target: Target, channel: AbstractChannel, r: aioredis.Redis) -> None:
    """The usual checks, and the tickets the KPI-on target's hour buckets count routed
    (the replica writes what is pending when it stops)."""
    await _verify(target, channel, r)
    if target.label != ON:
        return
    routed = 0
    async for key in r.scan_iter(match=f"{target.names.redis_prefix}kpi:h:*", count=1000):
        routed += int(await r.hget(key, "o|r") or 0)
    _kpi_routed[target.label] = routed
    if routed != len(target.sent):
        target.failures.append(f"KPI buckets count {routed} routed of {len(target.sent)}")


@dataclass(frozen=True)
class Measured:
    """Both targets' figures."""

    rate_on: float  # median burst tickets/s
    rate_off: float
    pairs: list[float]  # burst by burst, on / off (the targets take turns)
    cpu_on: float  # median CPU ms per ticket: the replica + RabbitMQ + Redis
    cpu_off: float
    ok: bool


async def throughput(args: argparse.Namespace) -> Measured:
    """Burst rates and CPU per ticket with and without KPIs; whether the checks passed."""
    # Bench starts and checks targets through these names of its module.
    patched = vars(tput)
    patched["start_router"], patched["verify"] = _start, _verify_kpi
    with tempfile.TemporaryDirectory(prefix="bench-kpi-") as tmp:
        bench = tput.Bench(args, Path(tmp))
        on, off = bench.target(ON, "kon", 1), bench.target(OFF, "koff", 1)
        await bench.run([[on, off]])
    for t in (on, off):
        for failure in t.failures:
            log(f"!! {t.label}: {failure}")
    if not on.bursts or not off.bursts:
        return Measured(0.0, 0.0, [], 0.0, 0.0, False)

    def cpu(t: Target) -> float:
        return statistics.median(b.cpu_ms_per_ticket + b.servers_ms_per_ticket for b in t.bursts)

    return Measured(
        statistics.median(b.rate for b in on.bursts),
        statistics.median(b.rate for b in off.bursts),
        [a.rate / b.rate for a, b in zip(on.bursts, off.bursts, strict=False)],
        cpu(on),
        cpu(off),
        not on.failures and not off.failures,
    )


def _minute_of_events(
    recorder: KpiRecorder, config_pools: list[str], at: datetime, n: int, rng: random.Random
) -> None:
    """``n`` tickets' worth of events in the minute ``at``, as the service counts them."""
    languages = rng.choices(["en", "es", "pt"], weights=[60, 25, 15], k=n)
    for i in range(n):
        pool = rng.choice(config_pools)
        tier = "tier2" if rng.random() < 0.2 else "tier1"
        wait = rng.lognormvariate(5.5, 1.2)  # median about 4 minutes
        work = wait + rng.lognormvariate(7.5, 1.0)  # about 30 minutes more
        due = at + timedelta(minutes=rng.choice([30, 120, 480]))
        fallback = "opens_soonest" if rng.random() < 0.05 else None

        doc = {
            "ticket_id": f"m{i}", "pool_id": pool, "language": languages[i], "tier": tier,
            "sla_due": iso(due), "fallback": fallback, "decided_at": iso(at),
        }  # fmt: skip

        def record(received: datetime, doc: Mapping[str, object] = doc) -> Assignment:
            return Assignment.from_dict({**doc, "received_at": iso(received)})

        recorder.routed([record(at)])
        recorder.lease_event("accepted", pool, record(at - timedelta(seconds=wait)))
        recorder.lease_event("completed", pool, record(at - timedelta(seconds=work)))
        roll = rng.random()
        for event, share in _SOMETIMES:
            if roll < share:
                recorder.lease_event(event, pool, record(at))


async def bucket_sizes(
    client: aioredis.Redis, per_minute: float, minutes: int
) -> tuple[list[int], list[int], int, list[int]]:
    """Write ``minutes`` minutes at ``per_minute`` tickets a minute through the real
    recorder and store, from a midnight on; (minute bucket bytes, hour bucket bytes, the
    day bucket's bytes, fields per minute)."""
    config = load_config(REPO / "deploy" / "config.example.yaml")
    prefix = f"tr:kpimem{uuid.uuid4().hex[:8]}:"
    store = RedisKpiStore(client, Keys(prefix))
    start = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
    clock = [start]
    recorder = KpiRecorder(
        store, Current(config), KpiMetrics(CollectorRegistry()), clock=lambda: clock[0]
    )
    rng = random.Random(11)
    carry = 0.0
    try:
        for m in range(minutes):
            clock[0] = start + timedelta(minutes=m, seconds=30)
            carry += per_minute
            n, carry = int(carry), carry - int(carry)
            _minute_of_events(recorder, list(config.pool_ids), clock[0], n, rng)
            await recorder.flush()
        first = kpi.epoch_minute(start)
        minute_bytes, fields = [], []
        for m in range(first, first + minutes):
            minute_bytes.append((await store.memory_usage(m))[0])
            fields.append(int(await client.hlen(store.minute_key(m))))
        hours = range(first // 60, (first + minutes) // 60)
        hour_bytes = [(await store.memory_usage(h * 60))[1] for h in hours]
        day_bytes = (await store.memory_usage(first))[2]
        return minute_bytes, hour_bytes, day_bytes, fields
    finally:
        keys = [k async for k in client.scan_iter(match=f"{prefix}*", count=1000)]
        if keys:
            await client.delete(*keys)
        await recorder.close()


def _load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def _mib(n: float) -> str:
    return f"{n / 2**20:,.1f} MiB"


async def memory(args: argparse.Namespace) -> None:
    """Print the measured bucket sizes and what a week and the retention take."""
    client = aioredis.Redis.from_url(args.redis)
    try:
        listpack = await client.config_get("hash-max-listpack-entries")
        print(
            f"\nKPI buckets in Redis (hash-max-listpack-entries "
            f"{listpack.get('hash-max-listpack-entries', '?')}; MEMORY USAGE, bytes)"
        )
        for per_week in (PER_WEEK, 10 * PER_WEEK):
            per_minute = per_week / MINUTES_PER_WEEK
            minute_b, hour_b, d, fields = await bucket_sizes(client, per_minute, args.minutes)
            m, h = statistics.mean(minute_b), statistics.mean(hour_b)
            week = MINUTES_PER_WEEK * m + 7 * 24 * h + 7 * d
            alive = (
                kpi.MINUTE_TTL_S // 60 * m + kpi.HOUR_TTL_S // 3600 * h + kpi.DAY_TTL_S // 86400 * d
            )
            print(
                f"{per_week:>12,} tickets/week ({per_minute:,.1f}/min): bucket sizes: minute "
                f"mean {m:,.0f} (max {max(minute_b):,}; {statistics.mean(fields):.0f} fields), "
                f"hour mean {h:,.0f}, day {d:,}"
            )
            print(
                f"{'':>14}a week of buckets (10,080 minutes + 168 hours + 7 days): {_mib(week)};"
                f" alive at once under the TTLs (48 h of minutes, 35 days of hours, 400 days)"
                f": {_mib(alive)}"
            )
    finally:
        await client.aclose()


async def main(args: argparse.Namespace) -> int:
    """Both measurements; exit 1 when a check fails or KPIs cost more than 10%."""
    ok = True
    if not args.skip_throughput:
        m = await throughput(args)
        # The targets take turns on the same bursts: the pairs see the same machine load.
        paired = statistics.median(m.pairs) if m.pairs else float("nan")
        print(
            f"\nKPI bookkeeping, end to end ({args.n} tickets per burst x {args.repeat}, "
            f"{os.cpu_count()} cores, load average {_load()}): ROUTER_KPI=on "
            f"{m.rate_on:,.0f} tickets/s, off {m.rate_off:,.0f} tickets/s (median bursts); "
            f"on/off burst by burst {', '.join(f'{p:.2f}' for p in m.pairs)}, median "
            f"{paired:.3f}; KPI buckets counted {_kpi_routed.get(ON, 0):,} routed"
        )
        print(
            f"cpu per ticket (the replica + RabbitMQ + Redis): on {m.cpu_on:.2f} ms, off "
            f"{m.cpu_off:.2f} ms ({100 * (m.cpu_on / m.cpu_off - 1):+.1f}%)"
        )
        within = paired >= BUDGET
        print(
            f"throughput cost of KPIs: {100 * (1 - paired):.1f}% "
            f"({'within' if within else 'OVER'} the 10% budget)"
        )
        ok = m.ok and within
    await memory(args)
    return 0 if ok else 1


if __name__ == "__main__":
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--n", type=int, default=5000, help="tickets per burst")
    p.add_argument("--repeat", type=int, default=3, help="bursts per target")
    p.add_argument("--minutes", type=int, default=1440, help="minutes written for the sizes")
    p.add_argument("--skip-throughput", action="store_true")
    p.add_argument("--prefetch", type=int, default=Settings().prefetch)
    tput.add_service_arguments(p)
    parsed = p.parse_args()
    parsed.rate, parsed.n_steady = None, False  # bursts only (what Bench reads)
    raise SystemExit(asyncio.run(main(parsed)))
