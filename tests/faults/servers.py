"""A RabbitMQ node and a Redis server of the fault suite's own, on free ports.

The suite stops, kills and restarts these, never the machine's shared servers. Each is
started as a child process so it is stopped by its PID; RabbitMQ's ``epmd`` (shared by
every Erlang node on the machine) is left running.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import IO, Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int) -> bool:
    """True when something accepts connections on 127.0.0.1:``port``."""
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _rabbit_script(name: str) -> str:
    """The real RabbitMQ script: Debian's wrapper in /usr/sbin switches to the rabbitmq
    user (with its own HOME and cookie) when run as root, so run the script it wraps."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin")
    if found is None:
        raise RuntimeError(f"{name} not found: deploy/setup.sh installs RabbitMQ")
    real = Path(found).resolve()
    if real.name == "rabbitmq-script-wrapper":
        return str(real.parent / name)
    return found


def _children(pid: int) -> list[tuple[int, str]]:
    """(pid, command name) of the direct children of ``pid``, from /proc."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # exited meanwhile
        # "pid (comm) state ppid ...": comm may hold spaces, so split after the last ")".
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        if ppid == pid:
            out.append((int(entry.name), comm))
    return out


def _wait_exit(proc: subprocess.Popen[bytes], timeout: float) -> bool:
    try:
        proc.wait(timeout)
        return True
    except subprocess.TimeoutExpired:
        return False


class RabbitNode:
    """One RabbitMQ node in a folder of its own (data, logs, cookie, config)."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.name = f"rabbit-faults-{secrets.token_hex(4)}@localhost"
        self.port = free_port()
        self.dist_port = free_port()
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}/"
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        home = base / "home"
        for folder in (home, base / "mnesia", base / "log"):
            folder.mkdir(parents=True, exist_ok=True)
        cookie = home / ".erlang.cookie"
        cookie.write_text(secrets.token_hex(20).upper())
        cookie.chmod(0o600)
        (base / "enabled_plugins").write_text("[].\n")
        (base / "rabbitmq-env.conf").write_text("")  # not the machine's NODENAME etc.
        (base / "rabbitmq.conf").write_text(
            f"listeners.tcp.local = 127.0.0.1:{self.port}\nloopback_users = none\n"
        )
        self.env = {
            **os.environ,
            "HOME": str(home),
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_CONF_ENV_FILE": str(base / "rabbitmq-env.conf"),
            "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(base / "log"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }

    def start(self, timeout: float = 90.0) -> float:
        """Start the node (same data folder as before) and wait until it serves AMQP;
        returns the seconds it took."""
        assert self._proc is None, "node already running"
        began = time.monotonic()
        self._log = (self.base / "server.out").open("ab")
        self._proc = subprocess.Popen(
            [_rabbit_script("rabbitmq-server")],
            env=self.env,
            cwd=self.base,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = began + timeout
        while True:
            if self._proc.poll() is not None:
                raise RuntimeError(f"rabbitmq-server exited ({self.base / 'server.out'})")
            done = self._ctl_ok("await_startup", "--timeout", "30")
            if done and port_open(self.port):
                return time.monotonic() - began
            if time.monotonic() > deadline:
                raise RuntimeError(f"RabbitMQ node {self.name} not up after {timeout}s")
            time.sleep(0.2)

    def ensure_up(self) -> None:
        """Running and serving, whatever a previous (failed) test left behind."""
        if self._proc is not None and self._proc.poll() is not None:
            self._closed()
        if self._proc is None:
            self.start()
        elif not port_open(self.port):
            self.start_app()

    def beam_pid(self) -> int:
        """The Erlang VM's PID: the start script runs ``erl`` as its child, not exec'd."""
        assert self._proc is not None, "node not running"
        beams = [pid for pid, comm in _children(self._proc.pid) if comm.startswith("beam")]
        if len(beams) != 1:
            raise RuntimeError(f"expected one beam.smp under {self._proc.pid}, found {beams}")
        return beams[0]

    def kill9(self) -> None:
        """``kill -9`` the Erlang VM, as a crash or OOM kill would."""
        assert self._proc is not None
        os.kill(self.beam_pid(), signal.SIGKILL)
        if not _wait_exit(self._proc, 30):
            raise RuntimeError("rabbitmq-server script did not exit after its VM was killed")
        self._closed()

    def stop(self) -> None:
        """Stop the node by its PID (SIGTERM: RabbitMQ shuts down cleanly), then SIGKILL."""
        if self._proc is None:
            return
        if self._proc.poll() is None:
            try:
                beam = self.beam_pid()
                os.kill(beam, signal.SIGTERM)
            except (RuntimeError, ProcessLookupError):
                self._proc.terminate()
            if not _wait_exit(self._proc, 60):
                for pid, _ in _children(self._proc.pid):
                    os.kill(pid, signal.SIGKILL)
                self._proc.kill()
                self._proc.wait(10)
        self._closed()

    def _closed(self) -> None:
        self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def ctl(self, *args: str, timeout: float = 60.0) -> str:
        """Run ``rabbitmqctl -n NODE args``; its stdout."""
        done = subprocess.run(
            [_rabbit_script("rabbitmqctl"), "-n", self.name, *args],
            env=self.env,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)}: {done.stderr.decode()[-500:]}")
        return done.stdout.decode()

    def _ctl_ok(self, *args: str) -> bool:
        try:
            self.ctl(*args, timeout=40)
            return True
        except (RuntimeError, subprocess.TimeoutExpired):
            return False

    def stop_app(self) -> None:
        """Stop the RabbitMQ application, the Erlang VM stays (an operator's restart)."""
        self.ctl("stop_app")

    def start_app(self) -> None:
        """Start the RabbitMQ application again and wait until it serves."""
        self.ctl("start_app")
        self.ctl("await_startup", "--timeout", "60")

    def queues(self) -> dict[str, dict[str, int]]:
        """Per queue: ``messages`` (ready + unacked), ``unacked`` and ``consumers``."""
        raw = self.ctl(
            "list_queues",
            "name",
            "messages",
            "messages_unacknowledged",
            "consumers",
            "--formatter",
            "json",
            "--quiet",
        )
        rows = json.loads(raw)
        return {
            str(row["name"]): {
                "messages": int(row["messages"] or 0),
                "unacked": int(row["messages_unacknowledged"] or 0),
                "consumers": int(row["consumers"] or 0),
            }
            for row in rows
        }


class RedisServer:
    """One ``redis-server`` on a free port with its own data folder."""

    def __init__(self, base: Path, *, persistent: bool, replica_of: int | None = None) -> None:
        self.base = base
        self.persistent = persistent
        self.replica_of = replica_of
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._proc: subprocess.Popen[bytes] | None = None
        base.mkdir(parents=True, exist_ok=True)

    def start(self, timeout: float = 30.0) -> float:
        """Start (on the same port and folder as before); seconds until it answers PING."""
        assert self._proc is None, "redis already running"
        began = time.monotonic()
        aof = ["--appendonly", "yes", "--appendfsync", "everysec"]
        self._proc = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--dir", str(self.base), "--save", ""),
                *(aof if self.persistent else ["--appendonly", "no"]),
                *("--logfile", str(self.base / "redis.log")),
                *(["--replicaof", "127.0.0.1", str(self.replica_of)] if self.replica_of else []),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        client = redis.Redis(port=self.port, socket_timeout=1)
        try:
            while True:
                if self._proc.poll() is not None:
                    raise RuntimeError(f"redis-server exited ({self.base / 'redis.log'})")
                try:
                    # A loading AOF answers PING with LOADING: wait until it serves data.
                    if client.ping() and client.dbsize() >= 0:
                        return time.monotonic() - began
                except redis.RedisError:
                    pass
                if time.monotonic() > began + timeout:
                    raise RuntimeError(f"redis-server not up after {timeout}s")
                time.sleep(0.05)
        finally:
            client.close()

    def ensure_up(self) -> None:
        """Running, whatever a previous (failed) test left behind."""
        if self._proc is not None and self._proc.poll() is not None:
            self._proc = None
        if self._proc is None:
            self.start()

    def client(self) -> redis.Redis:
        """A synchronous client (for set-up and result collection)."""
        return redis.Redis(port=self.port, socket_timeout=5)

    def shutdown(self) -> None:
        """``SHUTDOWN`` as an operator would (the append-only file is flushed first)."""
        assert self._proc is not None
        # No retries: the client library would otherwise re-send SHUTDOWN for seconds
        # after the server closed the connection, lengthening the outage.
        client = redis.Redis(port=self.port, socket_timeout=5, retry=Retry(NoBackoff(), 0))
        try:
            # The server closes the connection while it shuts down: that error is expected.
            with contextlib.suppress(redis.ConnectionError):
                client.shutdown()
        finally:
            client.close()
        if not _wait_exit(self._proc, 30):
            raise RuntimeError("redis-server did not exit after SHUTDOWN")
        self._proc = None

    def kill9(self) -> None:
        """``kill -9`` the server (writes of the last second may be lost: everysec)."""
        assert self._proc is not None
        self._proc.kill()
        self._proc.wait(10)
        self._proc = None

    def stop(self) -> None:
        """Stop by PID (SIGTERM, then SIGKILL)."""
        if self._proc is None:
            return
        self._proc.terminate()
        if not _wait_exit(self._proc, 30):
            self._proc.kill()
            self._proc.wait(10)
        self._proc = None


SENTINEL_SERVICE = "routerprimary"


def _sentinel_command(sentinel: redis.Redis, command: str) -> Any:
    """``SENTINEL <command> <service>`` (redis-py types execute_command loosely)."""
    return sentinel.execute_command("SENTINEL", command, SENTINEL_SERVICE)  # type: ignore[no-untyped-call]


class SentinelGroup:
    """A primary, two replicas of it (Sentinel's usual set-up: after a failover one
    replica is left to confirm writes) and one Sentinel watching them, on free ports: the
    service reaches the primary through ``url`` (``redis+sentinel://``)."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.primary = RedisServer(base / "a", persistent=True)
        self.replicas = [
            RedisServer(base / name, persistent=True, replica_of=self.primary.port)
            for name in ("b", "c")
        ]
        self.sentinel_port = free_port()
        self.url = f"redis+sentinel://127.0.0.1:{self.sentinel_port}/{SENTINEL_SERVICE}/0"
        self._sentinel: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> float:
        """Start the four; seconds until the Sentinel sees the primary and its replicas."""
        began = time.monotonic()
        self.primary.start()
        for replica in self.replicas:
            replica.start()
        conf = self.base / "sentinel.conf"  # Sentinel rewrites its file: one of its own
        conf.write_text(
            f"port {self.sentinel_port}\nbind 127.0.0.1\ndir {self.base}\n"
            f"logfile {self.base / 'sentinel.log'}\n"
            f"sentinel monitor {SENTINEL_SERVICE} 127.0.0.1 {self.primary.port} 1\n"
            f"sentinel down-after-milliseconds {SENTINEL_SERVICE} 2000\n"
            f"sentinel failover-timeout {SENTINEL_SERVICE} 10000\n"
        )
        self._sentinel = subprocess.Popen(
            ["redis-server", str(conf), "--sentinel"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        sentinel = self.sentinel_client()
        try:
            while True:
                if self._sentinel.poll() is not None:
                    raise RuntimeError(f"redis-sentinel exited ({self.base / 'sentinel.log'})")
                with contextlib.suppress(redis.RedisError):
                    replicas = _sentinel_command(sentinel, "REPLICAS")
                    if self._link_up() and len(replicas) == len(self.replicas):
                        return time.monotonic() - began
                if time.monotonic() > began + timeout:
                    raise RuntimeError(f"sentinel group not up after {timeout}s")
                time.sleep(0.1)
        finally:
            sentinel.close()

    def _link_up(self) -> bool:
        infos = [replica.client().info("replication") for replica in self.replicas]
        return all(info.get("master_link_status") == "up" for info in infos)

    def sentinel_client(self) -> redis.Redis:
        """A client of the Sentinel itself."""
        return redis.Redis(port=self.sentinel_port, socket_timeout=2, decode_responses=True)

    def primary_port(self) -> int:
        """The port of the server the Sentinel names primary now."""
        sentinel = self.sentinel_client()
        try:
            _, port = _sentinel_command(sentinel, "GET-MASTER-ADDR-BY-NAME")
            return int(port)
        finally:
            sentinel.close()

    def client(self) -> redis.Redis:
        """A synchronous client of the current primary (set-up and result collection)."""
        return redis.Redis(port=self.primary_port(), socket_timeout=5)

    def ensure_up(self) -> None:
        """Running (started on first use)."""
        if self._sentinel is None:
            self.start()

    def failover(self, timeout: float = 30.0) -> float:
        """``SENTINEL FAILOVER``: a replica becomes the primary; seconds until it
        answers as one (the other replica, then the old primary, follow it)."""
        began = time.monotonic()
        old = self.primary_port()
        sentinel = self.sentinel_client()
        try:
            _sentinel_command(sentinel, "FAILOVER")
        finally:
            sentinel.close()
        while True:
            with contextlib.suppress(redis.RedisError):
                port = self.primary_port()
                if port != old and self.client().info("replication").get("role") == "master":
                    return time.monotonic() - began
            if time.monotonic() > began + timeout:
                raise RuntimeError(f"no failover within {timeout}s")
            time.sleep(0.1)

    def stop(self) -> None:
        """Stop the Sentinel and the three servers by PID."""
        if self._sentinel is not None:
            self._sentinel.terminate()
            if not _wait_exit(self._sentinel, 10):
                self._sentinel.kill()
                self._sentinel.wait(10)
            self._sentinel = None
        for replica in self.replicas:
            replica.stop()
        self.primary.stop()
