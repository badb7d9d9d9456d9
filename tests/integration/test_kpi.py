"""KPIs on the real Redis and the running service: the scripted events give the
hand-computed figures through two Redis clients (two replicas' KPI stores on one
prefix); service replicas report identical stats; a vendor token reads its own
scorecard only; an HTTP ticket is received once and an HTTP re-send counts as a
duplicate."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
import redis.asyncio as aioredis
from aio_pika.abc import AbstractRobustConnection
from aiohttp import ClientSession
from prometheus_client import CollectorRegistry

from queues.keys import Keys
from queues.kpi_store import RedisKpiStore
from queues.lease_store import RedisLeaseStore
from queues.ticket_store import RedisTicketStore
from router.config.load import load_config
from router.core.kpi import vendor_key
from router.http import appkeys as K
from router.service.current import Current
from router.service.settings import Names
from router.service.stats import KpiLeaseStore, KpiMetrics, KpiRecorder, Stats
from tests import kpi_script as script
from tests.conftest import EXAMPLE_CONFIG, REDIS_URL
from tests.integration.conftest import (
    RunningService,
    ServiceFactory,
    bearer,
    counted,
    publish,
    wait_for,
)
from tests.integration.test_leases_helpers import wait_all_assigned
from tests.tickets import make_tickets

pytestmark = pytest.mark.integration


@pytest.fixture
async def clients(redis_client: aioredis.Redis) -> AsyncIterator[list[aioredis.Redis]]:
    """Two more Redis clients (two replicas' connections); the fixture's one cleans up."""
    two = [aioredis.Redis.from_url(REDIS_URL) for _ in range(2)]
    yield two
    for client in two:
        await client.aclose()


async def test_two_kpi_store_clients_on_one_prefix_report_the_hand_computed_figures(
    clients: list[aioredis.Redis], names: Names
) -> None:
    config = Current(load_config(EXAMPLE_CONFIG))
    keys = Keys(names.redis_prefix)
    clock = script.Clock()
    replicas = []
    for client in clients:
        store = RedisKpiStore(client, keys)
        recorder = KpiRecorder(store, config, KpiMetrics(CollectorRegistry()), clock=clock)
        tickets = RedisTicketStore(client, keys)
        leases = KpiLeaseStore(RedisLeaseStore(client, keys), tickets, recorder)
        replicas.append((recorder, leases, Stats(store, leases, config, recorder, clock=clock)))
    await script.seed(RedisTicketStore(clients[0], keys), [r for r, _, _ in replicas])
    await script.play([leases for _, leases, _ in replicas], clock)
    for recorder, _, _ in replicas:
        await recorder.flush()
    clock.at = script.REPORTED_AT
    reports = [await stats.report(by="pool", **script.RANGE) for _, _, stats in replicas]
    assert reports[0] == reports[1]
    assert reports[0]["overall"] == script.OVERALL
    assert reports[0]["groups"] == script.POOLS
    assert reports[0]["share"] == script.SHARE
    backlog = reports[0]["backlog"]
    assert (backlog["queued"], backlog["oldest_waiting_seconds"]) == (2, script.WAITING_S)
    by_language = await replicas[1][2].report(by="language", **script.RANGE)
    assert by_language["groups"] == script.LANGUAGES
    for recorder, _, _ in replicas:
        await recorder.close()


async def _get(http: ClientSession, url: str, token: str) -> tuple[int, Any]:
    async with http.get(url, headers=bearer(token)) as response:
        return response.status, await response.json()


async def test_service_replicas_report_the_same_stats(
    start_service: ServiceFactory,
    amqp: AbstractRobustConnection,
    redis_client: aioredis.Redis,
    names: Names,
    tokens: dict[str, str],
) -> None:
    replicas = [await start_service(), await start_service()]
    tickets = make_tickets(40, seed=91)
    await publish(await amqp.channel(), names, [orjson.dumps(t) for t in tickets])
    await wait_all_assigned(redis_client, names, [str(t["id"]) for t in tickets])
    pools = load_config(EXAMPLE_CONFIG).pool_ids

    async def assigned_total() -> float:
        return sum(
            r.metric("router_tickets_assigned_total", {"pool": p}) for r in replicas for p in pools
        )

    assert await counted(assigned_total, 40, "the assignments counted") == 40
    assigned = {
        pool: sum(r.metric("router_tickets_assigned_total", {"pool": pool}) for r in replicas)
        for pool in pools
    }
    async with ClientSession() as http:
        urls = [f"{r.url}/v1/stats?by=pool&period=today" for r in replicas]

        async def all_counted() -> bool:
            got = [await _get(http, url, tokens["admin"]) for url in urls]
            return all(body["overall"]["routed"] == 40 for _, body in got)

        await wait_for(all_counted, what="both replicas' counts written")
        first, second = [(await _get(http, url, tokens["admin"]))[1] for url in urls]
    # Identical but for how long the oldest ticket has waited when each was asked.
    for report in (first, second):
        report["backlog"].pop("oldest_waiting_seconds")
        for pool in report["backlog"]["pools"].values():
            pool.pop("oldest_waiting_seconds")
    assert first == second
    assert {p: g["routed"] for p, g in first["groups"].items()} == assigned
    assert first["backlog"]["queued"] == 40


async def test_a_vendor_token_reads_its_own_scorecard_and_gets_403_for_anothers(
    service: RunningService, tokens: dict[str, str]
) -> None:
    config = load_config(EXAMPLE_CONFIG)
    andes = vendor_key(config.pool("andes-bpo").vendor)
    pacific = vendor_key(config.pool("pacific-night").vendor)
    async with ClientSession() as http:
        own = f"{service.url}/v1/vendors/{andes}/scorecard?weeks=3"
        status, card = await _get(http, own, tokens["agent:andes-bpo"])
        assert (status, card["pools"], len(card["weeks"])) == (200, ["andes-bpo"], 3)
        other = f"{service.url}/v1/vendors/{pacific}/scorecard"
        status, body = await _get(http, other, tokens["agent:andes-bpo"])
        assert (status, body["error"]["status"]) == (403, 403)
        status, card = await _get(http, other, tokens["admin"])
        assert (status, card["vendor"], card["pools"]) == (200, pacific, ["pacific-night"])


async def test_an_http_ticket_is_received_once_and_a_resend_is_a_duplicate(
    service: RunningService,
    http: ClientSession,
    redis_client: aioredis.Redis,
    names: Names,
    amqp: AbstractRobustConnection,
) -> None:
    ticket = make_tickets(1, seed=92)[0]
    async with http.post(f"{service.url}/v1/tickets", json=ticket) as response:
        assert (await response.json())["status"] == "accepted"
    await wait_all_assigned(redis_client, names, [str(ticket["id"])])
    platform = make_tickets(2, seed=93)[1]
    await publish(await amqp.channel(), names, [orjson.dumps(platform)])
    await wait_all_assigned(redis_client, names, [str(platform["id"])])
    assert service.metric("router_tickets_received_total", {"transport": "http"}) == 1
    assert service.metric("router_tickets_received_total", {"transport": "amqp"}) == 1
    assert service.metric("router_tickets_duplicate_total") == 0
    async with http.post(f"{service.url}/v1/tickets", json=ticket) as response:
        assert (await response.json())["status"] == "duplicate"
    assert service.metric("router_tickets_duplicate_total") == 1
    assert service.metric("router_tickets_received_total", {"transport": "http"}) == 2


async def test_with_router_kpi_off_nothing_is_counted_and_stats_still_answer(
    start_service: ServiceFactory,
    amqp: AbstractRobustConnection,
    redis_client: aioredis.Redis,
    names: Names,
    tokens: dict[str, str],
) -> None:
    service = await start_service(kpi=False)
    assert service.app[K.SERVICE].kpi is None
    tickets = make_tickets(3, seed=94)
    await publish(await amqp.channel(), names, [orjson.dumps(t) for t in tickets])
    await wait_all_assigned(redis_client, names, [str(t["id"]) for t in tickets])
    async with ClientSession() as http:
        status, body = await _get(http, f"{service.url}/v1/stats", tokens["admin"])
    assert (status, body["overall"]["routed"], body["backlog"]["queued"]) == (200, 0, 3)
    assert [k async for k in redis_client.scan_iter(match=f"{names.redis_prefix}kpi:*")] == []
