"""``ticket-router serve`` as its own process, and a prober of its ``/healthz`` in
another: for the tests that show the health checks stay fast during heavy requests.
Both are processes of their own so that a pause of the test process (its garbage
collector over a far larger heap, decoding a large answer) counts against nothing."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import AMQP_URL, EXAMPLE_CONFIG, REDIS_URL
from tests.faults.router_proc import RouterProcess

_PROBE = """
import sys, threading, time, urllib.request
url, stop, out = sys.argv[1], threading.Event(), []
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
print("ready", flush=True)
while not stop.is_set():
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=10) as r:
        assert r.status == 200, r.status
    out.append(time.perf_counter() - start)
    time.sleep(0.02)
print(" ".join(f"{x:.6f}" for x in out))
"""


@asynccontextmanager
async def serve_process(suffix: str, model_dir: Path, log: Path) -> AsyncIterator[RouterProcess]:
    """A replica on the local servers with this test's names, ready; it must stop
    with exit code 0 on SIGTERM."""
    env = {
        **os.environ,
        "ROUTER_AMQP_URL": AMQP_URL,
        "ROUTER_REDIS_URL": REDIS_URL,
        "ROUTER_NAME_SUFFIX": suffix,
        "ROUTER_MODEL_DIR": str(model_dir),
        "ROUTER_CONFIG": str(EXAMPLE_CONFIG),
    }
    router = RouterProcess(env, log)
    await router.start()
    try:
        yield router
    finally:
        assert router.terminate() == 0, router.tail()


@dataclass
class Prober:
    """The prober process; its latencies (seconds) are there once it has stopped."""

    process: asyncio.subprocess.Process
    latencies: list[float] = field(default_factory=list)

    def stop(self) -> None:
        """Stop probing (its stdin closed, the prober ends its loop)."""
        stdin = self.process.stdin
        if stdin is not None and not stdin.is_closing():
            stdin.close()

    @property
    def worst(self) -> float:
        """The slowest probe."""
        return max(self.latencies)


@asynccontextmanager
async def probing(url: str) -> AsyncIterator[Prober]:
    """Probe ``url`` (a health endpoint: every answer must be 200) every 20 ms from
    another process until ``stop()`` or the end of the block."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _PROBE,
        url,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    assert (await process.stdout.readline()).strip() == b"ready"
    prober = Prober(process)
    try:
        yield prober
    finally:
        prober.stop()
        out, _ = await process.communicate()
        assert process.returncode == 0, "a health probe failed"
        prober.latencies[:] = [float(x) for x in out.split()]
