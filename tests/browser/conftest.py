"""Fixtures for the dashboard's tests in a real browser: Debian's Chromium driven by
Playwright, against the service running in this test's event loop on the real
RabbitMQ and Redis (the fixtures of tests/integration/conftest.py).

The service runs a config whose pools leave a known gap: the night pool opens one
hour a day (11:00-12:00 in Manila), so from 04:00 UTC (12:00 in Manila) until the
next pool opens no pool is open for any language or tier.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
import yaml
from playwright.async_api import Browser, Page, async_playwright, expect

from queues.token_store import RedisTokenStore
from router.core.tokens import parse_scopes
from router.service.settings import Names, Settings
from tests.conftest import EXAMPLE_CONFIG
from tests.integration import conftest as integration
from tests.integration.conftest import local_settings

# The integration tests' fixtures, under their names (pytest finds them here).
suffix = integration.suffix
names = integration.names
redis_client = integration.redis_client
extra_pools = integration.extra_pools
amqp = integration.amqp
start_service = integration.start_service
service = integration.service
tokens = integration.tokens

#: Debian's Chromium (deploy/setup.sh --test installs it); Playwright downloads nothing.
CHROMIUM = os.environ.get("ROUTER_TEST_CHROMIUM", "/usr/bin/chromium")
#: The night pool's one open hour, in its zone (Asia/Manila, UTC+8 all year).
NIGHT_HOURS = "11:00-12:00"
NIGHT_POOL = "pacific-night"
# Up to six test runs share two cores: conditions get 15 s to come true (Playwright's
# default is 5 s); a condition that holds is seen as soon as it does.
CONDITION_TIMEOUT_MS = 15_000
expect.set_options(timeout=CONDITION_TIMEOUT_MS)


def gap_config() -> dict[str, Any]:
    """The example config with the night pool open one hour a day (see the module)."""
    doc: dict[str, Any] = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    for pool in doc["pools"]:
        if pool["id"] == NIGHT_POOL:
            pool["schedule"] = {"daily": [NIGHT_HOURS]}
    return doc


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    """The gap config as a file for the service to start from."""
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(gap_config(), sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def settings(names: Names, model_dir: Path, config_path: Path) -> Settings:
    """The integration tests' settings, on the gap config."""
    return local_settings(names, model_dir, config_path=config_path)


@pytest.fixture
async def viewer_token(redis_client: aioredis.Redis, names: Names) -> str:
    """A plaintext token with the read-only ``viewer`` scope."""
    store = RedisTokenStore(redis_client, names.redis_prefix)
    plaintext, _ = await store.create("test viewer", parse_scopes(["viewer"]))
    return plaintext


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Headless Chromium (the system's; never a downloaded build)."""
    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240  (one stat, before the browser starts)
        pytest.fail(f"no Chromium at {CHROMIUM}: run deploy/setup.sh --test (apt chromium)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM)
        yield launched
        await launched.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    """A fresh browser context and page; a page error or console error fails the test."""
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(CONDITION_TIMEOUT_MS)
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on(
        "console",
        lambda msg: (
            problems.append(f"console {msg.type}: {msg.text}")
            if msg.type == "error" and "status of 4" not in msg.text
            else None
        ),
    )
    yield page
    await context.close()
    assert problems == []
