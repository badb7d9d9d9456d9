"""The routing decision on the example config: rules, limits, strategies, fallbacks."""

from __future__ import annotations

import copy
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from classifiers.types import Prediction
from router.config.load import RoutingConfig, parse_config
from router.core.domain import Customer, EscalationStep, Ticket
from router.core.policy import decide
from router.core.policy_preview import preview

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "config.example.yaml"
# Wednesday 2025-03-05 (winter time everywhere in the example's northern zones).
NIGHT = datetime(2025, 3, 5, 5, 10, tzinfo=UTC)  # only pacific-night is open
EVENING = datetime(2025, 3, 5, 21, 0, tzinfo=UTC)  # hq-tier2, hq-tier1, eu-dublin, andes
US = Customer(country="US")
DE = Customer(country="DE")


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    data = yaml.safe_load(EXAMPLE.read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def config(doc: dict[str, Any]) -> RoutingConfig:
    return parse_config(doc, source="example")


def predict(
    language: str = "es",
    tier: str = "tier1",
    tier_confidence: float = 0.9,
    category: str = "billing",
) -> Prediction:
    return Prediction(language, 0.95, tier, tier_confidence, category, 0.8, None, "none", "m1")


def ticket(
    ticket_id: str = "t-1", customer: Customer = US, flags: frozenset[str] = frozenset(), **kw: Any
) -> Ticket:
    return Ticket(ticket_id, "subject", "body", customer=customer, flags=flags, **kw)


def test_night_tier1_goes_to_the_only_open_pool(config: RoutingConfig) -> None:
    d = decide(ticket(), predict(), config, {}, NIGHT)
    assert (d.pool_id, d.rule, d.strategy, d.fallback) == (
        "pacific-night", "tier1-split", "weighted", None
    )  # fmt: skip
    assert (d.pool_kind, d.data_access, d.tier, d.region) == (
        "outsourced",
        "masked",
        "tier1",
        "ROW",
    )
    assert d.excluded == {
        "hq-tier2": "not a target of rule tier1-split",
        "hq-tier1": "no language es",
        "eu-dublin": "closed",
        "andes-bpo": "closed",
    }
    assert d.reasons == ("rule tier1-split", "weighted: pacific-night of 1 eligible")
    assert d.sla_due == NIGHT + timedelta(minutes=1440)
    assert d.config_version == config.version and d.decided_at == NIGHT


def test_eu_customer_waits_for_an_eu_pool_instead_of_a_vendor(config: RoutingConfig) -> None:
    d = decide(ticket(customer=DE), predict(), config, {}, NIGHT)
    assert (d.pool_id, d.fallback) == ("eu-dublin", "opens_soonest")
    assert d.opens_at == datetime(2025, 3, 5, 7, 0, tzinfo=UTC)
    assert d.region == "EU"
    assert d.excluded["pacific-night"] == "residency: EU customers not allowed"
    assert d.excluded["andes-bpo"] == "residency: EU customers not allowed"


def test_explicit_region_wins_and_unknown_region_is_restrictive(config: RoutingConfig) -> None:
    eu = decide(ticket(customer=Customer(country="US", region="eu")), predict(), config, {}, NIGHT)
    assert (eu.region, eu.pool_id) == ("EU", "eu-dublin")
    odd = decide(ticket(customer=Customer(region="APAC")), predict(), config, {}, NIGHT)
    assert (odd.region, odd.pool_id, odd.fallback) == ("UNKNOWN", "pacific-night", None)


def test_card_data_stays_in_house(config: RoutingConfig) -> None:
    d = decide(ticket(flags=frozenset({"contains_card_data"})), predict(), config, {}, NIGHT)
    assert (d.rule, d.pool_id, d.fallback, d.priority) == (
        "card-data", "eu-dublin", "opens_soonest", "high"
    )  # fmt: skip
    assert d.excluded["pacific-night"] == "not a target of rule card-data"
    card = ticket(flags=frozenset({"contains_card_data"}))
    assert decide(card, predict(), config, {}, EVENING).pool_id == "eu-dublin"  # hq-tier2: tier 2
    assert decide(card, predict(tier="tier2"), config, {}, EVENING).pool_id == "hq-tier2"


def test_data_policy_flag_applies_whatever_rule_matched(config: RoutingConfig) -> None:
    d = decide(ticket(flags=frozenset({"contains_health_data"})), predict(), config, {}, NIGHT)
    assert d.rule == "tier1-split"
    assert d.data_access == "full"
    assert (d.pool_id, d.fallback) == ("eu-dublin", "opens_soonest")
    assert d.excluded["pacific-night"] == "full data access required"


def test_low_confidence_is_routed_as_tier2(config: RoutingConfig) -> None:
    d = decide(ticket(), predict(tier_confidence=0.5), config, {}, EVENING)
    assert (d.tier, d.rule, d.pool_id) == ("tier2", "low-confidence-triage", "hq-tier2")
    assert d.reasons[1] == "tier confidence 0.50 < 0.55: routed as tier2"
    triage = decide(ticket(), predict(tier_confidence=0.65), config, {}, EVENING)
    assert (triage.rule, triage.tier, triage.pool_id) == (
        "low-confidence-triage",
        "tier2",
        "hq-tier2",
    )
    sure = decide(ticket(), predict(tier_confidence=0.7), config, {}, EVENING)  # below: strict
    assert (sure.rule, sure.tier) == ("tier1-split", "tier1")


def test_capacity_and_over_capacity(config: RoutingConfig) -> None:
    d = decide(ticket(), predict(), config, {"pacific-night": 50}, NIGHT)
    assert (d.pool_id, d.fallback) == ("pacific-night", "over_capacity")
    evening = decide(ticket(), predict(tier="tier2"), config, {"andes-bpo": 80}, EVENING)
    assert (evening.pool_id, evening.fallback) == ("eu-dublin", None)
    assert evening.excluded["andes-bpo"] == "at capacity (80/80)"


def test_unqualified_ticket_still_goes_somewhere_allowed(config: RoutingConfig) -> None:
    d = decide(ticket(), predict(language="fr"), config, {}, NIGHT)
    assert (d.pool_id, d.fallback, d.opens_at) == (
        "pacific-night", "unqualified", datetime(2025, 3, 5, 5, 10, tzinfo=UTC)
    )  # fmt: skip
    assert d.reasons[-1] == (
        "no allowed pool has this language, tier and category: pacific-night open now"
    )
    eu = decide(ticket(customer=DE), predict(language="fr"), config, {}, NIGHT)
    assert (eu.pool_id, eu.fallback) == ("eu-dublin", "unqualified")


def test_naive_now_is_refused(config: RoutingConfig) -> None:
    with pytest.raises(ValueError, match="tz-aware"):
        decide(ticket(), predict(), config, {}, NIGHT.replace(tzinfo=None))


def test_catch_all_when_nothing_is_open(doc: dict[str, Any]) -> None:
    data = copy.deepcopy(doc)
    data["catch_all"] = "hq-tier2"
    config = parse_config(data, source="catch-all")
    d = decide(ticket(customer=DE), predict(), config, {}, NIGHT)
    assert (d.pool_id, d.fallback, d.opens_at) == ("hq-tier2", "catch_all", None)


def test_strategies(config: RoutingConfig) -> None:
    # default rule, cheapest: es tier2 in the evening -> andes (7.5) over dublin and hq.
    d = decide(ticket(), predict(tier="tier2"), config, {}, EVENING)
    assert (d.rule, d.pool_id) == ("default", "andes-bpo")
    assert d.excluded["eu-dublin"] == "eligible, not chosen (cheapest)"
    # enterprise-urgent, ordered: hq-tier2 first, with its escalation steps and SLA.
    urgent = ticket(customer=Customer(country="US", plan="enterprise"), priority="urgent")
    d = decide(urgent, predict(tier="tier2"), config, {}, EVENING)
    assert (d.rule, d.pool_id, d.sla_due) == (
        "enterprise-urgent", "hq-tier2", EVENING + timedelta(minutes=30)
    )  # fmt: skip
    assert d.escalation == (
        EscalationStep(600, ("hq-tier2", "eu-dublin")),
        EscalationStep(1200, ("andes-bpo",)),
    )


def test_escalation_never_leaves_the_allowed_pools(config: RoutingConfig) -> None:
    urgent = ticket(customer=Customer(country="FR", plan="enterprise"), priority="urgent")
    d = decide(urgent, predict(tier="tier2"), config, {}, EVENING)
    assert d.escalation == (EscalationStep(600, ("hq-tier2", "eu-dublin")),)


def test_weighted_split_is_deterministic_and_close_to_weights(config: RoutingConfig) -> None:
    at = datetime(2025, 3, 5, 3, 30, tzinfo=UTC)  # andes and pacific both open
    picks = Counter(
        decide(ticket(f"t-{n}"), predict(), config, {}, at).pool_id for n in range(2000)
    )
    again = Counter(
        decide(ticket(f"t-{n}"), predict(), config, {}, at).pool_id for n in range(2000)
    )
    assert picks == again
    assert set(picks) == {"andes-bpo", "pacific-night"}
    assert 1300 <= picks["andes-bpo"] <= 1500  # 70 %, give or take the hash


def test_preview_lists_only_changed_routes(doc: dict[str, Any], config: RoutingConfig) -> None:
    data = copy.deepcopy(doc)
    data["pools"][4]["capacity"] = 1
    new = parse_config(data, source="new")
    items = [(ticket("a"), predict(), NIGHT), (ticket("b"), predict(), EVENING)]
    changes = preview(items, config, new, {"pacific-night": 1})
    assert [c.as_dict()["ticket_id"] for c in changes] == ["a"]
    assert (changes[0].old_fallback, changes[0].new_fallback) == (None, "over_capacity")
