"""Rule matching: every match field, confidence thresholds, first match wins."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from classifiers.types import Prediction
from router.config.load import RoutingConfig, parse_config
from router.core.domain import Customer, Ticket
from router.core.policy import decide

NOW = datetime(2025, 6, 4, 12, 0, tzinfo=UTC)


def _pool(pool_id: str) -> dict[str, Any]:
    return {
        "id": pool_id, "kind": "in_house", "sourcing": "onshore", "country": "US",
        "timezone": "UTC", "schedule": {"always": True}, "languages": ["en", "es"],
        "tiers": ["tier1", "tier2"], "capacity": 5, "cost_per_ticket": 1.0,
        "data_access": "full",
    }  # fmt: skip


RULES: list[tuple[str, dict[str, Any]]] = [
    ("by-flag", {"flags": ["vip"]}),
    ("by-channel", {"channels": ["phone"]}),
    ("by-source", {"sources": ["zendesk-eu"]}),
    ("by-tag", {"tags": ["refund", "chargeback"]}),
    ("by-plan-country", {"plans": ["enterprise"], "countries": ["BR"]}),
    ("by-region", {"regions": ["UK"]}),
    ("by-priority", {"priorities": ["urgent"]}),
    ("unsure-language", {"language_confidence_below": 0.5}),
    ("sure-category", {"categories": ["billing"], "category_confidence_above": 0.9}),
    ("unsure-category", {"category_confidence_below": 0.3}),
    ("confident-tier2", {"tiers": ["tier2"], "tier_confidence_above": 0.8}),
    ("spanish", {"languages": ["es"], "language_confidence_above": 0.7}),
]


@pytest.fixture(scope="module")
def config() -> RoutingConfig:
    rules = [{"id": rid, "match": match, "pools": ["a"]} for rid, match in RULES]
    return parse_config(
        {"pools": [_pool("a"), _pool("b")], "rules": rules, "default": {"pools": ["b"]}},
        source="rules",
    )


def route(
    config: RoutingConfig,
    *,
    language: str = "en",
    language_confidence: float = 0.95,
    tier: str = "tier1",
    tier_confidence: float = 0.6,
    category: str = "tech",
    category_confidence: float = 0.6,
    **ticket: Any,
) -> str:
    customer = ticket.pop("customer", Customer(country="US"))
    t = Ticket("t-1", "s", "b", customer=customer, **ticket)
    p = Prediction(
        language, language_confidence, tier, tier_confidence, category, category_confidence,
        None, "none", "m",
    )  # fmt: skip
    return decide(t, p, config, {}, NOW).rule


@pytest.mark.parametrize(
    ("kwargs", "rule"),
    [
        ({}, "default"),
        ({"flags": frozenset({"vip"}), "channel": "phone"}, "by-flag"),
        ({"channel": "phone"}, "by-channel"),
        ({"channel": "chat"}, "default"),
        ({"source": "zendesk-eu"}, "by-source"),
        ({"tags": ("chargeback", "x")}, "by-tag"),
        ({"tags": ("refunds",)}, "default"),
        ({"customer": Customer(country="BR", plan="enterprise")}, "by-plan-country"),
        ({"customer": Customer(country="BR", plan="pro")}, "default"),
        ({"customer": Customer(country="GB")}, "by-region"),
        ({"customer": Customer(region="uk")}, "by-region"),
        ({"priority": "urgent"}, "by-priority"),
        ({"language_confidence": 0.49}, "unsure-language"),
        ({"language_confidence": 0.5}, "default"),
        ({"category": "billing", "category_confidence": 0.9}, "sure-category"),
        ({"category": "billing", "category_confidence": 0.89}, "default"),
        ({"category_confidence": 0.1}, "unsure-category"),
        ({"tier": "tier2", "tier_confidence": 0.8}, "confident-tier2"),
        ({"tier": "tier2", "tier_confidence": 0.79}, "default"),
        ({"language": "es", "language_confidence": 0.7}, "spanish"),
        ({"language": "es", "language_confidence": 0.69}, "default"),
        ({"language": "es", "language_confidence": 0.4}, "unsure-language"),
    ],
)
def test_rule_matching(config: RoutingConfig, kwargs: dict[str, Any], rule: str) -> None:
    assert route(config, **kwargs) == rule


def test_default_rule_routes_to_its_pools(config: RoutingConfig) -> None:
    t = Ticket("t-2", "s", "b")
    p = Prediction("en", 0.9, "tier1", 0.9, "tech", 0.9, None, "none", "m")
    d = decide(t, p, config, {}, NOW)
    assert (d.rule, d.pool_id, d.region) == ("default", "b", "UNKNOWN")
    assert d.excluded == {"a": "not a target of rule default"}
