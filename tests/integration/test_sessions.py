"""Dashboard sign-in and the viewer scope against the running service (real Redis and
RabbitMQ): the viewer reads every ops read and changes nothing; a session's cookie,
its CSRF value, sign-out, revocation and expiry; the public dashboard paths and the
attempts to slip past them; failed sign-ins rate-limited like bad bearer tokens."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest
import redis.asyncio as aioredis
from aiohttp import ClientResponse, ClientSession

from queues.token_store import RedisTokenStore
from router.cli import tokens as token_commands
from router.config.load import load_config
from router.core.kpi import vendor_key
from router.core.tokens import parse_scopes
from router.http import appkeys as K
from router.http.auth import FAILURE_BURST
from router.service.settings import Names
from tests.conftest import EXAMPLE_CONFIG, REDIS_URL
from tests.integration.conftest import RunningService, bearer

pytestmark = pytest.mark.integration

POOL = "andes-bpo"
VENDOR = vendor_key(load_config(EXAMPLE_CONFIG).pool(POOL).vendor or "")
JSON = {"Content-Type": "application/json"}


async def _token(redis_client: aioredis.Redis, names: Names, scope: str) -> str:
    store = RedisTokenStore(redis_client, names.redis_prefix)
    plaintext, _ = await store.create(f"person {scope}", parse_scopes([scope]))
    return plaintext


async def _sign_in(s: ClientSession, service: RunningService, token: str) -> ClientResponse:
    async with s.post(f"{service.url}/v1/session", json={"token": token}) as r:
        await r.read()
        return r


def _cookie_parts(response: ClientResponse) -> tuple[str, set[str]]:
    """The session cookie's value and its attributes, exactly as sent."""
    headers = response.headers.getall("Set-Cookie")
    assert len(headers) == 1, headers
    first, *attributes = (part.strip() for part in headers[0].split(";"))
    name, _, value = first.partition("=")
    assert name == "tr_session"
    return value, set(attributes)


async def _signed_in(
    s: ClientSession, service: RunningService, token: str
) -> tuple[dict[str, str], str]:
    """(the Cookie header of a new session, its csrf value)."""
    r = await _sign_in(s, service, token)
    assert r.status == 200
    value, _ = _cookie_parts(r)
    return {"Cookie": f"tr_session={value}"}, (await r.json())["csrf"]


async def _raw_status(service: RunningService, target: str) -> int:
    """The status of ``GET target`` sent verbatim: no client normalises the path."""
    parts = urlsplit(service.url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    writer.write(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    await writer.wait_closed()
    return int(status_line.split()[1])


def _b(value: bytes | str) -> bytes:
    assert isinstance(value, bytes)  # the client does not decode responses
    return value


READS = [
    "/v1/config",
    "/v1/config/versions",
    "/v1/coverage",
    "/v1/stats",
    f"/v1/vendors/{VENDOR}/scorecard",
    "/v1/admin/audit",
    "/v1/admin/tokens",
    f"/v1/pools/{POOL}",
    f"/v1/pools/{POOL}/assignments",
]
WRITES: list[tuple[str, str, Any]] = [
    ("PUT", "/v1/config", {"pools": []}),
    ("POST", "/v1/config/rollback", {"version": 1}),
    ("POST", "/v1/config/preview", {"pools": []}),
    ("POST", "/v1/admin/tokens", {"name": "x", "scopes": ["admin"]}),
    ("DELETE", "/v1/admin/tokens/0123456789abcdef", None),
    ("POST", "/v1/tickets", {"id": "V-1", "subject": "hello"}),
    ("POST", f"/v1/pools/{POOL}/assignments/next", {"agent": "ana", "wait": 0}),
    ("POST", f"/v1/pools/{POOL}/agents/ana/presence", {"status": "online"}),
    ("POST", f"/v1/pools/{POOL}/assignments/T-1/claim", {"agent": "ana"}),
]


async def test_a_viewer_reads_every_ops_read_and_changes_nothing(
    service: RunningService, redis_client: aioredis.Redis, names: Names
) -> None:
    viewer = bearer(await _token(redis_client, names, "viewer"))
    async with ClientSession() as s:
        for path in READS:
            async with s.get(service.url + path, headers=viewer) as r:
                assert r.status == 200, (path, r.status, await r.text())
        for method, path, body in WRITES:
            async with s.request(method, service.url + path, json=body, headers=viewer) as r:
                assert r.status == 403, (method, path, r.status, await r.text())
                error = (await r.json())["error"]
                assert error["message"].startswith("this token does not have the scope")
        # Tickets hold customer data: a viewer reads no ticket (as for an unknown id).
        async with s.get(f"{service.url}/v1/tickets/ZD-1", headers=viewer) as r:
            assert r.status == 403
        async with s.get(f"{service.url}/v1/config", headers=viewer) as r:
            assert (await r.json())["version"] == service.app[K.CONFIG].value.version


async def test_sign_in_sets_the_cookie_and_answers_the_session(
    service: RunningService, redis_client: aioredis.Redis, names: Names
) -> None:
    token = await _token(redis_client, names, "viewer")
    async with ClientSession() as s:
        before = datetime.now(UTC).replace(microsecond=0)
        r = await _sign_in(s, service, token)
        after = datetime.now(UTC)
        assert r.status == 200
        value, attributes = _cookie_parts(r)
        assert attributes == {"HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=28800"}
        assert len(value) >= 43  # 256 random bits, URL-safe
        body = await r.json()
        assert set(body) == {"name", "scopes", "csrf", "expires_at"}
        assert (body["name"], body["scopes"]) == ("person viewer", ["viewer"])
        assert len(body["csrf"]) >= 43 and body["csrf"] != value
        expires = datetime.fromisoformat(body["expires_at"])
        assert body["expires_at"].endswith("Z")
        assert before + timedelta(hours=8) <= expires <= after + timedelta(hours=8)

        cookie = {"Cookie": f"tr_session={value}"}
        async with s.get(f"{service.url}/v1/session", headers=cookie) as again:
            assert again.status == 200
            assert await again.json() == body
        async with s.get(f"{service.url}/v1/stats", headers=cookie) as stats:
            assert stats.status == 200

    # Stored under the hash of the id, never the id; with its token and csrf; 8 h TTL.
    key = f"{names.redis_prefix}session:{hashlib.sha256(value.encode()).hexdigest()}"
    stored = {_b(k): _b(v) for k, v in (await redis_client.hgetall(key)).items()}
    assert set(stored) == {b"token_id", b"csrf", b"created_at", b"expires_at"}
    assert stored[b"csrf"].decode() == body["csrf"]
    assert token.split("_")[1] == stored[b"token_id"].decode()
    assert 28_790 <= await redis_client.ttl(key) <= 28_800
    assert value.encode() not in b" ".join(stored.values())
    async for found in redis_client.scan_iter(match=f"{names.redis_prefix}*"):
        assert value.encode() not in found


async def test_cookie_requests_that_change_something_need_the_csrf_value(
    service: RunningService, redis_client: aioredis.Redis, names: Names, tokens: dict[str, str]
) -> None:
    url = f"{service.url}/v1/config"
    async with ClientSession() as s:
        async with s.get(url, headers=bearer(tokens["admin"])) as r:
            document = orjson.dumps((await r.json())["config"])
        cookie, csrf = await _signed_in(s, service, tokens["admin"])
        for extra in ({}, {"X-CSRF-Token": "not-it"}, {"X-CSRF-Token": csrf[:-1]}):
            async with s.put(url, data=document, headers={**cookie, **extra}) as r:
                assert r.status == 403, extra
                error = (await r.json())["error"]
                assert error["field"] == "X-CSRF-Token"
        async with s.put(url, data=document, headers={**cookie, "X-CSRF-Token": csrf}) as r:
            assert r.status == 200, await r.text()
            assert (await r.json())["number"] == 2
        async with s.get(f"{service.url}/v1/admin/audit", headers=cookie) as r:
            record = (await r.json())["records"][0]
        assert record["action"] == "config.put"
        assert record["actor"].startswith("token:")  # the token behind the session

        viewer, viewer_csrf = await _signed_in(
            s, service, await _token(redis_client, names, "viewer")
        )
        async with s.put(url, data=document, headers={**viewer, "X-CSRF-Token": viewer_csrf}) as r:
            assert r.status == 403
            assert (await r.json())["error"]["message"] == (
                "this token does not have the scope admin"
            )
        # A bearer request needs no CSRF value, as before.
        async with s.put(url, data=document, headers=bearer(tokens["admin"])) as r:
            assert r.status == 200


async def test_sign_out_ends_the_session_and_clears_the_cookie(
    service: RunningService, redis_client: aioredis.Redis, names: Names
) -> None:
    async with ClientSession() as s:
        cookie, csrf = await _signed_in(s, service, await _token(redis_client, names, "viewer"))
        async with s.delete(f"{service.url}/v1/session", headers=cookie) as r:
            assert r.status == 403  # no CSRF value: a third party cannot sign you out
        async with s.delete(
            f"{service.url}/v1/session", headers={**cookie, "X-CSRF-Token": csrf}
        ) as r:
            assert r.status == 204
            value, attributes = _cookie_parts(r)
        assert value in ("", '""')
        assert "Max-Age=0" in attributes and "Path=/" in attributes
        for path in ("/v1/session", "/v1/config"):
            async with s.get(service.url + path, headers=cookie) as r:
                assert r.status == 401, path
                assert (await r.json())["error"]["field"] == "tr_session"
    assert [k async for k in redis_client.scan_iter(match=f"{names.redis_prefix}session:*")] == []


async def test_revoking_or_expiring_the_token_ends_its_sessions(
    service: RunningService, redis_client: aioredis.Redis, names: Names, tokens: dict[str, str]
) -> None:
    admin = bearer(tokens["admin"])
    async with ClientSession() as s:
        async with s.post(
            f"{service.url}/v1/admin/tokens",
            json={"name": "wallboard", "scopes": ["viewer"]},
            headers=admin,
        ) as r:
            created = await r.json()
        cookie, _ = await _signed_in(s, service, created["token"])
        async with s.get(f"{service.url}/v1/config", headers=cookie) as r:
            assert r.status == 200
        async with s.delete(f"{service.url}/v1/admin/tokens/{created['id']}", headers=admin) as r:
            assert r.status == 204
        async with s.get(f"{service.url}/v1/config", headers=cookie) as r:
            assert r.status == 401
            _, attributes = _cookie_parts(r)  # the browser is told to drop it
            assert "Max-Age=0" in attributes
        assert [
            k async for k in redis_client.scan_iter(match=f"{names.redis_prefix}session:*")
        ] == []

        # A token that expires while its session is open: moved into the past in Redis.
        plaintext = await _token(redis_client, names, "viewer")
        cookie, _ = await _signed_in(s, service, plaintext)
        token_id = plaintext.split("_")[1]
        tokens_key = f"{names.redis_prefix}tokens"
        raw = await redis_client.hget(tokens_key, token_id)
        assert isinstance(raw, bytes)
        record = orjson.loads(raw)
        record["expires_at"] = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
        await redis_client.hset(tokens_key, token_id, orjson.dumps(record))
        async with s.get(f"{service.url}/v1/session", headers=cookie) as r:
            assert r.status == 401


async def test_only_admin_and_viewer_tokens_sign_in_and_bad_bodies_name_the_field(
    service: RunningService, tokens: dict[str, str]
) -> None:
    url = f"{service.url}/v1/session"
    async with ClientSession() as s:
        for scope in ("ingest", f"agent:{POOL}"):
            async with s.post(url, json={"token": tokens[scope]}) as r:
                assert r.status == 403, scope
                assert (await r.json())["error"]["field"] == "token"
                assert "Set-Cookie" not in r.headers
        cases: list[tuple[bytes, dict[str, str], int, str]] = [
            (orjson.dumps({"token": "trt_0123456789abcdef_nope"}), JSON, 401, "token"),
            (orjson.dumps({"token": 5}), JSON, 400, "token"),
            (orjson.dumps({"token": ""}), JSON, 400, "token"),
            (orjson.dumps({}), JSON, 400, "token"),
            (orjson.dumps({"token": tokens["admin"], "x": 1}), JSON, 400, "x"),
            (b"", JSON, 400, "body"),
            (b"{not json", JSON, 400, "body"),
            (b"[]", JSON, 400, "body"),
            (
                orjson.dumps({"token": tokens["admin"]}),
                {"Content-Type": "text/plain"},
                400,
                "Content-Type",
            ),
        ]
        for data, headers, status, field in cases:
            async with s.post(url, data=data, headers=headers) as r:
                assert r.status == status, (data, r.status, await r.text())
                assert (await r.json())["error"]["field"] == field, data
                assert "Set-Cookie" not in r.headers
        async with s.get(url, headers=bearer(tokens["admin"])) as r:
            assert r.status == 401  # a bearer token has no session
        async with s.get(url) as r:
            assert r.status == 401


async def test_the_dashboard_shell_and_assets_are_public_and_nothing_else(
    service: RunningService,
) -> None:
    for target in ("/dashboard", "/dashboard/", "/dashboard/assets/app.js"):
        assert await _raw_status(service, target) != 401, target
    for target in (
        "/dashboard/../v1/config",
        "/dashboard/..%2fv1/config",
        "/dashboardx",
        "/dashboard/x",
        "/dashboard/config",
        "/dashboard/assets/",
        "/dashboard/assets/../../x",
        "/dashboard/assets/../../v1/config",
        "/dashboard/assets/%2e%2e/%2e%2e/v1/config",
        "/dashboard/assets/..%5c..%5cv1/config",
        "/dashboard/assets//etc/passwd",
        "/dashboard/assets/%252e%252e/x",
        "/v1/session/../config",
    ):
        assert await _raw_status(service, target) == 401, target


async def test_failed_sign_ins_are_rate_limited_like_bad_bearer_tokens(
    service: RunningService, tokens: dict[str, str]
) -> None:
    url = f"{service.url}/v1/session"
    async with ClientSession() as s:
        for i in range(FAILURE_BURST):
            async with s.post(url, json={"token": f"trt_0123456789abcdef_{i}"}) as r:
                assert r.status == 401, i
        async with s.post(url, json={"token": tokens["admin"]}) as r:
            assert r.status == 429  # even a good token: the address is refused first
            assert int(r.headers["Retry-After"]) >= 1
        # One allowance for both ways in: a bearer request from this address waits too.
        async with s.get(f"{service.url}/v1/config", headers=bearer(tokens["admin"])) as r:
            assert r.status == 429


async def test_a_viewer_token_made_on_the_command_line_signs_in(
    service: RunningService,
    names: Names,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ROUTER_REDIS_URL", REDIS_URL)
    monkeypatch.setenv("ROUTER_REDIS_PREFIX", names.redis_prefix)
    parser = argparse.ArgumentParser(prog="ticket-router")
    token_commands.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["token", "create", "--name", "wallboard", "--scope", "viewer"])
    capsys.readouterr()
    assert await asyncio.to_thread(args.func, args) == 0  # its own event loop, as in a shell
    plaintext = capsys.readouterr().out.strip()
    async with ClientSession() as s:
        r = await _sign_in(s, service, plaintext)
        assert r.status == 200
        assert ((await r.json())["name"], (await r.json())["scopes"]) == ("wallboard", ["viewer"])
        async with s.get(f"{service.url}/v1/config", headers=bearer(plaintext)) as got:
            assert got.status == 200
