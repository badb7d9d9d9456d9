"""The pull API against a running service, real RabbitMQ and Redis: leases, their
conflicts, expiry, capacity, long polls, claims from the queue and escalation."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
import redis.asyncio as aioredis
from aio_pika.abc import AbstractRobustConnection
from aiohttp import ClientSession

from router.http import appkeys as K
from router.service.settings import Names
from tests.integration.conftest import (
    RunningService,
    ServiceFactory,
    counted,
    drain,
    publish,
    wait_for,
)
from tests.integration.test_leases_helpers import (
    POOLS,
    Agent,
    delete_queues,
    lease_config,
    make_tokens,
    states,
    ticket,
    wait_all_assigned,
    write_config,
)

pytestmark = pytest.mark.integration

PERSONAL = ("maria.lopez@example.com", "+14155550123", "4111 1111 1111 1111", "415 555")


@dataclass
class Desk:
    """A running service with this test's config, tokens and broker channel."""

    service: RunningService
    tokens: dict[str, str]
    http: ClientSession
    redis: aioredis.Redis
    amqp: AbstractRobustConnection
    names: Names
    run: str

    def agent(self, name: str, pool: str = "vendor", scope: str | None = None) -> Agent:
        """An agent of ``pool`` using the token of ``scope`` (default: its pool's)."""
        return Agent(self.http, self.service.url, pool, self.tokens[scope or f"agent:{pool}"], name)

    async def send(self, tickets: list[dict[str, object]]) -> list[str]:
        """Publish tickets as a platform would and wait until they are routed."""
        channel = await self.amqp.channel()
        await publish(channel, self.names, [orjson.dumps(t) for t in tickets])
        ids = [str(t["id"]) for t in tickets]
        await wait_all_assigned(self.redis, self.names, ids)
        return ids

    async def record(self, ticket_id: str) -> dict[str, object]:
        """The stored ticket as ops see it (``GET /v1/tickets/{id}``, admin)."""
        headers = {"Authorization": f"Bearer {self.tokens['admin']}"}
        async with self.http.get(
            f"{self.service.url}/v1/tickets/{ticket_id}", headers=headers
        ) as r:
            assert r.status == 200
            body: dict[str, object] = await r.json()
            return body

    async def redis_int(self, key: str) -> int:
        """An integer key of this test's prefix (0 when absent)."""
        return int(await self.redis.get(f"{self.names.redis_prefix}{key}") or 0)


DeskFactory = Callable[..., Awaitable[Desk]]


@pytest.fixture
async def make_desk(
    start_service: ServiceFactory,
    redis_client: aioredis.Redis,
    amqp: AbstractRobustConnection,
    names: Names,
    suffix: str,
    model_dir: Path,
    tmp_path: Path,
) -> AsyncIterator[DeskFactory]:
    """Start the service with the lease tests' config (``vendor_capacity`` may vary)."""

    async def make(vendor_capacity: int = 50) -> Desk:
        path = write_config(
            tmp_path / "config.json", lease_config(model_dir, vendor_capacity=vendor_capacity)
        )
        service = await start_service(config_path=path)
        tokens = await make_tokens(redis_client, names)
        session = ClientSession()
        sessions.append(session)
        return Desk(service, tokens, session, redis_client, amqp, names, suffix)

    sessions: list[ClientSession] = []
    yield make
    for session in sessions:
        await session.close()
    await delete_queues(amqp, names, POOLS)


async def test_pull_serves_most_urgent_first_masked_then_accept_and_complete(
    make_desk: DeskFactory,
) -> None:
    desk = await make_desk()
    ids = await desk.send(
        [ticket(desk.run, 0, priority="low"), ticket(desk.run, 1, priority="urgent"),
         ticket(desk.run, 2, priority="normal")]
    )  # fmt: skip
    ana = desk.agent("ana")
    got = []
    for _ in range(3):
        status, body = await ana.pull()
        assert status == 200
        got.append(body)
    assert [b["lease"]["ticket_id"] for b in got] == [ids[1], ids[2], ids[0]]
    for body in got:
        assert body["lease"]["agent"] == "ana"
        assert body["lease"]["expires_at"].endswith("Z")
        assert len(body["lease"]["lease_id"]) >= 20
        assert body["assignment"]["pool_id"] == "vendor"
        assert body["assignment"]["ticket_masked"] is True
        text = orjson.dumps(body["assignment"]).decode()
        assert not [p for p in PERSONAL if p in text], text
    status, _ = await ana.pull()
    assert status == 204

    first = got[0]["lease"]
    status, accepted = await ana.act(first["ticket_id"], "accept", lease_id=first["lease_id"])
    assert status == 200
    assert accepted["state"] == "accepted"
    assert accepted["lease"]["lease_id"] == first["lease_id"]
    assert (await desk.redis_int("load:vendor")) == 3
    done = await ana.act(first["ticket_id"], "complete", lease_id=first["lease_id"], outcome="ok")
    assert done == (200, {"ticket_id": first["ticket_id"], "pool": "vendor", "state": "completed"})
    # A retried complete is answered the same; nothing is counted twice.
    again = await ana.act(first["ticket_id"], "complete", lease_id=first["lease_id"], outcome="ok")
    assert again == done
    assert (await desk.redis_int("load:vendor")) == 2
    status, pool = await ana.get()
    assert status == 200
    assert (pool["capacity"], pool["open"], pool["queued"], pool["available"]) == (50, 2, 0, 48)
    assert pool["agents"]["online"] == ["ana"]
    record = await desk.record(first["ticket_id"])
    assert record["state"] == "completed"
    status, err = await ana.act(first["ticket_id"], "accept", lease_id=first["lease_id"])
    assert status == 409
    assert err["error"]["reason"] == "completed"


async def test_only_the_lease_holder_acts_and_refusals_say_why(make_desk: DeskFactory) -> None:
    desk = await make_desk()
    [tid] = await desk.send([ticket(desk.run, 0)])
    ana, bob = desk.agent("ana"), desk.agent("bob")
    _, body = await ana.pull()
    lease = body["lease"]["lease_id"]
    status, err = await bob.act(tid, "accept", lease_id="not-the-lease")
    assert (status, err["error"]["reason"]) == (409, "not_yours")
    status, extended = await ana.act(tid, "extend", lease_id=lease, seconds=3600)
    assert status == 200
    assert extended["lease"]["expires_at"] > body["lease"]["expires_at"]
    status, released = await ana.act(tid, "release", lease_id=lease, reason="lunch")
    assert (status, released["state"]) == (200, "assigned")
    status, err = await ana.act(tid, "accept", lease_id=lease)
    assert (status, err["error"]["reason"]) == (409, "released")
    status, err = await ana.act(tid, "accept", lease_id="whatever")
    assert (status, err["error"]["reason"]) == (409, "wrong_state")
    assert err["error"]["message"] == "the ticket is assigned, not leased"
    status, again = await bob.pull()
    assert status == 200 and again["lease"]["ticket_id"] == tid
    assert again["lease"]["lease_id"] != lease
    status, err = await ana.act(tid, "extend", lease_id=lease, seconds=60)
    assert (status, err["error"]["reason"]) == (409, "released")
    status, err = await ana.act("no-such-ticket", "accept", lease_id=lease)
    assert status == 404 and err["error"]["field"] == "ticket_id"


@pytest.mark.parametrize(
    ("tail", "body", "field"),
    [
        ("/assignments/next", {"agent": "ana", "wait": 31}, "wait"),
        ("/assignments/next", {"agent": "an a"}, "agent"),
        ("/assignments/next", {"agent": "ana", "lease_seconds": 3601}, "lease_seconds"),
        ("/assignments/next", {"agent": "ana", "color": "red"}, "color"),
        ("/assignments/T/accept", {}, "lease_id"),
        ("/assignments/T/complete", {"lease_id": "x"}, "outcome"),
        ("/assignments/T/escalate", {"lease_id": "x"}, "reason"),
        ("/assignments/T/extend", {"lease_id": "x", "seconds": 0}, "seconds"),
        ("/assignments/T/claim", {}, "agent"),
        ("/agents/ana/presence", {"status": "busy"}, "status"),
    ],
)
async def test_bad_bodies_name_the_field(
    make_desk: DeskFactory, tail: str, body: dict[str, object], field: str
) -> None:
    desk = await make_desk()
    status, err = await desk.agent("ana").post(tail, body)
    assert status == 400
    assert err["error"]["field"] == field


async def test_scopes_guard_every_agent_endpoint(make_desk: DeskFactory) -> None:
    desk = await make_desk()
    [tid] = await desk.send([ticket(desk.run, 0)])
    endpoints = [
        ("POST", "/assignments/next"), ("GET", "/assignments"), ("GET", ""),
        ("POST", "/agents/ana/presence"),
        *(("POST", f"/assignments/{{t}}/{a}") for a in (
            "claim", "accept", "complete", "release", "escalate", "extend")),
    ]  # fmt: skip
    base = f"{desk.service.url}/v1/pools/vendor"
    for method, tail in endpoints:
        refusals = []
        for ticket_id in (tid, "no-such-ticket"):
            url = base + tail.replace("{t}", ticket_id)
            async with desk.http.request(method, url, json={"agent": "x"}) as r:
                assert r.status == 401, (method, tail)
            for scope in ("agent:desk2", "ingest"):
                headers = {"Authorization": f"Bearer {desk.tokens[scope]}"}
                async with desk.http.request(method, url, json={}, headers=headers) as r:
                    assert r.status == 403, (method, tail, scope)
                    refusals.append(await r.read())
        # Same answer whether or not the ticket exists: nothing leaks.
        assert refusals[:2] == refusals[2:], (method, tail)
        assert tid.encode() not in b"".join(refusals)
    # admin may act on any pool.
    status, body = await desk.agent("ops", scope="admin").pull()
    assert status == 200 and body["lease"]["ticket_id"] == tid


async def test_an_expired_lease_returns_the_ticket_to_the_backlog(make_desk: DeskFactory) -> None:
    desk = await make_desk()
    [tid] = await desk.send([ticket(desk.run, 0)])
    ana = desk.agent("ana")
    _, body = await ana.pull(lease_seconds=1)
    lease = body["lease"]["lease_id"]

    async def queued_again() -> bool:
        _, listing = await ana.get("/assignments")
        return [t["ticket_id"] for t in listing["backlog"]] == [tid] and not listing["leased"]

    await wait_for(queued_again, timeout=15, what="the expired lease to be swept")
    status, err = await ana.act(tid, "accept", lease_id=lease)
    assert (status, err["error"]["reason"]) == (409, "expired")
    assert err["error"]["message"] == "your lease expired"

    async def expired() -> float:
        return desk.service.metric("router_leases_expired_total", {"pool": "vendor"})

    assert await counted(expired, 1, "the expiry counted") == 1
    status, again = await desk.agent("bob").pull()
    assert status == 200 and again["lease"]["ticket_id"] == tid


async def test_capacity_caps_open_leases(make_desk: DeskFactory) -> None:
    desk = await make_desk(vendor_capacity=2)
    ids = await desk.send([ticket(desk.run, i) for i in range(3)])
    ana = desk.agent("ana")
    leases = [(await ana.pull())[1]["lease"] for _ in range(2)]
    headers = {"Authorization": f"Bearer {desk.tokens['agent:vendor']}"}
    url = f"{desk.service.url}/v1/pools/vendor/assignments/next"
    async with desk.http.post(url, json={"agent": "ana"}, headers=headers) as r:
        assert r.status == 204
        assert r.headers["X-Router-Reason"] == "at-capacity"
    [left] = set(ids) - {lease["ticket_id"] for lease in leases}
    status, err = await ana.post(f"/assignments/{left}/claim", {"agent": "ana"})
    assert status == 429
    assert err["error"]["message"] == "pool vendor is at capacity; retry later"
    status, _ = await ana.act(leases[0]["ticket_id"], "complete", lease_id=leases[0]["lease_id"],
                              outcome="done")  # fmt: skip
    assert status == 200
    status, body = await ana.pull()
    assert status == 200 and body["lease"]["ticket_id"] == left


async def test_a_waiting_pull_wakes_when_a_ticket_arrives(make_desk: DeskFactory) -> None:
    desk = await make_desk()
    ana = desk.agent("ana")
    started = time.monotonic()
    waiting = asyncio.create_task(ana.pull(wait=25))
    await _waiting_at_server(desk, "ana")  # the request is out before the ticket
    [tid] = await desk.send([ticket(desk.run, 0)])
    status, body = await waiting
    elapsed = time.monotonic() - started
    assert status == 200 and body["lease"]["ticket_id"] == tid
    assert elapsed < 10, f"the pull waited {elapsed:.1f}s for a ticket that came at once"
    # A release wakes a waiting colleague too.
    waiting = asyncio.create_task(desk.agent("bob").pull(wait=25))
    await _waiting_at_server(desk, "bob")
    await ana.act(tid, "release", lease_id=body["lease"]["lease_id"])
    status, again = await waiting
    assert status == 200 and again["lease"]["ticket_id"] == tid


async def _waiting_at_server(desk: Desk, agent: str, pool: str = "vendor") -> None:
    """Return once ``agent``'s pull has reached the server's handler, which records the
    agent's heartbeat before it looks for a ticket and waits for one."""

    async def online() -> bool:
        agents = await desk.service.app[K.DESK].presence.agents(pool)
        return agent in agents["online"]

    await wait_for(online, timeout=10, what=f"{agent}'s pull at the server")


async def test_an_agent_that_hangs_up_while_waiting_gets_no_lease(make_desk: DeskFactory) -> None:
    desk = await make_desk()
    async with ClientSession() as gone_session:
        gone = Agent(gone_session, desk.service.url, "vendor", desk.tokens["agent:vendor"], "gone")
        waiting = asyncio.create_task(gone.pull(wait=25))
        await _waiting_at_server(desk, "gone")
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
    [tid] = await desk.send([ticket(desk.run, 0)])
    status, body = await desk.agent("bob").pull(wait=10)
    assert status == 200 and body["lease"]["ticket_id"] == tid


async def test_a_queue_consumer_claims_before_working(make_desk: DeskFactory) -> None:
    desk = await make_desk()
    ids = await desk.send([ticket(desk.run, i) for i in range(2)])
    channel = await desk.amqp.channel()
    messages = await drain(channel, desk.names.pool_queue("vendor"))
    assert sorted(m.message_id or "" for m in messages) == sorted(ids)
    tid = messages[0].message_id or ""
    ana, bob = desk.agent("ana"), desk.agent("bob")
    status, first = await ana.post(f"/assignments/{tid}/claim", {"agent": "ana"})
    assert status == 200
    assert first["lease"]["ticket_id"] == tid and first["lease"]["agent"] == "ana"
    assert first["assignment"]["ticket_masked"] is True
    status, err = await bob.post(f"/assignments/{tid}/claim", {"agent": "bob"})
    assert (status, err["error"]["reason"]) == (409, "not_yours")
    status, retried = await ana.post(f"/assignments/{tid}/claim", {"agent": "ana"})
    assert status == 200 and retried["lease"]["lease_id"] == first["lease"]["lease_id"]
    status, err = await bob.post("/assignments/not-a-ticket/claim", {"agent": "bob"})
    assert status == 404
    # The pull API serves the other ticket only: a claimed one left the backlog.
    status, pulled = await bob.pull()
    assert status == 200 and pulled["lease"]["ticket_id"] == ({*ids} - {tid}).pop()
    status, _ = await bob.pull()
    assert status == 204
    assert (
        desk.service.metric("router_leases_granted_total", {"pool": "vendor", "via": "claim"}) == 1
    )


async def test_escalation_moves_to_tier2_and_old_holders_hear_where(make_desk: DeskFactory) -> None:
    desk = await make_desk()
    [tid] = await desk.send([ticket(desk.run, 0)])
    channel = await desk.amqp.channel()
    assert len(await drain(channel, desk.names.pool_queue("vendor"))) == 1
    ana = desk.agent("ana")
    _, body = await ana.pull()
    lease = body["lease"]["lease_id"]
    status, moved = await ana.act(tid, "escalate", lease_id=lease, reason="needs a refund override")
    assert status == 200
    assert (moved["pool"], moved["moved"], moved["tier"]) == ("[other pool]", True, "tier2")
    assert moved["reasons"][0] == "escalated to tier2 by agent ana: needs a refund override"
    [message] = await drain(channel, desk.names.pool_queue("desk2"))
    assert message.message_id == tid
    published = orjson.loads(message.body)
    assert published["pool_id"] == "desk2" and published["ticket_masked"] is False
    for action, extra in (("accept", {}), ("complete", {"outcome": "x"})):
        status, err = await ana.act(tid, action, lease_id=lease, **extra)
        # A vendor hears that the ticket moved, never to which other pool.
        assert (status, err["error"]["reason"], "pool" in err["error"]) == (409, "moved", False)
    # The vendor's stale queue message: the claim says it went elsewhere.
    status, err = await ana.post(f"/assignments/{tid}/claim", {"agent": "ana"})
    assert status == 409 and err["error"]["message"] == "the ticket moved to another pool"
    status, pulled = await desk.agent("dee", pool="desk2").pull()
    assert status == 200 and pulled["assignment"]["tier"] == "tier2"
    assert pulled["assignment"]["ticket"]["customer"]["email"] == "maria.lopez@example.com"
    record = await desk.record(tid)
    assignment = record["assignment"]
    assert isinstance(assignment, dict)
    assert [(m["kind"], m["from"], m["to"], m["agent"]) for m in assignment["moves"]] == [
        ("agent", "vendor", "desk2", "ana")
    ]
    assert (await desk.redis_int("load:vendor"), await desk.redis_int("load:desk2")) == (0, 1)
    assert (
        desk.service.metric(
            "router_escalations_total", {"kind": "agent", "from_pool": "vendor", "to_pool": "desk2"}
        )
        == 1
    )


async def test_escalation_and_release_keep_eu_data_in_the_eu(make_desk: DeskFactory) -> None:
    desk = await make_desk()
    [tid] = await desk.send([ticket(desk.run, 0, country="DE")])
    assert (await desk.record(tid))["assignment"]["pool_id"] == "eu-desk"  # type: ignore[index]
    eva = desk.agent("eva", pool="eu-desk")
    _, body = await eva.pull()
    status, moved = await eva.act(tid, "escalate", lease_id=body["lease"]["lease_id"],
                                  reason="tier 2 please")  # fmt: skip
    assert status == 200
    assert (moved["pool"], moved["moved"], moved["tier"]) == ("eu-desk", False, "tier2")
    _, body = await eva.pull()
    assert body["lease"]["ticket_id"] == tid
    status, released = await eva.act(tid, "release", lease_id=body["lease"]["lease_id"])
    assert (status, released["pool"]) == (200, "eu-desk")
    channel = await desk.amqp.channel()
    assert await drain(channel, desk.names.pool_queue("desk2")) == []
    assert (await states(desk.redis, desk.names, [tid])) == {tid: "assigned"}
    assert await desk.redis.hget(f"{desk.names.redis_prefix}t:{tid}", "pool") == b"eu-desk"
    # The vendor never held it, so its agents cannot even learn that it exists.
    status, _ = await desk.agent("ana").post(f"/assignments/{tid}/claim", {"agent": "ana"})
    assert status == 404


async def test_presence_and_the_supervisors_view(make_desk: DeskFactory) -> None:
    desk = await make_desk()
    ids = await desk.send([ticket(desk.run, i) for i in range(3)])
    ana = desk.agent("ana")
    for name, status in (("ana", "online"), ("bob", "away"), ("cy", "offline")):
        code, beat = await ana.post(f"/agents/{name}/presence", {"status": status})
        assert code == 200 and beat["status"] == status and beat["expires_at"].endswith("Z")
    _, body = await desk.agent("dan").pull()
    code, pool = await ana.get()
    assert code == 200
    assert pool["agents"] == {"online": ["ana", "dan"], "away": ["bob"], "offline": ["cy"]}
    assert pool["agent_counts"] == {"online": 2, "away": 1, "offline": 1}
    code, listing = await ana.get("/assignments?limit=10")
    assert code == 200
    assert (listing["queued"], listing["open"]) == (2, 1)
    assert [t["ticket_id"] for t in listing["backlog"]] == [
        i for i in ids if i != body["lease"]["ticket_id"]
    ]
    [held] = listing["leased"]
    assert (held["ticket_id"], held["agent"], held["state"]) == (
        body["lease"]["ticket_id"], "dan", "leased")  # fmt: skip
    text = orjson.dumps(listing).decode()
    assert body["lease"]["lease_id"] not in text
    assert "maria.lopez" not in text
    code, err = await ana.get("/assignments?limit=0")
    assert code == 400 and err["error"]["field"] == "limit"
    code, err = await desk.agent("ops", pool="nowhere", scope="admin").get()
    assert code == 404
