"""``ticket-router serve`` as a separate process, as it runs in production, so it can
be killed with SIGKILL or frozen with SIGSTOP."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

import orjson
from aiohttp import ClientError, ClientSession, ClientTimeout

from tests.faults.servers import free_port

# Another checkout's source folder (e.g. the last release, unpacked with `git archive`)
# to run as the router instead of this one: the same suite measures before and after.
SOURCE_VAR = "ROUTER_FAULTS_SOURCE"


def router_command(env: dict[str, str]) -> list[str]:
    """The installed console script next to this interpreter (the venv's), or
    ``python -m router`` from ``$ROUTER_FAULTS_SOURCE`` when that is set."""
    if env.get(SOURCE_VAR):
        return [sys.executable, "-m", "router", "serve"]
    script = Path(sys.executable).with_name("ticket-router")
    if not script.exists():
        raise RuntimeError(f"{script} missing: install the project (pip install -e .)")
    return [str(script), "serve"]


class RouterProcess:
    """One replica: a child process with its own HTTP port and log file."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.env = {**env, "ROUTER_HTTP_HOST": "127.0.0.1", "ROUTER_HTTP_PORT": str(self.port)}
        if env.get(SOURCE_VAR):
            self.env["PYTHONPATH"] = env[SOURCE_VAR]
        self.log_path = log_path
        self.url = f"http://127.0.0.1:{self.port}"
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.pid = 0

    async def start(self, timeout: float = 90.0, *, wait_ready: bool = True) -> float:
        """Start and wait until ``/readyz`` is 200 (any answer unless ``wait_ready``);
        seconds it took."""
        began = time.monotonic()
        self._spawn()
        assert self._proc is not None
        while True:
            if self._proc.poll() is not None:
                raise RuntimeError(f"router exited {self._proc.returncode}: {self.tail()}")
            status, _ = await self.readyz()
            if status == 200 or (status != 0 and not wait_ready):
                return time.monotonic() - began
            if time.monotonic() > began + timeout:
                raise RuntimeError(f"router not ready after {timeout}s: {self.tail()}")
            await asyncio.sleep(0.1)

    def _spawn(self) -> None:
        self._log = self.log_path.open("ab")
        self._proc = subprocess.Popen(
            router_command(self.env),
            env=self.env,
            cwd=self.env.get(SOURCE_VAR) or None,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.pid = self._proc.pid

    @property
    def running(self) -> bool:
        """True while the process has not exited (a frozen one is running)."""
        return self._proc is not None and self._proc.poll() is None

    async def readyz(self) -> tuple[int, dict[str, Any]]:
        """``/readyz``: (status, body); (0, {}) when it does not answer within 2 s."""
        try:
            async with (
                ClientSession(timeout=ClientTimeout(total=2)) as http,
                http.get(f"{self.url}/readyz") as response,
            ):
                body = await response.read()
                return response.status, orjson.loads(body) if body else {}
        except (ClientError, TimeoutError, orjson.JSONDecodeError):
            return 0, {}

    async def healthz(self) -> int:
        """``/healthz``'s status; 0 when it does not answer within 2 s."""
        try:
            async with (
                ClientSession(timeout=ClientTimeout(total=2)) as http,
                http.get(f"{self.url}/healthz") as response,
            ):
                return response.status
        except (ClientError, TimeoutError):
            return 0

    def terminate(self, timeout: float = 30.0) -> int | None:
        """SIGTERM and wait up to ``timeout``: the exit code (None: still running)."""
        assert self._proc is not None
        self._proc.terminate()
        try:
            return self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    async def metrics(self) -> dict[str, float]:
        """Every sample of ``/metrics``, keyed by name with labels (as in the text)."""
        async with (
            ClientSession(timeout=ClientTimeout(total=5)) as http,
            http.get(f"{self.url}/metrics") as response,
        ):
            text = await response.text()
        out = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                out[name] = float(value)
        return out

    def kill9(self) -> None:
        """SIGKILL: a crash, an OOM kill, a node lost."""
        assert self._proc is not None
        self._proc.kill()
        self._proc.wait(10)

    def freeze(self) -> None:
        """SIGSTOP: a replica that hangs (a long GC pause, a stuck host)."""
        os.kill(self.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT after :meth:`freeze`."""
        os.kill(self.pid, signal.SIGCONT)

    def stop(self) -> None:
        """Stop by PID: SIGCONT (if frozen) and SIGTERM, SIGKILL after 30 s."""
        if self._proc is not None and self._proc.poll() is None:
            os.kill(self.pid, signal.SIGCONT)
            self._proc.terminate()
            try:
                self._proc.wait(30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def tail(self, n: int = 3000) -> str:
        """The end of the log (for failure messages)."""
        try:
            return self.log_path.read_bytes()[-n:].decode(errors="replace")
        except OSError:
            return ""
