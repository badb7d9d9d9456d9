"""The routing config of the data-protection tests: a masked vendor and its rivals.

Every ticket is routed as tier 1 (the low-confidence setting: model confidences
are below 1) to ``vendor-acme``, an outsourced pool with masked data access, open
24/7 for every region, by a rule whose id names the rival pool. An agent's tier-2
escalation and the intake rule's SLA step (after 30 minutes) go to
``vendor-zenith``, a second masked vendor. ``rival-full`` (another vendor, full
access) and ``hq-cards`` (in-house) are there so a masked copy has other pools it
could name. With ``card_rule`` a ticket flagged ``contains_card_data`` may only go
in-house.
"""

from __future__ import annotations

from typing import Any

MASKED = "vendor-acme"
ESCALATION_TARGET = "vendor-zenith"
RIVAL = "rival-full"
IN_HOUSE = "hq-cards"
POOLS = (MASKED, ESCALATION_TARGET, RIVAL, IN_HOUSE)
OUTSOURCED = (MASKED, ESCALATION_TARGET, RIVAL)
INTAKE_RULE = f"acme-first-then-{RIVAL}"
# What one pool must never learn about the others: ids, names, vendors.
IDENTITIES: dict[str, tuple[str, ...]] = {
    MASKED: (MASKED, "Acme Contact Services", "Acme BPO Holdings"),
    ESCALATION_TARGET: (ESCALATION_TARGET, "Zenith Night Desk", "Zenith Offshore Group"),
    RIVAL: (RIVAL, "Rival Full Access Team", "Rival Outsourcing Ltd"),
    IN_HOUSE: (IN_HOUSE, "Headquarters card desk"),
}


def _pool(pool_id: str, languages: list[str], tiers: list[str], cost: float) -> dict[str, Any]:
    name, *vendor = IDENTITIES[pool_id][1:]
    pool: dict[str, Any] = {
        "id": pool_id,
        "name": name,
        "kind": "outsourced" if vendor else "in_house",
        "sourcing": "offshore" if vendor else "onshore",
        "country": "PH" if vendor else "US",
        "timezone": "UTC",
        "schedule": {"always": True},
        "languages": languages,
        "tiers": tiers,
        "capacity": 100_000,
        "cost_per_ticket": cost,
        "data_access": "masked" if pool_id in (MASKED, ESCALATION_TARGET) else "full",
        "regions": ["*"],
    }
    if vendor:
        pool["vendor"] = vendor[0]
    return pool


def dp_config(
    languages: list[str], *, card_rule: bool = False, first: str = MASKED
) -> dict[str, Any]:
    """The config document (see the module doc); ``languages``: every one the model knows;
    ``first``: the pool the intake rule tries first (``RIVAL``: the full-access vendor)."""
    both = ["tier1", "tier2"]
    intake = [first, *(p for p in (MASKED, RIVAL, IN_HOUSE) if p != first)]
    rules: list[dict[str, Any]] = [
        {"id": "escalated", "match": {"tiers": ["tier2"]},
         "pools": [ESCALATION_TARGET, IN_HOUSE], "strategy": "ordered"},
        # Ops name rules after pools; the rule id is one more place a pool's name travels.
        {"id": INTAKE_RULE, "pools": intake, "strategy": "ordered",
         "escalation": [{"after_minutes": 30, "pools": [ESCALATION_TARGET]}]},
    ]  # fmt: skip
    doc: dict[str, Any] = {
        "pools": [
            _pool(MASKED, languages, ["tier1"], 1.0),
            _pool(ESCALATION_TARGET, languages, both, 2.0),
            _pool(RIVAL, languages, both, 3.0),
            _pool(IN_HOUSE, languages, both, 10.0),
        ],
        "rules": rules,
        "low_confidence": {"tier_below": 1.0, "treat_as": "tier1"},
    }
    if card_rule:
        rules.insert(
            0,
            {
                "id": "card-data",
                "match": {"flags": ["contains_card_data"]},
                "pools": [IN_HOUSE],
                "strategy": "ordered",
                "require_in_house": True,
            },
        )
        doc["data_policy"] = {"in_house_only_flags": ["contains_card_data"]}
    return doc


def foreign_names(pool_id: str) -> list[str]:
    """Every id, name and vendor of the pools other than ``pool_id``, case folded."""
    return [n.casefold() for p, names in IDENTITIES.items() if p != pool_id for n in names]
