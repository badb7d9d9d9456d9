"""The dashboard's what-if section in a real browser, on the running service: a
generated week run for the config in force, then compared with a candidate edited in
the config editor; every figure shown is the one POST /v1/simulate answers for the
same inputs, and the chart has a bar per hour Erlang C asks for agents, red where the
config has fewer."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from aiohttp import ClientSession
from playwright.async_api import Locator, Page, expect

from tests.browser.test_dashboard import sign_in
from tests.integration.conftest import RunningService, bearer

pytestmark = [pytest.mark.integration, pytest.mark.browser]

WEEK = "2026-03-04"
VOLUME = 4000


def _fixed(x: float, digits: int) -> str:
    """JavaScript's ``toFixed`` (the exact value, halves away from zero)."""
    return str(Decimal(x).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def _int(n: int) -> str:
    return f"{n:,}"


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{_fixed(x * 100, 1)}%"


def _minutes(m: float | None) -> str:
    return "–" if m is None else _fixed(m, 1)


def _money(x: float) -> str:
    return _fixed(x, 2)


def _hours(h: float) -> str:
    # Agent-hours come rounded to 0.1: en-US grouping, no trailing ".0".
    text = f"{h:,.1f}"
    return text[:-2] if text.endswith(".0") else text


def _signed(x: float | None, digits: int, scale: float = 1, unit: str = "") -> str:
    if x is None:
        return "–"
    sign = "+" if x * scale >= 0 else "−"
    return f"{sign}{_fixed(abs(x * scale), digits)}{unit}"


async def _simulate(url: str, token: str, body: dict[str, Any]) -> Any:
    async with (
        ClientSession() as http,
        http.post(f"{url}/v1/simulate", json=body, headers=bearer(token)) as r,
    ):
        assert r.status == 200, await r.text()
        return await r.json()


async def _expect_run(table: Locator, run: dict[str, Any]) -> None:
    """Each pool's row (and the totals') shows the run's figures."""
    rows = [(p["id"], p["totals"], True) for p in run["pools"]]
    rows.append(("all", run["totals"], False))
    await expect(table.locator("tbody tr")).to_have_count(len(run["pools"]))
    for pool, t, per_pool in rows:
        row = table.locator(f'tr[data-pool="{pool}"]')
        cells = {
            "tickets": _int(t["tickets"]),
            "service_level": _pct(t["service_level"]),
            "p50": _minutes(t["wait_minutes"]["p50"]),
            "p90": _minutes(t["wait_minutes"]["p90"]),
            "utilisation": _pct(t["utilisation"]),
            "cost": _money(t["cost"]),
            "escalations": f"{_int(t['escalated_out'])}/{_int(t['escalated_in'])}",
            "expiries": _int(t["expiries"]),
        }
        if per_pool:
            cells |= {
                "agent_hours_configured": _hours(t["agent_hours_configured"]),
                "agent_hours_recommended": _hours(t["agent_hours_recommended"]),
                "hours_short": _int(t["hours_short"]),
            }
        for key, text in cells.items():
            await expect(row.locator(f'[data-k="{key}"]')).to_have_text(text)
        short = row.locator('[data-k="hours_short"].short')
        await expect(short).to_have_count(1 if per_pool and t["hours_short"] > 0 else 0)


async def _expect_chart(page: Page, run: dict[str, Any]) -> None:
    """The chart and its table show the pool with the most agent-hours short."""
    pool = max(run["pools"], key=lambda p: p["totals"]["agent_hours_short"])
    await expect(page.get_by_label("Pool", exact=True)).to_have_value(pool["id"])
    hours = pool["hours"]
    needed = [h for h in hours if h["staffing"]["recommended"] > 0]
    short = [h for h in hours if h["staffing"]["gap"] > 0]
    await expect(page.locator("#whatif-chart svg rect.bar")).to_have_count(len(needed))
    await expect(page.locator("#whatif-chart svg rect.bar.short")).to_have_count(len(short))
    shown = [h for h in hours if h["staffing"]["open_minutes"] > 0 or h["tickets"] > 0]
    rows = page.locator("#whatif-hours tbody tr")
    await expect(rows).to_have_count(len(shown))
    await expect(page.locator("#whatif-hours tbody tr.short")).to_have_count(len(short))
    for h in short[:3]:
        row = page.locator(f'#whatif-hours tr[data-hour="{h["hour"]}"]')
        s = h["staffing"]
        await expect(row.locator('[data-k="configured"]')).to_have_text(_int(s["configured"]))
        await expect(row.locator('[data-k="recommended"]')).to_have_text(_int(s["recommended"]))
        await expect(row.locator('[data-k="gap"]')).to_have_text(f"+{s['gap']}")


async def test_a_what_if_run_and_a_comparison_show_the_api_s_figures(
    page: Page, service: RunningService, tokens: dict[str, str]
) -> None:
    admin = tokens["admin"]
    await sign_in(page, service.url, admin)
    editor = page.get_by_label("Candidate config (JSON)")
    await expect(editor).not_to_have_value("")

    await page.get_by_label("Tickets in the generated week").fill(str(VOLUME))
    await page.get_by_label("Week of", exact=True).fill(WEEK)
    await page.get_by_label("Target service level (%)").fill("85")
    await page.get_by_label("within (minutes)").fill("15")
    await page.locator("#whatif-run").click()
    status = page.locator("#whatif-status")
    await expect(status).to_contain_text(f"Simulated {_int(VOLUME)} tickets in the week of")
    body: dict[str, Any] = {
        "source": "generate",
        "generate": {"volume": VOLUME},
        "week": WEEK,
        "target_level": 0.85,
        "target_wait_minutes": 15,
        "seed": 1,
        "tz": "UTC",
    }
    report = await _simulate(service.url, admin, body)
    (run,) = report["runs"]
    t = run["totals"]
    await expect(status).to_contain_text(
        f"service level {_pct(t['service_level'])} within 15 min (target 85.0%), "
        f"cost {_money(t['cost'])}, {len(run['staffing']['short'])} pool-hour(s) short"
    )
    await expect(page.locator("table.whatif-run")).to_have_count(1)
    await _expect_run(page.locator('table.whatif-run[data-run="a"]'), run)
    await expect(page.locator("#whatif-difference")).to_be_hidden()
    await _expect_chart(page, run)

    # The candidate: the vendors cut to 4 and 8 agents.
    doc = json.loads(await editor.input_value())
    for pool in doc["pools"]:
        if pool["id"] == "andes-bpo":
            pool["capacity"] = 4
        if pool["id"] == "pacific-night":
            pool["capacity"] = 8
    await editor.fill(json.dumps(doc, indent=2))
    await page.get_by_role("button", name="Compare with the candidate").click()
    await expect(page.locator("table.whatif-run")).to_have_count(2)
    compared = await _simulate(service.url, admin, {**body, "config": doc, "compare": True})
    a, b = compared["runs"]
    assert {**a, "label": ""} == run  # the config in force on the same arrivals: the same run
    await _expect_run(page.locator('table.whatif-run[data-run="a"]'), a)
    await _expect_run(page.locator('table.whatif-run[data-run="b"]'), b)
    diff = compared["difference"]
    await expect(page.locator("#whatif-difference-summary")).to_contain_text(
        f"cost {_signed(diff['totals']['cost'], 2)}; "
        f"{_int(diff['routing_changed'])} ticket(s) routed to another pool first"
    )
    for pool, d in diff["pools"].items():
        row = page.locator(f'#whatif-difference-table tr[data-pool="{pool}"]')
        await expect(row.locator('[data-k="cost"]')).to_have_text(_signed(d["cost"], 2))
        await expect(row.locator('[data-k="service_level"]')).to_have_text(
            _signed(d["service_level"], 1, 100, "%")
        )
    # The chart follows the candidate's run, where the cut vendor is short.
    await expect(page.get_by_label("Run", exact=True)).to_have_value("1")
    assert b["staffing"]["short"], "the cut leaves some pool-hours short"
    await _expect_chart(page, b)


async def test_a_viewer_s_refused_what_if_shows_the_field_the_api_names(
    page: Page, service: RunningService, viewer_token: str
) -> None:
    # A viewer's editor is read-only and holds the config in force: Compare still runs.
    await sign_in(page, service.url, viewer_token)
    await expect(page.get_by_label("Candidate config (JSON)")).not_to_have_value("")
    await page.get_by_label("Target service level (%)").fill("100")
    await page.get_by_role("button", name="Compare with the candidate").click()
    error = page.locator("#whatif-error")
    await expect(error.locator(".error-field")).to_have_text("target_level")
    await expect(error).to_contain_text("Error 400")
    await expect(page.locator("#whatif-result")).to_be_hidden()
    await page.get_by_label("Target service level (%)").fill("80")
    await page.get_by_label("Tickets in the generated week").fill("300")
    await page.get_by_role("button", name="Compare with the candidate").click()
    await expect(page.locator("table.whatif-run")).to_have_count(2)
    await expect(page.locator("#whatif-error")).to_be_empty()
