"""The fault suite's own servers: one RabbitMQ node and one Redis (append-only file on)
for the session, a Redis without persistence per test that wants one. Never the
machine's shared servers: these are stopped, killed and restarted.

    .venv/bin/pytest tests/faults -m faults                     # short form (CI), ~2 min
    ROUTER_FAULTS=long .venv/bin/pytest tests/faults -m faults  # long form, ~4 min
    ROUTER_FAULTS_SOURCE=DIR .venv/bin/pytest tests/faults      # against another checkout

The short form also runs in the default test command (``bash deploy/test.sh``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.faults.scenario import RESULTS, SCALE, Flow
from tests.faults.servers import RabbitNode, RedisServer

# The suite's own AMQP clients retry on purpose while the broker is down; their
# connection errors are expected and would only bury the figures in a failure report.
logging.getLogger("aiormq").setLevel(logging.CRITICAL)


@pytest.fixture(scope="session")
def rabbit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RabbitNode]:
    """A RabbitMQ node of the suite's own (about 4 s to start here)."""
    node = RabbitNode(tmp_path_factory.mktemp("rabbit"))
    node.start()
    yield node
    node.stop()


@pytest.fixture(scope="session")
def redis_aof(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A Redis of the suite's own with the append-only file on (fsync every second)."""
    server = RedisServer(tmp_path_factory.mktemp("redis-aof"), persistent=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_volatile(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis that persists nothing (``--save "" --appendonly no``)."""
    server = RedisServer(tmp_path / "redis-volatile", persistent=False)
    server.start()
    yield server
    server.stop()


def _flow(rabbit: RabbitNode, redis: RedisServer, model_dir: Path, tmp_path: Path) -> Flow:
    # A test that failed mid-fault may have left a server down: bring it back first.
    rabbit.ensure_up()
    redis.ensure_up()
    return Flow(rabbit, redis, model_dir, tmp_path, f"f{uuid.uuid4().hex[:10]}")


@pytest.fixture
async def flow(
    rabbit: RabbitNode, redis_aof: RedisServer, model_dir: Path, tmp_path: Path
) -> AsyncIterator[Flow]:
    """A scenario on the suite's RabbitMQ and persistent Redis; replicas stopped after."""
    scenario = _flow(rabbit, redis_aof, model_dir, tmp_path)
    yield scenario
    await scenario.close()


@pytest.fixture
async def volatile_flow(
    rabbit: RabbitNode, redis_volatile: RedisServer, model_dir: Path, tmp_path: Path
) -> AsyncIterator[Flow]:
    """A scenario on the suite's RabbitMQ and a Redis without persistence."""
    scenario = _flow(rabbit, redis_volatile, model_dir, tmp_path)
    yield scenario
    await scenario.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long form is also marked ``slow`` (so ``-m "not slow"`` leaves it out)."""
    if SCALE.name == "long":
        for item in items:
            if item.get_closest_marker("faults") is not None:
                item.add_marker(pytest.mark.slow)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Every scenario's figures, in one table at the end of the run."""
    if not RESULTS:
        return
    terminalreporter.section(f"fault scenarios ({SCALE.name} form)")
    for figures in RESULTS:
        terminalreporter.write_line(figures.line())
