"""Dashboard sessions, the pure parts and the use case on in-memory stores: ids and
CSRF values, their comparison, lifetimes, which tokens may sign in, what ends a
session, and which paths need no credential."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer, make_mocked_request

from router.core.sessions import (
    SESSION_TTL_S,
    Session,
    csrf_matches,
    new_csrf,
    new_session,
    new_session_id,
    session_digest,
)
from router.core.tokens import parse_scopes
from router.http.app import build_app
from router.http.auth import SESSION_STORE, clear_session_cookie, is_public
from router.http.session import set_session_cookie
from router.service.sessions import ActiveSession, Sessions
from tests.fakes import MemoryTokenStore
from tests.unit.test_http_inprocess import TICKET, Fakes, memory_service

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class MemorySessionStore:
    """The session store port in memory (expiry judged by the caller's clock)."""

    def __init__(self) -> None:
        self.sessions: dict[str, Session] = {}

    async def put(self, session_id: str, session: Session) -> None:
        """Keep ``session`` under the digest of its id, as the Redis store does."""
        self.sessions[session_digest(session_id)] = session

    async def get(self, session_id: str) -> Session | None:
        """The session of ``session_id``, or None."""
        return self.sessions.get(session_digest(session_id))

    async def delete(self, session_id: str) -> bool:
        """End a session; True if there was one."""
        return self.sessions.pop(session_digest(session_id), None) is not None


def test_ids_and_csrf_values_are_long_random_and_distinct() -> None:
    values = {new_session_id() for _ in range(200)} | {new_csrf() for _ in range(200)}
    assert len(values) == 400
    assert all(len(v) == 43 for v in values)  # 32 bytes, URL-safe base64 without padding
    digest = session_digest("abc")
    assert digest == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


@pytest.mark.parametrize(
    ("presented", "expected", "match"),
    [
        ("s3cret", "s3cret", True),
        ("s3cre", "s3cret", False),
        ("s3cret ", "s3cret", False),
        ("", "s3cret", False),
        (None, "s3cret", False),
        ("", "", False),  # an empty stored value matches nothing
        ("\udcff", "s3cret", False),  # a lone surrogate from a header: no crash
    ],
)
def test_csrf_comparison(presented: str | None, expected: str, match: bool) -> None:
    assert csrf_matches(presented, expected) is match


def test_a_session_lasts_eight_hours_or_until_its_token_expires() -> None:
    assert SESSION_TTL_S == 28_800
    plain = new_session("t1", NOW, None)
    assert plain.expires_at == NOW + timedelta(hours=8)
    assert plain.live(NOW + timedelta(hours=8) - timedelta(microseconds=1))
    assert not plain.live(NOW + timedelta(hours=8))
    soon = NOW + timedelta(hours=1)
    assert new_session("t1", NOW, soon).expires_at == soon
    assert new_session("t1", NOW, NOW + timedelta(days=3)).expires_at == plain.expires_at


async def _use_case() -> tuple[Sessions, MemoryTokenStore, MemorySessionStore]:
    tokens = MemoryTokenStore()
    store = MemorySessionStore()
    return Sessions(tokens, store), tokens, store


async def test_admin_and_viewer_tokens_sign_in_others_do_not() -> None:
    sessions, tokens, store = await _use_case()
    for scope in ("admin", "viewer"):
        plaintext, info = await tokens.create(scope, parse_scopes([scope]))
        signed = await sessions.sign_in(plaintext)
        assert isinstance(signed, ActiveSession)
        assert signed.principal.token_id == info.token_id
        assert await sessions.resolve(signed.session_id) == signed
    for scope in ("ingest", "agent:andes-bpo"):
        plaintext, _ = await tokens.create(scope, parse_scopes([scope]))
        assert await sessions.sign_in(plaintext) == "scope"
    assert await sessions.sign_in("trt_0123456789abcdef_nope") == "invalid"
    assert await sessions.sign_in("not a token") == "invalid"
    assert len(store.sessions) == 2


async def test_revoking_the_token_ends_the_session_and_deletes_it() -> None:
    sessions, tokens, store = await _use_case()
    await tokens.create("keep", parse_scopes(["admin"]))  # the last admin cannot go
    plaintext, info = await tokens.create("ops", parse_scopes(["viewer"]))
    signed = await sessions.sign_in(plaintext)
    assert isinstance(signed, ActiveSession)
    assert await tokens.revoke(info.token_id)
    assert await sessions.resolve(signed.session_id) is None
    assert store.sessions == {}


async def test_sign_out_ends_only_that_session() -> None:
    sessions, tokens, _ = await _use_case()
    plaintext, _ = await tokens.create("ops", parse_scopes(["viewer"]))
    first = await sessions.sign_in(plaintext)
    second = await sessions.sign_in(plaintext)
    assert isinstance(first, ActiveSession) and isinstance(second, ActiveSession)
    assert first.session_id != second.session_id
    assert first.session.csrf != second.session.csrf
    assert await sessions.sign_out(first.session_id)
    assert not await sessions.sign_out(first.session_id)
    assert await sessions.resolve(first.session_id) is None
    assert await sessions.resolve(second.session_id) == second
    assert await sessions.resolve("never-issued") is None


@pytest.mark.parametrize(
    ("method", "path", "public"),
    [
        ("GET", "/healthz", True),
        ("GET", "/openapi.json", True),
        ("GET", "/dashboard", True),
        ("GET", "/dashboard/", True),
        ("GET", "/dashboard/assets/dashboard.js", True),
        ("GET", "/dashboard/assets/img/logo.svg", True),
        ("POST", "/v1/session", True),
        ("GET", "/v1/session", False),
        ("DELETE", "/v1/session", False),
        ("GET", "/dashboardx", False),
        ("GET", "/dashboard/x", False),
        ("GET", "/dashboard//", False),
        ("GET", "/dashboard/../v1/config", False),
        ("GET", "/dashboard/assets/", False),
        ("GET", "/dashboard/assets/../../v1/config", False),
        ("GET", "/dashboard/assets/./x.js", False),
        ("GET", "/dashboard/assets//x.js", False),
        ("GET", "/dashboard/assets/x.js/", False),
        ("GET", "/dashboard/assets/..\\..\\x", False),
        ("GET", "/dashboard/assets/%2e%2e/x", False),
        ("GET", "/dashboard/assets/x\x00.js", False),
        ("GET", "/v1/config", False),
        ("GET", "/healthz/", False),
    ],
)
def test_public_paths(method: str, path: str, public: bool) -> None:
    assert is_public(method, path) is public


async def test_a_session_ends_at_its_expiry_and_with_its_tokens_expiry() -> None:
    sessions, tokens, store = await _use_case()
    tokens.clock = lambda: NOW
    plaintext, _ = await tokens.create("ops", parse_scopes(["viewer"]))
    short, _ = await tokens.create("temp", parse_scopes(["viewer"]), NOW + timedelta(hours=1))
    long_lived = await sessions.sign_in(plaintext)
    short_lived = await sessions.sign_in(short)
    assert isinstance(long_lived, ActiveSession) and isinstance(short_lived, ActiveSession)
    assert short_lived.session.expires_at == NOW + timedelta(hours=1)
    tokens.clock = lambda: NOW + timedelta(hours=1)
    assert await sessions.resolve(short_lived.session_id) is None
    assert await sessions.resolve(long_lived.session_id) == long_lived
    tokens.clock = lambda: NOW + timedelta(hours=8)
    assert await sessions.resolve(long_lived.session_id) is None
    assert store.sessions == {}


@pytest.mark.parametrize(
    ("scheme", "headers", "secure"),
    [
        ("http", {}, False),
        ("https", {}, True),
        # Behind a proxy that ends TLS: what it says of the browser's request counts.
        ("http", {"X-Forwarded-Proto": "https"}, True),
        ("http", {"X-Forwarded-Proto": "HTTPS, http"}, True),
        ("http", {"X-Forwarded-Proto": "http"}, False),
        ("http", {"X-Forwarded-Proto": "http, https"}, False),  # the first proxy's says
        ("http", {"Forwarded": 'for=192.0.2.1;proto="https";by=x'}, True),
        ("http", {"Forwarded": "for=192.0.2.1;proto=http, proto=https"}, False),
        ("http", {"Forwarded": "for=192.0.2.1"}, False),
    ],
)
def test_the_cookie_is_secure_over_https_only(
    scheme: str, headers: dict[str, str], secure: bool
) -> None:
    request = make_mocked_request("POST", "/v1/session", headers=headers).clone(scheme=scheme)
    response = web.Response()
    set_session_cookie(response, request, "opaque")
    first, *attributes = (
        p.strip() for p in response.cookies["tr_session"].OutputString().split(";")
    )
    assert first == "tr_session=opaque"
    expected = {"HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=28800"}
    assert set(attributes) == (expected | {"Secure"} if secure else expected)
    cleared = web.Response()
    clear_session_cookie(cleared, request)
    _, *gone = (p.strip() for p in cleared.cookies["tr_session"].OutputString().split(";"))
    assert "Max-Age=0" in gone and "Path=/" in gone and ("Secure" in gone) is secure


async def test_in_process_a_signed_in_admin_posts_a_ticket_with_its_csrf_value(
    tmp_path: Path,
) -> None:
    fakes = Fakes()
    service = await memory_service(fakes, tmp_path)
    admin, _ = await fakes.tokens.create("ops", parse_scopes(["admin"]))
    without = build_app(service)  # no Redis and no session store: sessions unavailable
    async with TestClient(TestServer(without)) as client:
        async with client.post("/v1/session", json={"token": admin}) as r:
            assert r.status == 503
        async with client.get("/v1/config", headers={"Cookie": "tr_session=x"}) as r:
            assert r.status == 503
    app = build_app(service)
    store = MemorySessionStore()
    app[SESSION_STORE] = store
    try:
        async with TestClient(TestServer(app)) as client:
            async with client.post("/v1/session", json={"token": admin}) as r:
                assert r.status == 200
                csrf = (await r.json())["csrf"]
                session_id = r.cookies["tr_session"].value
            cookie = {"Cookie": f"tr_session={session_id}"}
            assert list(store.sessions) == [session_digest(session_id)]
            async with client.post("/v1/tickets", json=TICKET, headers=cookie) as r:
                assert r.status == 403
                assert (await r.json())["error"]["field"] == "X-CSRF-Token"
            assert fakes.publisher.tickets == []
            async with client.post(
                "/v1/tickets", json=TICKET, headers={**cookie, "X-CSRF-Token": csrf}
            ) as r:
                assert r.status == 202
            assert [t[0] for t in fakes.publisher.tickets] == [TICKET["id"]]
    finally:
        await service.desk.watch.close()
