"""Property tests of the decision against a slow, obvious re-statement of the policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from classifiers.types import Prediction
from router.config.load import Pool, RoutingConfig, Rule, parse_config
from router.core.domain import Customer, Decision, Ticket
from router.core.policy import decide
from router.core.regions import UNKNOWN_REGION, customer_region
from router.core.schedule import is_open_at

ZONES = ["America/New_York", "Europe/Berlin", "Australia/Sydney", "America/Sao_Paulo", "UTC"]
LANGUAGES = ["en", "es", "pt"]
TIERS = ["tier1", "tier2"]
CATEGORIES = ["billing", "tech"]
REGIONS = ["EU", "UK", "ROW", "UNKNOWN"]
WINDOWS = ["09:00-17:00", "22:00-06:00", "00:00-24:00", "01:30-02:30", "18:00-02:00"]


def _subset(values: list[str]) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(values), min_size=1, max_size=len(values), unique=True)


@st.composite
def schedules(draw: st.DrawFn) -> dict[str, Any]:
    if draw(st.integers(0, 5)) == 0:
        return {"always": True}
    days = draw(st.lists(st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]),
                         min_size=1, max_size=7, unique=True))  # fmt: skip
    return {day: draw(st.lists(st.sampled_from(WINDOWS), max_size=2, unique=True)) for day in days}


@st.composite
def pools(draw: st.DrawFn, n: int) -> dict[str, Any]:
    # Pool 0 may take any data from anywhere, so every config is valid (residency
    # reachability) without making the other pools tame.
    first = n == 0
    kind = "in_house" if first else draw(st.sampled_from(["in_house", "outsourced"]))
    return {
        "id": f"p{n}",
        "kind": kind,
        "vendor": None if kind == "in_house" else "Vendor",
        "sourcing": "onshore",
        "country": "US",
        "timezone": draw(st.sampled_from(ZONES)),
        "schedule": draw(schedules()),
        "closures": [{"start": "2025-12-25"}] if draw(st.booleans()) else [],
        "languages": draw(_subset(LANGUAGES)),
        "tiers": draw(_subset(TIERS)),
        "categories": ["*"] if draw(st.booleans()) else draw(_subset(CATEGORIES)),
        "capacity": draw(st.integers(1, 3)),
        "cost_per_ticket": draw(st.sampled_from([1.0, 2.5, 4.0, 9.0])),
        "data_access": "full" if first else draw(st.sampled_from(["full", "masked"])),
        "regions": ["*"] if first or draw(st.booleans()) else draw(_subset(REGIONS)),
    }


@st.composite
def rules(draw: st.DrawFn, n: int, pool_ids: list[str]) -> dict[str, Any]:
    match: dict[str, Any] = {}
    for key, values in (("languages", LANGUAGES), ("tiers", TIERS), ("regions", REGIONS),
                        ("categories", CATEGORIES), ("flags", ["card"])):  # fmt: skip
        if draw(st.booleans()):
            match[key] = draw(_subset(values))
    if draw(st.booleans()):
        match["tier_confidence_below"] = draw(st.sampled_from([0.3, 0.6]))
    targets = ["*"] if draw(st.booleans()) else draw(_subset(pool_ids))
    strategy = draw(st.sampled_from(["ordered", "cheapest", "least_loaded", "weighted"]))
    rule: dict[str, Any] = {"id": f"r{n}", "match": match, "pools": targets, "strategy": strategy,
                            "require_in_house": draw(st.booleans())}  # fmt: skip
    if strategy == "weighted":
        names = pool_ids if targets == ["*"] else targets
        rule["weights"] = {p: draw(st.integers(1, 5)) for p in names}
    if draw(st.booleans()):
        rule["escalation"] = [{"after_minutes": 10, "pools": draw(_subset(pool_ids))}]
    return rule


@st.composite
def configs(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(1, 6))
    pool_docs = [draw(pools(n)) for n in range(count)]
    ids = [p["id"] for p in pool_docs]
    doc: dict[str, Any] = {
        "pools": pool_docs,
        "rules": [draw(rules(n, ids)) for n in range(draw(st.integers(0, 4)))],
        "default": {"pools": ["*"], "strategy": draw(st.sampled_from(["cheapest", "ordered"]))},
        "data_policy": {"in_house_only_flags": ["card"] if draw(st.booleans()) else []},
    }
    if draw(st.booleans()):
        doc["catch_all"] = draw(st.sampled_from(ids))
    if draw(st.booleans()):
        doc["low_confidence"] = {"tier_below": 0.5, "treat_as": pool_docs[0]["tiers"][0]}
    return doc


tickets = st.builds(
    lambda n, country, region, flags: Ticket(
        f"t{n}", "s", "b", customer=Customer(country=country, region=region), flags=flags
    ),
    st.integers(0, 10**6),
    st.sampled_from([None, "DE", "US", "GB", "BR"]),
    st.sampled_from([None, None, "EU", "ROW"]),
    st.sampled_from([frozenset(), frozenset({"card"})]),
)
predictions = st.builds(
    lambda lang, tier, conf, cat: Prediction(lang, 0.9, tier, conf, cat, 0.9, None, "none", "m"),
    st.sampled_from([*LANGUAGES, "fr"]),
    st.sampled_from(TIERS),
    st.floats(0, 1),
    st.sampled_from([*CATEGORIES, "other"]),
)
instants = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2026, 12, 31)).map(
    lambda d: d.replace(tzinfo=UTC)
)


def _matches(rule: Rule, ticket: Ticket, p: Prediction, tier: str, region: str) -> bool:
    m = rule.match
    checks = [
        (m.languages, p.language), (m.tiers, tier), (m.categories, p.category),
        (m.regions, region),
    ]  # fmt: skip
    if any(values is not None and value not in values for values, value in checks):
        return False
    if m.flags is not None and not (m.flags & ticket.flags):
        return False
    return m.tier_confidence_below is None or p.tier_confidence < m.tier_confidence_below


class Oracle:
    """The policy stated the slow way, one pool at a time."""

    def __init__(self, config: RoutingConfig, t: Ticket, p: Prediction, now: datetime) -> None:
        region = customer_region(t.customer, config.country_regions)
        self.region = region if region in {*config.regions, "ROW", UNKNOWN_REGION} else "UNKNOWN"
        tier = p.tier
        low = config.low_confidence
        if low is not None and p.tier_confidence < low.tier_below:
            tier = low.treat_as
        self.rule = next(
            (r for r in config.rules if _matches(r, t, p, tier, self.region)), config.default_rule
        )
        self.tier = self.rule.set_tier or tier
        self.in_house = self.rule.require_in_house or bool(
            config.data_policy.in_house_only_flags & t.flags
        )
        self.config, self.p, self.now = config, p, now

    def allowed(self, pool: Pool) -> bool:
        return pool.allows_region(self.region) and (not self.in_house or pool.kind == "in_house")

    def qualified(self, pool: Pool) -> bool:
        return (
            self.p.language in pool.languages
            and self.tier in pool.tiers
            and pool.serves_category(self.p.category)
        )

    def targets(self) -> list[Pool]:
        if self.rule.pools == ("*",):
            return list(self.config.pools)
        return [self.config.pool(i) for i in self.rule.pools]

    def eligible(self, load: dict[str, int]) -> list[Pool]:
        return [
            pool
            for pool in self.targets()
            if self.allowed(pool)
            and self.qualified(pool)
            and is_open_at(pool.schedule, pool.closures, pool.zone, self.now)
            and load.get(pool.id, 0) < pool.capacity
        ]


@settings(max_examples=400, deadline=None)
@given(
    doc=configs(),
    t=tickets,
    p=predictions,
    now=instants,
    loads=st.lists(st.integers(0, 3), min_size=6, max_size=6),
)
def test_decision_follows_the_policy(
    doc: dict[str, Any], t: Ticket, p: Prediction, now: datetime, loads: list[int]
) -> None:
    config = parse_config(doc, source="generated")
    load = {f"p{n}": value for n, value in enumerate(loads)}
    decision = decide(t, p, config, load, now)
    oracle = Oracle(config, t, p, now)
    chosen = config.pool(decision.pool_id)

    assert decision.rule == oracle.rule.id
    assert decision.tier == oracle.tier and decision.region == oracle.region
    # Residency and data policy hold whatever happened, escalation included.
    assert oracle.allowed(chosen)
    for step in decision.escalation:
        assert step.pools and all(oracle.allowed(config.pool(i)) for i in step.pools)
    assert set(decision.excluded) == set(config.pool_ids) - {decision.pool_id}

    eligible = oracle.eligible(load)
    if eligible:
        # Never a closed, full or unqualified pool while a qualifying one is open.
        assert decision.fallback is None
        assert chosen in eligible
        _check_strategy(decision, oracle, eligible, load)
    else:
        assert decision.fallback in {
            "over_capacity", "catch_all", "opens_soonest", "unqualified", "unstaffed"
        }  # fmt: skip
    lawful = [p for p in config.pools if oracle.qualified(p) and oracle.allowed(p)]
    if decision.fallback == "unqualified":
        assert not lawful
    if not lawful:
        assert decision.fallback in {"catch_all", "unqualified", "unstaffed"}
    if decision.fallback in {"opens_soonest", "unqualified"} or decision.opens_at:
        assert decision.opens_at is not None and decision.opens_at > now - timedelta(minutes=1)
        assert is_open_at(chosen.schedule, chosen.closures, chosen.zone, decision.opens_at)
        before = decision.opens_at - timedelta(minutes=1)
        assert before < now or not is_open_at(chosen.schedule, chosen.closures, chosen.zone, before)

    # Deterministic: the same inputs, even through a freshly parsed config, same decision.
    assert decide(t, p, parse_config(doc, source="again"), dict(load), now) == decision


def _check_strategy(
    decision: Decision, oracle: Oracle, eligible: list[Pool], load: dict[str, int]
) -> None:
    chosen = oracle.config.pool(decision.pool_id)
    strategy = oracle.rule.strategy
    if strategy == "ordered":
        assert chosen == eligible[0]
    elif strategy == "cheapest":
        assert chosen.cost_per_ticket == min(p.cost_per_ticket for p in eligible)
    elif strategy == "least_loaded":
        ratio = load.get(chosen.id, 0) / chosen.capacity
        assert ratio == min(load.get(p.id, 0) / p.capacity for p in eligible)
