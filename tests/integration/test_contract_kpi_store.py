"""The KPI store's contract, run against the in-memory fake and the Redis store: minute
buckets and their hour's, sums over buckets, reading only some fields, idempotent
writes, the longest waits of pools' backlogs; and (Redis) the buckets' time to live."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import redis.asyncio as aioredis

from queues.keys import Keys
from queues.kpi_store import RedisKpiStore
from queues.ticket_store import RedisTicketStore
from router.core.domain import backlog_score
from router.core.kpi import DAY_TTL_S, HOUR_TTL_S, MINUTE_TTL_S
from router.service.ports import KpiStore, TicketStore
from router.service.settings import Names
from tests.fakes import MemoryKpiStore, MemoryTicketStore
from tests.integration.contract_backends import KINDS, backend_for

pytestmark = pytest.mark.integration

HOUR = 493_000  # an epoch hour in 2026
MINUTE = HOUR * 60
DAY = HOUR // 24


@dataclass
class Stores:
    """A KPI store and the ticket store whose backlogs it reads."""

    tickets: TicketStore
    kpi: KpiStore


@pytest.fixture(params=KINDS)
def stores(request: pytest.FixtureRequest, names: Names) -> Stores:
    backend = backend_for(request, names)
    if backend.client is None:
        tickets = MemoryTicketStore()
        return Stores(tickets, MemoryKpiStore(tickets))
    keys = Keys(backend.prefix)
    return Stores(RedisTicketStore(backend.client, keys), RedisKpiStore(backend.client, keys))


async def test_counts_add_up_in_their_minute_and_in_its_hour(stores: Stores) -> None:
    store = stores.kpi
    await store.add({MINUTE: {"o|r": 2, "p:a|r": 2}, MINUTE + 59: {"o|r": 1, "o|$": 75_000}})
    await store.add({MINUTE: {"o|r": 3}, MINUTE + 60: {"o|r": 10}})
    assert await store.read([MINUTE], [], []) == {"o|r": 5, "p:a|r": 2}
    assert await store.read([MINUTE + 59], [], []) == {"o|r": 1, "o|$": 75_000}
    assert await store.read([], [HOUR], []) == {"o|r": 6, "p:a|r": 2, "o|$": 75_000}
    assert await store.read([], [HOUR + 1], []) == {"o|r": 10}
    assert await store.read([MINUTE + 60], [HOUR], []) == {"o|r": 16, "p:a|r": 2, "o|$": 75_000}
    # Hours 493,000 and 493,001 are both in day 20,541 (from hour 492,984).
    assert await store.read([], [], [DAY]) == {"o|r": 16, "p:a|r": 2, "o|$": 75_000}
    assert await store.read([], [], [DAY + 1]) == {}


async def test_only_the_fields_asked_for_are_read_and_nothing_is_nothing(stores: Stores) -> None:
    store = stores.kpi
    await store.add({MINUTE: {"o|r": 2, "p:a|r": 2, "p:b|r": 1}, MINUTE + 1: {"p:a|r": 1}})
    fields = ["p:a|r", "p:c|r"]
    assert await store.read([MINUTE, MINUTE + 1], [], [], fields) == {"p:a|r": 3}
    assert await store.read([], [], [DAY], fields) == {"p:a|r": 3}
    assert await store.read([MINUTE], [], [], []) == {}
    assert await store.read([MINUTE + 5], [HOUR + 7], [DAY + 3]) == {}
    assert await store.read([], [], []) == {}
    await store.add({MINUTE + 2: {"o|r": 0}})  # nothing to add: no bucket
    assert await store.read([MINUTE + 2], [], []) == {}


async def test_a_write_sent_again_with_its_id_counts_once(stores: Stores) -> None:
    store = stores.kpi
    await store.add({MINUTE: {"o|r": 1}}, "write-1")
    await store.add({MINUTE: {"o|r": 1}}, "write-1")
    await store.add({MINUTE: {"o|r": 1}}, "write-2")
    await store.add({MINUTE: {"o|r": 1}})
    assert await store.read([MINUTE], [HOUR], [DAY]) == {"o|r": 9}


async def test_the_longest_wait_is_the_earliest_receipt_over_every_priority(
    stores: Stores,
) -> None:
    t0 = 1_790_000_000_000
    queued = [
        ("u", "a", backlog_score(3, t0 + 5_000)),  # urgent, more recent
        ("l", "a", backlog_score(0, t0)),  # low, the longest waiting: last to be served
        ("n", "a", backlog_score(1, t0 + 1_000)),
        ("b", "b", backlog_score(2, t0 + 9_000)),
    ]
    await stores.tickets.claim_many([(t, "o", b"{}") for t, _, _ in queued], 60_000)
    assert (
        await stores.tickets.mark_assigned_many([(t, "o", p, s) for t, p, s in queued])
        == [True] * 4
    )
    assert await stores.kpi.oldest_waiting(["a", "b", "c"]) == {"a": t0, "b": t0 + 9_000}
    assert await stores.kpi.oldest_waiting([]) == {}


async def test_redis_buckets_expire_and_their_size_is_measured(
    redis_client: aioredis.Redis, names: Names
) -> None:
    store = RedisKpiStore(redis_client, Keys(names.redis_prefix))
    await store.add({MINUTE: {"o|r": 1}})
    minute_ttl = await redis_client.ttl(store.minute_key(MINUTE))
    hour_ttl = await redis_client.ttl(store.hour_key(HOUR))
    day_ttl = await redis_client.ttl(store.day_key(DAY))
    assert MINUTE_TTL_S - 5 <= minute_ttl <= MINUTE_TTL_S
    assert HOUR_TTL_S - 5 <= hour_ttl <= HOUR_TTL_S
    assert DAY_TTL_S - 5 <= day_ttl <= DAY_TTL_S
    writes = [k async for k in redis_client.scan_iter(match=f"{names.redis_prefix}kpi:w:*")]
    assert len(writes) == 1 and 0 < await redis_client.ttl(writes[0]) <= 3600
    minute_bytes, hour_bytes, day_bytes = await store.memory_usage(MINUTE)
    assert minute_bytes > 0 and hour_bytes > 0 and day_bytes > 0
    assert await store.memory_usage(MINUTE + 1) == (0, hour_bytes, day_bytes)
