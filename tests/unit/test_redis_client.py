"""Redis URLs: one server, or the primary that Sentinel names."""

from __future__ import annotations

import pytest

from queues.redis_client import SentinelTarget, parse_sentinel_url, redis_client


def test_a_sentinel_url_names_its_sentinels_service_database_and_password() -> None:
    target = parse_sentinel_url("redis+sentinel://:s%40cret@s1:26380,s2/mymaster/3")
    assert target == SentinelTarget((("s1", 26380), ("s2", 26379)), "mymaster", 3, "s@cret", None)


def test_a_sentinel_url_defaults_to_database_0_without_credentials() -> None:
    target = parse_sentinel_url("redis+sentinel://10.0.0.5:26379/cache")
    assert target == SentinelTarget((("10.0.0.5", 26379),), "cache", 0, None, None)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("redis+sentinel://s1:26379", "names no service"),
        ("redis+sentinel://s1:x/m", "port is not a number"),
        ("redis+sentinel://s1/m/zero", "database is not a number"),
        ("redis+sentinel://:26379/m", "without a host"),
        ("redis://s1/0", r"not a redis\+sentinel://"),
    ],
)
def test_a_wrong_sentinel_url_says_what_is_wrong(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_sentinel_url(url)


async def test_a_plain_url_gets_a_blocking_pool_and_a_sentinel_url_a_sentinel_pool() -> None:
    plain = redis_client("redis://127.0.0.1:6379/0")
    sentinel = redis_client("redis+sentinel://127.0.0.1:26379/mymaster/0")
    try:
        assert type(plain.connection_pool).__name__ == "BlockingConnectionPool"
        assert type(sentinel.connection_pool).__name__ == "SentinelConnectionPool"
        assert sentinel.connection_pool.service_name == "mymaster"  # type: ignore[attr-defined]
    finally:
        await plain.aclose()
        await sentinel.aclose()
