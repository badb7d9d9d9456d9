"""schemathesis against the running service, from the service's own ``GET /openapi.json``.

One service (real RabbitMQ and Redis, names unique to this run) runs in a thread of
its own, because schemathesis calls it synchronously. Every operation is fuzzed
with an admin, an ingest and an agent token (each generated request is sent with
all three), valid and invalid inputs alike, in a bounded run (``FUZZ_EXAMPLES``
examples per operation and generation mode). Each response must be no server
error, have a documented status code and content type, and match the documented
schema. ``FUZZ_STRICT=1`` adds schemathesis's two checks that the document is exactly
as strict as the validation (schema-valid accepted, schema-invalid refused).
"""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import redis.asyncio as aioredis
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    negative_data_rejection,
    not_a_server_error,
    positive_data_acceptance,
)
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from queues.config_store import RedisConfigStore
from queues.token_store import RedisTokenStore
from router.config.load import load_config
from router.core.tokens import parse_scopes
from router.http.app import create_app
from router.http.openapi import openapi_document
from router.service.settings import Names, Settings
from tests.cleanup import remove_run
from tests.conftest import EXAMPLE_CONFIG, REDIS_URL
from tests.integration.conftest import local_settings

pytestmark = pytest.mark.integration
T = TypeVar("T")

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    *([negative_data_rejection, positive_data_acceptance] if os.environ.get("FUZZ_STRICT") else []),
]
AGENT_POOL = load_config(EXAMPLE_CONFIG).pool_ids[0]
WHO = {"admin": "admin", "ingest": "ingest", "agent": f"agent:{AGENT_POOL}"}


@dataclass
class Live:
    """The service under test, running in its own thread and event loop."""

    url: str
    tokens: dict[str, str]
    loop: asyncio.AbstractEventLoop

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        """Run ``coro`` on the service's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)


async def _start(settings: Settings) -> web.AppRunner:
    runner = web.AppRunner(create_app(settings), handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, settings.http_host, settings.http_port).start()
    return runner


async def _tokens(names: Names) -> dict[str, str]:
    client = aioredis.Redis.from_url(REDIS_URL)
    store = RedisTokenStore(client, names.redis_prefix)
    out = {}
    for who, scope in WHO.items():
        out[who], _ = await store.create(f"fuzz {who}", parse_scopes([scope]))
    await client.aclose()
    return out


async def _clean(names: Names) -> None:
    """Delete this run's queues (the example's pools and any a fuzzed config added),
    exchanges and Redis keys."""
    client = aioredis.Redis.from_url(REDIS_URL)
    pools = set(load_config(EXAMPLE_CONFIG).pool_ids)
    for version in await RedisConfigStore(client, names.redis_prefix).history(1000):
        pools.update(str(p["id"]) for p in version.document.get("pools", []))
    await remove_run(client, names, pools)


@pytest.fixture(scope="module")
def live(model_dir: Path) -> Iterator[Live]:
    """One running service for the whole fuzz run, and its three tokens."""
    names = Names.with_suffix(f"f{uuid.uuid4().hex[:12]}")
    settings = local_settings(
        names, model_dir, claim_ttl_s=Settings().claim_ttl_s, shutdown_grace_s=5.0
    )
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fuzzed-service", daemon=True)
    thread.start()
    service = Live(f"http://127.0.0.1:{settings.http_port}", {}, loop)
    runner = service.run(_start(settings))
    try:
        service.tokens = service.run(_tokens(names))
        yield service
    finally:
        service.run(runner.cleanup())
        service.run(_clean(names))
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@pytest.fixture(scope="module")
def api_schema(live: Live) -> schemathesis.BaseSchema:
    """The document the running service serves."""
    schema = schemathesis.openapi.from_url(f"{live.url}/openapi.json")
    schema.config.generation.update(with_security_parameters=False)  # our tokens only
    return schema


def _short_wait(case: schemathesis.Case[Any]) -> schemathesis.Case[Any]:
    """A valid long poll may wait 30 s on an empty pool: keep the bounded run bounded."""
    body = case.body
    wait = body.get("wait") if isinstance(body, dict) else None
    valid = isinstance(wait, int | float) and not isinstance(wait, bool) and 0.1 < wait <= 30
    if isinstance(body, dict) and valid:  # an invalid wait stays as generated
        body["wait"] = 0.1
    return case


# Collected from the same document the service serves (checked below), so each
# operation is its own test; the run itself uses what GET /openapi.json returned.
OPERATIONS = [
    (path, method.upper()) for path, ops in openapi_document()["paths"].items() for method in ops
]


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_operation_conforms(
    path: str, method: str, api_schema: schemathesis.BaseSchema, live: Live
) -> None:
    assert api_schema.raw_schema == openapi_document()
    operation = api_schema[path][method]
    modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    strategies = [operation.as_strategy(mode) for mode in modes]
    if "{pool}" in path:
        # Random pool ids stop at 403/404; also aim at a real pool the agent token works.
        strategies += [
            operation.as_strategy(mode, path_parameters={"pool": AGENT_POOL}) for mode in modes
        ]
    cases = st.one_of(strategies).map(_short_wait)
    calls: list[int] = []

    @given(case=cases)
    @hypothesis_settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def each(case: schemathesis.Case[Any]) -> None:
        # Each generated request is sent with each token: one generation, three callers.
        for who in sorted(WHO):
            response = case.call_and_validate(
                base_url=live.url,
                headers={"Authorization": f"Bearer {live.tokens[who]}"},
                checks=CHECKS,
                timeout=30,
            )
            calls.append(response.status_code)

    each()
    print(f"{method} {path}: {len(calls)} calls, statuses {sorted(set(calls))}")
    assert len(calls) >= 3  # the run did call the service
