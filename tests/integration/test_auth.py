"""Access control: every endpoint refuses a missing, invalid or wrongly scoped token."""

from __future__ import annotations

import re

import pytest
from aiohttp import ClientSession

from router.http.auth import PUBLIC_PATHS, is_public
from tests.integration.conftest import RunningService, bearer, wait_for
from tests.tickets import make_tickets

pytestmark = pytest.mark.integration


def _routes(service: RunningService) -> list[tuple[str, str]]:
    out = []
    for resource in service.app.router.resources():
        info = resource.get_info()
        path = str(info.get("path") or info.get("formatter"))
        for route in resource:
            if route.method != "HEAD" and not is_public(route.method, path):
                out.append((route.method, re.sub(r"\{(\w+)\}", r"x-\1", path)))
    return out


async def test_every_endpoint_needs_a_valid_token(service: RunningService) -> None:
    routes = _routes(service)
    assert len(routes) >= 6
    async with ClientSession() as anonymous:
        for method, path in routes:
            for headers in ({}, bearer("trt_nope_nope"), {"Authorization": "Basic Zm9vOmJhcg=="}):
                async with anonymous.request(method, service.url + path, headers=headers) as r:
                    assert r.status == 401, (method, path, headers, r.status)
                    assert r.headers["WWW-Authenticate"].startswith("Bearer")
                    assert (await r.json())["error"]["message"]


async def test_public_endpoints_need_no_token(service: RunningService) -> None:
    async with ClientSession() as anonymous:
        for path in sorted(PUBLIC_PATHS):
            async with anonymous.get(service.url + path) as r:
                assert r.status == 200, path


async def test_scopes_are_enforced(service: RunningService, tokens: dict[str, str]) -> None:
    agent = bearer(tokens["agent:andes-bpo"])
    ingest = bearer(tokens["ingest"])
    ticket = make_tickets(1, seed=41)[0]
    async with ClientSession() as s:
        async with s.post(f"{service.url}/v1/tickets", json=ticket, headers=agent) as r:
            assert r.status == 403
            assert "ingest" in (await r.json())["error"]["message"]
        for method, path in [
            ("GET", "/v1/admin/tokens"),
            ("POST", "/v1/admin/tokens"),
            ("DELETE", "/v1/admin/tokens/abc"),
            ("GET", "/v1/admin/audit"),
        ]:
            for headers in (agent, ingest):
                async with s.request(method, service.url + path, headers=headers) as r:
                    assert r.status == 403, (method, path)


async def test_agent_sees_only_its_pools_tickets_and_learns_nothing_else(
    service: RunningService, http: ClientSession, tokens: dict[str, str]
) -> None:
    ticket = make_tickets(1, seed=42)[0]
    async with http.post(f"{service.url}/v1/tickets", json=ticket) as r:
        assert r.status == 202
    url = f"{service.url}/v1/tickets/{ticket['id']}"

    async def assigned() -> bool:
        async with http.get(url) as r:
            return r.status == 200 and (await r.json())["state"] == "assigned"

    await wait_for(assigned, what="ticket assigned")
    async with http.get(url) as r:
        pool = (await r.json())["assignment"]["pool_id"]
    other = next(k for k in tokens if k.startswith("agent:") and k != f"agent:{pool}")
    async with ClientSession() as s:
        async with s.get(url, headers=bearer(tokens[f"agent:{pool}"])) as r:
            assert r.status == 200
            assert (await r.json())["assignment"]["ticket_id"] == ticket["id"]
        async with s.get(url, headers=bearer(tokens[other])) as r:
            refused_existing = (r.status, await r.json())
        async with s.get(
            f"{service.url}/v1/tickets/does-not-exist", headers=bearer(tokens[other])
        ) as r:
            refused_unknown = (r.status, await r.json())
    assert refused_existing[0] == 403
    assert refused_existing == refused_unknown  # nothing tells the two apart


async def test_admin_manages_tokens_and_every_change_is_audited(
    service: RunningService, admin_http: ClientSession
) -> None:
    async with admin_http.post(
        f"{service.url}/v1/admin/tokens",
        json={"name": "vendor-x", "scopes": ["agent:andes-bpo"], "expires_in_days": 30},
    ) as r:
        assert r.status == 201
        created = await r.json()
    assert created["token"].startswith("trt_")
    assert created["scopes"] == ["agent:andes-bpo"]
    async with admin_http.get(f"{service.url}/v1/admin/tokens") as r:
        listed = await r.json()
    assert created["id"] in {t["id"] for t in listed["tokens"]}
    assert all("token" not in t for t in listed["tokens"])
    new = bearer(created["token"])
    async with ClientSession() as s, s.get(f"{service.url}/v1/tickets/x", headers=new) as r:
        assert r.status == 403  # valid token, but an agent token and an unknown ticket
    async with admin_http.delete(f"{service.url}/v1/admin/tokens/{created['id']}") as r:
        assert r.status == 204
    async with admin_http.delete(f"{service.url}/v1/admin/tokens/{created['id']}") as r:
        assert r.status == 404
    async with ClientSession() as s, s.get(f"{service.url}/v1/tickets/x", headers=new) as r:
        assert r.status == 401
    async with admin_http.get(f"{service.url}/v1/admin/audit") as r:
        records = (await r.json())["records"]
    actions = [(rec["action"], rec["target"]) for rec in records]
    assert actions[:2] == [("token.revoke", created["id"]), ("token.create", created["id"])]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scopes": ["ingest"]}, "name"),
        ({"name": "x"}, "scopes"),
        ({"name": "x", "scopes": ["root"]}, "scopes"),
        ({"name": "x", "scopes": ["ingest"], "expires_in_days": -1}, "expires_in_days"),
    ],
)
async def test_token_create_validation(
    service: RunningService, admin_http: ClientSession, body: dict[str, object], field: str
) -> None:
    async with admin_http.post(f"{service.url}/v1/admin/tokens", json=body) as r:
        assert r.status == 400
        assert (await r.json())["error"]["field"] == field
