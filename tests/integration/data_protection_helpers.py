"""Pieces of the data-protection integration tests: sending tickets, reading every copy
a vendor can get (pool queue, lease grants by pull and claim, ``GET /v1/tickets``, pool
status and listing) and tallying what of the planted data is in them. (No tests here.)"""

from __future__ import annotations

import asyncio
import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
import redis.asyncio as aioredis
from aio_pika.abc import AbstractRobustConnection
from aiohttp import ClientSession

from router.service.settings import Names
from tests.dp_config import foreign_names
from tests.integration.conftest import RunningService, drain, publish, wait_for
from tests.integration.test_leases_helpers import Agent, states
from tests.pii_item import Item
from tests.pii_oracle import Views, leaks

CHANNELS = ("queue", "pull", "get", "status")
SHOWN = 40  # leaks listed one by one under the table
Desk = tuple[RunningService, dict[str, str], ClientSession]


def languages(model_dir: Path) -> list[str]:
    """Every language the model knows (the pools serve them all)."""
    manifest = json.loads((model_dir / "manifest.json").read_text())
    return sorted(manifest["heads"]["language"]["classes"])


async def send_all(
    desk: Desk, amqp: AbstractRobustConnection, names: Names, tickets: list[dict[str, Any]],
    via_http: int = 0,
) -> None:  # fmt: skip
    """The first ``via_http`` by ``POST /v1/tickets``, the rest published to the exchange."""
    service, tokens, http = desk
    headers = {"Authorization": f"Bearer {tokens['ingest']}", "Content-Type": "application/json"}
    gate = asyncio.Semaphore(8)

    async def post(ticket: dict[str, Any]) -> int:
        async with (
            gate,
            http.post(
                f"{service.url}/v1/tickets", data=orjson.dumps(ticket), headers=headers
            ) as response,
        ):
            return response.status

    statuses = await asyncio.gather(*(post(t) for t in tickets[:via_http]))
    assert Counter(statuses) == Counter({202: via_http}), Counter(statuses)
    channel = await amqp.channel()
    await publish(channel, names, [orjson.dumps(t) for t in tickets[via_http:]])


async def wait_routed(
    redis_client: aioredis.Redis, names: Names, amqp: AbstractRobustConnection, ids: list[str]
) -> None:
    """Wait until every id is assigned; else fail with the states and the dead letters."""

    async def done() -> bool:
        return Counter((await states(redis_client, names, ids)).values())["assigned"] == len(ids)

    try:
        await wait_for(done, timeout=45, what=f"{len(ids)} tickets routed")
    except AssertionError:
        channel = await amqp.channel()
        dead = [(m.headers, m.body[:200]) for m in await drain(channel, names.dead_queue)]
        got = Counter((await states(redis_client, names, ids)).values())
        raise AssertionError((got, dead)) from None


class Tally:
    """Planted, delivered and in-clear counts by channel, format and location."""

    def __init__(self) -> None:
        self.planted: Counter[tuple[str, str]] = Counter()
        self.delivered: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
        self.clear: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
        self.examples: list[tuple[str, str, str, str, list[str]]] = []
        self.foreign: Counter[str] = Counter()

    def plant(self, placed: Iterable[tuple[Item, str]]) -> None:
        """Count what was put into the tickets."""
        self.planted.update((item.fmt, location) for item, location in placed)

    def check(self, channel: str, document: Any, placed: Iterable[tuple[Item, str]],
              pool_id: str) -> None:  # fmt: skip
        """Search ``document`` (one thing the vendor received) for every planted item."""
        views = Views.of(document)
        for item, location in placed:
            self.delivered[channel][item.fmt, location] += 1
            if found := leaks(views, item):
                self.clear[channel][item.fmt, location] += 1
                self.examples.append((channel, item.fmt, location, item.written, found[:3]))
        named = [n for n in foreign_names(pool_id) if n in views.text]
        if named or (isinstance(document, dict) and _excluded(document)):
            if not self.foreign[channel]:  # one example a channel: they are all alike
                self.examples.append((channel, "isolation", "", _excerpt(document, named), named))
            self.foreign[channel] += 1

    def in_clear(self, channel: str | None = None) -> int:
        """Items found in clear (on one channel, or on any)."""
        return sum(sum(self.clear[c].values()) for c in ([channel] if channel else CHANNELS))

    def table(self) -> str:
        """The figures by format and by location, and the totals."""
        lines = []
        for axis, label in ((0, "format"), (1, "location")):
            keys = sorted({k[axis] for k in self.planted})
            lines.append(f"{label:28} planted " + " ".join(f"{c:>7}/clear" for c in CHANNELS))
            for key in keys:
                row = [v for k, v in self.planted.items() if k[axis] == key]
                cells = []
                for c in CHANNELS:
                    got = sum(v for k, v in self.delivered[c].items() if k[axis] == key)
                    bad = sum(v for k, v in self.clear[c].items() if k[axis] == key)
                    cells.append(f"{got:>7}/{bad:<5}")
                lines.append(f"{key:28} {sum(row):7} " + " ".join(cells))
        total = " ".join(
            f"{sum(self.delivered[c].values()):>7}/{self.in_clear(c):<5}" for c in CHANNELS
        )
        lines.append(f"{'TOTAL':28} {sum(self.planted.values()):7} {total}")
        lines.append(f"copies naming another pool or listing excluded: {dict(self.foreign)}")
        lines.extend(f"  in clear: {ex}" for ex in self.examples[:SHOWN])
        if len(self.examples) > SHOWN:
            lines.append(f"  ... and {len(self.examples) - SHOWN} more")
        return "\n".join(lines)


def _excerpt(document: Any, named: list[str]) -> str:
    """Where in ``document`` the first foreign name (or ``excluded``) is."""
    text = orjson.dumps(document).decode()
    at = max(text.casefold().find(named[0] if named else '"excluded"'), 0)
    return text[max(at - 60, 0) : at + 60]


def _excluded(document: dict[str, Any]) -> bool:
    assignment = document.get("assignment", document)
    return isinstance(assignment, dict) and bool(assignment.get("excluded"))


async def pull_everything(
    desk: Desk, pool_id: str, agents: int = 4, claim: Iterable[str] = ()
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Lease every ticket of the pool -- those of ``claim`` as a queue consumer does
    (``claim``), the rest by ``assignments/next`` -- read it with ``GET /v1/tickets``
    and complete it: (lease grant bodies, GET bodies) by ticket id."""
    service, tokens, http = desk
    token = tokens[f"agent:{pool_id}"]
    grants: dict[str, dict[str, Any]] = {}
    reads: dict[str, dict[str, Any]] = {}
    claims = list(claim)

    async def work(name: str) -> None:
        agent = Agent(http, service.url, pool_id, token, name)
        while True:
            if claims:
                wanted = claims.pop()
                status, body = await agent.post(f"/assignments/{wanted}/claim", {"agent": name})
            else:
                status, body = await agent.pull()
            if status == 204:
                return
            assert status == 200, (status, body)
            ticket_id = body["lease"]["ticket_id"]
            assert ticket_id not in grants, f"{ticket_id} leased twice"
            grants[ticket_id] = body
            async with http.get(
                f"{service.url}/v1/tickets/{ticket_id}",
                headers={"Authorization": f"Bearer {token}"},
            ) as response:
                assert response.status == 200, await response.text()
                reads[ticket_id] = await response.json()
            lease = body["lease"]["lease_id"]
            status, done = await agent.act(ticket_id, "complete", lease_id=lease, outcome="done")
            assert status == 200, done

    await asyncio.gather(*(work(f"dp-agent-{i}") for i in range(agents)))
    return grants, reads


async def queued(
    amqp: AbstractRobustConnection, names: Names, pool_id: str
) -> dict[str, dict[str, Any]]:
    """Every message now in the pool's queue, decoded, by message id (the ticket id);
    its AMQP headers and properties go along under ``amqp``, the vendor reads them too."""
    channel = await amqp.channel()
    messages = await drain(channel, names.pool_queue(pool_id))
    out = {
        str(m.message_id): orjson.loads(m.body)
        | {"amqp": {"headers": dict(m.headers or {}), **_properties(m)}}
        for m in messages
    }
    assert len(out) == len(messages), "two messages with one ticket id"
    return out


def _properties(message: Any) -> dict[str, str]:
    names = ("correlation_id", "reply_to", "app_id", "user_id", "type", "content_type")
    return {n: str(getattr(message, n)) for n in names if getattr(message, n, None)}


async def pool_views(desk: Desk, pool_id: str) -> list[Any]:
    """The pool status and its listing, as the vendor's token reads them."""
    service, tokens, http = desk
    agent = Agent(http, service.url, pool_id, tokens[f"agent:{pool_id}"], "supervisor")
    out = []
    for tail in ("", "/assignments?limit=1000"):
        status, body = await agent.get(tail)
        assert status == 200, body
        out.append(body)
    return out
