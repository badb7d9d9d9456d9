"""``serve`` opens its port before the HTTP layer is imported: what that import leaves
out, and the start-up server answering as the application does before the service
opening has begun (tests/faults/test_startup.py times the whole launch)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from aiohttp.test_utils import RawTestServer, TestClient, TestServer

from router.cli.serve import answer_starting
from router.http import appkeys as K
from router.http.app import _routes
from router.service.settings import Settings
from router.service.startup import StartupProgress
from tests.conftest import REPO

# Imported only once the port is open: the HTTP layer, the use cases under it, the
# clients and the learners.
LATER = ("router.http.app", "router.service.composition", "aio_pika", "redis", "sklearn", "numpy")

PROBE = """
import sys
import router.cli.main, router.cli.serve
print(sorted(name for name in {later!r} if name in sys.modules))
"""


def test_what_serve_imports_before_its_port_opens() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(later=LATER)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "[]", out.stderr


async def _answers(client: TestClient[Any, Any]) -> list[tuple[int, Any, str | None]]:
    answers = []
    for method, path in [
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("POST", "/v1/tickets"),
        ("GET", "/v1/config"),
        ("GET", "/no/such/path"),
    ]:
        async with client.request(method, path) as response:
            answers.append(
                (response.status, await response.json(), response.headers.get("Retry-After"))
            )
    return answers


async def test_the_start_up_server_answers_as_the_starting_application() -> None:
    app = _routes(Settings())
    app[K.STARTUP] = StartupProgress()  # the service opening not begun: no step yet
    async with TestClient(TestServer(app)) as application:
        expected = await _answers(application)
    raw: TestClient[Any, Any] = TestClient(RawTestServer(answer_starting))
    async with raw as starting:
        got = await _answers(starting)
    assert got == expected
    assert [status for status, _, _ in got] == [200, 503, 503, 503, 503]
    assert got[1][1] == {
        "status": "starting",
        "step": "starting",
        "redis": "not waiting",
        "broker": "not waiting",
    }
