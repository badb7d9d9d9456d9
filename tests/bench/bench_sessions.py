"""What a dashboard session costs per request against a bearer token, in the same run.

One service in this process (real RabbitMQ and Redis, names of its own, deleted after)
answers ``GET /v1/config/versions?limit=1`` -- a small admin read -- alternately with
``Authorization: Bearer`` (one token lookup) and with the ``tr_session`` cookie (the
session's hash, then the token record read again). It prints each way's median and
p90 latency, the process CPU time per request (client and server share the process, so
it is the sum of both) and the cookie / bearer ratios. It serves the shipped model
(``ticket-router build-default-model``) unless ``--model-dir`` names another.

    .venv/bin/python tests/bench/bench_sessions.py --n 2000
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from pathlib import Path

import redis.asyncio as aioredis
from aiohttp import ClientSession, web

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from classifiers.paths import default_model_dir  # noqa: E402
from queues.token_store import RedisTokenStore  # noqa: E402
from router.core.tokens import parse_scopes  # noqa: E402
from router.http.app import create_app  # noqa: E402
from router.service.settings import Names, Settings  # noqa: E402
from tests.conftest import AMQP_URL, EXAMPLE_CONFIG, REDIS_URL  # noqa: E402
from tests.integration.conftest import free_port  # noqa: E402

_PATH = "/v1/config/versions?limit=1"


async def _timed(s: ClientSession, url: str, headers: dict[str, str]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    async with s.get(url, headers=headers) as r:
        await r.read()
        assert r.status == 200, r.status
    return time.perf_counter() - wall, time.process_time() - cpu


def _line(name: str, walls: list[float], cpus: list[float]) -> str:
    q = statistics.quantiles(walls, n=10)
    return (
        f"{name:7s} median {statistics.median(walls) * 1000:.3f} ms, p90 {q[8] * 1000:.3f} ms,"
        f" CPU {statistics.fmean(cpus) * 1000:.3f} ms per request"
    )


async def main(n: int, model_dir: Path) -> None:
    names = Names.with_suffix(f"b{uuid.uuid4().hex[:12]}")
    settings = Settings(
        amqp_url=AMQP_URL,
        redis_url=REDIS_URL,
        http_host="127.0.0.1",
        http_port=free_port(),
        config_path=EXAMPLE_CONFIG,
        model_dir=model_dir,
        names=names,
    )
    redis = aioredis.Redis.from_url(REDIS_URL)
    runner = web.AppRunner(create_app(settings, consume=False), handle_signals=False)
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.http_host, settings.http_port).start()
        url = f"http://{settings.http_host}:{settings.http_port}"
        token, _ = await RedisTokenStore(redis, names.redis_prefix).create(
            "bench", parse_scopes(["admin"])
        )
        async with ClientSession() as s:
            async with s.post(f"{url}/v1/session", json={"token": token}) as r:
                assert r.status == 200
                cookie = {"Cookie": f"tr_session={r.cookies['tr_session'].value}"}
            bearer = {"Authorization": f"Bearer {token}"}
            for _ in range(100):  # warm up both ways
                await _timed(s, url + _PATH, bearer)
                await _timed(s, url + _PATH, cookie)
            results: dict[str, tuple[list[float], list[float]]] = {
                "bearer": ([], []),
                "cookie": ([], []),
            }
            for _ in range(n):  # taking turns, so load changes hit both alike
                for name, headers in (("bearer", bearer), ("cookie", cookie)):
                    wall, cpu = await _timed(s, url + _PATH, headers)
                    results[name][0].append(wall)
                    results[name][1].append(cpu)
        for name, (walls, cpus) in results.items():
            print(_line(name, walls, cpus))
        (bw, bc), (cw, cc) = results["bearer"], results["cookie"]
        print(
            f"cookie / bearer: median {statistics.median(cw) / statistics.median(bw):.2f}x, "
            f"CPU {statistics.fmean(cc) / statistics.fmean(bc):.2f}x ({n} requests each)"
        )
    finally:
        await runner.cleanup()
        keys = [k async for k in redis.scan_iter(match=f"{names.redis_prefix}*", count=1000)]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="requests each way")
    parser.add_argument("--model-dir", type=Path, help="a built model (default: build one)")
    args = parser.parse_args()
    asyncio.run(main(args.n, args.model_dir or default_model_dir()))
