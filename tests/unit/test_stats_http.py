"""The KPI endpoints and the metric fixes in process: ``build_app`` on a service of the
memory fakes (as tests/unit/test_http_inprocess.py builds it) with the KPI parts wired
as the composition root wires them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import orjson
import pytest
from aiohttp.test_utils import TestClient, TestServer

from router.core.masking import mask_ticket
from router.core.tokens import parse_scopes
from router.http.app import build_app
from router.service.routing import TicketRouter
from router.service.stats import KpiLeaseStore, KpiMetrics, KpiRecorder, Stats
from tests import kpi_script as script
from tests.fakes import MemoryKpiStore
from tests.unit.test_http_inprocess import NOW, TICKET, Api, Fakes, MemoryBroker, memory_service

ANDES = "andes-contact-center-s-a-s"
PACIFIC = "pacific-support-services-inc"


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    fakes = Fakes()
    service = await memory_service(fakes, tmp_path)
    store = MemoryKpiStore(fakes.tickets)
    clock = script.Clock(NOW)
    recorder = KpiRecorder(store, service.config, KpiMetrics(service.metrics.registry), clock=clock)
    router = TicketRouter(
        store=fakes.tickets, publisher=fakes.publisher, model=service.model,
        config=service.config, metrics=service.metrics, mask=mask_ticket, clock=lambda: NOW,
        kpi=recorder,
    )  # fmt: skip
    service.broker = MemoryBroker(fakes.connection, fakes.publisher, router)
    service.desk = replace(
        service.desk, store=KpiLeaseStore(service.desk.store, fakes.tickets, recorder)
    )
    service.stats = Stats(store, service.desk.store, service.config, recorder, clock=clock)
    service.kpi = recorder
    scopes = ["admin", "ingest", *(f"agent:{p}" for p in service.config.value.pool_ids)]
    token = {s: (await fakes.tokens.create(f"test {s}", parse_scopes([s])))[0] for s in scopes}
    both = parse_scopes(["agent:andes-bpo", "agent:hq-tier1"])
    token["andes+hq"] = (await fakes.tokens.create("two pools", both))[0]
    async with TestClient(TestServer(build_app(service))) as client:
        yield Api(client, service, fakes, token)
    await service.desk.watch.close()
    await recorder.close()


def _recorder(api: Api) -> KpiRecorder:
    assert api.service.kpi is not None
    return api.service.kpi


async def test_a_vendor_token_reads_its_own_scorecard_and_not_another_vendors(api: Api) -> None:
    _recorder(api).routed([script.record(*t) for t in script.TICKETS])
    status, card = await api.call(
        "GET", f"/v1/vendors/{ANDES}/scorecard?weeks=1", "agent:andes-bpo"
    )
    assert status == 200
    assert (card["vendor"], card["pools"], len(card["weeks"])) == (ANDES, ["andes-bpo"], 1)
    assert (card["weeks"][0]["week"], card["weeks"][0]["routed"]) == ("2026-W48", 2)
    assert card["weeks"][0]["cost"] == 15.0
    for path in (f"/v1/vendors/{PACIFIC}/scorecard", "/v1/vendors/nobody/scorecard"):
        status, body = await api.call("GET", path, "agent:andes-bpo")
        assert (status, body["error"]["status"]) == (403, 403), path
    status, _ = await api.call("GET", f"/v1/vendors/{ANDES}/scorecard", "agent:pacific-night")
    assert status == 403
    status, _ = await api.call("GET", f"/v1/vendors/{ANDES}/scorecard", "ingest")
    assert status == 403


async def test_an_agent_token_sees_only_its_own_pools_of_a_vendor(api: Api) -> None:
    _recorder(api).routed([script.record(*t) for t in script.TICKETS])
    status, card = await api.call("GET", "/v1/vendors/in-house/scorecard?weeks=1", "andes+hq")
    assert (status, card["pools"], card["weeks"][0]["routed"]) == (200, ["hq-tier1"], 2)
    status, card = await api.call("GET", "/v1/vendors/in-house/scorecard?weeks=1", "admin")
    assert (status, card["pools"]) == (200, ["hq-tier2", "hq-tier1", "eu-dublin"])
    status, body = await api.call("GET", "/v1/vendors/nobody/scorecard", "admin")
    assert (status, body["error"]["field"]) == (404, "vendor")


async def test_a_scorecard_as_csv_and_bad_parameters(api: Api) -> None:
    headers = {"Authorization": f"Bearer {api.token['agent:pacific-night']}"}
    path = f"/v1/vendors/{PACIFIC}/scorecard?weeks=2&format=csv"
    async with api.client.get(path, headers=headers) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
        lines = (await response.text()).splitlines()
    assert lines[0].startswith("week,from,to,routed,") and len(lines) == 3
    for query, field in (("weeks=0", "weeks"), ("weeks=53", "weeks"), ("format=xml", "format")):
        status, body = await api.call(
            "GET", f"/v1/vendors/{PACIFIC}/scorecard?{query}", "agent:pacific-night"
        )
        assert (status, body["error"]["field"]) == (400, field), query


async def test_stats_count_a_ticket_routed_pulled_accepted_and_completed(api: Api) -> None:
    [pool] = await api.route(TICKET)
    agent = f"agent:{pool}"
    status, got = await api.call(
        "POST", f"/v1/pools/{pool}/assignments/next", agent, {"agent": "ana"}
    )
    assert status == 200
    lease = {"lease_id": got["lease"]["lease_id"]}
    one = f"/v1/pools/{pool}/assignments/T-1"
    assert (await api.call("POST", one + "/accept", agent, lease))[0] == 200
    assert (await api.call("POST", one + "/accept", agent, lease))[0] == 200  # a retry
    done = {**lease, "outcome": "resolved"}
    assert (await api.call("POST", one + "/complete", agent, done))[0] == 200
    status, stats = await api.call("GET", "/v1/stats?by=pool", "admin")
    assert status == 200
    figures = stats["groups"][pool]
    counts = [figures[k] for k in ("routed", "accepted", "completed", "released")]
    assert counts == [1, 1, 1, 0]
    # Accepted at once (the clock does not move): in the first bucket, met.
    assert figures["time_to_accept"] == {"count": 1, "p50": 5.0, "p90": 5.0, "p99": 5.0}
    assert figures["sla"] == {"met": 1, "missed": 0, "attainment": 1.0}
    assert stats["overall"]["routed"] == 1 and stats["backlog"]["queued"] == 0


async def test_stats_are_for_admin_tokens_and_name_a_bad_parameter(api: Api) -> None:
    for scope in ("ingest", "agent:andes-bpo"):
        assert (await api.call("GET", "/v1/stats", scope))[0] == 403
    for query, field in (
        ("period=week", "period"),
        ("period=today&tz=Nowhere/City", "tz"),
        ("from=2026-11-24T10:00:00Z", "to"),
        ("from=2026-11-24T10:00:00&to=2026-11-24T11:00:00Z", "from"),
        ("by=agent", "by"),
    ):
        status, body = await api.call("GET", f"/v1/stats?{query}", "admin")
        assert (status, body["error"]["field"]) == (400, field), query
    status, body = await api.call("GET", "/v1/stats?period=today&tz=Europe/Paris", "admin")
    assert (status, body["from"]) == (200, "2026-11-23T23:00:00Z")


async def test_an_http_resend_answered_duplicate_is_counted(api: Api) -> None:
    raw = orjson.dumps(TICKET)
    assert (await api.call("POST", "/v1/tickets", "ingest", raw))[1]["status"] == "accepted"
    await api.route(TICKET)
    assert (await api.call("POST", "/v1/tickets", "ingest", raw))[1]["status"] == "duplicate"
    registry = api.service.metrics.registry
    assert registry.get_sample_value("router_tickets_duplicate_total") == 1
    assert registry.get_sample_value("router_tickets_received_total", {"transport": "http"}) == 2


async def test_http_requests_are_counted_by_route_template_and_status_class(api: Api) -> None:
    await api.call("GET", "/v1/pools/andes-bpo", "agent:andes-bpo")
    await api.call("GET", "/v1/pools/andes-bpo", "agent:pacific-night")
    await api.call("GET", "/v1/pools/pacific-night", None)
    await api.call("GET", "/no/such/path", "admin")
    await api.call("DELETE", "/v1/stats", "admin")
    registry = api.service.metrics.registry

    def requests(route: str, method: str, status: str) -> float | None:
        labels = {"route": route, "method": method, "status": status}
        return registry.get_sample_value("router_http_requests_total", labels)

    assert requests("/v1/pools/{pool}", "GET", "2xx") == 1
    assert requests("/v1/pools/{pool}", "GET", "4xx") == 2  # 403, then 401
    assert requests("unmatched", "GET", "4xx") == 1
    assert requests("unmatched", "DELETE", "4xx") == 1
    labels = {"route": "/v1/pools/{pool}", "method": "GET"}
    assert registry.get_sample_value("router_http_request_duration_seconds_count", labels) == 3
    async with api.client.get("/metrics") as response:
        assert response.status == 200
        text = await response.text()
    for name in ("process_cpu_seconds_total", "process_resident_memory_bytes", "python_info"):
        assert f"\n{name}" in text, name
