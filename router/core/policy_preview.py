"""Preview a config change: how would the same tickets be routed by the new config?

Pure: the shell passes recent or sample tickets with their predictions and instants,
the current pool load, and gets back one entry per ticket whose routing would change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from classifiers.types import Prediction
from router.core.config_types import RoutingConfig
from router.core.domain import Decision, Ticket
from router.core.policy import decide


@dataclass(frozen=True, slots=True)
class RoutingChange:
    """One ticket routed differently (pool, rule or fallback) by the new config."""

    ticket_id: str
    at: datetime
    old_pool: str
    new_pool: str
    old_rule: str
    new_rule: str
    old_fallback: str | None
    new_fallback: str | None
    new_reasons: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        """The JSON shape used by the preview endpoint."""
        return {
            "ticket_id": self.ticket_id,
            "at": self.at.isoformat(),
            "old": {"pool": self.old_pool, "rule": self.old_rule, "fallback": self.old_fallback},
            "new": {"pool": self.new_pool, "rule": self.new_rule, "fallback": self.new_fallback},
            "reasons": list(self.new_reasons),
        }


def _changed(old: Decision, new: Decision) -> bool:
    return (old.pool_id, old.rule, old.fallback) != (new.pool_id, new.rule, new.fallback)


def preview(
    candidates: Sequence[tuple[Ticket, Prediction, datetime]],
    old: RoutingConfig,
    new: RoutingConfig,
    load: Mapping[str, int],
) -> list[RoutingChange]:
    """Decide every candidate under both configs; the ones that change, in input order.

    Pool ids in ``load`` that one config lacks are simply not looked up by it.
    """
    changes: list[RoutingChange] = []
    for ticket, prediction, at in candidates:
        before = decide(ticket, prediction, old, load, at)
        after = decide(ticket, prediction, new, load, at)
        if _changed(before, after):
            changes.append(
                RoutingChange(
                    ticket_id=ticket.id,
                    at=at,
                    old_pool=before.pool_id,
                    new_pool=after.pool_id,
                    old_rule=before.rule,
                    new_rule=after.rule,
                    old_fallback=before.fallback,
                    new_fallback=after.fallback,
                    new_reasons=after.reasons,
                )
            )
    return changes
