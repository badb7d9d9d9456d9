"""The token store's contract, run against the in-memory fake and the Redis store:
create and verify, refusals (wrong, unknown, expired, revoked), listing, revocation and
the last active admin token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from router.core.tokens import LastAdminTokenError, Principal, Scope, TokenInfo, split_token
from router.service.ports import TokenStore
from router.service.settings import Names
from tests.integration.contract_backends import KINDS, Backend, backend_for

pytestmark = pytest.mark.integration

ADMIN, INGEST, AGENT_EMEA = Scope("admin"), Scope("ingest"), Scope("agent", "emea")
START = datetime(2025, 3, 30, 0, 30, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand, so expiry needs no waiting."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(params=KINDS)
def backend(request: pytest.FixtureRequest, names: Names) -> Backend:
    return backend_for(request, names)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(backend: Backend, clock: Clock) -> TokenStore:
    return backend.tokens(clock)


async def test_a_created_token_authenticates_as_its_principal(store: TokenStore) -> None:
    plaintext, info = await store.create(
        "  vendor-a ", [AGENT_EMEA, INGEST], created_by="cli:ops", agent="ana"
    )
    assert info == TokenInfo(
        info.token_id, "vendor-a", frozenset({AGENT_EMEA, INGEST}), START, None, None,
        "cli:ops", "ana",
    )  # fmt: skip
    assert split_token(plaintext)[0] == info.token_id
    assert await store.authenticate(plaintext) == Principal(
        info.token_id, "vendor-a", frozenset({AGENT_EMEA, INGEST}), "ana"
    )
    assert await store.get(info.token_id) == info
    assert await store.get("0123456789abcdef") is None
    assert store.now() == START


@pytest.mark.parametrize(
    ("name", "scopes", "expires_at"),
    [
        ("   ", [INGEST], None),
        ("x" * 201, [INGEST], None),
        ("ok", [], None),
        ("ok", [INGEST], datetime(2026, 1, 1)),  # naive: refused
    ],
)
async def test_bad_tokens_are_refused_and_nothing_is_stored(
    store: TokenStore, name: str, scopes: list[Scope], expires_at: datetime | None
) -> None:
    with pytest.raises(ValueError):
        await store.create(name, scopes, expires_at=expires_at)
    assert await store.list() == []


async def test_anything_but_the_exact_token_is_refused(store: TokenStore) -> None:
    plaintext, info = await store.create("a", [INGEST])
    other, _ = await store.create("b", [INGEST])
    token_id, secret = split_token(plaintext)
    refused = [
        f"trt_{token_id}_{split_token(other)[1]}",  # right id, another token's secret
        f"trt_{token_id}_{secret[:-1]}",
        f"trt_{'f' * 16}_{secret}",  # unknown id
        "not-a-token",
        "",
    ]
    for presented in refused:
        assert await store.authenticate(presented) is None, presented
    assert await store.authenticate(plaintext) == info.principal()


async def test_a_token_expires_at_its_expiry(store: TokenStore, clock: Clock) -> None:
    expires = START + timedelta(days=1)
    plaintext, info = await store.create("a", [INGEST], expires_at=expires)
    assert info.expires_at == expires
    clock.now = expires - timedelta(microseconds=1)
    assert await store.authenticate(plaintext) == info.principal()
    clock.now = expires
    assert await store.authenticate(plaintext) is None
    assert [i.status(clock.now) for i in await store.list()] == ["expired"]


async def test_the_expiry_is_kept_in_utc(store: TokenStore) -> None:
    local = datetime(2026, 1, 1, 12, 0, tzinfo=UTC).astimezone()
    _, info = await store.create("a", [INGEST], expires_at=local)
    got = await store.get(info.token_id)
    assert got is not None and got.expires_at == local and got.expires_at.tzinfo == UTC


async def test_revoke_once_then_refused(store: TokenStore, clock: Clock) -> None:
    plaintext, info = await store.create("a", [INGEST])
    clock.now = START + timedelta(hours=1)
    assert await store.revoke(info.token_id) is True
    assert await store.revoke(info.token_id) is False
    assert await store.revoke("0123456789abcdef") is False
    assert await store.authenticate(plaintext) is None
    assert await store.get(info.token_id) == TokenInfo(
        info.token_id, "a", frozenset({INGEST}), START, None, START + timedelta(hours=1)
    )


async def test_listing_is_oldest_first_with_revoked_ones(store: TokenStore, clock: Clock) -> None:
    made = []
    for hour in (2, 0, 1):
        clock.now = START + timedelta(hours=hour)
        made.append((await store.create(f"t{hour}", [INGEST]))[1])
    await store.revoke(made[0].token_id)
    listed = await store.list()
    assert [i.name for i in listed] == ["t0", "t1", "t2"]
    assert [i.revoked_at is not None for i in listed] == [False, False, True]


async def test_the_last_active_admin_token_cannot_be_revoked(
    store: TokenStore, clock: Clock
) -> None:
    first_text, first = await store.create("admin-1", [ADMIN])
    with pytest.raises(LastAdminTokenError):
        await store.revoke(first.token_id)
    assert await store.authenticate(first_text) == first.principal()  # nothing changed
    _, second = await store.create("admin-2", [ADMIN, INGEST], expires_at=START + timedelta(1))
    assert await store.revoke(first.token_id) is True
    with pytest.raises(LastAdminTokenError):
        await store.revoke(second.token_id)
    # An expired admin token is no admin: a new one is the last active one.
    _, third = await store.create("admin-3", [ADMIN])
    clock.now = START + timedelta(days=1)
    with pytest.raises(LastAdminTokenError):
        await store.revoke(third.token_id)
    assert await store.revoke(second.token_id) is True  # expired: revoking it is fine
