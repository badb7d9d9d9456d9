"""Screenshots of the dashboard and of a simulation chart for the docs (docs/images/).

    .venv/bin/python -m tests.browser.screenshots [--out docs/images]

Runs the real service in this process on the local RabbitMQ and Redis (names and
keys of its own, removed afterwards), on the example config with the night pool
open one hour a day (so the coverage map has a gap to show), routes tickets, has
agents accept and complete some of them, then drives Debian's Chromium through the
dashboard: the pools, the coverage heat map in Asia/Manila, a config preview and a
what-if comparison.
The simulation chart is `ticket-router simulate --chart week.html` rendered in the
same browser. Writes dashboard-pools.png, dashboard-coverage.png,
dashboard-config-preview.png and simulation-week.png.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import uuid
from pathlib import Path

import redis.asyncio as aioredis
import yaml
from aiohttp import ClientSession, web
from playwright.async_api import Page, ViewportSize, async_playwright, expect

from classifiers.errors import ModelError
from classifiers.model import load_model
from classifiers.paths import default_model_dir
from queues.token_store import RedisTokenStore
from router.config.load import load_config
from router.core.tokens import parse_scopes
from router.http.app import create_app
from router.service.settings import Names
from tests.browser.conftest import CHROMIUM, gap_config
from tests.cleanup import remove_run
from tests.conftest import EXAMPLE_CONFIG, REDIS_URL, REPO
from tests.integration.conftest import bearer, local_settings, wait_for
from tests.tickets import make_tickets

VIEWPORT: ViewportSize = {"width": 1400, "height": 900}
TICKETS = 80
#: Pulled, accepted and completed by an agent of each pool before the screenshots.
COMPLETED_PER_POOL = 4
#: The what-if's candidate: the vendors' capacity cut (as in docs/simulator.md).
WHATIF_CUT = {"andes-bpo": 12, "pacific-night": 8}


async def _work(http: ClientSession, url: str, pool: str, token: str, n: int) -> None:
    """An agent of ``pool`` pulls, accepts and completes up to ``n`` tickets."""
    base = f"{url}/v1/pools/{pool}/assignments"
    for _ in range(n):
        body = {"agent": f"{pool}-agent"}
        async with http.post(f"{base}/next", json=body, headers=bearer(token)) as r:
            if r.status != 200:
                return
            lease = (await r.json())["lease"]
        one = f"{base}/{lease['ticket_id']}"
        lease_body = {"lease_id": lease["lease_id"]}
        async with http.post(f"{one}/accept", json=lease_body, headers=bearer(token)) as r:
            r.raise_for_status()
        done = {**lease_body, "outcome": "resolved"}
        async with http.post(f"{one}/complete", json=done, headers=bearer(token)) as r:
            r.raise_for_status()


async def _sign_in(page: Page, url: str, token: str) -> None:
    await page.goto(f"{url}/dashboard/")
    await page.get_by_label("Access token").fill(token)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#app")).to_be_visible()
    await expect(page.get_by_label("Candidate config (JSON)")).not_to_have_value("")


async def dashboard_shots(out: Path, model_dir: Path, workdir: Path) -> list[Path]:
    """Run the service, fill it with tickets and take the dashboard's screenshots."""
    names = Names.with_suffix(f"shots{uuid.uuid4().hex[:8]}")
    config_path = workdir / "config.yaml"
    config_path.write_text(yaml.safe_dump(gap_config(), sort_keys=False), encoding="utf-8")
    settings = local_settings(names, model_dir, config_path=config_path)
    redis = aioredis.Redis.from_url(REDIS_URL)
    app = create_app(settings)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, settings.http_host, settings.http_port).start()
    url = f"http://{settings.http_host}:{settings.http_port}"
    pools = load_config(EXAMPLE_CONFIG).pool_ids
    shots: list[Path] = []
    try:
        store = RedisTokenStore(redis, names.redis_prefix)
        admin, _ = await store.create("ops", parse_scopes(["admin"]))
        ingest, _ = await store.create("helpdesk", parse_scopes(["ingest"]))
        agents = {
            p: (await store.create(f"agents {p}", parse_scopes([f"agent:{p}"])))[0] for p in pools
        }
        async with ClientSession() as http:
            for ticket in make_tickets(TICKETS, seed=2026):
                async with http.post(f"{url}/v1/tickets", json=ticket, headers=bearer(ingest)) as r:
                    r.raise_for_status()

            async def routed() -> bool:
                async with http.get(f"{url}/v1/stats", headers=bearer(admin)) as r:
                    return int((await r.json())["overall"]["routed"]) == TICKETS

            await wait_for(routed, timeout=60, what=f"{TICKETS} tickets routed")
            for pool, token in agents.items():
                await _work(http, url, pool, token, COMPLETED_PER_POOL)

        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM)
            page = await browser.new_page(viewport=VIEWPORT)
            await _sign_in(page, url, admin)
            await expect(page.locator('#pools-table tfoot [data-k="routed"]')).to_have_text(
                str(TICKETS)
            )
            await expect(page.locator("#vendor-table tbody tr")).to_have_count(4)
            await expect(page.locator("#pools-table tbody th .sub")).to_have_count(len(pools))
            shots.append(out / "dashboard-pools.png")
            await page.locator("#pools").screenshot(path=shots[-1])

            await page.get_by_label("Time zone").fill("Asia/Manila")
            await page.locator("#coverage-form").get_by_role("button", name="Show").click()
            await expect(page.locator("#coverage-summary")).to_contain_text("Asia/Manila")
            shots.append(out / "dashboard-coverage.png")
            await page.locator("#coverage").screenshot(path=shots[-1])

            editor = page.get_by_label("Candidate config (JSON)")
            doc = json.loads(await editor.input_value())
            for rule in doc["rules"]:
                if rule["id"] == "tier1-split":  # vendors 50/50 instead of 70/30
                    rule["weights"].update({"andes-bpo": 50, "pacific-night": 50})
            await editor.fill(json.dumps(doc, indent=2))
            await page.get_by_role("button", name="Preview").click()
            await expect(page.locator("#preview-changed")).not_to_have_text("")
            # The editor from its first line, as someone reviewing the candidate sees it.
            await editor.evaluate("e => { e.setSelectionRange(0, 0); e.scrollTop = 0; }")
            shots.append(out / "dashboard-config-preview.png")
            await page.locator("#config").screenshot(path=shots[-1])

            # What-if: the example's week of 10,000 against the vendors cut to 12 and 8.
            for pool in doc["pools"]:
                if pool["id"] in WHATIF_CUT:
                    pool["capacity"] = WHATIF_CUT[pool["id"]]
            await editor.fill(json.dumps(doc, indent=2))
            await page.get_by_label("Tickets in the generated week").fill("10000")
            await page.get_by_label("Week of", exact=True).fill("2026-03-04")
            await page.get_by_role("button", name="Compare with the candidate").click()
            await expect(page.locator("table.whatif-run")).to_have_count(2, timeout=120_000)
            shots.append(out / "dashboard-whatif.png")
            await page.locator("#whatif").screenshot(path=shots[-1])
            await browser.close()
    finally:
        await runner.cleanup()
        await remove_run(redis, names, pools)
    return shots


async def simulation_shot(out: Path, workdir: Path) -> Path:
    """`ticket-router simulate` of a synthetic week, its HTML chart rendered to PNG."""
    chart = workdir / "week.html"
    # Run from the repository with a relative config path: the chart names the file.
    command = [
        str(REPO / ".venv/bin/ticket-router"), "simulate",
        "--config", str(EXAMPLE_CONFIG.relative_to(REPO)),
        "--generate", "--volume", "10000", "--week", "2026-03-04", "--seed", "1",
        "--chart", str(chart),
    ]  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        *command, cwd=REPO, stdout=asyncio.subprocess.DEVNULL
    )
    if await process.wait() != 0:
        raise RuntimeError(f"{' '.join(command)} exited {process.returncode}")
    target = out / "simulation-week.png"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM)
        page = await browser.new_page(viewport=VIEWPORT)
        await page.goto(chart.as_uri())
        await expect(page.locator("svg").first).to_be_visible()
        await page.screenshot(path=target, full_page=True)
        await browser.close()
    return target


def _model_dir() -> Path:
    folder = default_model_dir()
    try:
        load_model(folder)
    except ModelError as exc:
        sys.exit(f"the default model does not load ({exc}): run deploy/setup.sh first")
    return folder


async def take(out: Path, model_dir: Path, workdir: Path) -> list[Path]:
    """Every screenshot, written to ``out``."""
    shots = await dashboard_shots(out, model_dir, workdir)
    shots.append(await simulation_shot(out, workdir))
    return shots


def main(argv: list[str] | None = None) -> int:
    """Write the screenshots; print each file written."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "images")
    args = parser.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        shots = asyncio.run(take(out, _model_dir(), Path(tmp)))
    for shot in shots:
        print(shot)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
