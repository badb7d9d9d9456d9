"""The dashboard in a real browser, on the running service: sign in and out, the pools'
numbers against GET /v1/stats, the coverage heat map's known gap, a rule edited,
previewed, applied and rolled back, a viewer who cannot change anything, and the
API's errors shown with the field they name."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
import redis.asyncio as aioredis
from aio_pika.abc import AbstractRobustConnection
from aiohttp import ClientSession
from playwright.async_api import Page, expect

from queues.token_store import RedisTokenStore
from router.core.tokens import parse_scopes
from router.http.dashboard import CSP
from router.service.settings import Names
from tests.integration.conftest import RunningService, bearer, publish, wait_for
from tests.integration.test_leases_helpers import wait_all_assigned
from tests.tickets import make_tickets

pytestmark = [pytest.mark.integration, pytest.mark.browser]

RULE = "tier1-split"
RENAMED = "tier1-shared"


async def sign_in(page: Page, url: str, token: str) -> None:
    """Open the dashboard and sign in with ``token`` through the form."""
    await page.goto(f"{url}/dashboard/")
    await expect(page.get_by_label("Access token")).to_be_visible()
    await page.get_by_label("Access token").fill(token)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#app")).to_be_visible()


async def api_get(url: str, token: str) -> Any:
    """GET ``url`` with a bearer token; the JSON answer (asserting a 200)."""
    async with ClientSession() as http, http.get(url, headers=bearer(token)) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def route(
    amqp: AbstractRobustConnection, redis_client: aioredis.Redis, names: Names, n: int, seed: int
) -> list[str]:
    """Publish ``n`` tickets as a platform does and wait until all are routed."""
    tickets = make_tickets(n, seed=seed)
    await publish(await amqp.channel(), names, [orjson.dumps(t) for t in tickets])
    ids = [str(t["id"]) for t in tickets]
    await wait_all_assigned(redis_client, names, ids)
    return ids


def _int(n: int) -> str:
    return f"{n:,}"


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x * 100:.1f}%"


async def test_sign_in_shows_the_pools_numbers_of_the_stats_and_sign_out_ends_it(
    page: Page,
    service: RunningService,
    tokens: dict[str, str],
    amqp: AbstractRobustConnection,
    redis_client: aioredis.Redis,
    names: Names,
) -> None:
    await route(amqp, redis_client, names, 12, seed=301)
    stats_url = f"{service.url}/v1/stats?by=pool&period=last_hour"

    async def counted() -> bool:
        return int((await api_get(stats_url, tokens["admin"]))["overall"]["routed"]) == 12

    await wait_for(counted, what="the 12 tickets counted")
    report = await api_get(stats_url, tokens["admin"])

    await sign_in(page, service.url, tokens["admin"])
    await expect(page.locator("#who-name")).to_have_text("test admin")
    await expect(page.locator("#who-scopes")).to_have_text("admin")
    total = page.locator('#pools-table tfoot tr[data-pool="all"]')
    await expect(total.locator('[data-k="routed"]')).to_have_text("12")
    await expect(total.locator('[data-k="queued"]')).to_have_text(_int(report["backlog"]["queued"]))
    assert report["backlog"]["queued"] == 12  # nobody has pulled one yet
    for pool, backlog in report["backlog"]["pools"].items():
        row = page.locator(f'#pools-table tbody tr[data-pool="{pool}"]')
        group = report["groups"][pool]
        await expect(row.locator('[data-k="queued"]')).to_have_text(_int(backlog["queued"]))
        await expect(row.locator('[data-k="open"]')).to_have_text(_int(backlog["open"]))
        await expect(row.locator('[data-k="capacity"]')).to_have_text(_int(backlog["capacity"]))
        await expect(row.locator('[data-k="routed"]')).to_have_text(_int(group["routed"]))
        await expect(row.locator('[data-k="sla"]')).to_have_text(_pct(group["sla"]["attainment"]))
        await expect(row.locator('[data-k="cost"]')).to_have_text(f"{group['cost']:.2f}")
    assert sum(g["routed"] for g in report["groups"].values()) == 12
    await expect(page.locator("#pools-summary")).to_have_attribute("aria-live", "polite")
    await expect(page.locator("#pools-summary")).to_contain_text("routed 12")

    # The page refreshes by itself: tickets routed now show up without a reload.
    await route(amqp, redis_client, names, 3, seed=302)
    await expect(total.locator('[data-k="routed"]')).to_have_text("15")
    await page.get_by_label("Period").select_option("today")
    today = await api_get(f"{service.url}/v1/stats?by=pool&period=today", tokens["admin"])
    assert today["overall"]["routed"] == 15
    await expect(page.locator("#pools-summary")).to_contain_text("routed 15")
    andes = page.locator('#pools-table tbody tr[data-pool="andes-bpo"]')
    await expect(andes.locator('[data-k="routed"]')).to_have_text(
        _int(today["groups"]["andes-bpo"]["routed"])
    )
    await expect(andes.locator("th")).to_contain_text(
        "Andes Contact Center (nearshore), outsourced"
    )

    # The vendor scorecards: every vendor of the stats, a CSV link for the chosen one.
    vendors = await api_get(f"{service.url}/v1/stats?by=vendor", tokens["admin"])
    options = page.locator("#vendor option")
    await expect(options).to_have_count(len(vendors["groups"]))
    await page.locator("#vendor").select_option("andes-contact-center-s-a-s")
    await page.get_by_label("Weeks").fill("3")
    await page.locator("#vendor-form").get_by_role("button", name="Show").click()
    await expect(page.locator("#vendor-table tbody tr")).to_have_count(3)
    await expect(page.locator("#vendor-csv")).to_have_attribute(
        "href", "/v1/vendors/andes-contact-center-s-a-s/scorecard?format=csv&weeks=3"
    )
    csv = await page.evaluate(
        "async () => (await fetch(document.getElementById('vendor-csv').href)).text()"
    )
    assert csv.splitlines()[0].startswith("week,from,to,routed,")
    assert len(csv.splitlines()) == 4

    # The session lives in an HttpOnly cookie only: nothing in the page's storage.
    cookies = await page.context.cookies()
    session = [c for c in cookies if c["name"] == "tr_session"]
    assert len(session) == 1 and session[0]["httpOnly"] and session[0]["sameSite"] == "Strict"
    assert await page.evaluate("document.cookie") == ""
    assert await page.evaluate("localStorage.length + sessionStorage.length") == 0
    assert await page.get_by_label("Access token").input_value() == ""

    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_label("Access token")).to_be_visible()
    await expect(page.locator("#app")).to_be_hidden()
    status = await page.evaluate("async () => (await fetch('/v1/session')).status")
    assert status == 401
    await page.reload()
    await expect(page.get_by_label("Access token")).to_be_visible()


async def test_a_wrong_token_is_refused_with_the_field_named(
    page: Page, service: RunningService
) -> None:
    response = await page.goto(f"{service.url}/dashboard/")
    assert response is not None
    headers = await response.all_headers()
    assert headers["content-security-policy"] == CSP
    assert (headers["x-content-type-options"], headers["cache-control"]) == ("nosniff", "no-cache")
    await page.get_by_label("Access token").fill("trt_not_a_token")
    await page.get_by_role("button", name="Sign in").click()
    alert = page.locator("#signin-error")
    await expect(alert).to_contain_text("Error 401")
    await expect(alert.locator(".error-field")).to_have_text("token")
    await expect(page.locator("#app")).to_be_hidden()


async def test_the_heat_map_shows_the_known_gap_in_red_in_the_chosen_zone(
    page: Page, service: RunningService, tokens: dict[str, str]
) -> None:
    report = await api_get(f"{service.url}/v1/coverage?tz=Asia/Manila", tokens["admin"])
    await sign_in(page, service.url, tokens["admin"])
    await expect(page.locator("#coverage-summary")).to_contain_text("in UTC")
    await page.get_by_label("Time zone").fill("Asia/Manila")
    await page.locator("#coverage-form").get_by_role("button", name="Show").click()
    summary = page.locator("#coverage-summary")
    await expect(summary).to_contain_text(f"in Asia/Manila, config {report['config_version']}")
    await expect(summary).to_contain_text(f"{report['gap_count']} hour(s)")
    assert report["gap_count"] > 0

    heatmap = page.locator("#heatmap")
    combos = [f"{lang}/{tier}" for lang in report["languages"] for tier in report["tiers"]]
    await expect(heatmap.locator(".hm-row[data-cell]")).to_have_count(len(combos))
    cells = heatmap.locator(".hm-cell")
    await expect(cells).to_have_count(len(combos) * len(report["hours"]))
    # 12:00 in Manila is 04:00 UTC: the night pool has closed, the others are not open.
    gap = heatmap.locator('.hm-cell[data-cell="pt/tier2"][data-weekday="mon"][data-clock="12"]')
    await expect(gap).to_have_class("hm-cell gap")
    await expect(gap).to_have_attribute("title", "Mon 12:00 pt/tier2: GAP, no open pool")
    assert await gap.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(198, 40, 40)"
    # 11:00 in Manila (03:00 UTC) the night pool is open and the nearshore one still is.
    before = heatmap.locator('.hm-cell[data-cell="pt/tier2"][data-weekday="mon"][data-clock="11"]')
    await expect(before).not_to_have_class("hm-cell gap")
    await expect(before).to_have_attribute(
        "title", "Mon 11:00 pt/tier2: capacity 130 (andes-bpo, pacific-night)"
    )
    red = await heatmap.locator(".hm-cell.gap").count()
    assert red == report["gap_count"]

    # The table alternative says the same.
    await page.get_by_text("The week as a table").click()
    row = page.locator("#coverage-table tbody tr").filter(
        has=page.get_by_role("rowheader", name="Mon 12:00", exact=True)
    )
    await expect(row.locator('td[data-cell="pt/tier2"]')).to_have_text("GAP")
    await expect(page.locator("#coverage-table tbody tr")).to_have_count(len(report["hours"]))

    # An unknown zone: the API's error, naming the field.
    await page.get_by_label("Time zone").fill("Mars/Base")
    await page.locator("#coverage-form").get_by_role("button", name="Show").click()
    await expect(page.locator("#coverage-error .error-field")).to_have_text("tz")
    await expect(page.locator("#coverage-error")).to_contain_text("unknown IANA time zone")


async def test_edit_a_rule_preview_apply_and_roll_back(
    page: Page,
    service: RunningService,
    tokens: dict[str, str],
    amqp: AbstractRobustConnection,
    redis_client: aioredis.Redis,
    names: Names,
) -> None:
    ids = await route(amqp, redis_client, names, 30, seed=303)
    records = [await api_get(f"{service.url}/v1/tickets/{i}", tokens["admin"]) for i in ids]
    # Renaming the rule changes the rule of exactly the tickets it matched.
    matched = sum(1 for r in records if r["assignment"]["rule"] == RULE)
    assert matched > 0
    before = await api_get(f"{service.url}/v1/config", tokens["admin"])

    await sign_in(page, service.url, tokens["admin"])
    await expect(page.locator("#config-version")).to_have_text(before["version"])
    await expect(page.locator("#config-number")).to_have_text(str(before["number"]))
    editor = page.get_by_label("Candidate config (JSON)")
    await expect(editor).not_to_have_value("")
    doc = json.loads(await editor.input_value())
    assert doc == {k: v for k, v in before["config"].items() if k != "version"}
    for rule in doc["rules"]:
        if rule["id"] == RULE:
            rule["id"] = RENAMED
    await editor.fill(json.dumps(doc, indent=2))

    await page.get_by_role("button", name="Preview").click()
    await expect(page.locator("#preview-changed")).to_have_text(str(matched))
    await expect(page.locator("#preview-summary")).to_contain_text(
        f"of {len(ids)} recent tickets would be routed differently"
    )
    await expect(page.locator("#preview-table tbody tr")).to_have_count(matched)
    moved = page.locator("#preview-table tbody tr").first
    await expect(moved.locator("td").nth(2)).to_have_text(RULE)
    await expect(moved.locator("td").nth(3)).to_have_text(RENAMED)
    # Nothing is in force yet.
    assert (await api_get(f"{service.url}/v1/config", tokens["admin"]))["number"] == before[
        "number"
    ]

    await page.get_by_role("button", name="Apply").click()
    applied_number = before["number"] + 1
    await expect(page.locator("#config-status")).to_contain_text(f"Version {applied_number} (")
    applied = await api_get(f"{service.url}/v1/config", tokens["admin"])
    assert applied["number"] == applied_number
    assert applied["version"] != before["version"]
    assert [r["id"] for r in applied["config"]["rules"]].count(RENAMED) == 1
    await expect(page.locator("#config-version")).to_have_text(applied["version"])
    await expect(page.locator("#versions-table tbody tr")).to_have_count(2)

    await page.get_by_label("Roll back to version").select_option(str(before["number"]))
    await page.get_by_role("button", name="Roll back").click()
    await expect(page.locator("#config-status")).to_contain_text(
        f"Rolled back to version {before['number']}"
    )
    back = await api_get(f"{service.url}/v1/config", tokens["admin"])
    assert back["number"] == applied_number + 1
    assert back["config"]["rules"] == before["config"]["rules"]
    assert back["version"].split(".", 1)[1] == before["version"].split(".", 1)[1]
    await expect(page.locator("#config-version")).to_have_text(back["version"])


async def test_an_invalid_candidate_shows_the_field_the_api_names(
    page: Page, service: RunningService, tokens: dict[str, str]
) -> None:
    await sign_in(page, service.url, tokens["admin"])
    editor = page.get_by_label("Candidate config (JSON)")
    await expect(editor).not_to_have_value("")
    doc = json.loads(await editor.input_value())
    doc["rules"][0]["pools"] = ["no-such-pool"]
    await editor.fill(json.dumps(doc))
    await page.get_by_role("button", name="Preview").click()
    error = page.locator("#config-error")
    await expect(error.locator(".error-field")).to_have_text("rules[0].pools[0]")
    await expect(error).to_contain_text("Error 400")
    await expect(error).to_contain_text("no-such-pool")
    await page.get_by_role("button", name="Apply").click()
    await expect(error.locator(".error-field")).to_have_text("rules[0].pools[0]")
    await editor.fill("{ not json")
    await page.get_by_role("button", name="Preview").click()
    await expect(error.locator(".error-field")).to_have_text("config")
    await expect(error).to_contain_text("not valid JSON")


async def test_a_viewer_sees_everything_and_cannot_change_the_config(
    page: Page, service: RunningService, tokens: dict[str, str], viewer_token: str
) -> None:
    before = await api_get(f"{service.url}/v1/config", tokens["admin"])
    await sign_in(page, service.url, viewer_token)
    await expect(page.locator("#who-scopes")).to_have_text("viewer")
    await expect(page.locator("#config-version")).to_have_text(before["version"])
    await expect(page.locator('#pools-table tfoot [data-k="routed"]')).to_have_text("0")
    await expect(page.locator("#coverage-summary")).to_contain_text("hour(s)")
    await expect(page.locator("#vendor-table tbody tr")).to_have_count(4)
    await expect(page.locator("#vendor-error")).to_be_empty()
    await expect(page.locator("#config-readonly")).to_be_visible()
    for name in ("Preview", "Apply", "Roll back"):
        await expect(page.get_by_role("button", name=name)).to_be_disabled()
    editor = page.get_by_label("Candidate config (JSON)")
    await expect(editor).not_to_be_editable()
    await expect(editor).not_to_have_value("")  # readable all the same

    # The API refuses it anyway: the page's own session, with its CSRF value.
    status, body = await page.evaluate(
        """async (doc) => {
            const session = await (await fetch('/v1/session')).json();
            const r = await fetch('/v1/config', {
                method: 'PUT', body: JSON.stringify(doc),
                headers: {'Content-Type': 'application/json', 'X-CSRF-Token': session.csrf},
            });
            return [r.status, await r.json()];
        }""",
        before["config"],
    )
    assert status == 403
    assert "admin" in body["error"]["message"]
    # Without the CSRF value the cookie alone changes nothing either.
    status = await page.evaluate(
        """async () => (await fetch('/v1/config/rollback', {
            method: 'POST', body: '{"version": 1}',
            headers: {'Content-Type': 'application/json'}})).status"""
    )
    assert status == 403
    after = await api_get(f"{service.url}/v1/config", tokens["admin"])
    assert after["number"] == before["number"]


async def test_a_change_made_meanwhile_is_not_overwritten(
    page: Page, service: RunningService, tokens: dict[str, str]
) -> None:
    await sign_in(page, service.url, tokens["admin"])
    editor = page.get_by_label("Candidate config (JSON)")
    await expect(editor).not_to_have_value("")
    read = await api_get(f"{service.url}/v1/config", tokens["admin"])
    # Someone else puts a version in force after the page read its own.
    document = {k: v for k, v in read["config"].items() if k != "version"}
    document["rules"] = [r for r in document["rules"] if r["id"] != RULE]
    async with (
        ClientSession() as http,
        http.put(
            f"{service.url}/v1/config", json=document, headers=bearer(tokens["admin"])
        ) as response,
    ):
        assert response.status == 200
    await page.get_by_role("button", name="Apply").click()
    error = page.locator("#config-error")
    await expect(error.locator(".error-field")).to_have_text("If-Match")
    await expect(error).to_contain_text(f"version {read['number'] + 1} is in force now")
    now = await api_get(f"{service.url}/v1/config", tokens["admin"])
    assert now["number"] == read["number"] + 1
    assert RULE not in [r["id"] for r in now["config"]["rules"]]


async def test_a_revoked_token_ends_the_page_s_session(
    page: Page,
    service: RunningService,
    tokens: dict[str, str],
    redis_client: aioredis.Redis,
    names: Names,
) -> None:
    store = RedisTokenStore(redis_client, names.redis_prefix)
    plaintext, info = await store.create("wallboard", parse_scopes(["viewer"]))
    # Signed in with the keyboard alone: type the token, Enter.
    await page.goto(f"{service.url}/dashboard/")
    await expect(page.get_by_label("Access token")).to_be_focused()
    await page.keyboard.type(plaintext)
    await page.keyboard.press("Enter")
    await expect(page.locator("#who-name")).to_have_text("wallboard")
    assert await store.revoke(info.token_id)
    # The next refresh (every 5 s) is refused: the page says so and asks for a token.
    await expect(page.get_by_label("Access token")).to_be_visible()
    await expect(page.locator("#signin-error")).to_have_text(
        "Your session has ended: sign in again."
    )
    await expect(page.locator("#app")).to_be_hidden()
