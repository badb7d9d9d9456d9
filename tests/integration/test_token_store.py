"""RedisTokenStore against a real Redis: hash-only storage, revoke, expiry, refusals."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio as aioredis

from queues.token_store import RedisTokenStore, TokenStore
from router.core.tokens import Principal, Scope, split_token
from router.service.settings import Names

pytestmark = pytest.mark.integration

AGENT_EMEA = Scope("agent", "emea")
INGEST = Scope("ingest")


class Clock:
    """A clock the test moves by hand, so expiry needs no sleeping."""

    def __init__(self) -> None:
        self.now = datetime(2025, 3, 30, 0, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(redis_client: aioredis.Redis, names: Names, clock: Clock) -> RedisTokenStore:
    return RedisTokenStore(redis_client, names.redis_prefix, clock=clock)


async def _everything_stored(client: aioredis.Redis, prefix: str) -> bytes:
    """Every key and value under ``prefix``, as one blob to search."""
    parts: list[bytes] = []
    async for key in client.scan_iter(match=f"{prefix}*"):
        parts.append(key)
        for field, value in (await client.hgetall(key)).items():
            parts += [field, value] if isinstance(field, bytes) and isinstance(value, bytes) else []
    return b"\n".join(parts)


async def test_create_then_authenticate(store: RedisTokenStore) -> None:
    typed: TokenStore = store
    plaintext, info = await typed.create("vendor-a", [AGENT_EMEA, INGEST])
    assert info.name == "vendor-a"
    assert info.scopes == frozenset({AGENT_EMEA, INGEST})
    assert info.revoked_at is None
    assert split_token(plaintext)[0] == info.token_id
    principal = await typed.authenticate(plaintext)
    assert principal == Principal(info.token_id, "vendor-a", frozenset({AGENT_EMEA, INGEST}))
    assert await typed.get(info.token_id) == info


async def test_only_the_hash_is_stored(
    store: RedisTokenStore, redis_client: aioredis.Redis, names: Names
) -> None:
    made = [await store.create(f"t{i}", [INGEST]) for i in range(3)]
    keys = [k async for k in redis_client.scan_iter(match=f"{names.redis_prefix}*")]
    assert keys == [f"{names.redis_prefix}tokens".encode()]
    blob = await _everything_stored(redis_client, names.redis_prefix)
    for plaintext, info in made:
        _, secret = split_token(plaintext)
        assert secret.encode() not in blob
        assert plaintext.encode() not in blob
        assert info.token_id.encode() in blob  # the search did reach the records


async def test_wrong_secret_with_right_id_is_refused(store: RedisTokenStore) -> None:
    plaintext, _ = await store.create("vendor-a", [AGENT_EMEA])
    token_id, secret = split_token(plaintext)
    other, _ = await store.create("vendor-b", [AGENT_EMEA])
    flipped = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    for presented in (
        f"trt_{token_id}_{flipped}",
        f"trt_{token_id}_{secret}x",
        f"trt_{token_id}_{split_token(other)[1]}",  # another token's secret
        f"trt_{'0' * 16}_{secret}",  # unknown id
        "trt_nothex_" + secret,
        "",
    ):
        assert await store.authenticate(presented) is None, presented
    assert await store.authenticate(plaintext) is not None


async def test_revoke(store: RedisTokenStore) -> None:
    plaintext, info = await store.create("vendor-a", [AGENT_EMEA])
    kept, _ = await store.create("vendor-b", [AGENT_EMEA])
    assert await store.revoke(info.token_id) is True
    assert await store.revoke(info.token_id) is False
    assert await store.revoke("0123456789abcdef") is False
    assert await store.authenticate(plaintext) is None
    assert await store.authenticate(kept) is not None
    listed = {i.token_id: i for i in await store.list()}
    assert listed[info.token_id].status(store.now()) == "revoked"
    assert listed[info.token_id].revoked_at == store.now()


async def test_concurrent_revokes_revoke_once(store: RedisTokenStore) -> None:
    _, info = await store.create("vendor-a", [AGENT_EMEA])
    results = await asyncio.gather(*(store.revoke(info.token_id) for _ in range(20)))
    assert results.count(True) == 1


async def test_expiry(store: RedisTokenStore, clock: Clock) -> None:
    plaintext, info = await store.create(
        "temp", [INGEST], expires_at=clock.now + timedelta(hours=1)
    )
    assert await store.authenticate(plaintext) is not None
    clock.now += timedelta(minutes=59, seconds=59)
    assert await store.authenticate(plaintext) is not None
    clock.now += timedelta(seconds=1)
    assert await store.authenticate(plaintext) is None
    [listed] = await store.list()
    assert listed.status(clock.now) == "expired"
    assert listed.expires_at == info.expires_at


async def test_list_is_oldest_first_and_carries_no_secret(
    store: RedisTokenStore, clock: Clock
) -> None:
    ids = []
    for i in range(5):
        _, info = await store.create(f"t{i}", [Scope("agent", f"pool{i}")], created_by="cli:ops")
        ids.append(info.token_id)
        clock.now += timedelta(seconds=1)
    listed = await store.list()
    assert [i.token_id for i in listed] == ids
    assert [i.created_by for i in listed] == ["cli:ops"] * 5
    assert not any(hasattr(i, "hash") for i in listed)


async def test_create_refuses_bad_input(store: RedisTokenStore) -> None:
    with pytest.raises(ValueError, match="name"):
        await store.create("  ", [INGEST])
    with pytest.raises(ValueError, match="scope"):
        await store.create("n", [])
    with pytest.raises(ValueError, match="time-zone aware"):
        await store.create("n", [INGEST], expires_at=datetime(2030, 1, 1))
    assert await store.list() == []


async def test_unreadable_record_authenticates_no_one(
    store: RedisTokenStore, redis_client: aioredis.Redis
) -> None:
    plaintext, info = await store.create("vendor-a", [AGENT_EMEA])
    await redis_client.hset(store.key, info.token_id, b"{not json")
    assert await store.authenticate(plaintext) is None
