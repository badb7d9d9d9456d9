"""The assignment document: a decision delivered to a pool (DESIGN.md "Assignment").

Pure: builds plain JSON-able dicts. The same document is stored in Redis (with the
ticket unmasked, for ops) and published to ``pool.<id>`` (masked where the pool's
data access says so).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from classifiers.types import Prediction
from router.domain import Decision, Ticket

SCHEMA_VERSION = 1

MaskFn = Callable[[Mapping[str, Any]], dict[str, Any]]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def build_assignment(
    ticket: Ticket,
    prediction: Prediction,
    decision: Decision,
    *,
    received_at: datetime,
) -> dict[str, Any]:
    """The assignment for ``ticket`` as decided, carrying the ticket unmasked."""
    return {
        "schema": SCHEMA_VERSION,
        "ticket_id": ticket.id,
        "pool_id": decision.pool_id,
        "pool_kind": decision.pool_kind,
        "data_access": decision.data_access,
        "tier": prediction.tier,
        "category": prediction.category,
        "language": prediction.language,
        "timezone": prediction.timezone,
        "timezone_source": prediction.timezone_source,
        "priority": decision.priority,
        "sla_due": _iso(decision.sla_due),
        "rule": decision.rule,
        "strategy": decision.strategy,
        "reasons": list(decision.reasons),
        "excluded": dict(decision.excluded),
        "fallback": decision.fallback,
        "opens_at": _iso(decision.opens_at),
        "escalation": [
            {"after_seconds": step.after_seconds, "pools": list(step.pools)}
            for step in decision.escalation
        ],
        "confidence": {
            "language": round(prediction.language_confidence, 4),
            "tier": round(prediction.tier_confidence, 4),
            "category": round(prediction.category_confidence, 4),
        },
        "model_version": prediction.model_version,
        "config_version": decision.config_version,
        "received_at": _iso(received_at),
        "decided_at": _iso(decision.decided_at),
        "ticket": dict(ticket.raw),
        "ticket_masked": False,
    }


def for_pool(assignment: Mapping[str, Any], mask: MaskFn) -> dict[str, Any]:
    """The copy a pool may see: the ticket masked when its data access is ``masked``."""
    out = dict(assignment)
    masked = assignment.get("data_access") == "masked"
    if masked:
        out["ticket"] = mask(assignment["ticket"])
    out["ticket_masked"] = masked
    return out
