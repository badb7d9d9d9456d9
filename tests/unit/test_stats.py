"""The KPI use case on the memory fakes: a scripted sequence of events gives the figures
computed by hand (tests/kpi_script.py), on one replica or two; writes are batched and
survive a store outage; routing reports what it assigned; the pool gauges."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from classifiers.types import Classifier
from router.config.load import RoutingConfig, load_config, parse_config
from router.core import kpi
from router.core.errors import InvalidInput, SettingsError, TransientError
from router.core.masking import mask_ticket
from router.core.ticket_schema import ticket_from_object
from router.service.current import Current
from router.service.inbound import Pending
from router.service.metrics import Metrics
from router.service.ports import LeaseStore
from router.service.routing import TicketRouter
from router.service.settings import Settings
from router.service.stats import (
    KpiLeaseStore,
    KpiMetrics,
    KpiRecorder,
    PoolGauges,
    Stats,
    scorecard_csv,
)
from tests import kpi_script as script
from tests.conftest import EXAMPLE_CONFIG
from tests.fakes import (
    FixedClassifier,
    MemoryKpiStore,
    MemoryLeaseStore,
    MemoryPresence,
    MemoryPublisher,
    MemoryTicketStore,
)


@pytest.fixture(scope="module")
def config() -> Current[RoutingConfig]:
    return Current(load_config(EXAMPLE_CONFIG))


@dataclass
class Replica:
    """One service instance's KPI parts on shared stores."""

    recorder: KpiRecorder
    leases: LeaseStore
    stats: Stats
    registry: CollectorRegistry


def replica(
    store: MemoryKpiStore,
    tickets: MemoryTicketStore,
    leases: MemoryLeaseStore,
    config: Current[RoutingConfig],
    clock: script.Clock,
) -> Replica:
    registry = CollectorRegistry()
    recorder = KpiRecorder(store, config, KpiMetrics(registry), clock=clock)
    wrapped = KpiLeaseStore(leases, tickets, recorder)
    return Replica(
        recorder, wrapped, Stats(store, wrapped, config, recorder, clock=clock), registry
    )


@dataclass
class Played:
    """The script played: the replicas, the shared stores and the clock."""

    replicas: list[Replica]
    clock: script.Clock
    leases: MemoryLeaseStore
    store: MemoryKpiStore


async def scripted(config: Current[RoutingConfig], n: int) -> Played:
    """The script played over ``n`` replicas on one set of memory stores; now is two
    hours after it began."""
    tickets = MemoryTicketStore()
    leases = MemoryLeaseStore(tickets)
    store = MemoryKpiStore(tickets)
    clock = script.Clock()
    replicas = [replica(store, tickets, leases, config, clock) for _ in range(n)]
    await script.seed(tickets, [r.recorder for r in replicas])
    await script.play([r.leases for r in replicas], clock)
    for r in replicas:
        await r.recorder.flush()
    clock.at = script.REPORTED_AT
    return Played(replicas, clock, leases, store)


async def test_the_scripted_events_give_the_hand_computed_figures(
    config: Current[RoutingConfig],
) -> None:
    [one] = (await scripted(config, 1)).replicas
    by_pool = await one.stats.report(by="pool", **script.RANGE)
    assert (by_pool["from"], by_pool["to"]) == ("2026-11-24T09:00:00Z", "2026-11-24T12:00:00Z")
    assert by_pool["overall"] == script.OVERALL
    assert by_pool["groups"] == script.POOLS
    assert by_pool["share"] == script.SHARE
    by_language = await one.stats.report(by="language", **script.RANGE)
    assert by_language["groups"] == script.LANGUAGES
    by_vendor = await one.stats.report(by="vendor", **script.RANGE)
    assert by_vendor["groups"] == script.VENDORS
    by_tier = await one.stats.report(by="tier", **script.RANGE)
    assert {t: g["routed"] for t, g in by_tier["groups"].items()} == {"tier1": 5, "tier2": 1}
    assert by_tier["groups"]["tier2"]["sla"] == {"met": 1, "missed": 0, "attainment": 1.0}
    assert (await one.stats.report(**script.RANGE))["groups"] == {}


async def test_the_backlog_is_read_now_from_the_lease_store(config: Current[RoutingConfig]) -> None:
    [one] = (await scripted(config, 1)).replicas
    backlog = (await one.stats.report(**script.RANGE))["backlog"]
    assert (backlog["queued"], backlog["open"]) == (2, 0)
    assert backlog["oldest_received_at"] == "2026-11-24T10:00:00Z"
    assert backlog["oldest_waiting_seconds"] == script.WAITING_S
    assert backlog["pools"]["pacific-night"] == {
        "queued": 2, "open": 0, "capacity": 50, "oldest_waiting_seconds": script.WAITING_S,
    }  # fmt: skip
    assert backlog["pools"]["hq-tier1"]["oldest_waiting_seconds"] is None


async def test_two_replicas_report_the_same_figures_as_one(config: Current[RoutingConfig]) -> None:
    [one] = (await scripted(config, 1)).replicas
    two = (await scripted(config, 2)).replicas
    expected = await one.stats.report(by="pool", **script.RANGE)
    assert await two[0].stats.report(by="pool", **script.RANGE) == expected
    assert await two[1].stats.report(by="pool", **script.RANGE) == expected
    # Each replica's Prometheus series hold its own part; together they make the whole.
    for pool, event, n in (("andes-bpo", "escalated", 1), ("hq-tier1", "accepted", 2)):
        labels = {"pool": pool, "event": event}
        seen = [r.registry.get_sample_value("router_kpi_events_total", labels) or 0 for r in two]
        assert sum(seen) == n


async def test_the_kpi_series_count_by_pool(config: Current[RoutingConfig]) -> None:
    [one] = (await scripted(config, 1)).replicas

    def sample(name: str, **labels: str) -> float | None:
        return one.registry.get_sample_value(name, labels)

    assert sample("router_kpi_events_total", pool="pacific-night", event="expired") == 1
    assert sample("router_kpi_events_total", pool="andes-bpo", event="released") == 1
    assert sample("router_kpi_sla_total", pool="hq-tier1", outcome="missed") == 1
    assert sample("router_kpi_sla_total", pool="hq-tier1", outcome="met") == 1
    assert sample("router_kpi_cost_total", pool="hq-tier1") == 18.0
    assert sample("router_kpi_time_to_accept_seconds_count", pool="hq-tier1") == 2
    assert sample("router_kpi_time_to_accept_seconds_bucket", pool="hq-tier1", le="60.0") == 1
    assert sample("router_kpi_time_to_complete_seconds_sum", pool="andes-bpo") == 3600


async def test_a_vendor_scorecard_has_its_pools_week_by_week(
    config: Current[RoutingConfig],
) -> None:
    played = await scripted(config, 1)
    [one], clock = played.replicas, played.clock
    clock.at = script.T0 + timedelta(days=7)  # the next Tuesday: two weeks shown
    card = await one.stats.scorecard("andes-contact-center-s-a-s", ["andes-bpo"], 2)
    assert card["name"] == "Andes Contact Center S.A.S." and card["pools"] == ["andes-bpo"]
    first, current = card["weeks"]
    assert first == {
        "week": "2026-W48", "from": "2026-11-23T00:00:00Z", "to": "2026-11-30T00:00:00Z",
        "routed": 2, "accepted": 1, "completed": 1, "escalated": 1, "released": 1,
        "expired": 0, "sla_met": 1, "sla_missed": 0, "sla_attainment": 1.0, "cost": 15.0,
    }  # fmt: skip
    assert (current["week"], current["routed"], current["sla_attainment"]) == ("2026-W49", 0, None)
    assert scorecard_csv(card).splitlines() == [
        "week,from,to,routed,accepted,completed,escalated,released,expired,"
        "sla_met,sla_missed,sla_attainment,cost",
        "2026-W48,2026-11-23T00:00:00Z,2026-11-30T00:00:00Z,2,1,1,1,1,0,1,0,1.0,15.0",
        "2026-W49,2026-11-30T00:00:00Z,2026-12-01T10:01:00Z,0,0,0,0,0,0,0,0,,0.0",
    ]
    assert one.stats.vendor_pools("pacific-support-services-inc") == ["pacific-night"]
    assert one.stats.vendor_pools("in-house") == ["hq-tier2", "hq-tier1", "eu-dublin"]
    assert one.stats.vendor_pools("nobody") == []


async def test_last_hour_and_today_read_the_buckets_of_their_minutes(
    config: Current[RoutingConfig],
) -> None:
    played = await scripted(config, 1)
    [one], clock = played.replicas, played.clock
    clock.at = script.T0 + timedelta(minutes=30)
    # 09:31 to 10:30 (the current minute): routed at 10:00, accepted at 10:01-10:05,
    # completed at 10:07:30, 10:10 and 10:30; not C at 11:00.
    last_hour = (await one.stats.report(period="last_hour"))["overall"]
    assert (last_hour["routed"], last_hour["accepted"], last_hour["completed"]) == (6, 4, 3)
    clock.at = script.REPORTED_AT
    assert (await one.stats.report(period="last_hour"))["overall"]["completed"] == 0
    today = await one.stats.report(period="today", tz="Europe/Paris")
    assert today["from"] == "2026-11-23T23:00:00Z" and today["overall"] == script.OVERALL
    with pytest.raises(InvalidInput) as info:
        await one.stats.report(by="agent")
    assert info.value.field == "by"


async def test_a_burst_is_written_in_few_writes_and_an_outage_loses_nothing(
    config: Current[RoutingConfig],
) -> None:
    tickets = MemoryTicketStore()
    store = MemoryKpiStore(tickets)
    clock = script.Clock()
    one = replica(store, tickets, MemoryLeaseStore(tickets), config, clock)
    records = [script.record(*t) for t in script.TICKETS]
    for _ in range(100):  # a hundred batches at once: one write is on its way at a time
        one.recorder.routed(records)
    await one.recorder.flush()
    assert store.writes <= 2
    store.fail_next = 1
    one.recorder.routed(records)
    with pytest.raises(TransientError):
        await one.recorder.flush()
    one.recorder.routed(records)
    await one.recorder.flush()
    got = await store.read([kpi.epoch_minute(script.T0)], [], [])
    assert got["o|r"] == 102 * 6 and got["p:hq-tier1|$"] == 102 * 2 * 90_000


async def test_a_write_retried_after_a_lost_reply_counts_once(
    config: Current[RoutingConfig],
) -> None:
    store = MemoryKpiStore()
    await store.add({1: {"o|r": 1}}, "w1")
    await store.add({1: {"o|r": 1}}, "w1")
    assert await store.read([1], [], []) == {"o|r": 1} == await store.read([], [0], [])


async def test_routing_counts_what_it_assigned_with_the_pools_cost(
    config: Current[RoutingConfig],
) -> None:
    tickets = MemoryTicketStore()
    store = MemoryKpiStore(tickets)
    registry = CollectorRegistry()
    recorder = KpiRecorder(store, config, KpiMetrics(registry))
    router = TicketRouter(
        store=tickets, publisher=MemoryPublisher(), model=Current[Classifier](FixedClassifier()),
        config=config, metrics=Metrics(), mask=mask_ticket, clock=lambda: script.T0, kpi=recorder,
    )  # fmt: skip
    batch = [
        Pending(ticket_from_object({"id": f"R-{i}", "body": "refund"}), f"o{i}", script.T0, 0.0)
        for i in range(5)
    ]
    copy = Pending(batch[0].ticket, "another delivery", script.T0, 0.0)
    outcomes = await router.route_batch([*batch, copy])
    assert [o.status for o in outcomes] == ["assigned"] * 5 + ["duplicate"]
    again = await router.route_batch(batch[:2])  # redelivered: duplicates, not routed again
    assert [o.status for o in again] == ["duplicate"] * 2
    await recorder.flush()
    got = await store.read([kpi.epoch_minute(script.T0)], [], [])
    pools = [str(o.pool_id) for o in outcomes[:5]]
    assert got["o|r"] == 5
    assert {p: got[f"p:{p}|r"] for p in set(pools)} == {p: pools.count(p) for p in set(pools)}
    cost = sum(kpi.cost_units(config.value.pool(p).cost_per_ticket) for p in pools)
    assert got.get("o|$", 0) == cost


async def test_the_pool_gauges_show_each_pool_now(config: Current[RoutingConfig]) -> None:
    played = await scripted(config, 1)
    metrics = Metrics()
    now_ms = int(time.time() * 1000)
    presence = MemoryPresence(clock=lambda: now_ms)
    await presence.beat("pacific-night", "ana", "online")
    await presence.beat("pacific-night", "bob", "away")
    current = Current(config.value)
    gauges = PoolGauges(played.leases, presence, played.store, current, metrics, clock=played.clock)
    await gauges.refresh()

    def gauge(name: str, pool: str) -> float | None:
        return metrics.registry.get_sample_value(name, {"pool": pool})

    assert gauge("router_pool_queued", "pacific-night") == 2
    assert gauge("router_pool_open", "pacific-night") == 0
    assert gauge("router_pool_capacity", "pacific-night") == 50
    assert gauge("router_pool_agents_online", "pacific-night") == 1
    assert gauge("router_pool_oldest_waiting_seconds", "pacific-night") == script.WAITING_S
    assert gauge("router_pool_oldest_waiting_seconds", "hq-tier1") == 0
    # A pool that leaves the config leaves the gauges.
    current.swap(parse_config(_without(_example(), "eu-dublin"), source="test"))
    await gauges.refresh()
    assert gauge("router_pool_capacity", "eu-dublin") is None
    assert gauge("router_pool_capacity", "hq-tier1") == 60


def _example() -> Any:
    return yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))


def _without(doc: Any, pool_id: str) -> Any:
    """The config document with every mention of one pool removed."""
    if isinstance(doc, list):
        return [
            _without(x, pool_id)
            for x in doc
            if x != pool_id and not (isinstance(x, dict) and x.get("id") == pool_id)
        ]
    if isinstance(doc, dict):
        return {k: _without(v, pool_id) for k, v in doc.items() if k != pool_id}
    return doc


async def test_the_recorder_writes_in_the_background(config: Current[RoutingConfig]) -> None:
    store = MemoryKpiStore()
    recorder = KpiRecorder(store, config, KpiMetrics(CollectorRegistry()))
    recorder.routed([script.record(*script.TICKETS[0])])
    deadline = time.monotonic() + 5
    while not store.writes:
        assert time.monotonic() < deadline, "nothing written"
        await asyncio.sleep(0.001)
    assert (await store.read([kpi.epoch_minute(script.T0)], [], []))["o|r"] == 1
    await recorder.close()


def test_kpi_bookkeeping_is_on_unless_router_kpi_says_off() -> None:
    assert Settings().kpi is True
    assert Settings.from_env({"ROUTER_KPI": "off"}).kpi is False
    assert Settings.from_env({"ROUTER_KPI": "ON"}).kpi is True
    with pytest.raises(SettingsError) as info:
        Settings.from_env({"ROUTER_KPI": "sometimes"})
    assert str(info.value) == (
        "ROUTER_KPI: must be one of true, false, 1, 0, yes, no, on, off (got 'sometimes')"
    )
