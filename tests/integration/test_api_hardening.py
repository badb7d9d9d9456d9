"""The API findings of the data-protection review, each against the running service:
bodies read whole, 413, caps, health checks during a large preview, strict JSON
(duplicate keys, depth, ids, big integers, types), one error shape, the last admin
token, the failed-authentication limit and tokens bound to one agent."""

from __future__ import annotations

import asyncio
import copy
import time
import unicodedata
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jsonschema
import orjson
import pytest
import redis.asyncio as aioredis
import yaml
from aio_pika.abc import AbstractRobustConnection
from aiohttp import ClientSession

from queues.token_store import RedisTokenStore
from router.config.schema import MAX_POOLS, MAX_RULES
from router.core.tokens import LastAdminTokenError, parse_scopes
from router.http.openapi import openapi_document
from router.service.settings import Names
from tests.conftest import EXAMPLE_CONFIG
from tests.faults.router_proc import RouterProcess
from tests.integration.conftest import (
    RunningService,
    bearer,
    drain,
    drain_pools,
    publish,
    wait_for,
)
from tests.integration.health_probe import probing
from tests.integration.test_leases_helpers import POOLS as LEASE_POOLS
from tests.integration.test_leases_helpers import (
    Agent,
    lease_config,
    wait_all_assigned,
    write_config,
)
from tests.integration.test_leases_helpers import ticket as lease_ticket
from tests.tickets import make_tickets

pytestmark = pytest.mark.integration

EXAMPLE: dict[str, Any] = yaml.safe_load(EXAMPLE_CONFIG.read_text())
POOL_IDS = [str(p["id"]) for p in EXAMPLE["pools"]]
ADMIN_TOKEN = {"name": "x", "scopes": ["admin"]}
PULL = "/v1/pools/hq-tier1/assignments/next"


def _error(body: Any, status: int, field: str | None) -> str:
    """Assert the one error shape; return the message."""
    assert set(body) == {"error"}, body
    error = body["error"]
    assert (error["status"], error["field"]) == (status, field), error
    assert isinstance(error["message"], str) and error["message"], error
    return str(error["message"])


def _padded(rules: int, description: int) -> dict[str, Any]:
    """The example config plus ``rules`` rules with long descriptions (size on demand)."""
    doc = copy.deepcopy(EXAMPLE)
    doc.pop("version", None)
    doc["rules"] = [
        *doc.get("rules", []),
        *(
            {
                "id": f"pad-{i:04d}",
                "description": "x" * description,
                "match": {"tiers": ["tier9"]},
                "pools": POOL_IDS[:2],
            }
            for i in range(rules)
        ),
    ]
    return doc


def _many_pools(n: int) -> dict[str, Any]:
    """The example config with ``n`` pools in all (copies of its first pool)."""
    doc = copy.deepcopy(EXAMPLE)
    doc.pop("version", None)
    template = doc["pools"][0]
    doc["pools"] += [{**template, "id": f"copy-{i:04d}"} for i in range(n - len(doc["pools"]))]
    return doc


@pytest.fixture
async def admin(tokens: dict[str, str]) -> AsyncIterator[ClientSession]:
    """An admin session (same as ``admin_http``, shorter)."""
    async with ClientSession(headers=bearer(tokens["admin"])) as session:
        yield session


# -- the config body: read whole, 413, caps ------------------------------------------------


@pytest.mark.parametrize("encoding", ["json", "yaml"])
async def test_a_large_config_is_stored_whole(
    service: RunningService, admin: ClientSession, encoding: str
) -> None:
    doc = _padded(rules=1900, description=420)
    body = orjson.dumps(doc) if encoding == "json" else yaml.safe_dump(doc).encode()
    assert 850_000 < len(body) < 1024 * 1024  # large, under the limit
    async with admin.put(f"{service.url}/v1/config", data=body) as r:
        assert r.status == 200, await r.text()
        put = await r.json()
    assert any("pad-1899" in line for line in put["diff"])  # the end of the body arrived
    async with admin.get(f"{service.url}/v1/config") as r:
        stored = (await r.json())["config"]
    assert len(stored["rules"]) == len(doc["rules"])
    assert stored["rules"][-1]["id"] == "pad-1899"
    assert stored["rules"][-1]["description"] == "x" * 420


async def _chunks(data: bytes, size: int = 65_536) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.parametrize("path", ["/v1/config", "/v1/config/preview"])
@pytest.mark.parametrize("chunked", [False, True])
async def test_a_config_over_the_limit_is_413(
    service: RunningService, admin: ClientSession, path: str, chunked: bool
) -> None:
    body = orjson.dumps(_padded(rules=1900, description=700))
    assert len(body) > 1024 * 1024
    method = admin.put if path == "/v1/config" else admin.post
    data: Any = _chunks(body) if chunked else body  # chunked: no Content-Length to trust
    async with method(f"{service.url}{path}", data=data) as r:
        assert r.status == 413
        message = _error(await r.json(), 413, "body")
    assert "1048576-byte limit" in message
    async with admin.get(f"{service.url}/v1/config/versions") as r:
        assert len((await r.json())["versions"]) == 1  # nothing stored


async def test_pools_and_rules_are_capped_with_the_count_named(
    service: RunningService, admin: ClientSession
) -> None:
    async with admin.put(f"{service.url}/v1/config", data=orjson.dumps(_many_pools(501))) as r:
        assert r.status == 400
        message = _error(await r.json(), 400, "pools")
    assert f"at most {MAX_POOLS} items" in message and "501" in message
    many_rules = _padded(rules=MAX_RULES + 1 - len(EXAMPLE["rules"]), description=0)
    async with admin.put(f"{service.url}/v1/config", data=orjson.dumps(many_rules)) as r:
        assert r.status == 400
        message = _error(await r.json(), 400, "rules")
    assert f"at most {MAX_RULES} items" in message and str(MAX_RULES + 1) in message
    # At the caps exactly it is a config (previewed, not put in force: no 500 queues).
    at_caps = _padded(rules=MAX_RULES - len(EXAMPLE["rules"]), description=0)
    at_caps["pools"] = _many_pools(MAX_POOLS)["pools"]
    async with admin.post(f"{service.url}/v1/config/preview", data=orjson.dumps(at_caps)) as r:
        assert r.status == 200, await r.text()


async def test_health_checks_stay_fast_during_a_large_preview(
    served: RouterProcess, admin: ClientSession, http: ClientSession
) -> None:
    service = served
    tickets = make_tickets(60, seed=71)
    for ticket in tickets:
        async with http.post(f"{service.url}/v1/tickets", json=ticket) as r:
            assert r.status == 202

    async def routed() -> bool:
        async with admin.get(f"{service.url}/v1/tickets/{tickets[-1]['id']}") as r:
            return r.status == 200

    await wait_for(routed, what="the tickets routed")
    candidate = _padded(rules=MAX_RULES - len(EXAMPLE["rules"]), description=200)
    candidate["pools"] = _many_pools(MAX_POOLS)["pools"]
    body = yaml.safe_dump(candidate).encode()  # the slow decoder: YAML
    async with probing(f"{service.url}/healthz") as prober:
        start = time.perf_counter()
        async with admin.post(f"{service.url}/v1/config/preview?n=5000", data=body) as r:
            took = time.perf_counter() - start
            prober.stop()
            status, preview = r.status, await r.json()
    latencies, worst = prober.latencies, prober.worst
    assert status == 200, preview
    assert preview["tickets"] >= 60
    print(
        f"preview of a {len(body)} B, {MAX_POOLS}-pool config on {preview['tickets']} tickets: "
        f"{took:.2f} s; /healthz meanwhile: {len(latencies)} probes, worst {worst * 1000:.0f} ms"
    )
    assert took > 0.5 and len(latencies) >= 5  # a preview long enough to measure against
    assert worst < 0.25


# -- strict ticket JSON, over HTTP and AMQP ------------------------------------------------


async def _post_raw(http: ClientSession, service: RunningService, raw: bytes) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    async with http.post(f"{service.url}/v1/tickets", data=raw, headers=headers) as r:
        return r.status, await r.json()


def _deep(levels: int) -> bytes:
    inner = b'"x"'
    for _ in range(levels - 1):
        inner = b'{"k":' + inner + b"}"
    return b'{"id":"deep-1","body":"x","metadata":' + inner + b"}"


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        (b'{"id":"d-1","body":"x","body":"y"}', "body", "'body' appears twice"),
        (b'{"id":"d-2","body":"x","metadata":{"a":{"b":1,"b":2}}}', "body", "'b' appears twice"),
        (_deep(300), "metadata", "32 levels"),
        (_deep(33), "metadata", "32 levels"),
        (b'{"id":"a\\u0000b","body":"x"}', "id", "U+0000"),
        (b'{"id":"a\\u202eb","body":"x"}', "id", "U+202E"),
        (b'{"id":"big-1","body":"x","metadata":{"n":18446744073709551616}}', "body", "64-bit"),
        (b'{"id":"ts-1","body":"x","created_at":1700000000}', "created_at", "RFC 3339"),
    ],
)
async def test_tickets_are_refused_with_the_field_named(
    service: RunningService, http: ClientSession, raw: bytes, field: str, words: str
) -> None:
    status, body = await _post_raw(http, service, raw)
    assert status == 400
    assert words in _error(body, 400, field)


async def test_poison_tickets_over_amqp_are_dead_lettered_alone(
    service: RunningService, amqp: AbstractRobustConnection, names: Names
) -> None:
    poison = {
        b'{"id":"p-dup","body":"x","body":"y"}': "duplicate_key",
        _deep(300): "too_deep",
        b'{"id":"p\\u0000nul","body":"x"}': "invalid_id",
        b'{"id":"p-big","body":"x","metadata":{"n":99999999999999999999999}}': "number_too_large",
    }
    good = make_tickets(30, seed=72)
    bodies = (
        [orjson.dumps(t) for t in good[:15]] + list(poison) + [orjson.dumps(t) for t in good[15:]]
    )
    channel = await amqp.channel()
    await publish(channel, names, bodies)

    async def settled() -> bool:
        seen = service.metric("router_tickets_received_total", {"transport": "amqp"})
        return seen >= len(bodies) and service.metric("router_tickets_in_flight") == 0

    await wait_for(settled, what="every message processed")
    dead = {m.body: m.headers["x-router-reason"] for m in await drain(channel, names.dead_queue)}
    assert dead == poison
    routed = await drain_pools(channel, names, tuple(POOL_IDS))
    assert sorted(a["ticket_id"] for v in routed.values() for a in v) == sorted(
        t["id"] for t in good
    )


async def test_nfc_and_nfd_spellings_of_an_id_are_one_ticket(
    service: RunningService, http: ClientSession
) -> None:
    nfd = "Jose\u0301-0001"
    nfc = unicodedata.normalize("NFC", nfd)
    assert nfc != nfd
    ticket = {**make_tickets(1, seed=73)[0], "id": nfd}
    status, body = await _post_raw(http, service, orjson.dumps(ticket))
    assert (status, body) == (202, {"id": nfc, "status": "accepted"})

    async def routed() -> bool:
        async with http.get(f"{service.url}/v1/tickets/{quote(nfd)}") as r:
            return r.status == 200

    await wait_for(routed, what="the ticket routed")
    status, body = await _post_raw(http, service, orjson.dumps({**ticket, "id": nfc}))
    assert (status, body["status"]) == (202, "duplicate")
    async with http.get(f"{service.url}/v1/tickets/{quote(nfc)}") as r:
        record = await r.json()
    assert record["id"] == nfc and record["assignment"]["ticket"]["id"] == nfc
    assert (
        service.metric("router_tickets_assigned_total", {"pool": record["assignment"]["pool_id"]})
        == 1
    )


async def test_big_integers_within_64_bits_stay_exact(
    service: RunningService, http: ClientSession
) -> None:
    ticket = {**make_tickets(1, seed=74)[0], "metadata": {"crm": 2**63 + 1, "neg": -(2**63)}}
    status, _ = await _post_raw(http, service, orjson.dumps(ticket))
    assert status == 202

    async def routed() -> bool:
        async with http.get(f"{service.url}/v1/tickets/{ticket['id']}") as r:
            return r.status == 200

    await wait_for(routed, what="the ticket routed")
    async with http.get(f"{service.url}/v1/tickets/{ticket['id']}") as r:
        raw = await r.read()
    metadata = orjson.loads(raw)["assignment"]["ticket"]["metadata"]
    assert metadata == {"crm": 2**63 + 1, "neg": -(2**63)}
    assert b'"crm":9223372036854775809' in raw  # the digits, not a float


# -- strict parameters and bodies; no 500 for bad input -----------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("GET", "/v1/config/versions?limit=null", None, "limit"),
        ("GET", "/v1/config/versions?limit=5.0", None, "limit"),
        ("GET", "/v1/config/versions?limit=0", None, "limit"),
        ("GET", "/v1/admin/audit?n=1e3", None, "n"),
        ("POST", "/v1/admin/tokens", {**ADMIN_TOKEN, "expires_in_days": 1e308}, "expires_in_days"),
        ("POST", "/v1/admin/tokens", {**ADMIN_TOKEN, "expires_in_days": True}, "expires_in_days"),
        # Found by the fuzz run: a name Python strips to nothing (U+001F) was a 500.
        ("POST", "/v1/admin/tokens", {"name": "\u001f", "scopes": ["agent:0"]}, "name"),
        ("POST", "/v1/admin/tokens", {"name": "ops\u0000", "scopes": ["ingest"]}, "name"),
        ("POST", "/v1/admin/tokens", {"name": "x", "scopes": ["ingest"], "role": "root"}, "role"),
        ("POST", "/v1/admin/tokens", {"name": "x", "scopes": ["ingest"], "agent": "ana"}, "agent"),
        ("POST", "/v1/config/rollback", {"version": "1"}, "version"),
        ("POST", "/v1/config/rollback", {"version": True}, "version"),
        ("POST", "/v1/config/preview?n=abc", {"pools": []}, "n"),
        ("POST", "/v1/config/preview", {"config": {}, "n": True}, "n"),
        ("POST", PULL, {"agent": "ana", "wait": "5"}, "wait"),
        ("POST", PULL, {"agent": "ana", "wait": True}, "wait"),
        ("POST", PULL, {"agent": "ana", "lease_seconds": 5.5}, "lease_seconds"),
        ("GET", "/v1/pools/hq-tier1/assignments?limit=null", None, "limit"),
        # Found by the fuzz run: a week at the calendar's end overflowed (500).
        ("GET", "/v1/coverage?tz=GB&week=0001-01-01", None, "week"),
        ("GET", "/v1/coverage?week=9999-12-31", None, "week"),
    ],
)  # fmt: skip
async def test_bad_parameters_are_400_naming_the_field(
    service: RunningService,
    admin: ClientSession,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    field: str,
) -> None:
    async with admin.request(method, service.url + path, json=body) as r:
        assert r.status == 400, await r.text()
        _error(await r.json(), 400, field)


async def test_a_bad_if_match_and_duplicate_keys_in_a_config_are_400(
    service: RunningService, admin: ClientSession
) -> None:
    doc = orjson.dumps(_padded(rules=0, description=0))
    async with admin.put(f"{service.url}/v1/config", data=doc, headers={"If-Match": "1e9"}) as r:
        assert r.status == 400
        _error(await r.json(), 400, "If-Match")
    for raw in (b'{"pools": [], "pools": []}', b"pools: []\npools: []\n"):
        async with admin.put(f"{service.url}/v1/config", data=raw) as r:
            assert r.status == 400
            assert "appears twice" in _error(await r.json(), 400, "body")


async def test_unknown_routes_and_methods_answer_the_error_shape(
    service: RunningService, admin: ClientSession
) -> None:
    async with admin.get(f"{service.url}/v1/nothing-here") as r:
        assert (r.status, r.content_type) == (404, "application/json")
        _error(await r.json(), 404, None)
    async with admin.delete(f"{service.url}/v1/tickets") as r:
        assert (r.status, r.content_type) == (405, "application/json")
        assert "POST" in _error(await r.json(), 405, None)
        assert "POST" in r.headers["Allow"]
    async with ClientSession() as anonymous, anonymous.put(f"{service.url}/healthz") as r:
        assert r.status == 405
        _error(await r.json(), 405, None)


async def test_no_path_is_public_but_the_operational_ones(service: RunningService) -> None:
    # The dashboard's shell and assets are public too (tests/integration/test_sessions.py).
    async with ClientSession() as anonymous:
        for path in ("/dashboardx", "/dashboard/x", "/healthz/../v1/config", "/metrics/x"):
            async with anonymous.get(service.url + path) as r:
                assert r.status == 401, path
                _error(await r.json(), 401, "Authorization")
        async with anonymous.get(f"{service.url}/openapi.json") as r:
            doc = await r.json()
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.json"):
        assert doc["paths"][path]["get"]["security"] == [], path
    assert doc["security"] == [{"bearer": []}, {"session": []}]


# -- tokens: the last admin, failed authentication, agents ---------------------------------


async def test_the_last_admin_token_cannot_be_revoked(
    service: RunningService, admin: ClientSession, tokens: dict[str, str]
) -> None:
    first_id = tokens["admin"].split("_")[1]
    async with admin.delete(f"{service.url}/v1/admin/tokens/{first_id}") as r:
        assert r.status == 409
        assert "last active admin token" in _error(await r.json(), 409, "token_id")
    async with admin.post(
        f"{service.url}/v1/admin/tokens", json={"name": "ops 2", "scopes": ["admin"]}
    ) as r:
        assert r.status == 201
        second = await r.json()
    # Two admins revoking each other at once: exactly one of them wins.
    async with ClientSession(headers=bearer(second["token"])) as other:
        a, b = await asyncio.gather(
            admin.delete(f"{service.url}/v1/admin/tokens/{second['id']}"),
            other.delete(f"{service.url}/v1/admin/tokens/{first_id}"),
        )
        statuses = sorted([a.status, b.status])
        a.release()
        b.release()
    # One revoke wins; the other is refused as the last admin token's, or its own token
    # was revoked first (401). Never both.
    assert statuses[0] == 204 and statuses[1] in (401, 409), statuses
    survivors = []
    for plaintext in (tokens["admin"], second["token"]):
        async with (
            ClientSession(headers=bearer(plaintext)) as session,
            session.get(f"{service.url}/v1/admin/tokens") as r,
        ):
            if r.status == 200:
                survivors.append(plaintext)
                listed = (await r.json())["tokens"]
    assert len(survivors) == 1
    active_admins = [t for t in listed if "admin" in t["scopes"] and t["revoked_at"] is None]
    assert len(active_admins) == 1


async def test_failed_authentication_is_limited_per_address(
    service: RunningService, tokens: dict[str, str]
) -> None:
    url = f"{service.url}/v1/config"
    async with ClientSession() as client:
        for _ in range(150):  # no credential at all guesses nothing: never counted
            async with client.get(url) as r:
                assert r.status == 401
        start = time.monotonic()
        refused_after = None
        for i in range(200):
            async with client.get(url, headers=bearer(f"trt_{i:016x}_guess")) as r:
                if r.status == 429:
                    refused_after = i
                    retry_after = int(r.headers["Retry-After"])
                    _error(await r.json(), 429, None)
                    break
                assert r.status == 401
        elapsed = time.monotonic() - start
        assert refused_after is not None
        # 100 at once, then 2 a second.
        assert 100 <= refused_after <= 100 + 2 * elapsed + 1, (refused_after, elapsed)
        assert 1 <= retry_after <= 1
        async with client.get(url, headers=bearer(tokens["admin"])) as r:
            assert r.status == 429  # the address waits, whatever it presents now

        async def allowed_again() -> bool:
            async with client.get(url, headers=bearer(tokens["admin"])) as r:
                return r.status == 200

        await wait_for(allowed_again, timeout=5, what="the bucket refilled")


async def test_a_token_bound_to_an_agent_acts_only_as_that_agent(
    start_service: Any,
    redis_client: aioredis.Redis,
    amqp: AbstractRobustConnection,
    names: Names,
    suffix: str,
    model_dir: Path,
    tmp_path: Path,
    extra_pools: list[str],
) -> None:
    extra_pools.extend(LEASE_POOLS)
    path = write_config(tmp_path / "config.json", lease_config(model_dir))
    service = await start_service(config_path=path)
    store = RedisTokenStore(redis_client, names.redis_prefix)
    vendor = parse_scopes(["agent:vendor"])
    ana_token, _ = await store.create("ana's", vendor, agent="ana")
    bob_token, _ = await store.create("bob's", vendor, agent="bob")
    pool_token, _ = await store.create("vendor integration", vendor)
    channel = await amqp.channel()
    tickets = [lease_ticket(suffix, i) for i in range(2)]
    await publish(channel, names, [orjson.dumps(t) for t in tickets])
    await wait_all_assigned(redis_client, names, [str(t["id"]) for t in tickets])
    async with ClientSession() as http:
        ana = Agent(http, service.url, "vendor", ana_token, "ana")
        bob = Agent(http, service.url, "vendor", bob_token, "bob")
        status, got = await bob.pull()
        assert status == 200
        tid, lease = got["lease"]["ticket_id"], got["lease"]["lease_id"]
        # The masked vendor's lease grant is what the OpenAPI document says it is.
        doc = openapi_document()
        grant = doc["paths"]["/v1/pools/{pool}/assignments/next"]["post"]["responses"]["200"]
        jsonschema.validate(
            got, {**grant["content"]["application/json"]["schema"], "components": doc["components"]}
        )
        assert got["assignment"]["data_access"] == "masked"
        # Ana's token, given Bob's lease id: refused, and the lease is untouched.
        for action, extra in (
            ("accept", {}),
            ("extend", {"seconds": 60}),
            ("release", {}),
            ("complete", {"outcome": "x"}),
            ("escalate", {"reason": "x"}),
        ):
            status, err = await ana.act(tid, action, lease_id=lease, **extra)
            assert (status, err["error"]["reason"]) == (409, "not_yours"), action
        # Nor may Ana's token speak as Bob.
        impostor = Agent(http, service.url, "vendor", ana_token, "bob")
        status, err = await impostor.pull()
        assert status == 403 and "'ana'" in _error(err, 403, "agent")
        status, err = await impostor.post(f"/assignments/{tid}/claim", {"agent": "bob"})
        assert status == 403
        _error(err, 403, "agent")
        status, err = await impostor.post("/agents/bob/presence", {"status": "away"})
        assert status == 403
        # Bob acts on his own lease; a pool-wide token still acts for its agents.
        status, done = await bob.act(tid, "accept", lease_id=lease)
        assert (status, done["state"]) == (200, "accepted")
        integration = Agent(http, service.url, "vendor", pool_token, "bob")
        status, done = await integration.act(tid, "complete", lease_id=lease, outcome="resolved")
        assert (status, done["state"]) == (200, "completed")
        status, got = await ana.pull()
        assert status == 200 and got["lease"]["agent"] == "ana"


async def test_the_store_counts_only_active_admin_tokens(
    redis_client: aioredis.Redis, names: Names
) -> None:
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    store = RedisTokenStore(redis_client, names.redis_prefix, clock=lambda: now)
    admin = parse_scopes(["admin"])
    _, first = await store.create("ops", admin)
    _, expired = await store.create("old ops", admin, expires_at=now - timedelta(seconds=1))
    _, agent = await store.create("vendor", parse_scopes(["agent:vendor"]), agent="ana")
    with pytest.raises(LastAdminTokenError):
        await store.revoke(first.token_id)  # the expired admin token does not count
    assert await store.revoke(agent.token_id) is True  # other tokens: as before
    assert await store.revoke(expired.token_id) is True  # not active: may go
    _, second = await store.create("ops 2", admin, expires_at=now + timedelta(days=1))
    assert await store.revoke(first.token_id) is True
    with pytest.raises(LastAdminTokenError):
        await store.revoke(second.token_id)
    listed = {i.token_id: i for i in await store.list()}
    assert listed[second.token_id].revoked_at is None
    assert listed[agent.token_id].agent == "ana"


async def test_an_unreadable_token_record_is_skipped_not_a_500(
    service: RunningService, admin: ClientSession, redis_client: aioredis.Redis, names: Names
) -> None:
    await redis_client.hset(f"{names.redis_prefix}tokens", "00000000deadbeef", b"{not json")
    async with admin.get(f"{service.url}/v1/admin/tokens") as r:
        assert r.status == 200
        listed = (await r.json())["tokens"]
    assert "00000000deadbeef" not in {t["id"] for t in listed}
    assert len(listed) >= 1
