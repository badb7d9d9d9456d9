"""Shared pieces of the lease and agent tests: a small routing config of their own,
tickets, tokens, service processes and the agents' HTTP calls. (No tests here.)"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import redis.asyncio as aioredis
from aio_pika.abc import AbstractRobustConnection
from aiohttp import ClientError, ClientSession

from queues.token_store import RedisTokenStore
from router.core.tokens import parse_scopes
from router.service.settings import Names
from tests.conftest import AMQP_URL, REDIS_URL, REPO
from tests.integration.conftest import free_port, wait_for

POOLS = ("vendor", "eu-desk", "desk2")
SOURCE = "lease-test"


def _pool(pool_id: str, languages: list[str], capacity: int, **fields: Any) -> dict[str, Any]:
    return {
        "id": pool_id,
        "sourcing": "onshore",
        "country": "IE",
        "timezone": "UTC",
        "schedule": {"always": True},
        "languages": languages,
        "tiers": ["tier1", "tier2"],
        "capacity": capacity,
        "cost_per_ticket": 5.0,
        "data_access": "full",
        **fields,
    }


def lease_config(
    model_dir: Path, *, vendor_capacity: int = 50, escalate_after_minutes: int | None = None
) -> dict[str, Any]:
    """Three pools open 24/7 that serve every language of the model.

    Tickets come in routed as tier 1 (the low-confidence setting: model confidences
    are below 1), so ROW/UK customers land in ``vendor`` (outsourced, masked) and EU
    customers in ``eu-desk``; an agent's tier-2 escalation (confidence 1) goes to
    ``desk2`` (in-house, not for EU data) or, for EU data, stays with ``eu-desk``.
    """
    manifest = json.loads((model_dir / "manifest.json").read_text())
    languages = sorted(manifest["heads"]["language"]["classes"])
    intake: dict[str, Any] = {"id": "intake", "pools": ["vendor", "eu-desk"]}
    if escalate_after_minutes is not None:
        intake["escalation"] = [{"after_minutes": escalate_after_minutes, "pools": ["desk2"]}]
    return {
        "pools": [
            _pool(
                "vendor", languages, vendor_capacity, kind="outsourced", vendor="Test BPO",
                sourcing="offshore", data_access="masked", regions=["ROW", "UK", "UNKNOWN"],
            ),
            _pool("eu-desk", languages, 50, kind="in_house", regions=["EU"]),
            _pool(
                "desk2", languages, 50, kind="in_house", tiers=["tier2"],
                regions=["ROW", "UK", "UNKNOWN"],
            ),
        ],
        "rules": [
            {"id": "escalated", "match": {"tiers": ["tier2"]}, "pools": ["desk2", "eu-desk"]},
            intake,
        ],
        "low_confidence": {"tier_below": 1.0, "treat_as": "tier1"},
    }  # fmt: skip


def write_config(path: Path, config: dict[str, Any]) -> Path:
    """Write ``config`` as the service's config file (JSON is YAML)."""
    path.write_text(json.dumps(config, indent=1))
    return path


def ticket(run: str, i: int, country: str = "US", priority: str = "normal") -> dict[str, Any]:
    """A ticket with personal data in it (to see masking) from a customer in ``country``."""
    return {
        "id": f"{run}-{i:05d}",
        "subject": "Refund for my last order",
        "body": f"Hello, please refund order {i}. Call me at +1 415 555 0{i % 1000:03d} "
        "or write to maria.lopez@example.com. Card 4111 1111 1111 1111.",
        "customer": {
            "id": f"c-{i}",
            "email": "maria.lopez@example.com",
            "phone": "+14155550123",
            "country": country,
        },
        "priority": priority,
        "source": SOURCE,
    }


async def make_tokens(
    client: aioredis.Redis, names: Names, pools: tuple[str, ...] = POOLS
) -> dict[str, str]:
    """A bearer token per scope (``admin``, ``ingest``, ``agent:<pool>``), plaintext."""
    store = RedisTokenStore(client, names.redis_prefix)
    out = {}
    for scope in ["admin", "ingest", *(f"agent:{p}" for p in pools)]:
        out[scope], _ = await store.create(f"test {scope}", parse_scopes([scope]))
    return out


async def delete_queues(
    amqp: AbstractRobustConnection, names: Names, pools: tuple[str, ...]
) -> None:
    """Remove this test's pool queues (the shared fixture knows only the example's)."""
    channel = await amqp.channel()
    for pool in pools:
        await channel.queue_delete(names.pool_queue(pool))
    await channel.close()


async def states(client: aioredis.Redis, names: Names, ids: list[str]) -> dict[str, str]:
    """The stored state of each ticket id (``missing`` when none)."""
    async with client.pipeline(transaction=False) as pipe:
        for tid in ids:
            pipe.hget(f"{names.redis_prefix}t:{tid}", "state")
        raw = await pipe.execute()
    return {t: (v.decode() if v else "missing") for t, v in zip(ids, raw, strict=True)}


async def wait_all_assigned(client: aioredis.Redis, names: Names, ids: list[str]) -> None:
    """Wait until every id has been routed (and queued in its pool's backlog)."""

    async def done() -> bool:
        return set((await states(client, names, ids)).values()) == {"assigned"}

    await wait_for(done, timeout=60, what=f"{len(ids)} tickets routed")


@dataclass
class Agent:
    """An agent of one pool talking to one service URL."""

    http: ClientSession
    url: str
    pool: str
    token: str
    name: str

    def _url(self, tail: str) -> str:
        return f"{self.url}/v1/pools/{self.pool}{tail}"

    async def post(self, tail: str, body: dict[str, Any]) -> tuple[int, Any]:
        """POST ``body`` to the pool's ``tail``; (status, decoded JSON or None)."""
        headers = {"Authorization": f"Bearer {self.token}"}
        async with self.http.post(self._url(tail), json=body, headers=headers) as r:
            raw = await r.read()
            return r.status, orjson.loads(raw) if raw else None

    async def get(self, tail: str = "") -> tuple[int, Any]:
        """GET the pool's ``tail``; (status, decoded JSON)."""
        headers = {"Authorization": f"Bearer {self.token}"}
        async with self.http.get(self._url(tail), headers=headers) as r:
            return r.status, await r.json()

    async def pull(self, wait: float = 0, lease_seconds: int = 300) -> tuple[int, Any]:
        """``assignments/next``."""
        body = {"agent": self.name, "wait": wait, "lease_seconds": lease_seconds}
        return await self.post("/assignments/next", body)

    async def act(self, ticket_id: str, action: str, **body: Any) -> tuple[int, Any]:
        """``assignments/<ticket_id>/<action>``."""
        return await self.post(f"/assignments/{ticket_id}/{action}", body)


@dataclass
class ServiceProcess:
    """A ``python -m router serve`` subprocess."""

    proc: asyncio.subprocess.Process
    url: str

    async def metric(self, http: ClientSession, name: str, labels: dict[str, str]) -> float:
        """Sum of the samples of ``name`` whose labels include ``labels``, from /metrics."""
        async with http.get(f"{self.url}/metrics") as r:
            text = await r.text()
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
                total += float(line.rsplit(" ", 1)[1])
        return total


@dataclass
class ServiceFleet:
    """Starts service processes that share this test's names; stops them afterwards."""

    names: Names
    suffix: str
    model_dir: Path
    config_path: Path
    processes: list[ServiceProcess]

    async def start(self, http: ClientSession) -> ServiceProcess:
        """One more replica, ready to serve."""
        port = free_port()
        env = dict(
            os.environ,
            ROUTER_AMQP_URL=AMQP_URL,
            ROUTER_REDIS_URL=REDIS_URL,
            ROUTER_NAME_SUFFIX=self.suffix,
            ROUTER_HTTP_PORT=str(port),
            ROUTER_MODEL_DIR=str(self.model_dir),
            ROUTER_CONFIG=str(self.config_path),
            ROUTER_LOG_LEVEL="WARNING",
        )
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "router", "serve", env=env, cwd=REPO,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        service = ServiceProcess(proc, f"http://127.0.0.1:{port}")
        self.processes.append(service)

        async def ready() -> bool:
            if proc.returncode is not None:
                raise AssertionError(f"service exited with {proc.returncode}")
            try:
                async with http.get(f"{service.url}/readyz") as response:
                    return response.status == 200
            except ClientError:
                return False

        await wait_for(ready, timeout=90, what="a service process to be ready")
        return service

    async def stop(self) -> None:
        """SIGTERM every replica and wait for it."""
        for service in self.processes:
            if service.proc.returncode is None:
                service.proc.terminate()
        for service in self.processes:
            await asyncio.wait_for(service.proc.wait(), timeout=60)
