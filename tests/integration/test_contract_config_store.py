"""The config version store's contract, run against the in-memory fake and Redis:
numbered versions, the pointer in force, history, and conflicts (compare-and-set)."""

from __future__ import annotations

from typing import Any

import pytest

from queues.config_store import ConfigConflict
from router.core.config_version import ConfigVersion
from router.service.ports import ConfigStore
from router.service.settings import Names
from tests.integration.contract_backends import KINDS, Backend, backend_for

pytestmark = pytest.mark.integration


@pytest.fixture(params=KINDS)
def backend(request: pytest.FixtureRequest, names: Names) -> Backend:
    return backend_for(request, names)


@pytest.fixture
def store(backend: Backend) -> ConfigStore:
    return backend.configs()


async def _append(store: ConfigStore, doc: dict[str, Any], expect: int | None) -> ConfigVersion:
    return await store.append(
        doc, version=f"?.{doc['n']}", author="ops", source="api", comment="c", diff=["d"],
        expect=expect,
    )  # fmt: skip


async def _conflict(store: ConfigStore, expect: int | None) -> int:
    with pytest.raises(ConfigConflict) as caught:
        await _append(store, {"n": "late"}, expect)
    return caught.value.current


async def test_an_empty_store(store: ConfigStore, names: Names) -> None:
    assert await store.current_number() is None
    assert await store.current() is None
    assert await store.get(1) is None
    assert await store.history() == []
    assert store.channel == f"{names.redis_prefix}config:changed"


async def test_versions_are_numbered_and_the_last_is_in_force(store: ConfigStore) -> None:
    first = await _append(store, {"n": 1, "pools": ("a", "b")}, None)
    assert (first.number, first.version, first.author, first.source) == (1, "?.1", "ops", "api")
    assert (first.comment, first.diff) == ("c", ("d",))
    second = await _append(store, {"n": 2}, 1)
    assert second.number == 2
    assert await store.current_number() == 2
    assert await store.current() == second
    stored = await store.get(1)
    assert stored is not None
    # As read back, the document went through JSON: a tuple is a list.
    assert stored == ConfigVersion(
        1, "?.1", "ops", first.at, "api", "c", ("d",), {"n": 1, "pools": ["a", "b"]}
    )
    assert [v.number for v in await store.history()] == [2, 1]
    assert [v.number for v in await store.history(1)] == [2]


async def test_a_stale_expectation_is_a_conflict_that_changes_nothing(store: ConfigStore) -> None:
    assert await _conflict(store, 0) == 0  # none in force yet
    await _append(store, {"n": 1}, None)
    assert await _conflict(store, None) == 1
    await _append(store, {"n": 2}, 1)
    assert await _conflict(store, 1) == 2
    assert await _conflict(store, 5) == 2
    assert await store.current_number() == 2
    assert [v.document["n"] for v in await store.history()] == [2, 1]
