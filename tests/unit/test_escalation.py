"""Re-deciding a moving ticket: SLA steps and agents' tier-2 escalations (pure)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classifiers.types import Prediction
from router.config.load import RoutingConfig, parse_config
from router.core.assignment import build_assignment
from router.core.policy import decide
from router.core.ticket_schema import ticket_from_object
from router.service.escalation import (
    ESCALATED_TIER,
    agent_move,
    due_step,
    escalation_plan,
    first_check_ms,
    first_due_ms,
    prediction_of,
    sla_move,
    step_config,
    ticket_of,
)

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # a Wednesday


def _pool(pid: str, kind: str, access: str, tiers: list[str], regions: list[str]) -> dict[str, Any]:
    pool: dict[str, Any] = {
        "id": pid,
        "kind": kind,
        "sourcing": "offshore" if kind == "outsourced" else "onshore",
        "country": "PH" if kind == "outsourced" else "IE",
        "timezone": "UTC",
        "schedule": {"always": True},
        "languages": ["en", "de"],
        "tiers": tiers,
        "capacity": 10,
        "cost_per_ticket": 5.0,
        "data_access": access,
        "regions": regions,
    }
    if kind == "outsourced":
        pool["vendor"] = "Test BPO"
    return pool


def _config(**extra: Any) -> RoutingConfig:
    closed = _pool("closed-desk", "in_house", "full", ["tier1", "tier2"], ["*"])
    closed["schedule"] = {"always": False, "sat": ["09:00-10:00"]}
    doc: dict[str, Any] = {
        "pools": [
            _pool("row-vendor", "outsourced", "masked", ["tier1"], ["ROW", "UK", "UNKNOWN"]),
            _pool("eu-desk", "in_house", "full", ["tier1", "tier2"], ["EU"]),
            _pool("t2-desk", "in_house", "full", ["tier2"], ["ROW", "UK", "UNKNOWN"]),
            closed,
        ],
        "rules": [
            {"id": "tier2", "match": {"tiers": ["tier2"]}, "pools": ["t2-desk", "eu-desk"]},
            {
                "id": "intake",
                "pools": ["row-vendor", "eu-desk"],
                "escalation": [
                    {"after_minutes": 10, "pools": ["t2-desk", "eu-desk"]},
                    {"after_minutes": 20, "pools": ["closed-desk"]},
                ],
            },
        ],
        **extra,
    }
    return parse_config(doc, source="test")


def _prediction(tier: str = "tier1", tier_confidence: float = 0.9) -> Prediction:
    return Prediction("en", 0.99, tier, tier_confidence, "billing", 0.8, None, "none", "m1")


def _record(
    country: str, config: RoutingConfig | None = None, prediction: Prediction | None = None
) -> dict[str, Any]:
    raw = {
        "id": f"T-{country}",
        "subject": "Refund",
        "body": "Please refund order 42, call me on +1 415 555 0100",
        "customer": {"email": "ana@example.com", "country": country},
    }
    ticket = ticket_from_object(raw)
    prediction = prediction or _prediction()
    decision = decide(ticket, prediction, config or _config(), {}, NOW)
    return build_assignment(ticket, prediction, decision, received_at=NOW)


def test_record_round_trips_ticket_and_prediction() -> None:
    record = _record("US")
    assert ticket_of(record).customer.country == "US"
    assert ticket_of(record).raw == record["ticket"]
    prediction = prediction_of(record)
    assert (prediction.tier, prediction.language, prediction.category) == ("tier1", "en", "billing")
    assert prediction.tier_confidence == pytest.approx(0.9)


def test_the_plan_keeps_only_pools_the_ticket_may_go_to() -> None:
    row = _record("US")
    assert row["pool_id"] == "row-vendor"
    assert [s.pools for s in escalation_plan(row)] == [("t2-desk",), ("closed-desk",)]
    eu = _record("DE")
    assert eu["pool_id"] == "eu-desk"
    assert [s.pools for s in escalation_plan(eu)] == [("eu-desk",), ("closed-desk",)]


@pytest.mark.parametrize(
    ("minutes", "used", "index", "next_minutes"),
    [
        (5, 0, None, 10),
        (10, 0, 0, 20),
        (15, 1, None, 20),
        (25, 0, 1, None),  # both due: only the latest is carried out
        (25, 2, None, None),
    ],
)
def test_due_step(minutes: int, used: int, index: int | None, next_minutes: int | None) -> None:
    due = due_step(_record("US"), used, NOW + timedelta(minutes=minutes))
    assert due.index == index
    assert due.next_due == (NOW + timedelta(minutes=next_minutes) if next_minutes else None)


def test_first_due_ms_is_where_the_sweepers_first_look_reschedules_a_new_record() -> None:
    record = _record("US")
    first = due_step(record, 0, NOW)  # the sweeper looking at it right after the record
    assert (first.index, first.next_due) == (None, NOW + timedelta(minutes=10))
    assert first_due_ms(record) == (NOW + timedelta(minutes=10)).timestamp() * 1000
    late = due_step(record, 0, NOW + timedelta(minutes=10))  # looked at when it is due
    assert late.index == 0
    no_plan = _record("US", prediction=_prediction("tier2", 1.0))
    assert (no_plan["rule"], no_plan["escalation"]) == ("tier2", [])
    assert first_due_ms(no_plan) == math.inf
    # A plan whose base cannot be read is left to the sweeper's own look, at once.
    broken = {**record, "decided_at": "yesterday"}
    with pytest.raises(ValueError):
        first_due_ms(broken)
    assert (first_check_ms(broken), first_check_ms(record)) == (0.0, first_due_ms(record))


def test_sla_move_re_decides_among_the_step_pools_and_keeps_the_plan() -> None:
    record = _record("US")
    at = NOW + timedelta(minutes=10)
    move = sla_move(record, 0, _config(), {}, at)
    assert move.moved and move.pool_id == "t2-desk"
    out = move.record
    assert out["pool_id"] == "t2-desk"
    assert out["data_access"] == "full"
    # t2-desk serves tier 2 only: the step routes the ticket as tier 2.
    assert out["tier"] == "tier2"
    assert out["decided_at"] == at.isoformat().replace("+00:00", "Z")
    assert out["received_at"] == record["received_at"]
    assert out["ticket"] == record["ticket"]
    assert out["escalation"] == record["escalation"]
    assert out["escalation_base"] == record["decided_at"]
    assert out["escalation_step"] == 1
    assert out["reasons"][0].startswith("not accepted within 600s: escalation step 1")
    assert out["moves"] == [
        {
            "at": "2026-03-04T12:10:00Z",
            "kind": "sla",
            "step": 1,
            "from": "row-vendor",
            "to": "t2-desk",
            "why": out["reasons"][0],
        }
    ]
    # A second step counts from the same base, not from the move.
    assert due_step(out, 1, at + timedelta(minutes=9, seconds=59)).index is None
    assert due_step(out, 1, NOW + timedelta(minutes=20)).index == 1


def test_a_step_to_a_closed_pool_leaves_the_ticket_where_it_is() -> None:
    record = _record("US")
    move = sla_move(record, 1, _config(), {}, NOW + timedelta(minutes=20))
    assert not move.moved and move.pool_id == "row-vendor"
    assert move.record["pool_id"] == "row-vendor"
    assert move.record["escalation_step"] == 2
    assert move.record["moves"][-1]["why"].endswith(
        "stays: closed-desk: not open now (opens_soonest)"
    )


def test_a_step_outside_the_tickets_region_is_never_taken() -> None:
    eu = _record("DE")
    # The plan was made under another config that let EU data go to t2-desk.
    eu["escalation"] = [{"after_seconds": 60, "pools": ["t2-desk"]}]
    move = sla_move(eu, 0, _config(), {}, NOW + timedelta(minutes=1))
    assert not move.moved and move.pool_id == "eu-desk"
    assert move.why.endswith("stays: t2-desk: residency: EU customers not allowed")


def test_a_step_whose_pools_left_the_config_is_skipped() -> None:
    record = _record("US")
    record["escalation"] = [{"after_seconds": 60, "pools": ["gone-pool"]}]
    move = sla_move(record, 0, _config(), {}, NOW + timedelta(minutes=1))
    assert not move.moved
    assert move.why.endswith("stays: no pool of the step is in the config in force")
    with pytest.raises(ValueError, match="none of the step's pools"):
        step_config(_config(), ["gone-pool"])


def test_step_config_is_cached_per_config_and_pools() -> None:
    config = _config()
    first = step_config(config, ["t2-desk", "eu-desk"])
    assert step_config(config, ["t2-desk", "eu-desk"]) is first
    assert step_config(config, ["eu-desk"]) is not first
    assert first.version == config.version
    assert first.catch_all is None
    assert [r.pools for r in first.rules] == [("t2-desk", "eu-desk")] * 2


def test_agent_escalation_routes_as_tier2_with_a_new_plan() -> None:
    record = _record("US")
    move = agent_move(record, "ana", "needs a refund override", _config(), {}, NOW)
    assert move.moved and move.pool_id == "t2-desk"
    out = move.record
    assert out["tier"] == ESCALATED_TIER
    assert out["rule"] == "tier2"
    assert out["escalation"] == []
    assert out["escalation_step"] == 0
    assert out["escalation_base"] == out["decided_at"]
    assert out["moves"][-1] == {
        "at": "2026-03-04T12:00:00Z",
        "kind": "agent",
        "from": "row-vendor",
        "to": "t2-desk",
        "agent": "ana",
        "why": "needs a refund override",
    }
    assert out["reasons"][0] == "escalated to tier2 by agent ana: needs a refund override"


def test_agent_escalation_of_an_eu_ticket_stays_in_the_eu() -> None:
    move = agent_move(_record("DE"), "ana", "tier 2 please", _config(), {}, NOW)
    assert move.pool_id == "eu-desk"
    assert not move.moved


def test_low_confidence_setting_cannot_undo_an_agents_escalation() -> None:
    config = _config(low_confidence={"tier_below": 0.95, "treat_as": "tier1"})
    record = _record("US", config, _prediction(tier_confidence=0.5))
    assert record["pool_id"] == "row-vendor"
    assert agent_move(record, "ana", "tier 2", config, {}, NOW).pool_id == "t2-desk"


def test_an_sla_step_to_tier2_pools_moves_a_tier2_ticket_routed_lower_for_low_confidence() -> None:
    # Predicted tier 2 with low confidence, routed as tier 1 by the setting: the step's
    # tier-2-only pool must still be able to take it.
    config = _config(low_confidence={"tier_below": 0.95, "treat_as": "tier1"})
    record = _record("US", config, _prediction(tier="tier2", tier_confidence=0.5))
    assert record["pool_id"] == "row-vendor"
    move = sla_move(record, 0, config, {}, NOW + timedelta(minutes=10))
    assert move.moved and move.pool_id == "t2-desk"
    assert move.record["tier"] == "tier2"


_COUNTRIES = ["US", "DE", "FR", "GB", "BR", "JP", "NO"]
_POOLS = ["row-vendor", "eu-desk", "t2-desk", "closed-desk"]


@settings(max_examples=60, deadline=None)
@given(
    country=st.sampled_from(_COUNTRIES),
    steps=st.lists(
        st.lists(st.sampled_from(_POOLS), min_size=1, max_size=3, unique=True),
        min_size=1,
        max_size=3,
    ),
    minutes=st.integers(min_value=0, max_value=60 * 24 * 7),
    tier=st.sampled_from(["tier1", "tier2"]),
)
def test_no_move_ever_leaves_the_customers_region(
    country: str, steps: list[list[str]], minutes: int, tier: str
) -> None:
    config = _config()
    record = _record(country, config, _prediction(tier=tier))
    record["escalation"] = [
        {"after_seconds": 60 * (i + 1), "pools": pools} for i, pools in enumerate(steps)
    ]
    allowed = _allowed_pools(config, country)
    at = NOW + timedelta(minutes=minutes)
    for index in range(len(steps)):
        assert sla_move(record, index, config, {}, at).pool_id in allowed
    assert agent_move(record, "a", "r", config, {}, at).pool_id in allowed


def _allowed_pools(config: RoutingConfig, country: str) -> Mapping[str, bool]:
    region = "EU" if country in ("DE", "FR", "NO") else "UK" if country == "GB" else "ROW"
    return {p.id: True for p in config.pools if p.allows_region(region)}
