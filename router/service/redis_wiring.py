"""How every part of the service reaches Redis: the composition root opens its client
here, and so do the CLI commands that need Redis alone (tokens, backup, the
simulator's recent tickets), so a ``redis+sentinel://`` URL works for all of them.

Light on purpose: the CLI imports it without the rest of the service.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis

from queues.redis_client import redis_client
from router.service.settings import Settings


@asynccontextmanager
async def open_redis(settings: Settings) -> AsyncIterator[aioredis.Redis]:
    """A Redis client with a retrying connection pool (connects on first use): one
    server, or the primary a ``redis+sentinel://`` URL names (``queues.redis_client``)."""
    client = redis_client(settings.redis_url)
    try:
        yield client
    finally:
        await client.aclose()
