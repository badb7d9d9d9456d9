"""The HTTP API in process: :func:`router.http.app.build_app` on a service made of the
in-memory fakes (no Redis, no RabbitMQ), through aiohttp's test client.

Tickets reach the stores as the consumer would put them there: through the real routing
use case (``TicketRouter``) on the memory ticket store and publisher.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient, TestServer

from classifiers.types import Classifier
from router.config.load import RoutingConfig
from router.core.masking import mask_ticket
from router.core.store_health import RedisHealth
from router.core.ticket_schema import ticket_from_object
from router.core.tokens import parse_scopes
from router.http.app import build_app
from router.service.composition import Service, Stores
from router.service.config_follower import ConfigFollower, bootstrap
from router.service.current import Current
from router.service.inbound import Pending
from router.service.leases import AgentDesk, BacklogWatch, LeaseMetrics, TicketMover
from router.service.metrics import Metrics
from router.service.model_follower import ModelFollower
from router.service.routing import TicketRouter
from router.service.settings import Names, Settings
from tests.conftest import EXAMPLE_CONFIG
from tests.fakes import (
    FixedClassifier,
    MemoryAuditLog,
    MemoryConfigStore,
    MemoryConnection,
    MemoryLeaseStore,
    MemoryPresence,
    MemoryPublisher,
    MemoryStoreHealth,
    MemoryTicketStore,
    MemoryTokenStore,
)

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # a Tuesday afternoon: pools open
TICKET = {"id": "T-1", "subject": "Refund", "body": "Charged twice for my plan"}


@dataclass(frozen=True)
class MemoryBroker:
    """The broker's parts the service exposes, in memory."""

    connection: MemoryConnection
    publisher: MemoryPublisher
    router: TicketRouter


@dataclass
class Fakes:
    """The in-memory parts a service is made of, for the tests to look into and steer."""

    tickets: MemoryTicketStore = field(default_factory=MemoryTicketStore)
    publisher: MemoryPublisher = field(default_factory=MemoryPublisher)
    tokens: MemoryTokenStore = field(default_factory=MemoryTokenStore)
    audit: MemoryAuditLog = field(default_factory=MemoryAuditLog)
    health: MemoryStoreHealth = field(default_factory=MemoryStoreHealth)
    connection: MemoryConnection = field(default_factory=MemoryConnection)
    configs: MemoryConfigStore = field(default_factory=MemoryConfigStore)


async def memory_service(fakes: Fakes, model_dir: Path) -> Service:
    """A service made of ``fakes``, wired as the composition root wires the real parts."""
    settings = Settings(config_path=EXAMPLE_CONFIG, names=Names.with_suffix("inproc"))
    metrics = Metrics()
    # The config follower and the lease wiring are typed on the Redis classes; the memory
    # stores have the same methods (the contract tests hold them to it).
    configs = fakes.configs
    config, number = await bootstrap(configs, EXAMPLE_CONFIG)
    current = Current(config)
    model = Current[Classifier](FixedClassifier())

    async def on_switch(new: RoutingConfig) -> None:
        return None  # no pool queues to declare

    router = TicketRouter(
        store=fakes.tickets, publisher=fakes.publisher, model=model, config=current,
        metrics=metrics, mask=mask_ticket, clock=lambda: NOW,
    )  # fmt: skip
    leases = MemoryLeaseStore(fakes.tickets)
    lease_metrics = LeaseMetrics(metrics.registry)

    async def pullable(pool_id: str) -> bool:  # as the composition root's
        if not current.value.has_pool(pool_id):
            return False
        queued, open_ = await leases.counts(pool_id)
        return queued > 0 and open_ < current.value.pool(pool_id).capacity

    watch = BacklogWatch(pullable)
    mover = TicketMover(leases, fakes.publisher, current, lease_metrics, watch)
    presence = MemoryPresence()
    return Service(
        settings=settings,
        metrics=metrics,
        stores=Stores(None, fakes.tickets, fakes.tokens, fakes.audit, fakes.health),
        model=model,
        model_follower=ModelFollower(model_dir, model, metrics),
        config_store=fakes.configs,
        config=current,
        config_number=Current(number),
        broker=MemoryBroker(fakes.connection, fakes.publisher, router),
        config_follower=ConfigFollower(configs, current, number, on_switch),
        desk=AgentDesk(leases, presence, mover, watch, lease_metrics),
    )


@dataclass
class Api:
    """A test client on an application serving a service made of fakes."""

    client: TestClient[Any, Any]
    service: Service
    fakes: Fakes
    token: dict[str, str]  # plaintext by scope

    async def call(
        self, method: str, path: str, scope: str | None, body: Any = None, **headers: str
    ) -> tuple[int, Any]:
        """Status and decoded JSON body (None when empty) of one request as ``scope``."""
        if scope is not None:
            headers["Authorization"] = f"Bearer {self.token[scope]}"
        data = body if isinstance(body, bytes) or body is None else orjson.dumps(body)
        async with self.client.request(method, path, data=data, headers=headers) as response:
            raw = await response.read()
            return response.status, orjson.loads(raw) if raw else None

    async def route(self, *tickets: dict[str, Any]) -> list[str]:
        """Route tickets as the consumer would; the pool each went to."""
        batch = [
            Pending(ticket_from_object(t), f"owner-{t['id']}", NOW, time.monotonic())
            for t in tickets
        ]
        outcomes = await self.service.broker.router.route_batch(batch)
        assert [o.status for o in outcomes] == ["assigned"] * len(tickets)
        return [str(o.pool_id) for o in outcomes]


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    fakes = Fakes()
    service = await memory_service(fakes, tmp_path)
    scopes = ["admin", "ingest", *(f"agent:{p}" for p in service.config.value.pool_ids)]
    token = {s: (await fakes.tokens.create(f"test {s}", parse_scopes([s])))[0] for s in scopes}
    async with TestClient(TestServer(build_app(service))) as client:
        yield Api(client, service, fakes, token)
    await service.desk.watch.close()


async def test_healthz_needs_no_token(api: Api) -> None:
    assert await api.call("GET", "/healthz", None) == (200, {"status": "ok"})


async def test_readyz_names_every_check(api: Api) -> None:
    ready = {
        "status": "ready", "redis": "ok", "broker": "ok", "redis_persistence": "aof",
        "model": {"version": "fixed-1"},
    }  # fmt: skip
    assert await api.call("GET", "/readyz", None) == (200, ready)
    api.fakes.health.last = lost = RedisHealth(True, "none", 1, 1.0)
    status, body = await api.call("GET", "/readyz", None)
    assert (status, body) == (
        200,
        {**ready, "redis_persistence": "none", "warnings": lost.problems()},
    )
    api.fakes.connection.is_closed = True
    status, body = await api.call("GET", "/readyz", None)
    assert (status, body["status"], body["broker"]) == (503, "not ready", "unreachable")


async def test_a_valid_ticket_is_published_once_and_a_known_one_is_a_duplicate(api: Api) -> None:
    raw = orjson.dumps(TICKET)
    assert await api.call("POST", "/v1/tickets", "ingest", raw) == (
        202, {"id": "T-1", "status": "accepted"},
    )  # fmt: skip
    assert api.fakes.publisher.tickets == [("T-1", raw, None)]
    await api.route(TICKET)
    assert await api.call("POST", "/v1/tickets", "admin", raw) == (
        202, {"id": "T-1", "status": "duplicate", "state": "assigned"},
    )  # fmt: skip
    assert len(api.fakes.publisher.tickets) == 1


async def test_a_ticket_the_broker_cannot_take_is_a_503(api: Api) -> None:
    api.fakes.publisher.fail_next = 1
    status, body = await api.call("POST", "/v1/tickets", "ingest", TICKET)
    assert (status, body["error"]["status"]) == (503, 503)
    assert api.fakes.publisher.tickets == []


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (b"{not json", "body"),
        (b'{"body": "hi"}', "id"),
        (b'{"id": "a", "body": "hi", "priority": "p0"}', "priority"),
        (b'{"id": "a", "body": "hi", "tags": ["ok", 3]}', "tags[1]"),
    ],
)
async def test_an_invalid_ticket_is_a_400_naming_the_field(
    api: Api, payload: bytes, field: str
) -> None:
    status, body = await api.call("POST", "/v1/tickets", "ingest", payload)
    assert (status, body["error"]["field"]) == (400, field)
    assert api.fakes.publisher.tickets == []


async def test_tickets_need_a_token_with_the_ingest_scope(api: Api) -> None:
    async with api.client.post("/v1/tickets", data=orjson.dumps(TICKET)) as response:
        assert response.status == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert (await response.json())["error"]["field"] == "Authorization"
    bad = {"Authorization": "Bearer trt_0123456789abcdef_nope"}
    async with api.client.post("/v1/tickets", data=orjson.dumps(TICKET), headers=bad) as response:
        assert response.status == 401
    agent = f"agent:{api.service.config.value.pool_ids[0]}"
    status, body = await api.call("POST", "/v1/tickets", agent, TICKET)
    assert (status, body["error"]["status"], body["error"]["field"]) == (403, 403, None)
    assert api.fakes.publisher.tickets == []


async def test_a_routed_ticket_reads_back_for_its_readers_only(api: Api) -> None:
    [pool] = await api.route(TICKET)
    status, body = await api.call("GET", "/v1/tickets/T-1", "ingest")
    assert (status, body["id"], body["state"]) == (200, "T-1", "assigned")
    assert body["assignment"]["pool_id"] == pool
    assert body["assignment"]["ticket"]["body"] == TICKET["body"]
    status, _ = await api.call("GET", "/v1/tickets/T-1", f"agent:{pool}")
    assert status == 200
    other = next(p for p in api.service.config.value.pool_ids if p != pool)
    assert (await api.call("GET", "/v1/tickets/T-1", f"agent:{other}"))[0] == 403
    status, body = await api.call("GET", "/v1/tickets/nope", "ingest")
    assert (status, body["error"]["field"]) == (404, "ticket_id")


async def test_admin_tokens_create_list_revoke_and_audit(api: Api) -> None:
    status, made = await api.call(
        "POST", "/v1/admin/tokens", "admin", {"name": "platform-x", "scopes": ["ingest"]}
    )
    assert status == 201
    assert (made["name"], made["scopes"], made["revoked_at"]) == ("platform-x", ["ingest"], None)
    api.token["new"] = made["token"]
    assert (await api.call("POST", "/v1/tickets", "new", TICKET))[0] == 202
    status, listed = await api.call("GET", "/v1/admin/tokens", "admin")
    assert status == 200 and made["id"] in [t["id"] for t in listed["tokens"]]
    assert all("token" not in t for t in listed["tokens"])  # never a secret again
    assert await api.call("DELETE", f"/v1/admin/tokens/{made['id']}", "admin") == (204, None)
    assert (await api.call("POST", "/v1/tickets", "new", TICKET))[0] == 401
    assert (await api.call("DELETE", f"/v1/admin/tokens/{made['id']}", "admin"))[0] == 404
    status, audit = await api.call("GET", "/v1/admin/audit?n=5", "admin")
    assert status == 200
    assert [(r["action"], r["target"]) for r in audit["records"]] == [
        ("token.revoke", made["id"]),
        ("token.create", made["id"]),
    ]
    status, _ = await api.call(
        "POST", "/v1/admin/tokens", "admin", {"name": "x", "scopes": ["nope"]}
    )
    assert status == 400
    assert (await api.call("GET", "/v1/admin/tokens", "ingest"))[0] == 403


async def test_the_last_admin_token_is_kept(api: Api) -> None:
    [admin] = [t for t in await api.fakes.tokens.list() if t.name == "test admin"]
    status, body = await api.call("DELETE", f"/v1/admin/tokens/{admin.token_id}", "admin")
    assert (status, body["error"]["field"]) == (409, "token_id")
    assert (await api.call("GET", "/v1/admin/tokens", "admin"))[0] == 200


async def test_config_read_replace_and_conflict(api: Api) -> None:
    status, current = await api.call("GET", "/v1/config", "admin")
    assert status == 200
    assert (current["number"], current["version"]) == (1, api.service.config.value.version)
    document = current["config"]
    document["pools"][0]["capacity"] += 1
    status, put = await api.call("PUT", "/v1/config?comment=more", "admin", document)
    assert status == 200
    [admin] = [t for t in await api.fakes.tokens.list() if t.name == "test admin"]
    author = f"token:{admin.token_id}:test admin"
    assert (put["number"], put["comment"], put["author"], put["source"]) == (
        2, "more", author, "api",
    )  # fmt: skip
    assert api.service.config.value.version == put["version"]
    assert api.service.config_follower.number == 2
    status, versions = await api.call("GET", "/v1/config/versions", "admin")
    assert [v["number"] for v in versions["versions"]] == [2, 1]
    status, body = await api.call("PUT", "/v1/config", "admin", document, **{"If-Match": "1"})
    assert (status, body["error"]["field"]) == (412, "If-Match")
    assert api.fakes.configs.number == 2
    [record] = [r for r in await api.fakes.audit.recent(10) if r["action"] == "config.put"]
    assert record["target"] == "2"
    document["pools"][0]["capacity"] = -1
    status, body = await api.call("PUT", "/v1/config", "admin", document)
    assert status == 400 and body["error"]["problems"]
    assert (await api.call("GET", "/v1/config", "ingest"))[0] == 403


async def test_a_preview_routes_recent_tickets_by_the_candidate(api: Api) -> None:
    await api.route(TICKET, {**TICKET, "id": "T-2"})
    _, current = await api.call("GET", "/v1/config", "admin")
    status, body = await api.call("POST", "/v1/config/preview", "admin", current["config"])
    assert (status, body) == (200, {"tickets": 2, "changed": 0, "diff": [], "changes": []})
    status, body = await api.call(
        "POST", "/v1/config/preview", "admin", {"config": current["config"], "n": 1}
    )
    assert (status, body["tickets"]) == (200, 1)
    status, body = await api.call("POST", "/v1/config/preview", "admin", {"config": [], "n": 1})
    assert (status, body["error"]["field"]) == (400, "config")


async def test_unknown_paths_and_wrong_methods(api: Api) -> None:
    assert (await api.call("GET", "/v1/nope", "admin"))[0] == 404
    assert (await api.call("DELETE", "/v1/tickets", "admin"))[0] == 405
    assert (await api.call("PUT", "/healthz", None))[0] == 405


async def test_an_agent_pulls_accepts_and_completes(api: Api) -> None:
    [pool] = await api.route(TICKET)
    base, scope = f"/v1/pools/{pool}", f"agent:{pool}"
    status, got = await api.call("POST", f"{base}/assignments/next", scope, {"agent": "ana"})
    assert status == 200
    lease = got["lease"]
    assert (lease["ticket_id"], lease["agent"]) == ("T-1", "ana")
    assert got["assignment"]["ticket_id"] == "T-1"
    one = f"{base}/assignments/T-1"
    status, body = await api.call("POST", f"{one}/accept", scope, {"lease_id": lease["lease_id"]})
    assert (status, body["state"]) == (200, "accepted")
    status, body = await api.call("POST", f"{one}/accept", scope, {"lease_id": "not-mine"})
    assert (status, body["error"]["reason"]) == (409, "not_yours")
    done = {"lease_id": lease["lease_id"], "outcome": "resolved"}
    status, body = await api.call("POST", f"{one}/complete", scope, done)
    assert (status, body) == (200, {"ticket_id": "T-1", "pool": pool, "state": "completed"})
    async with api.client.post(
        f"{base}/assignments/next", data=orjson.dumps({"agent": "ana"}),
        headers={"Authorization": f"Bearer {api.token[scope]}"},
    ) as response:  # fmt: skip
        assert (response.status, response.headers["X-Router-Reason"]) == (204, "empty")
    status, info = await api.call("GET", base, scope)
    assert (status, info["open"], info["queued"]) == (200, 0, 0)
    assert info["agents"] == {"online": ["ana"], "away": [], "offline": []}


async def test_a_claim_from_the_queue_is_one_agents(api: Api) -> None:
    [pool] = await api.route(TICKET)
    claim, scope = f"/v1/pools/{pool}/assignments/T-1/claim", f"agent:{pool}"
    status, first = await api.call("POST", claim, scope, {"agent": "ana"})
    assert (status, first["lease"]["agent"]) == (200, "ana")
    status, again = await api.call("POST", claim, scope, {"agent": "ana"})
    assert (status, again["lease"]["lease_id"]) == (200, first["lease"]["lease_id"])
    status, body = await api.call("POST", claim, scope, {"agent": "bob"})
    assert (status, body["error"]["reason"]) == (409, "not_yours")
    status, _ = await api.call(
        "POST", f"/v1/pools/{pool}/assignments/nope/claim", scope, {"agent": "bob"}
    )
    assert status == 404
    other = next(p for p in api.service.config.value.pool_ids if p != pool)
    assert (await api.call("POST", claim, f"agent:{other}", {"agent": "cy"}))[0] == 403


async def _until(condition: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll ``condition`` until true; fail after two seconds."""
    deadline = time.monotonic() + 2.0
    while not await condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.005)


async def _waiting_pull(api: Api, pool: str, wait: int) -> asyncio.Task[tuple[int, Any]]:
    """A pull as ``ana`` that waits at the server (its heartbeat is in) for up to ``wait`` s."""
    body = {"agent": "ana", "wait": wait}
    task = asyncio.create_task(api.call("POST", f"/v1/pools/{pool}/assignments/next",
                                        f"agent:{pool}", body))  # fmt: skip

    async def waiting() -> bool:
        return (await api.service.desk.presence.agents(pool))["online"] == ["ana"]

    await _until(waiting, "the pull to reach the server")
    return task


async def _claimed(api: Api) -> tuple[str, str]:
    """Route T-1 and let ``bob`` claim it: its pool (now with an empty backlog) and the lease."""
    pool = (await api.route(TICKET))[0]
    claim = f"/v1/pools/{pool}/assignments/T-1/claim"
    status, got = await api.call("POST", claim, f"agent:{pool}", {"agent": "bob"})
    assert status == 200
    return pool, str(got["lease"]["lease_id"])


async def test_a_waiting_pull_wakes_when_another_replica_queues_a_ticket(api: Api) -> None:
    pool, _ = await _claimed(api)
    stored = await api.fakes.tickets.get("T-1")
    assert stored is not None
    record = orjson.loads(stored.record)
    record["ticket_id"] = record["ticket"]["id"] = "T-2"
    waiting = await _waiting_pull(api, pool, 20)
    try:
        assert not waiting.done()
        # Queued as the router of another replica queues it: no notice to this process.
        await api.fakes.tickets.claim_many([("T-2", "elsewhere", orjson.dumps(record))], 60_000)
        await api.fakes.tickets.mark_assigned_many([("T-2", "elsewhere", pool, 1.0)])
        status, body = await asyncio.wait_for(waiting, 5)
    finally:
        waiting.cancel()
    assert (status, body["lease"]["ticket_id"], body["lease"]["agent"]) == (200, "T-2", "ana")


async def test_a_release_wakes_a_waiting_colleague(api: Api) -> None:
    pool, lease_id = await _claimed(api)
    waiting = await _waiting_pull(api, pool, 20)
    try:
        assert not waiting.done()
        release = f"/v1/pools/{pool}/assignments/T-1/release"
        status, _ = await api.call("POST", release, f"agent:{pool}", {"lease_id": lease_id})
        assert status == 200
        status, body = await asyncio.wait_for(waiting, 5)
    finally:
        waiting.cancel()
    assert (status, body["lease"]["ticket_id"], body["lease"]["agent"]) == (200, "T-1", "ana")


async def test_draining_answers_waiting_pulls_at_once(api: Api) -> None:
    pool = api.service.config.value.pool_ids[0]
    waiting = await _waiting_pull(api, pool, 20)
    try:
        await api.service.drain()
        assert await asyncio.wait_for(waiting, 5) == (204, None)
    finally:
        waiting.cancel()
