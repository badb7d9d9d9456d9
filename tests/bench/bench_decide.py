"""Benchmark of the pure routing decision on a generated config (one core, one thread).

    python tests/bench/bench_decide.py [--pools 50] [--rules 200] [--decisions 200000]

Prints decisions per second and the mix of outcomes, so a fast number cannot hide a
config where every ticket falls through to the default rule.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from classifiers.types import Prediction
from router.config.load import RoutingConfig, parse_config
from router.core.domain import Customer, Ticket
from router.core.policy import decide

ZONES = [
    "America/New_York", "America/Chicago", "America/Los_Angeles", "America/Bogota",
    "America/Sao_Paulo", "Europe/Dublin", "Europe/Berlin", "Europe/Warsaw", "Africa/Cairo",
    "Asia/Kolkata", "Asia/Manila", "Australia/Sydney",
]  # fmt: skip
LANGUAGES = ["en", "es", "pt", "fr", "de", "it", "pl", "ar", "hi", "tl"]
TIERS = ["tier1", "tier2"]
CATEGORIES = ["billing", "tech", "account", "shipping", "returns", "fraud"]
PLANS = ["free", "pro", "enterprise"]
COUNTRIES = ["US", "DE", "FR", "GB", "BR", "MX", "IN", "PH", "ES", "PL", None]
SHIFTS = [["06:00-14:00"], ["14:00-22:00"], ["22:00-06:00"], ["08:00-12:00", "13:00-18:00"]]


def generate_config(rng: random.Random, n_pools: int, n_rules: int) -> dict[str, Any]:
    """A config shaped like a large deployment: many shifts, vendors and rules."""
    pools: list[dict[str, Any]] = []
    for n in range(n_pools):
        kind = "in_house" if n % 3 == 0 else "outsourced"
        days = rng.choice(["daily", "weekdays"])
        schedule: dict[str, Any] = {"always": True} if n % 10 == 0 else {days: rng.choice(SHIFTS)}
        pools.append(
            {
                "id": f"pool-{n:02d}",
                "kind": kind,
                "vendor": None if kind == "in_house" else f"Vendor {n % 7}",
                "sourcing": rng.choice(["onshore", "nearshore", "offshore"]),
                "country": rng.choice(["US", "CO", "PH", "IE", "PL", "IN"]),
                "timezone": rng.choice(ZONES),
                "schedule": schedule,
                "closures": [{"start": "2025-12-25"}, {"start": "2026-01-01"}],
                "languages": rng.sample(LANGUAGES, rng.randint(2, 5)),
                "tiers": rng.sample(TIERS, rng.randint(1, 2)),
                "categories": ["*"] if n % 2 else rng.sample(CATEGORIES, 3),
                "capacity": rng.randint(5, 60),
                "cost_per_ticket": round(rng.uniform(3, 15), 2),
                "data_access": "masked" if kind == "outsourced" and n % 2 else "full",
                "regions": ["*"] if kind == "in_house" else rng.choice([["ROW"], ["UK", "ROW"]]),
            }
        )
    ids = [p["id"] for p in pools]
    rules = []
    for n in range(n_rules):
        # Every rule names a language and one more condition, and targets pools that
        # speak it, as a real rule set would; rules late in the list are reached less.
        language = rng.choice(LANGUAGES)
        match: dict[str, Any] = {"languages": [language]}
        key, values = rng.choice([("categories", CATEGORIES), ("plans", PLANS), ("tiers", TIERS)])
        match[key] = rng.sample(values, rng.randint(1, 2))
        if rng.random() < 0.2:
            match["tags"] = [f"tag{rng.randint(0, 20)}"]
        if rng.random() < 0.1:
            match["tier_confidence_below"] = 0.5
        speakers = [p["id"] for p in pools if language in p["languages"]] or ids
        targets = rng.sample(speakers, min(len(speakers), rng.randint(3, 10)))
        strategy = rng.choice(["ordered", "cheapest", "least_loaded", "weighted"])
        rule: dict[str, Any] = {"id": f"rule-{n:03d}", "match": match, "pools": targets,
                                "strategy": strategy}  # fmt: skip
        if strategy == "weighted":
            rule["weights"] = {p: rng.randint(1, 9) for p in targets}
        if rng.random() < 0.3:
            rule["escalation"] = [{"after_minutes": 15, "pools": rng.sample(ids, 2)}]
        rules.append(rule)
    return {
        "pools": pools,
        "rules": rules,
        "default": {"pools": ["*"], "strategy": "cheapest"},
        "low_confidence": {"tier_below": 0.4, "treat_as": "tier2"},
        "data_policy": {"in_house_only_flags": ["contains_card_data"]},
    }


def generate_inputs(
    rng: random.Random, config: RoutingConfig, count: int
) -> list[tuple[Ticket, Prediction, datetime, dict[str, int]]]:
    """Tickets at instants spread over one week, with varying pool load."""
    start = datetime(2025, 3, 3, tzinfo=UTC)
    loads = [{p.id: rng.randint(0, p.capacity) for p in config.pools} for _ in range(500)]
    inputs = []
    for n in range(count):
        customer = Customer(country=rng.choice(COUNTRIES), plan=rng.choice(PLANS))
        flags = frozenset({"contains_card_data"}) if rng.random() < 0.02 else frozenset()
        tags = (f"tag{rng.randint(0, 20)}",) if rng.random() < 0.5 else ()
        ticket = Ticket(f"ticket-{n}", "s", "b", customer=customer, tags=tags, flags=flags)
        prediction = Prediction(
            rng.choice(LANGUAGES), 0.9, rng.choice(TIERS), rng.random(), rng.choice(CATEGORIES),
            0.8, None, "none", "bench",
        )  # fmt: skip
        now = start + timedelta(minutes=rng.randrange(7 * 24 * 60))
        inputs.append((ticket, prediction, now, rng.choice(loads)))
    return inputs


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pools", type=int, default=50)
    parser.add_argument("--rules", type=int, default=200)
    parser.add_argument("--decisions", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    config = parse_config(generate_config(rng, args.pools, args.rules), source="generated")
    warm = generate_inputs(rng, config, 5000)
    outcomes: Counter[str] = Counter()
    rules_hit: Counter[str] = Counter()
    for ticket, prediction, now, load in warm:  # week tables, indexes; the outcome mix
        decision = decide(ticket, prediction, config, load, now)
        outcomes[decision.fallback or "eligible"] += 1
        rules_hit[decision.rule] += 1
    # Timed on tickets not seen in the warm-up, so no per-input cache can flatter it.
    inputs = generate_inputs(rng, config, args.decisions)
    total = len(inputs)
    print(f"pools={args.pools} rules={args.rules} decisions={total}")
    # CPU time of this process: other work on a shared machine does not count against it.
    wall, cpu = time.perf_counter(), time.process_time()
    for ticket, prediction, now, load in inputs:
        decide(ticket, prediction, config, load, now)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"decide:            {total / cpu:>9,.0f} decisions/s per CPU second "
          f"({cpu / total * 1e6:.2f} us each; wall {total / wall:,.0f}/s)")  # fmt: skip
    # What the service pays: it reads every decision's explanation into the assignment.
    inputs = generate_inputs(rng, config, args.decisions)
    cpu = time.process_time()
    for ticket, prediction, now, load in inputs:
        dict(decide(ticket, prediction, config, load, now).excluded)
    cpu = time.process_time() - cpu
    print(f"decide + excluded: {total / cpu:>9,.0f} decisions/s per CPU second "
          f"({cpu / total * 1e6:.2f} us each)")  # fmt: skip
    share = {k: f"{v / len(warm):.1%}" for k, v in outcomes.most_common()}
    print(f"outcomes: {share}")
    default_share = rules_hit[config.default_rule.id] / len(warm)
    print(f"distinct rules matched: {len(rules_hit)}  default rule share: {default_share:.1%}")


if __name__ == "__main__":
    main()
