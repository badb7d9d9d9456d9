"""``POST /v1/simulate`` against the real service (RabbitMQ and Redis): the report is
the one ``router.service.simulation`` builds for the same inputs, compare runs both
configs, bad input is refused naming the field, one simulation at a time per replica,
who may run one, and health checks stay fast while a large one runs."""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import AsyncIterator
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
import redis.asyncio as aioredis
from aiohttp import ClientSession

from queues.token_store import RedisTokenStore
from router.config.load import RoutingConfig, load_config, parse_config
from router.core.sim.arrivals import GeneratorSpec
from router.core.sim.engine import HandleTimes, SimSettings
from router.core.tokens import parse_scopes
from router.http import appkeys as K
from router.http import simulate_api
from router.service.settings import Names
from router.service.simulation import Loaded, generated, recent_arrivals, week_report
from tests.conftest import EXAMPLE_CONFIG
from tests.faults.router_proc import RouterProcess
from tests.integration.conftest import RunningService, bearer, wait_for
from tests.integration.health_probe import probing
from tests.tickets import make_tickets

pytestmark = pytest.mark.integration

WEEK = "2026-03-04"
UTC = ZoneInfo("UTC")
#: The CLI's handle times (tier1=8,tier2=20, the rest 10 minutes), exponential.
HANDLE = HandleTimes({"tier1": 480.0, "tier2": 1200.0}, 600.0, "exponential")


def _report(
    loaded: Loaded,
    source: dict[str, Any],
    config: RoutingConfig,
    other: RoutingConfig | None = None,
    *,
    seed: int = 1,
    wait: float = 20,
    level: float = 0.8,
) -> Any:
    """What the service module computes, through JSON as the API answers it."""
    result = week_report(
        loaded,
        source,
        config,
        other,
        zone=UTC,
        week=date.fromisoformat(WEEK),
        settings=SimSettings(handle=HANDLE, seed=seed),
        target_wait_seconds=wait * 60,
        target_level=level,
    )
    return orjson.loads(orjson.dumps(result))


def _cut(config: RoutingConfig) -> dict[str, Any]:
    """The config with the vendors cut to 12 and 8 agents (the docs' example)."""
    doc = copy.deepcopy(config.to_dict())
    doc.pop("version")
    for pool in doc["pools"]:
        if pool["id"] == "andes-bpo":
            pool["capacity"] = 12
        if pool["id"] == "pacific-night":
            pool["capacity"] = 8
    return doc


async def _post(session: ClientSession, service: RunningService, body: Any) -> tuple[int, Any]:
    async with session.post(f"{service.url}/v1/simulate", json=body) as r:
        return r.status, await r.json()


@pytest.fixture
async def viewer(redis_client: aioredis.Redis, names: Names) -> AsyncIterator[ClientSession]:
    """A client with a ``viewer`` token."""
    store = RedisTokenStore(redis_client, names.redis_prefix)
    plaintext, _ = await store.create("test viewer", parse_scopes(["viewer"]))
    async with ClientSession(headers=bearer(plaintext)) as session:
        yield session


async def test_a_generated_week_is_the_report_the_service_module_computes(
    service: RunningService, admin_http: ClientSession
) -> None:
    mix = {"en": 50, "es": 30, "pt": 20}
    body = {
        "source": "generate",
        "generate": {"volume": 3000, "languages": mix, "tiers": {"tier1": 70, "tier2": 30}},
        "week": WEEK,
        "tz": "UTC",
        "target_wait_minutes": 15,
        "target_level": 0.9,
        "seed": 7,
    }
    status, answer = await _post(admin_http, service, body)
    assert status == 200, answer
    spec = GeneratorSpec(3000, languages=mix, tiers={"tier1": 70, "tier2": 30})
    loaded = generated(spec, date.fromisoformat(WEEK), UTC, 7)
    in_force = service.app[K.CONFIG].value
    source = {"kind": "generate", "volume": 3000}
    assert answer == _report(loaded, source, in_force, seed=7, wait=15, level=0.9)
    assert answer["arrivals"] == 3000
    assert [r["config"]["version"] for r in answer["runs"]] == [in_force.version]
    assert "difference" not in answer


async def test_compare_runs_the_config_in_force_and_the_candidate_on_the_same_week(
    service: RunningService, admin_http: ClientSession
) -> None:
    in_force = service.app[K.CONFIG].value
    document = _cut(in_force)
    body = {"config": document, "compare": True, "generate": {"volume": 4000}, "week": WEEK}
    status, answer = await _post(admin_http, service, body)
    assert status == 200, answer
    cut = parse_config(document, source="candidate")
    loaded = generated(GeneratorSpec(4000), date.fromisoformat(WEEK), UTC, 1)
    source = {"kind": "generate", "volume": 4000}
    assert answer == _report(loaded, source, in_force, cut)
    a, b = answer["runs"]
    assert (a["label"], b["label"]) == ("a", "b")
    assert a["config"]["version"] == in_force.version
    assert b["config"] == {"source": "candidate", "version": cut.version}
    assert b["config"]["version"] != a["config"]["version"]
    capacity = {p["id"]: p["capacity"] for p in b["pools"]}
    assert (capacity["andes-bpo"], capacity["pacific-night"]) == (12, 8)
    assert set(answer["difference"]) >= {"totals", "pools", "routing_changed", "hours"}

    # Without compare, the candidate alone.
    status, alone = await _post(admin_http, service, {**body, "compare": False})
    assert status == 200, alone
    assert alone == _report(loaded, source, cut)
    assert [r["config"]["source"] for r in alone["runs"]] == ["candidate"]


async def test_the_recent_tickets_are_replayed_as_stored(
    service: RunningService, admin_http: ClientSession, http: ClientSession
) -> None:
    tickets = make_tickets(12, seed=41)
    for ticket in tickets:
        async with http.post(f"{service.url}/v1/tickets", json=ticket) as r:
            assert r.status == 202

    async def routed() -> bool:
        return len(await service.app[K.STORE].recent_ids(12)) == 12

    await wait_for(routed, what="the tickets routed")
    store = service.app[K.STORE]
    records = []
    for ticket_id in await store.recent_ids(10):
        stored = await store.get(ticket_id)
        assert stored is not None
        records.append((ticket_id, stored.record))
    loaded = recent_arrivals(records)
    week = loaded.arrivals[0].at.date().isoformat()
    status, answer = await _post(admin_http, service, {"source": "recent", "n": 10, "week": week})
    assert status == 200, answer
    expected = week_report(
        loaded,
        {"kind": "recent", "requested": 10},
        service.app[K.CONFIG].value,
        None,
        zone=UTC,
        week=date.fromisoformat(week),
        settings=SimSettings(handle=HANDLE, seed=1),
        target_wait_seconds=1200,
        target_level=0.8,
    )
    assert answer == orjson.loads(orjson.dumps(expected))
    assert answer["source"]["kind"] == "recent"
    assert answer["arrivals"] + answer["source"]["outside_week"] == 10


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"source": "trace"}, "source", "generate or recent"),
        ({"generate": {"volume": 0}}, "generate.volume", "from 1 to 50000"),
        ({"generate": {"volume": 50_001}}, "generate.volume", "from 1 to 50000"),
        ({"generate": {"volume": "10"}}, "generate.volume", "integer"),
        ({"generate": {"languages": {"en": -1}}}, "generate.languages.en", ">= 0"),
        ({"generate": {"languages": {"en": 0}}}, "generate.languages", "sum to 0"),
        ({"generate": {"priorities": {"asap": 1}}}, "generate.priorities", "'asap'"),
        ({"generate": {"countries": {"XX": 1}}}, "generate.countries", "'XX'"),
        ({"generate": {"speed": 1}}, "generate.speed", "unknown field"),
        ({"generate": {"weekend": -1}}, "generate.weekend", "from 0 to 100"),
        ({"tz": "Mars/Olympus"}, "tz", "unknown IANA time zone"),
        ({"target_level": 1}, "target_level", "from 0 to less than 1"),
        ({"target_wait_minutes": 0}, "target_wait_minutes", "more than 0"),
        ({"seed": 1.5}, "seed", "integer"),
        ({"week": "2026-13-01"}, "week", "a date"),
        ({"compare": "yes"}, "compare", "true or false"),
        ({"compare": True}, "compare", "needs a candidate config"),
        ({"config": [1]}, "config", "mapping"),
        ({"config": {"pools": []}}, "config.pools", ""),
        ({"source": "recent", "n": 5001}, "n", "from 1 to 5000"),
        # Found in the worker process (no ticket routed yet) and answered all the same.
        ({"source": "recent"}, "source", "no arrivals to replay"),
        ({"handle_minutes": {"tier1": 0, "tier2": 5}}, "handle_minutes.tier1", "more than 0"),
        # Found by the OpenAPI fuzz test: minutes that are infinite once made seconds.
        ({"handle_minutes": {"*": 1e308}}, "handle_minutes.*", "at most 10080 (a week)"),
        ({"handle_minutes": {"tier2": 10_081}}, "handle_minutes.tier2", "at most 10080"),
        ({"handle": "gamma"}, "handle", "exponential or fixed"),
        ({"volume": 10}, "volume", "unknown field"),
    ],
)
async def test_bad_input_is_refused_naming_the_field(
    service: RunningService, admin_http: ClientSession, body: Any, field: str, words: str
) -> None:
    status, answer = await _post(admin_http, service, body)
    assert status == 400, answer
    error = answer["error"]
    assert (error["status"], error["field"]) == (400, field), error
    assert words in error["message"], error


async def test_a_second_simulation_meanwhile_is_429_with_retry_after(
    service: RunningService, admin_http: ClientSession
) -> None:
    in_force = service.app[K.CONFIG].value
    big = {"config": _cut(in_force), "compare": True, "generate": {"volume": 50_000}}
    first = asyncio.create_task(_post(admin_http, service, {**big, "week": WEEK}))

    async def running() -> bool:
        return simulate_api._running

    await wait_for(running, what="the first simulation running")
    async with admin_http.post(
        f"{service.url}/v1/simulate", json={"generate": {"volume": 10}, "week": WEEK}
    ) as r:
        assert r.status == 429
        assert r.headers["Retry-After"] == str(simulate_api.RETRY_AFTER)
        error = (await r.json())["error"]
    assert error["status"] == 429 and "running" in error["message"]
    status, answer = await first
    assert status == 200, answer
    assert answer["arrivals"] == 50_000 and len(answer["runs"]) == 2

    # Free again once the first is done.
    status, answer = await _post(admin_http, service, {"generate": {"volume": 10}, "week": WEEK})
    assert status == 200, answer


async def test_a_viewer_may_simulate_and_agent_and_ingest_tokens_may_not(
    service: RunningService,
    viewer: ClientSession,
    http: ClientSession,
    tokens: dict[str, str],
) -> None:
    body = {"generate": {"volume": 200}, "week": WEEK}
    status, answer = await _post(viewer, service, body)
    assert status == 200, answer
    assert answer["arrivals"] == 200
    status, answer = await _post(http, service, body)  # ingest
    assert status == 403 and answer["error"]["status"] == 403
    async with ClientSession(headers=bearer(tokens["agent:hq-tier1"])) as agent:
        status, answer = await _post(agent, service, body)
    assert status == 403 and answer["error"]["status"] == 403
    async with ClientSession() as anonymous:
        status, answer = await _post(anonymous, service, body)
    assert status == 401


async def test_health_checks_stay_fast_during_a_large_simulation(
    served: RouterProcess, redis_client: aioredis.Redis, names: Names
) -> None:
    store = RedisTokenStore(redis_client, names.redis_prefix)
    token, _ = await store.create("test admin", parse_scopes(["admin"]))
    config = load_config(EXAMPLE_CONFIG)
    body = {"config": _cut(config), "compare": True, "generate": {"volume": 50_000}}
    async with (
        probing(f"{served.url}/healthz") as prober,
        ClientSession(headers=bearer(token)) as admin,
    ):
        start = time.perf_counter()
        async with admin.post(f"{served.url}/v1/simulate", json=body) as r:
            took = time.perf_counter() - start
            prober.stop()
            status, report = r.status, await r.json()
    latencies, worst = prober.latencies, prober.worst
    assert status == 200, report
    assert report["arrivals"] == 50_000
    print(
        f"simulation of 50,000 tickets, two configs: {took:.2f} s; /healthz meanwhile: "
        f"{len(latencies)} probes, worst {worst * 1000:.0f} ms"
    )
    assert took > 0.5 and len(latencies) >= 5  # a simulation long enough to measure
    assert worst < 0.25
