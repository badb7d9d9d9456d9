"""The service's Redis client: one server by URL, or the primary that Sentinel names.

``redis://``, ``rediss://`` and ``unix://`` URLs reach one server. A
``redis+sentinel://[:password@]host:port[,host:port...]/service[/db]`` URL asks the
Sentinels for the primary of ``service``: after a failover, a connection that finds
the old primary gone or demoted (``READONLY``) fails once and the retry connects to
the new one, so the batch in flight is retried, not lost (every command the service
sends is safe to repeat; the Lua scripts check their owner).

Redis Cluster is not supported: the Lua scripts touch several keys of a ticket and
its pool at once, which a cluster only allows within one hash slot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

SENTINEL_SCHEME = "redis+sentinel"


@dataclass(frozen=True, slots=True)
class SentinelTarget:
    """What a ``redis+sentinel://`` URL names."""

    sentinels: tuple[tuple[str, int], ...]
    service: str
    db: int
    password: str | None
    username: str | None


def parse_sentinel_url(url: str) -> SentinelTarget:
    """The Sentinels, service name, database and credentials of a Sentinel URL.

    ``redis+sentinel://:secret@s1:26379,s2:26379/mymaster/0``; the port defaults to
    26379 and the database to 0. The password is the data servers' (Sentinels are
    asked without one). Raises ``ValueError`` naming what is wrong."""
    parts = urlsplit(url)
    if parts.scheme != SENTINEL_SCHEME:
        raise ValueError(f"not a {SENTINEL_SCHEME}:// URL")
    userinfo, _, hosts = parts.netloc.rpartition("@")
    username, _, password = userinfo.partition(":")
    sentinels: list[tuple[str, int]] = []
    for item in hosts.split(","):
        host, _, port = item.strip().rpartition(":") if ":" in item else (item.strip(), "", "")
        if not host:
            raise ValueError(f"a Sentinel address without a host: {item!r}")
        try:
            sentinels.append((host, int(port) if port else 26379))
        except ValueError:
            raise ValueError(f"a Sentinel port is not a number: {item!r}") from None
    path = [p for p in parts.path.split("/") if p]
    if not path:
        raise ValueError("the URL names no service (redis+sentinel://host:26379/mymaster/0)")
    try:
        db = int(path[1]) if len(path) > 1 else 0
    except ValueError:
        raise ValueError(f"the database is not a number: {path[1]!r}") from None
    return SentinelTarget(
        tuple(sentinels),
        unquote(path[0]),
        db,
        unquote(password) or None,
        unquote(username) or None,
    )


def _pool_options() -> dict[str, Any]:
    return {
        "socket_timeout": 5,
        "socket_connect_timeout": 5,
        "health_check_interval": 15,
        # A connection that went stale (a restart, a failover) fails once and is
        # replaced: retry on a fresh one instead of failing the batch.
        "retry": Retry(ExponentialBackoff(cap=1.0, base=0.05), 3),
        "retry_on_error": [RedisConnectionError, RedisTimeoutError, ConnectionError],
    }


def redis_client(url: str, *, max_connections: int = 64) -> aioredis.Redis:
    """A client for ``url`` (see the module doc); connects on first use."""
    if urlsplit(url).scheme == SENTINEL_SCHEME:
        target = parse_sentinel_url(url)
        sentinel = Sentinel(  # type: ignore[no-untyped-call]
            list(target.sentinels), socket_timeout=2, sentinel_kwargs={"socket_timeout": 2}
        )
        client: aioredis.Redis = sentinel.master_for(
            target.service,
            redis_class=aioredis.Redis,
            db=target.db,
            password=target.password,
            username=target.username,
            max_connections=max_connections,
            **_pool_options(),
        )
        return client
    # A blocking pool: a burst waits for a free connection instead of failing.
    pool = aioredis.BlockingConnectionPool.from_url(
        url, max_connections=max_connections, timeout=10, **_pool_options()
    )
    # from_pool: the client owns the pool, so closing the client closes its
    # connections (``Redis(connection_pool=pool)`` would leave them all open).
    return aioredis.Redis.from_pool(pool)
