"""Scopes, token format, hashing and the principal's permission checks."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from router.core.tokens import (
    POOL_ID,
    Principal,
    Scope,
    ScopeError,
    TokenFormatError,
    TokenInfo,
    format_scopes,
    hash_secret,
    new_token,
    parse_scopes,
    split_token,
    verify,
)


@pytest.mark.parametrize(
    ("text", "scope"),
    [
        ("ingest", Scope("ingest")),
        ("admin", Scope("admin")),
        ("agent:emea-tier1", Scope("agent", "emea-tier1")),
        ("  agent:apac.l2_x  ", Scope("agent", "apac.l2_x")),
    ],
)
def test_scope_parses(text: str, scope: Scope) -> None:
    assert Scope.parse(text) == scope
    assert Scope.parse(str(scope)) == scope


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "unknown scope ''"),
        ("Admin", "unknown scope 'Admin'"),
        ("agent", "unknown scope 'agent'"),
        ("agent:", "needs a pool id"),
        ("agent:bad pool", "bad pool id 'bad pool'"),
        ("agent:-leading", "bad pool id '-leading'"),
        ("agent:" + "p" * 65, "bad pool id"),
        ("pool:emea", "expected 'ingest', 'admin', 'viewer' or 'agent:<pool id>'"),
    ],
)
def test_bad_scopes_say_why(text: str, message: str) -> None:
    with pytest.raises(ScopeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Scope.parse(text)


def test_scope_constructor_checks_too() -> None:
    with pytest.raises(ScopeError, match="takes no pool id"):
        Scope("admin", "emea")
    with pytest.raises(ScopeError, match="bad pool id None"):
        Scope("agent")


def test_parse_scopes_needs_one_and_dedupes() -> None:
    with pytest.raises(ScopeError, match="at least one scope"):
        parse_scopes([])
    scopes = parse_scopes(["agent:b", "ingest", "agent:a", "ingest"])
    assert scopes == {Scope("ingest"), Scope("agent", "a"), Scope("agent", "b")}
    assert format_scopes(scopes) == "agent:a agent:b ingest"


def test_new_token_shape_and_uniqueness() -> None:
    tokens = [new_token() for _ in range(200)]
    assert len({plain for plain, _ in tokens}) == 200
    assert len({token_id for _, token_id in tokens}) == 200
    for plain, token_id in tokens:
        assert plain.startswith(f"trt_{token_id}_")
        got_id, secret = split_token(plain)
        assert got_id == token_id
        assert len(secret) >= 43  # 32 random bytes, base64url


@pytest.mark.parametrize(
    "text",
    [
        "",
        "trt_",
        "trt_0123456789abcdef_",
        "trx_0123456789abcdef_secret",
        "trt_0123456789ABCDEF_secret",
        "trt_0123_secret",
        "Bearer trt_0123456789abcdef_secret",
    ],
)
def test_split_token_refuses_malformed(text: str) -> None:
    with pytest.raises(TokenFormatError):
        split_token(text)


def test_split_token_keeps_underscores_in_the_secret() -> None:
    assert split_token("trt_0123456789abcdef_a_b-c") == ("0123456789abcdef", "a_b-c")


def test_hash_is_sha256_of_the_token_and_verify_matches_only_it() -> None:
    plain, _ = new_token()
    stored = hash_secret(plain)
    assert stored == hashlib.sha256(plain.encode()).hexdigest()
    assert plain not in stored
    assert verify(plain, stored)
    assert not verify(plain + "x", stored)
    assert not verify(plain[:-1], stored)
    assert not verify(plain, stored.upper())
    assert not verify(plain, "")


@given(st.text())
def test_verify_never_raises_on_odd_input(presented: str) -> None:
    assert verify(presented, hash_secret(presented))
    assert not verify(presented, "é" + hash_secret(presented)[1:])


def test_principal_scopes() -> None:
    agent = Principal(
        "id1", "vendor-a", frozenset({Scope("agent", "emea"), Scope("agent", "apac")})
    )
    assert agent.allows_pool("emea") and agent.allows_pool("apac")
    assert not agent.allows_pool("amer")
    assert not agent.allows_pool("emea ")  # no normalising: ids are exact
    assert not agent.allows_ingest() and not agent.allows_admin()
    assert agent.pools == {"emea", "apac"}

    ingest = Principal("id2", "zendesk", frozenset({Scope("ingest")}))
    assert ingest.allows_ingest()
    assert not ingest.allows_admin() and not ingest.allows_pool("emea")

    admin = Principal("id3", "ops", frozenset({Scope("admin")}))
    assert admin.allows_admin() and admin.allows_ingest() and admin.allows_pool("anything")
    assert admin.pools == frozenset()


def test_token_info_status() -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    scopes = frozenset({Scope("ingest")})
    info = TokenInfo("0123456789abcdef", "n", scopes, now, expires_at=now + timedelta(days=1))
    assert info.status(now) == "active"
    assert info.status(now + timedelta(days=1)) == "expired"
    revoked = TokenInfo("0123456789abcdef", "n", scopes, now, revoked_at=now)
    assert revoked.status(now) == "revoked"
    assert info.principal() == Principal("0123456789abcdef", "n", scopes)


def test_pool_id_pattern_is_anchored_by_fullmatch() -> None:
    assert POOL_ID.fullmatch("emea-tier1")
    assert not POOL_ID.fullmatch("emea/tier1")
