"""Redis memory a routed ticket keeps: one replica of ``ticket-router serve`` routes
``--n`` tickets (tests/tickets.py's, as bench_throughput.py sends them), then, before its
keys are deleted, ``MEMORY USAGE`` of every key under its prefix: the ticket records
(state and assignment, kept without a TTL) per ticket, and the rest (KPI buckets,
config versions, backlogs). Everything it declares or writes is removed at the end.

    .venv/bin/python tests/bench/bench_redis_memory.py --n 2000
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import sys
from pathlib import Path

import redis.asyncio as aioredis
from aio_pika.abc import AbstractChannel

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from router.service.settings import Settings  # noqa: E402
from tests.bench import bench_throughput as bench  # noqa: E402
from tests.bench.bench_targets import Target, log  # noqa: E402
from tests.bench.bench_targets import clean as _clean  # noqa: E402


async def _measure_then_clean(target: Target, channel: AbstractChannel, r: aioredis.Redis) -> None:
    """Sum ``MEMORY USAGE`` (every element sampled) over the target's keys by kind."""
    if target.is_router:
        prefix = target.names.redis_prefix
        keys = [k async for k in r.scan_iter(match=f"{prefix}*", count=1000)]
        async with r.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.memory_usage(key, samples=0)
            sizes = await pipe.execute()
        by_kind: collections.Counter[str] = collections.Counter()
        count: collections.Counter[str] = collections.Counter()
        for key, size in zip(keys, sizes, strict=True):
            kind = key.decode()[len(prefix) :].split(":", 1)[0]
            by_kind[kind] += int(size or 0)
            count[kind] += 1
        tickets = len(target.arrived)
        for kind, size in by_kind.most_common():
            log(f"redis keys '{prefix}{kind}:*': {count[kind]} keys, {size / 1024:,.0f} KiB")
        ticket_bytes = by_kind["t"] / max(count["t"], 1)
        log(
            f"{tickets} tickets routed: {ticket_bytes:,.0f} bytes per ticket record, "
            f"{sum(by_kind.values()) / max(tickets, 1):,.0f} bytes per ticket all keys included"
        )
    await _clean(target, channel, r)


if __name__ == "__main__":
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--n", type=int, default=2000, help="tickets routed (after a warm-up)")
    bench.add_service_arguments(p)
    args = p.parse_args()
    args.repeat, args.rate, args.replicas, args.skip_relay = 1, None, [1], True
    args.relay, args.n_steady, args.prefetch = "both", False, Settings().prefetch
    # The bench deletes a target's keys once it is done with it: measured just before.
    bench.clean = _measure_then_clean  # type: ignore[attr-defined]
    raise SystemExit(asyncio.run(bench.main(args)))
