"""The what-if simulation: exact small scenarios worked out by hand, the same decisions
as the live policy through the example config, the service's SLA steps, determinism,
and agreement with Erlang C in the steady state."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from classifiers.types import Prediction
from router.config.load import RoutingConfig, load_config, parse_config
from router.core.assignment import Assignment
from router.core.domain import Customer, Priority, Ticket
from router.core.policy import decide
from router.core.sim.arrivals import Arrival, GeneratorSpec, generate, week_bounds
from router.core.sim.engine import HandleTimes, SimRun, SimSettings, simulate
from router.core.sim.erlang import erlang_c, service_level
from router.core.sim.report import ReportSettings, build_report, compare, percentile
from router.service.escalation import sla_move
from router.service.simulation import SlaSteps, run_week, what_if
from tests.conftest import EXAMPLE_CONFIG

UTC_ZONE = ZoneInfo("UTC")
# Monday 2 March 2026, 00:00 UTC: the week every scenario here runs in.
MONDAY = datetime(2026, 3, 2, tzinfo=UTC)
WEEK = week_bounds(date(2026, 3, 2), UTC_ZONE)


def pool(pid: str, **over: Any) -> dict[str, Any]:
    """A pool document: English tier 1, open 24/7, one agent, cost 2 a ticket."""
    doc: dict[str, Any] = {
        "id": pid, "kind": "in_house", "sourcing": "onshore", "country": "US",
        "timezone": "UTC", "schedule": {"always": True}, "languages": ["en"],
        "tiers": ["tier1"], "capacity": 1, "cost_per_ticket": 2.0, "data_access": "full",
    }  # fmt: skip
    doc.update(over)
    return doc


def config(*pools: dict[str, Any], **over: Any) -> RoutingConfig:
    return parse_config({"pools": list(pools), **over}, source="test")


def arrival(n: int, minutes: float, priority: Priority = "normal", **customer: str) -> Arrival:
    at = MONDAY + timedelta(minutes=minutes)
    tid = f"t{n}"
    raw = {"id": tid, "subject": "help", "priority": priority, "customer": customer}
    ticket = Ticket(
        id=tid, subject="help", body="", priority=priority, customer=Customer(**customer),
        created_at=at, raw=raw,
    )  # fmt: skip
    prediction = Prediction("en", 1.0, "tier1", 1.0, "billing", 1.0, None, "none", "test")
    return Arrival(ticket, prediction, at)


def fixed(minutes: float) -> SimSettings:
    return SimSettings(HandleTimes({"tier1": minutes * 60}, distribution="fixed"))


def report(run: SimRun, target_minutes: float = 10) -> dict[str, Any]:
    return build_report(run, ReportSettings(*WEEK, UTC_ZONE, target_minutes * 60, 0.8))


def test_one_agent_fixed_handle_times_exact_waits_service_level_utilisation() -> None:
    # Arrivals at 0, 1 and 2 minutes, 10 minutes each, one agent: accepted at 0, 10 and
    # 20 minutes, so waits 0, 9 and 18 minutes; the agent is busy 0-30 minutes.
    cfg = config(pool("solo"))
    run = simulate([arrival(1, 0), arrival(2, 1), arrival(3, 2)], cfg, fixed(10), start=MONDAY)
    assert [o.wait_seconds for o in run.outcomes] == [0.0, 540.0, 1080.0]
    assert [o.done_at for o in run.outcomes] == [
        MONDAY.timestamp() + s for s in (600.0, 1200.0, 1800.0)
    ]
    out = report(run)  # target: 10 minutes
    totals = out["pools"][0]["totals"]
    assert totals["tickets"] == 3 and totals["accepted"] == 3 and totals["unserved"] == 0
    assert totals["service_level"] == round(2 / 3, 4)  # 0 and 9 minutes are within 10
    # Nearest rank: p50 is the 2nd of 3 (ceil(1.5)), p90 and p99 the 3rd.
    assert totals["wait_minutes"] == {"p50": 9.0, "p90": 18.0, "p99": 18.0}
    hour0 = out["pools"][0]["hours"][0]
    assert hour0["utilisation"] == 0.5  # 30 busy minutes of 60 staffed
    assert out["pools"][0]["hours"][1]["utilisation"] == 0.0
    # The week: 30 busy minutes of one agent for 168 hours.
    assert totals["utilisation"] == round(30 / (168 * 60), 4)
    assert totals["cost"] == 6.0 and out["totals"]["cost"] == 6.0
    assert totals["sla_missed"] == 0 and totals["escalated_out"] == 0
    # The second and third saw the pool full (load 1, then 2 of capacity 1): the
    # decision's over_capacity fallback sends them to the only pool anyway.
    assert [o.decision.fallback for o in run.outcomes] == [None, "over_capacity", "over_capacity"]
    assert [dict(o.loads_seen) for o in run.outcomes] == [{"solo": 0}, {"solo": 1}, {"solo": 2}]


def test_two_agents_take_the_backlog_most_urgent_first() -> None:
    # Two agents, 30-minute tickets: t1 and t2 start at once; t3 (normal, minute 1.5) and
    # t4 (urgent, minute 2) wait; t4 is taken first when t1 ends at 30, t3 at 31.
    cfg = config(pool("duo", capacity=2))
    arrivals = [arrival(1, 0), arrival(2, 1), arrival(3, 1.5), arrival(4, 2, "urgent")]
    run = simulate(arrivals, cfg, fixed(30), start=MONDAY)
    waits = {o.arrival.ticket.id: o.wait_seconds for o in run.outcomes}
    assert waits == {"t1": 0.0, "t2": 0.0, "t3": 29.5 * 60, "t4": 28 * 60}
    out = report(run, target_minutes=20)
    assert out["totals"]["service_level"] == 0.5
    # Hour 0: one agent t1 0-30 then t4 30-60, the other t2 1-31 then t3 31-61 (59
    # minutes of it in hour 0): 119 busy minutes of 2 x 60.
    assert out["pools"][0]["hours"][0]["utilisation"] == round(119 / 120, 4)


def test_a_closed_pool_holds_tickets_until_it_opens() -> None:
    # Open 09:00-10:00 UTC only. A ticket at 08:30 waits 30 minutes; a 40-minute ticket
    # started at 09:30 runs 10 minutes past closing (overrun).
    cfg = config(pool("day", schedule={"daily": ["09:00-10:00"]}, capacity=1))
    arrivals = [arrival(1, 8 * 60 + 30), arrival(2, 9 * 60 + 30)]
    settings = SimSettings(HandleTimes({"tier1": 1800}, distribution="fixed"))
    run = simulate(arrivals, cfg, settings, start=MONDAY)
    first, second = run.outcomes
    assert first.decision.fallback == "opens_soonest"
    assert first.decision.opens_at == MONDAY + timedelta(hours=9)
    assert first.wait_seconds == 1800.0 and first.accepted_at == MONDAY.timestamp() + 9 * 3600
    assert second.wait_seconds == 0.0  # the agent finished t1 at 09:30
    out = report(run, target_minutes=20)
    row = out["pools"][0]["hours"][9]
    assert row["staffing"]["open_minutes"] == 60
    assert row["utilisation"] == 1.0  # busy all of 09:00-10:00
    assert out["pools"][0]["hours"][10]["overrun_minutes"] == 0.0  # 09:30-10:00 in open time
    # The demand is counted when the pool can serve it: both tickets in hour 9.
    assert row["staffing"]["offered"] == 2
    assert out["pools"][0]["hours"][8]["staffing"]["offered"] == 0
    # Service level by arrival hour: t1 (08:00 hour) waited 30 > 20 minutes.
    assert out["pools"][0]["hours"][8]["service_level"] == 0.0
    assert out["pools"][0]["hours"][9]["service_level"] == 1.0
    assert out["pools"][0]["totals"]["sla_missed"] == 0  # 1440 minutes for normal


def test_work_after_closing_counts_as_overrun_not_utilisation() -> None:
    cfg = config(pool("day", schedule={"daily": ["09:00-10:00"]}, capacity=1))
    settings = SimSettings(HandleTimes({"tier1": 40 * 60}, distribution="fixed"))
    run = simulate([arrival(1, 9 * 60 + 50)], cfg, settings, start=MONDAY)
    out = report(run)
    hours = out["pools"][0]["hours"]
    assert hours[9]["utilisation"] == round(10 / 60, 4)
    assert hours[10]["overrun_minutes"] == 30.0
    assert out["pools"][0]["totals"]["overrun_minutes"] == 30.0


def test_leases_that_run_out_go_back_to_the_backlog() -> None:
    # Every lease runs out (share just under 1 and this seed): 300-second leases at 0,
    # 300, 600 and 900 seconds; the clock stops 900 s after the arrival.
    cfg = config(pool("solo"))
    settings = SimSettings(
        HandleTimes({"tier1": 60}, distribution="fixed"),
        lease_expiry_share=0.999999,
        lease_seconds=300,
        drain_seconds=900,
    )
    run = simulate([arrival(1, 0)], cfg, settings, start=MONDAY)
    (only,) = run.outcomes
    base = MONDAY.timestamp()
    assert only.expiries == tuple((base + s, "solo") for s in (300.0, 600.0, 900.0))
    assert only.accepted_at is None and only.wait_seconds is None
    out = report(run)
    assert out["totals"]["expiries"] == 3 and out["totals"]["unserved"] == 1
    assert out["totals"]["service_level"] == 0.0
    assert out["pools"][0]["hours"][0]["expiries"] == 3


def escalating_config() -> RoutingConfig:
    """``first`` has one agent; a ticket not accepted within 10 minutes moves to ``second``."""
    return config(
        pool("first", cost_per_ticket=1.0),
        pool("second", cost_per_ticket=5.0),
        rules=[
            {
                "id": "to-first",
                "pools": ["first"],
                "escalation": [{"after_minutes": 10, "pools": ["second"]}],
            }
        ],
    )


def test_an_sla_step_moves_a_waiting_ticket_as_the_service_would() -> None:
    cfg = escalating_config()
    # t1 keeps first's only agent 60 minutes; t2 waits there until its step at 10 min.
    arrivals = [arrival(1, 0), arrival(2, 1)]
    run = run_week(arrivals, cfg, fixed(60), MONDAY)
    one, two = run.outcomes
    assert one.pool_id == "first" and one.moves == ()
    assert two.decision.pool_id == "first"
    step_at = MONDAY + timedelta(minutes=11)
    assert [(m.at, m.step, m.from_pool, m.to_pool) for m in two.moves] == [
        (step_at.timestamp(), 1, "first", "second")
    ]
    assert two.pool_id == "second" and two.wait_seconds == 600.0
    # The same move made by the service's own sla_move, from the first decision.
    record = Assignment.build(
        two.arrival.ticket, two.arrival.prediction, two.decision, received_at=two.arrival.at
    )
    live = sla_move(record, 0, cfg, {"first": 2, "second": 0}, step_at)
    assert live.moved and live.pool_id == "second"
    out = report(run)
    by_id = {p["id"]: p["totals"] for p in out["pools"]}
    assert by_id["first"]["escalated_out"] == 1 and by_id["second"]["escalated_in"] == 1
    assert by_id["first"]["cost"] == 1.0 and by_id["second"]["cost"] == 5.0
    assert out["pools"][0]["hours"][0]["escalated_out"] == 1


def test_a_step_with_no_better_pool_leaves_the_ticket() -> None:
    # The step's pool is closed all week: the service keeps the ticket where it is.
    cfg = config(
        pool("first"),
        pool("second", schedule={"daily": ["23:00-23:30"]}, regions=["*"]),
        rules=[
            {
                "id": "to-first",
                "pools": ["first"],
                "escalation": [{"after_minutes": 10, "pools": ["second"]}],
            }
        ],
    )
    run = run_week([arrival(1, 0), arrival(2, 1)], cfg, fixed(60), MONDAY)
    two = run.outcomes[1]
    assert two.moves == () and two.steps_stayed == 1 and two.pool_id == "first"
    assert two.wait_seconds == 59 * 60
    assert report(run)["totals"]["stayed"] == 1


@pytest.fixture(scope="module")
def example() -> RoutingConfig:
    return load_config(EXAMPLE_CONFIG)


@pytest.fixture(scope="module")
def week_arrivals() -> list[Arrival]:
    # Enough volume that some pools fill up (over_capacity) with the capacities cut below.
    return generate(GeneratorSpec(volume=1500), *WEEK, seed=11)


def test_a_simulated_week_makes_the_live_policys_decisions(
    example: RoutingConfig, week_arrivals: list[Arrival]
) -> None:
    # Capacities cut to a tenth so that loads matter (over_capacity, least loaded).
    doc = example.to_dict()
    for p in doc["pools"]:
        p["capacity"] = max(1, p["capacity"] // 10)
    lean = parse_config(doc, source="lean")
    for cfg in (example, lean):
        run = run_week(week_arrivals, cfg, SimSettings(seed=5), WEEK[0])
        fallbacks = set()
        for o in run.outcomes:
            live = decide(o.arrival.ticket, o.arrival.prediction, cfg, o.loads_seen, o.arrival.at)
            assert (live.pool_id, live.rule, live.fallback) == (
                o.decision.pool_id,
                o.decision.rule,
                o.decision.fallback,
            ), o.arrival.ticket.id
            fallbacks.add(o.decision.fallback)
        # The loads the decisions saw are the tickets in the system at that instant,
        # counted here from the outcomes alone: arrived before and not yet done.
        for o in run.outcomes[::50]:
            t = o.arrived
            open_ = sum(
                1
                for p in run.outcomes[: o.index]
                if p.done_at is None or p.done_at > t
            )  # fmt: skip
            assert sum(o.loads_seen.values()) == open_
        assert {None, "opens_soonest"} <= fallbacks
    assert "over_capacity" in fallbacks  # the lean run filled pools up


def test_the_same_seed_gives_the_same_week_and_another_seed_another(
    example: RoutingConfig, week_arrivals: list[Arrival]
) -> None:
    settings = ReportSettings(*WEEK, UTC_ZONE)
    a = what_if(week_arrivals[:300], example, SimSettings(seed=1), settings)
    b = what_if(week_arrivals[:300], example, SimSettings(seed=1), settings)
    c = what_if(week_arrivals[:300], example, SimSettings(seed=2), settings)
    assert a == b
    assert a["runs"][0]["pools"] != c["runs"][0]["pools"]  # other handle times
    again = generate(GeneratorSpec(volume=1500), *WEEK, seed=11)
    assert [(x.ticket.raw, x.at) for x in again] == [(x.ticket.raw, x.at) for x in week_arrivals]


def test_comparing_two_configs_on_the_same_arrivals(
    example: RoutingConfig, week_arrivals: list[Arrival]
) -> None:
    # Without the vendors' 70/30 split every tier-1 ticket goes to the cheapest open pool.
    doc = example.to_dict()
    doc["rules"] = [r for r in doc["rules"] if r["id"] != "tier1-split"]
    other = parse_config(doc, source="no-split")
    settings = SimSettings(seed=3)
    runs = [run_week(week_arrivals, c, settings, WEEK[0]) for c in (example, other)]
    reports = [report(r, 20) for r in runs]
    diff = compare(runs[0], reports[0], runs[1], reports[1])
    changed = [
        (x.decision.pool_id, y.decision.pool_id)
        for x, y in zip(runs[0].outcomes, runs[1].outcomes, strict=True)
        if x.decision.pool_id != y.decision.pool_id
    ]
    assert diff["routing_changed"] == len(changed) > 0
    assert sum(c["tickets"] for c in diff["changes"]) == len(changed)
    cost = reports[1]["totals"]["cost"] - reports[0]["totals"]["cost"]
    assert diff["totals"]["cost"] == round(cost, 4)
    assert diff["totals"]["cost"] < 0  # the cheapest pool is cheaper than the split
    pool_sl = {p["id"]: p["totals"]["service_level"] for p in reports[1]["pools"]}
    base_sl = {p["id"]: p["totals"]["service_level"] for p in reports[0]["pools"]}
    for pid, d in diff["pools"].items():
        if pool_sl[pid] is not None and base_sl[pid] is not None:
            assert d["service_level"] == round(pool_sl[pid] - base_sl[pid], 4)


def test_the_steady_state_agrees_with_erlang_c() -> None:
    # M/M/5 at 3.5 Erlangs: Poisson arrivals, exponential 10-minute handle times, one
    # pool open all the time, 4000 tickets (8 days). Erlang C: P(wait) = 0.378 and 82.2%
    # accepted within 5 minutes; the run measures 0.360 and 85.2% (it starts empty).
    cfg = config(pool("mmc", capacity=5))
    rng = random.Random(42)
    rate = 3.5 / 600  # per second
    arrivals: list[Arrival] = []
    t = 0.0
    while len(arrivals) < 4000:
        t += rng.expovariate(rate)
        arrivals.append(arrival(len(arrivals), t / 60))
    settings = SimSettings(HandleTimes({"tier1": 600.0}), seed=7)
    run = simulate(arrivals, cfg, settings, start=MONDAY)
    waits = [o.wait_seconds for o in run.outcomes]
    assert all(w is not None for w in waits)
    measured = sum(1 for w in waits if w and w > 0) / len(waits)
    assert abs(measured - erlang_c(5, 3.5)) < 0.04
    within = sum(1 for w in waits if w is not None and w <= 300) / len(waits)
    assert abs(within - service_level(5, 3.5, 600.0, 300.0)) < 0.04
    # And the staffing Erlang C recommends for the busiest hour is at least what held it.
    out = report(run, 5)
    loads = [
        row["staffing"] for row in out["pools"][0]["hours"] if row["staffing"]["offered"]
    ]  # fmt: skip
    assert all(s["configured"] == 5 for s in loads)
    assert all(s["recommended"] >= 1 for s in loads)


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 50) is None
    assert percentile([5.0], 99) == 5.0
    values = [float(v) for v in range(1, 11)]  # 1..10
    assert percentile(values, 50) == 5.0
    assert percentile(values, 90) == 9.0
    assert percentile(values, 99) == 10.0


def test_the_generator_follows_the_mix_and_the_customers_local_hours() -> None:
    spec = GeneratorSpec(volume=2000, countries={"PH": 1}, languages={"es": 1}, tiers={"tier2": 1})
    arrivals = generate(spec, *WEEK, seed=3)
    assert len(arrivals) == 2000
    assert {a.prediction.language for a in arrivals} == {"es"}
    assert {a.prediction.tier for a in arrivals} == {"tier2"}
    assert {a.ticket.customer.timezone for a in arrivals} == {"Asia/Manila"}
    assert [a.at for a in arrivals] == sorted(a.at for a in arrivals)
    assert all(WEEK[0] <= a.at < WEEK[1] for a in arrivals)
    manila = ZoneInfo("Asia/Manila")
    local_hours = [a.at.astimezone(manila).hour for a in arrivals]
    office = sum(1 for h in local_hours if 9 <= h < 17)
    night = sum(1 for h in local_hours if 1 <= h < 5)
    # The diurnal weights: 9-17 sum to 7.3, 1-5 to 0.23 (32 times less).
    assert office > 20 * night
    with pytest.raises(ValueError, match="priorities"):
        generate(GeneratorSpec(volume=1, priorities={"asap": 1}), *WEEK, seed=1)
    with pytest.raises(ValueError, match="countries"):
        generate(GeneratorSpec(volume=1, countries={"XX": 1}), *WEEK, seed=1)


def test_sla_steps_ignore_tickets_without_a_plan(example: RoutingConfig) -> None:
    steps = SlaSteps(example)
    one = arrival(1, 0)
    decision = decide(one.ticket, one.prediction, example, {}, one.at)
    assert decision.escalation == ()
    assert steps.first_due(one, decision) is None
    assert steps.check("t1", {}, one.at).step is None


def test_a_dst_week_has_167_hours_labelled_in_local_time(example: RoutingConfig) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    start, end = week_bounds(date(2026, 3, 29), berlin)  # clocks go forward that Sunday
    settings = ReportSettings(start, end, berlin)
    assert settings.hours == 167
    arrivals = generate(GeneratorSpec(volume=50), start, end, seed=1)
    out = build_report(run_week(arrivals, example, SimSettings(), start), settings)
    labels = [row["start"] for row in out["hours"]]
    assert len(labels) == 167 and all(len(p["hours"]) == 167 for p in out["pools"])
    assert labels[0] == "2026-03-23T00:00:00+01:00"
    assert labels[145:148] == [
        "2026-03-29T01:00:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T04:00:00+02:00",
    ]  # fmt: skip
    assert labels[-1] == "2026-03-29T23:00:00+02:00"
