"""Agent presence's contract, run against the in-memory fake and Redis: heartbeats,
statuses by pool, staleness and forgetting."""

from __future__ import annotations

import pytest

from router.service.settings import Names
from tests.integration.contract_backends import KINDS, Backend, backend_for

pytestmark = pytest.mark.integration

TTL = 60_000


@pytest.fixture(params=KINDS)
def backend(request: pytest.FixtureRequest, names: Names) -> Backend:
    return backend_for(request, names)


async def test_agents_by_status_each_sorted(backend: Backend) -> None:
    presence = backend.presence(ttl_ms=TTL)
    assert await presence.agents("p") == {"online": [], "away": [], "offline": []}
    before = await backend.now_ms()
    expires = await presence.beat("p", "zoe", "online")
    assert before + TTL <= expires <= await backend.now_ms() + TTL
    await presence.beat("p", "ana", "online")
    await presence.beat("p", "bob", "away")
    await presence.beat("p", "cy", "offline")
    await presence.beat("q", "dan", "online")
    await presence.beat("p", "bob", "online")  # the latest status counts
    assert await presence.agents("p") == {
        "online": ["ana", "bob", "zoe"],
        "away": [],
        "offline": ["cy"],
    }
    assert await presence.agents("q") == {"online": ["dan"], "away": [], "offline": []}


async def test_a_stale_heartbeat_reads_as_offline(backend: Backend) -> None:
    presence = backend.presence(ttl_ms=-1)  # stale at once
    await presence.beat("p", "ana", "online")
    assert await presence.agents("p") == {"online": [], "away": [], "offline": ["ana"]}


async def test_silent_agents_are_forgotten(backend: Backend) -> None:
    presence = backend.presence(ttl_ms=TTL, forget_ms=1000)
    await presence.beat("p", "ana", "online")
    await presence.beat("p", "bob", "away")
    now = await backend.now_ms()
    assert await presence.prune("p", now - 10_000) == 0
    assert await presence.prune("p", now + 10_000) == 2
    assert await presence.prune("p", now + 10_000) == 0
    assert await presence.agents("p") == {"online": [], "away": [], "offline": []}
