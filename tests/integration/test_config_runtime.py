"""Changing the routing config at runtime: validated, versioned, followed by every
replica, and never routing a ticket twice or by the wrong version."""

from __future__ import annotations

import asyncio
import copy
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from aio_pika.abc import AbstractRobustConnection
from aiohttp import ClientSession

from router.http import appkeys as K
from router.service.settings import Names
from tests.integration.conftest import (
    RunningService,
    ServiceFactory,
    drain_pools,
    publish,
    wait_for,
)
from tests.tickets import make_tickets

pytestmark = pytest.mark.integration

LANGUAGES = [
    "en",
    "es",
    "pt",
    "fr",
    "de",
    "it",
    "nl",
    "pl",
    "ru",
    "uk",
    "tr",
    "ar",
    "hi",
    "zh",
    "ja",
    "ko",
    "vi",
    "id",
    "ms",
    "tl",
    "sv",
    "da",
    "no",
    "fi",
    "cs",
    "sk",
    "hu",
    "ro",
    "bg",
    "el",
    "he",
    "fa",
    "bn",
    "ur",
    "th",
    "sr",
    "hr",
    "sl",
    "lt",
    "lv",
    "et",
    "ca",
]


def _pool(pool_id: str, cost: float) -> dict[str, Any]:
    return {
        "id": pool_id,
        "kind": "in_house",
        "sourcing": "onshore",
        "country": "US",
        "timezone": "America/New_York",
        "schedule": {"always": True},
        "languages": LANGUAGES,
        "tiers": ["tier1", "tier2"],
        "capacity": 100_000,
        "cost_per_ticket": cost,
        "data_access": "full",
    }


def routing_to(pool_id: str) -> dict[str, Any]:
    """A config whose only rule sends everything to ``pool_id``."""
    return {
        "pools": [_pool("alpha", 5.0), _pool("beta", 6.0)],
        "rules": [
            {"id": f"all-to-{pool_id}", "match": {}, "pools": [pool_id], "strategy": "ordered"}
        ],
        "default": {"pools": ["*"], "strategy": "cheapest"},
    }


@pytest.fixture
def alpha_config(tmp_path: Path, extra_pools: list[str]) -> Path:
    extra_pools.extend(["alpha", "beta"])
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(routing_to("alpha")))
    return path


async def test_change_config_while_tickets_flow(
    start_service: ServiceFactory,
    amqp: AbstractRobustConnection,
    names: Names,
    alpha_config: Path,
    admin_http: ClientSession,
) -> None:
    replicas = [await start_service(config_path=alpha_config) for _ in range(2)]
    total = 1200
    tickets = make_tickets(total, seed=51)
    channel = await amqp.channel()

    async def feed() -> None:
        for i in range(0, total, 20):
            await publish(channel, names, [orjson.dumps(t) for t in tickets[i : i + 20]])
            await asyncio.sleep(0.01)  # pacing the load, not waiting for a result

    def received() -> float:
        return sum(
            r.metric("router_tickets_received_total", {"transport": "amqp"}) for r in replicas
        )

    async def at_least(n: int) -> bool:
        return received() >= n

    async def everywhere(version: str) -> bool:
        return all(r.app[K.CONFIG].value.version == version for r in replicas)

    feeder = asyncio.create_task(feed())
    v1 = replicas[0].app[K.CONFIG].value.version
    await wait_for(lambda: at_least(200), what="200 tickets in")

    switches: list[tuple[datetime, datetime, str]] = []
    before = datetime.now().astimezone()
    async with admin_http.put(
        f"{replicas[1].url}/v1/config?comment=to+beta", data=yaml.safe_dump(routing_to("beta"))
    ) as r:
        assert r.status == 200, await r.text()
        v2 = (await r.json())["version"]
    await wait_for(lambda: everywhere(v2), timeout=10, what="every replica on version 2")
    switches.append((before, datetime.now().astimezone(), v2))

    await wait_for(lambda: at_least(600), what="600 tickets in")
    before = datetime.now().astimezone()
    async with admin_http.post(f"{replicas[0].url}/v1/config/rollback", json={"version": 1}) as r:
        assert r.status == 200, await r.text()
        v3 = (await r.json())["version"]
    await wait_for(lambda: everywhere(v3), timeout=10, what="every replica on version 3")
    switches.append((before, datetime.now().astimezone(), v3))
    await feeder

    async def settled() -> bool:
        return received() >= total and all(
            r.metric("router_tickets_in_flight") == 0 for r in replicas
        )

    await wait_for(settled, what="all tickets processed")
    per_pool = await drain_pools(channel, names, ("alpha", "beta"))
    assignments = [a for per in per_pool.values() for a in per]
    ids = Counter(a["ticket_id"] for a in assignments)
    assert len(ids) == total
    assert sum(ids.values()) == total

    expected_pool = {v1: "alpha", v2: "beta", v3: "alpha"}
    assert v3 != v1 and v3.split(".")[1] == v1.split(".")[1]  # same content, new number
    used = Counter(a["config_version"] for a in assignments)
    assert set(used) == {v1, v2, v3}, used
    for a in assignments:
        assert a["pool_id"] == expected_pool[a["config_version"]], a["config_version"]
        decided = datetime.fromisoformat(a["decided_at"])
        # Decided before a switch began: the old version; after it was everywhere: the new.
        (s2_start, s2_done, _), (s3_start, s3_done, _) = switches
        if decided < s2_start:
            assert a["config_version"] == v1
        elif s2_done < decided < s3_start:
            assert a["config_version"] == v2
        elif decided > s3_done:
            assert a["config_version"] == v3


async def test_config_api_validates_versions_and_audits(
    service: RunningService, admin_http: ClientSession, http: ClientSession
) -> None:
    url = f"{service.url}/v1/config"
    async with admin_http.get(url) as r:
        assert r.status == 200
        current = await r.json()
    assert current["number"] == 1
    assert current["version"] == service.app[K.CONFIG].value.version
    assert current["source"] == "file"

    broken = copy.deepcopy(current["config"])
    broken["pools"][2]["schedule"] = {"mon": ["25:00-26:00"]}
    async with admin_http.put(url, data=orjson.dumps(broken)) as r:
        assert r.status == 400
        error = (await r.json())["error"]
    assert error["field"].startswith("pools[2].schedule")
    assert error["problems"]

    changed = copy.deepcopy(current["config"])
    changed["pools"][0]["cost_per_ticket"] = 99.0
    async with admin_http.put(url, data=orjson.dumps(changed), headers={"If-Match": "1"}) as r:
        assert r.status == 200, await r.text()
        put = await r.json()
    assert put["number"] == 2
    pool0 = changed["pools"][0]["id"]
    assert any(line.startswith(f"pool {pool0}: cost_per_ticket") for line in put["diff"])
    assert put["author"].startswith("token:")
    assert service.app[K.CONFIG].value.version == put["version"]

    # A stale If-Match is refused rather than silently overwriting version 2.
    async with admin_http.put(url, data=orjson.dumps(changed), headers={"If-Match": "1"}) as r:
        assert r.status == 412
    async with http.put(url, data=orjson.dumps(changed)) as r:  # ingest token: not admin
        assert r.status == 403

    async with admin_http.get(f"{url}/versions") as r:
        versions = (await r.json())["versions"]
    assert [v["number"] for v in versions] == [2, 1]
    async with admin_http.get(f"{service.url}/v1/admin/audit") as r:
        records = (await r.json())["records"]
    assert records[0]["action"] == "config.put"
    assert records[0]["target"] == "2"


async def test_preview_shows_which_recent_tickets_would_move(
    start_service: ServiceFactory,
    amqp: AbstractRobustConnection,
    names: Names,
    alpha_config: Path,
    admin_http: ClientSession,
) -> None:
    service = await start_service(config_path=alpha_config)
    channel = await amqp.channel()
    await publish(channel, names, [orjson.dumps(t) for t in make_tickets(40, seed=52)])

    async def done() -> bool:
        return service.metric("router_tickets_assigned_total", {"pool": "alpha"}) >= 40

    await wait_for(done, what="40 tickets assigned to alpha")
    async with admin_http.post(
        f"{service.url}/v1/config/preview", json={"config": routing_to("beta"), "n": 100}
    ) as r:
        assert r.status == 200, await r.text()
        report = await r.json()
    assert report["tickets"] == 40
    assert report["changed"] == 40
    assert {(c["old"]["pool"], c["new"]["pool"]) for c in report["changes"]} == {("alpha", "beta")}
    async with admin_http.post(
        f"{service.url}/v1/config/preview", json={"config": routing_to("alpha")}
    ) as r:
        assert (await r.json())["changed"] == 0
    assert service.app[K.CONFIG].value.version.startswith("1.")  # nothing applied


async def test_coverage_endpoint(service: RunningService, admin_http: ClientSession) -> None:
    async with admin_http.get(f"{service.url}/v1/coverage?tz=Europe/Berlin&week=2026-03-23") as r:
        assert r.status == 200
        report = await r.json()
    assert report["gaps"] == []
    async with admin_http.get(f"{service.url}/v1/coverage?tz=Mars/Base") as r:
        assert r.status == 400
        assert (await r.json())["error"]["field"] == "tz"
