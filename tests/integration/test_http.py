"""The HTTP API's success and error paths against a running service."""

from __future__ import annotations

import jsonschema
import orjson
import pytest
from aiohttp import ClientSession

from router.http import appkeys as K
from tests.integration.conftest import RunningService, wait_for
from tests.tickets import make_tickets

pytestmark = pytest.mark.integration


async def _assigned(http: ClientSession, url: str) -> bool:
    async with http.get(url) as response:
        return response.status == 200 and (await response.json())["state"] == "assigned"


async def test_post_then_get_ticket(service: RunningService, http: ClientSession) -> None:
    ticket = make_tickets(1, seed=21)[0]
    async with http.post(f"{service.url}/v1/tickets", json=ticket) as response:
        assert response.status == 202
        assert await response.json() == {"id": ticket["id"], "status": "accepted"}
    url = f"{service.url}/v1/tickets/{ticket['id']}"
    await wait_for(lambda: _assigned(http, url), what="ticket assigned")
    async with http.get(url) as response:
        body = await response.json()
    assignment = body["assignment"]
    assert assignment["ticket_id"] == ticket["id"]
    assert assignment["pool_id"] in service.app[K.CONFIG].value.pool_ids
    assert assignment["ticket"]["body"] == ticket["body"]
    assert assignment["reasons"]
    # A re-send is answered at once and not routed again.
    async with http.post(f"{service.url}/v1/tickets", json=ticket) as response:
        assert response.status == 202
        assert await response.json() == {
            "id": ticket["id"],
            "status": "duplicate",
            "state": "assigned",
        }
    assert service.metric("router_tickets_assigned_total", {"pool": assignment["pool_id"]}) == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (b"{not json", "body"),
        (b"[]", "body"),
        (b'{"body": "hi"}', "id"),
        (b'{"id": "a", "body": "hi", "priority": "p0"}', "priority"),
        (
            b'{"id": "a", "body": "hi", "customer": {"timezone": "Nowhere/Land"}}',
            "customer.timezone",
        ),
        (b'{"id": "a", "body": "hi", "tags": ["ok", 3]}', "tags[1]"),
        (b'{"id": "a", "subject": "", "body": " "}', "subject"),
    ],
)
async def test_post_invalid_names_the_field(
    service: RunningService, http: ClientSession, payload: bytes, field: str
) -> None:
    async with http.post(
        f"{service.url}/v1/tickets", data=payload, headers={"Content-Type": "application/json"}
    ) as response:
        assert response.status == 400
        error = (await response.json())["error"]
    assert error["field"] == field
    assert error["message"]


async def test_post_over_the_limit_is_413(service: RunningService, http: ClientSession) -> None:
    payload = orjson.dumps({"id": "big", "body": "x" * 70_000})
    async with http.post(f"{service.url}/v1/tickets", data=payload) as response:
        assert response.status == 413
        assert (await response.json())["error"]["field"] == "body"


async def test_get_unknown_ticket_is_404(service: RunningService, http: ClientSession) -> None:
    async with http.get(f"{service.url}/v1/tickets/never-seen") as response:
        assert response.status == 404
        assert (await response.json())["error"]["field"] == "ticket_id"


async def test_health_ready_metrics(service: RunningService, http: ClientSession) -> None:
    async with http.get(f"{service.url}/healthz") as response:
        assert response.status == 200
    async with http.get(f"{service.url}/readyz") as response:
        assert response.status == 200
        ready = await response.json()
    assert (ready["status"], ready["redis"], ready["broker"]) == ("ready", "ok", "ok")
    async with http.get(f"{service.url}/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = await response.text()
    for name in (
        "router_tickets_received_total",
        "router_tickets_assigned_total",
        "router_tickets_dead_lettered_total",
        "router_ticket_processing_seconds_bucket",
    ):
        assert name in text or name.removesuffix("_total") in text, name


async def test_openapi_describes_every_route(service: RunningService, http: ClientSession) -> None:
    async with http.get(f"{service.url}/openapi.json") as response:
        doc = await response.json()
    served = set()
    for resource in service.app.router.resources():
        info = resource.get_info()
        path = info.get("path") or info.get("formatter")
        for route in resource:
            if route.method != "HEAD":
                served.add((str(path), route.method.lower()))
    described = {(p, m) for p, ops in doc["paths"].items() for m in ops}
    assert served == described
    jsonschema.Draft202012Validator.check_schema(doc["components"]["schemas"]["Ticket"])


async def test_responses_match_the_openapi_schemas(
    service: RunningService, http: ClientSession
) -> None:
    doc = await (await http.get(f"{service.url}/openapi.json")).json()
    schemas = doc["components"]["schemas"]

    def check(body: object, schema: dict[str, object]) -> None:
        resolver_doc = {"components": {"schemas": schemas}, **schema}
        jsonschema.validate(body, resolver_doc)

    ticket = make_tickets(1, seed=22)[0]
    async with http.post(f"{service.url}/v1/tickets", json=ticket) as response:
        check(
            await response.json(),
            doc["paths"]["/v1/tickets"]["post"]["responses"]["202"]["content"]["application/json"][
                "schema"
            ],
        )
    url = f"{service.url}/v1/tickets/{ticket['id']}"
    await wait_for(lambda: _assigned(http, url), what="ticket assigned")
    async with http.get(url) as response:
        check(
            await response.json(),
            doc["paths"]["/v1/tickets/{ticket_id}"]["get"]["responses"]["200"]["content"][
                "application/json"
            ]["schema"],
        )
    async with http.get(f"{service.url}/v1/tickets/nope") as response:
        check(await response.json(), schemas["Error"])
