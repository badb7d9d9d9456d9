"""``RedisTicketStore.replicated`` against a real Redis: the machine's shared server has
no replica, so a store told to wait for one must say that its writes reached none (and
the routing retries rather than acking); one told to wait for none does not even write.
The failover this guards against is in tests/faults/test_sentinel_failover.py."""

from __future__ import annotations

import time

import pytest
import redis.asyncio as aioredis

from queues.keys import Keys
from queues.ticket_store import RedisTicketStore
from router.core.errors import TransientError
from router.service.settings import Names

pytestmark = pytest.mark.integration


async def test_a_store_waiting_for_a_replica_that_is_not_there_says_so(
    redis_client: aioredis.Redis, names: Names
) -> None:
    keys = Keys(names.redis_prefix)
    replicas = int((await redis_client.info("replication")).get("connected_slaves", 0))
    assert replicas == 0, "the shared Redis was expected to have no replica"
    store = RedisTicketStore(redis_client, keys, wait_replicas=1, wait_timeout_ms=50)
    started = time.monotonic()
    with pytest.raises(TransientError, match=r"reached 0 of 1 replicas within 50 ms"):
        await store.replicated()
    assert time.monotonic() - started >= 0.05  # it did wait for the replica
    assert await redis_client.exists(keys.replication_mark) == 1  # the mark it waited on


async def test_a_store_waiting_for_no_replica_returns_at_once(
    redis_client: aioredis.Redis, names: Names
) -> None:
    keys = Keys(names.redis_prefix)
    await RedisTicketStore(redis_client, keys).replicated()
    assert await redis_client.exists(keys.replication_mark) == 0
