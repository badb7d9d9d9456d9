"""Launch to the first ``/healthz`` 200 of ``ticket-router serve``, ``--runs`` times.

Each run starts the command with Redis and the broker on closed ports (as in
tests/faults/test_startup.py: the service stays in its waiting state and touches no
server), polls ``/healthz`` every 10 ms from the launch, and stops it with SIGTERM. It
prints each run, then the minimum, median and maximum with the load average.

    .venv/bin/python tests/bench/bench_startup.py --runs 10
    .venv/bin/python tests/bench/bench_startup.py --command 'python -m router'   # another checkout
"""

from __future__ import annotations

import argparse
import os
import shlex
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def launch_to_healthz(command: list[str], timeout_s: float = 60.0) -> float:
    """Seconds from starting ``command serve`` to its first ``/healthz`` 200."""
    port = _free_port()
    env = dict(
        os.environ,
        ROUTER_HTTP_HOST="127.0.0.1",
        ROUTER_HTTP_PORT=str(port),
        ROUTER_REDIS_URL=f"redis://127.0.0.1:{_free_port()}/0",
        ROUTER_AMQP_URL=f"amqp://guest:guest@127.0.0.1:{_free_port()}/",
        ROUTER_LOG_LEVEL="ERROR",
    )
    began = time.monotonic()
    proc = subprocess.Popen(
        [*command, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        while time.monotonic() - began < timeout_s:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                    if r.status == 200:
                        return time.monotonic() - began
            except (urllib.error.URLError, OSError):
                pass
            if proc.poll() is not None:
                raise SystemExit(f"{shlex.join(command)} serve exited {proc.returncode}")
            time.sleep(0.01)
        raise SystemExit(f"no /healthz 200 within {timeout_s:.0f} s")
    finally:
        proc.terminate()
        proc.wait(30)


def main() -> int:
    """Run the launches and print the figures."""
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--runs", type=int, default=10)
    default = Path(sys.executable).with_name("ticket-router")
    p.add_argument("--command", default=str(default), help="the command (default: %(default)s)")
    args = p.parse_args()
    load_before = os.getloadavg()
    times = []
    for i in range(args.runs):
        times.append(launch_to_healthz(shlex.split(args.command)))
        print(f"run {i + 1}: /healthz 200 {times[-1]:.2f} s after launch", flush=True)
    load_after = os.getloadavg()
    print(
        f"{args.runs} runs: min {min(times):.2f} s, median {statistics.median(times):.2f} s, "
        f"max {max(times):.2f} s; load average before {load_before[0]:.1f}, after "
        f"{load_after[0]:.1f} ({os.cpu_count()} cores)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
