"""Re-deciding a ticket that moves on: an agent's tier-2 escalation and the SLA steps.

Pure: an assignment record (the JSON stored in Redis) in, a new decision and the
record that replaces it out. Every move goes through :func:`router.core.policy.decide`,
so residency and the data policy are enforced exactly as in the first decision.

Escalation steps (``record["escalation"]``) count from the time the decision that
planned them was made (``escalation_base``); ``escalation_step`` says how many of
them are used up. An SLA move keeps that plan; an agent's escalation is a new
decision with its own plan, counted from then.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from classifiers.types import Prediction
from router.config.load import RoutingConfig, parse_config
from router.core.assignment import Assignment
from router.core.domain import Decision, EscalationStep, Ticket
from router.core.policy import decide
from router.core.ticket_schema import ticket_from_object

#: The tier an agent's escalation routes to.
ESCALATED_TIER = "tier2"
MoveKind = Literal["agent", "sla"]
# Fallbacks after which an SLA move is still worth it: an open pool of the step is
# full. Moving to a closed pool would make the ticket wait longer than staying.
_WORTH_MOVING = frozenset({None, "over_capacity"})


def parse_time(text: str) -> datetime:
    """An RFC 3339 time as the assignment writes it (``Z`` for UTC)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def iso(value: datetime) -> str:
    """The assignment's time format: ISO 8601, ``Z`` for UTC."""
    return value.isoformat().replace("+00:00", "Z")


Record = Assignment | Mapping[str, Any]


def typed(record: Record) -> Assignment:
    """The typed assignment of a record (a stored document is read once)."""
    return record if isinstance(record, Assignment) else Assignment.from_dict(record)


def ticket_of(record: Record) -> Ticket:
    """The ticket an assignment record carries, validated as at ingestion."""
    return ticket_from_object(dict(typed(record).ticket))


def prediction_of(record: Record) -> Prediction:
    """The classifiers' prediction as recorded in the assignment."""
    return typed(record).prediction()


def escalation_plan(record: Record) -> tuple[EscalationStep, ...]:
    """The SLA escalation steps of the record's plan."""
    return tuple(EscalationStep(s.after_seconds, s.pools) for s in typed(record).escalation)


def escalation_base(record: Record) -> datetime:
    """When the record's escalation steps started counting."""
    a = typed(record)
    return parse_time(a.escalation_base or a.decided_at)


@dataclass(frozen=True, slots=True)
class StepDue:
    """What the SLA plan asks for now: ``index`` is the step to carry out (the latest
    one due; ``None`` if none is due) and ``next_due`` when to look again (``None``
    when no step is left after it)."""

    index: int | None
    next_due: datetime | None


def due_step(record: Record, used: int, now: datetime) -> StepDue:
    """The step of the plan to carry out at ``now`` when ``used`` steps are used up.

    When several steps came due at once (a ticket released late), only the latest
    one is carried out: the earlier targets were meant for a shorter wait.
    """
    a = typed(record)
    steps = escalation_plan(a)
    base = escalation_base(a)
    index: int | None = None
    for i in range(used, len(steps)):
        at = base + timedelta(seconds=steps[i].after_seconds)
        if at > now:
            return StepDue(index, at)
        index = i
    return StepDue(index, None)


def first_due_ms(record: Record) -> float:
    """When the sweeper first has to look at a newly recorded assignment: its plan's
    first step's time in epoch ms, written as :func:`due_step`'s ``next_due`` is
    rescheduled (``math.inf`` for a plan without steps).

    A pure function of the record, so the record step can put the ticket on the
    escalation schedule itself instead of the sweeper reading it back to find out;
    a step due already by then is carried out on the sweeper's next pass either way.
    """
    a = typed(record)
    if not a.escalation:
        return math.inf
    at = escalation_base(a) + timedelta(seconds=a.escalation[0].after_seconds)
    return float(int(at.timestamp() * 1000))


def first_check_ms(record: Record) -> float:
    """:func:`first_due_ms`, or 0 (look at once) for a record whose plan cannot be read:
    the record is published by then, so its schedule entry must not fail the record
    step; the sweeper's own look handles (and logs) such a record as it always did."""
    try:
        return first_due_ms(record)
    except (ValueError, TypeError, OverflowError):
        return 0.0


def step_config(config: RoutingConfig, pools: Sequence[str]) -> RoutingConfig:
    """``config`` with every rule (and the default) targeting ``pools`` in that order and
    no catch-all, so :func:`decide` can only choose among them. Rule matches, data
    requirements and residency stay as they are. Cached on ``config``."""
    targets = [p for p in dict.fromkeys(pools) if config.has_pool(p)]
    if not targets:
        raise ValueError("none of the step's pools is in the config")

    def build() -> RoutingConfig:
        doc = config.to_dict()
        doc.pop("catch_all", None)
        action = {"pools": targets, "strategy": "ordered", "weights": {}, "escalation": []}
        doc["rules"] = [{**rule, **action} for rule in doc.get("rules", [])]
        doc["default"] = {**doc.get("default", {}), **action}
        return parse_config(doc, source=f"{config.source} (escalation to {', '.join(targets)})")

    return config.derived("escalation:" + ",".join(targets), build)


@dataclass(frozen=True, slots=True)
class Move:
    """The outcome of re-deciding a ticket: the assignment to store and where it goes.

    ``pool_id`` equals the current pool when the ticket stays (``moved`` is False).
    """

    assignment: Assignment
    pool_id: str
    moved: bool
    why: str

    @property
    def record(self) -> dict[str, Any]:
        """The assignment as its stored document."""
        return self.assignment.to_dict()


def _history(a: Assignment, entry: dict[str, Any]) -> tuple[Mapping[str, Any], ...]:
    return (*(a.moves or ()), entry)


def _rebuilt(a: Assignment, prediction: Prediction, decision: Decision, why: str) -> Assignment:
    out = Assignment.build(
        ticket_of(a), prediction, decision, received_at=parse_time(a.received_at)
    )
    return replace(out, reasons=(why, *out.reasons))


def _step_decision(
    a: Assignment,
    pools: Sequence[str],
    config: RoutingConfig,
    loads: Mapping[str, int],
    now: datetime,
) -> tuple[Decision | None, Prediction, str]:
    """Decide among ``pools``: (decision, prediction used, "") when one of them can work
    the ticket now, else (None, ..., why not). Tried with the recorded tier, then as
    tier 2: escalation steps commonly point at senior pools that serve tier 2 only."""
    try:
        restricted = step_config(config, pools)
    except ValueError:
        return None, prediction_of(a), "no pool of the step is in the config in force"
    recorded = prediction_of(a)
    tries = [recorded]
    # Also when the prediction already says tier 2 but with a confidence low enough for
    # the low-confidence setting to have routed it lower: the step's pools judge it
    # as tier 2 then.
    if recorded.tier != ESCALATED_TIER or recorded.tier_confidence < 1.0:
        tries.append(replace(recorded, tier=ESCALATED_TIER, tier_confidence=1.0))
    ticket = ticket_of(a)
    stay = ""
    for prediction in tries:
        decision = decide(ticket, prediction, restricted, loads, now)
        if decision.pool_id in pools and decision.fallback in _WORTH_MOVING:
            return decision, prediction, ""
        if not stay:
            # The first try's reasons: residency and data policy never change with tier.
            stay = "; ".join(
                f"{p}: not open now ({decision.fallback})"
                if p == decision.pool_id
                else f"{p}: {decision.excluded.get(p, 'not chosen')}"
                for p in pools
            )
    return None, recorded, stay


def sla_move(
    record: Record,
    index: int,
    config: RoutingConfig,
    loads: Mapping[str, int],
    now: datetime,
) -> Move:
    """Carry out step ``index`` of the record's plan: re-decide among the step's pools.

    The ticket stays where it is (the step is still used up, the record says why)
    when no pool of the step may take it now or the decision keeps it in its pool.
    """
    a = typed(record)
    step = escalation_plan(a)[index]
    current = a.pool_id
    why = (
        f"not accepted within {step.after_seconds}s: escalation step {index + 1} "
        f"to {', '.join(step.pools)}"
    )
    entry: dict[str, Any] = {"at": iso(now), "kind": "sla", "step": index + 1, "from": current}
    decision, prediction, stay = _step_decision(a, step.pools, config, loads, now)
    if decision is not None and decision.pool_id == current:
        decision, stay = None, "the decision keeps it in its pool"
    if decision is None:
        stays = replace(
            a,
            moves=_history(a, {**entry, "to": current, "why": f"{why}; stays: {stay}"}),
            escalation_step=index + 1,
        )
        return Move(stays, current, False, f"{why}; stays: {stay}")
    decision = replace(decision, config_version=config.version)
    out = replace(
        _rebuilt(a, prediction, decision, why),
        escalation=a.escalation,
        escalation_base=iso(escalation_base(a)),
        escalation_step=index + 1,
        moves=_history(a, {**entry, "to": decision.pool_id, "why": why}),
    )
    return Move(out, decision.pool_id, True, why)


def agent_move(
    record: Record,
    agent: str,
    reason: str,
    config: RoutingConfig,
    loads: Mapping[str, int],
    now: datetime,
) -> Move:
    """An agent escalates the ticket to tier 2: decide again, as at first, with the tier
    set to :data:`ESCALATED_TIER`. The new decision brings its own escalation plan.

    The agent's judgment is certain (tier confidence 1), so a low-confidence setting
    cannot route the ticket back to the tier the agent just escalated it from.
    """
    a = typed(record)
    current = a.pool_id
    prediction = replace(prediction_of(a), tier=ESCALATED_TIER, tier_confidence=1.0)
    decision = decide(ticket_of(a), prediction, config, loads, now)
    why = f"escalated to {ESCALATED_TIER} by agent {agent}: {reason}"
    rebuilt = _rebuilt(a, prediction, decision, why)
    out = replace(
        rebuilt,
        escalation_base=rebuilt.decided_at,
        escalation_step=0,
        moves=_history(
            a,
            {
                "at": iso(now),
                "kind": "agent",
                "from": current,
                "to": decision.pool_id,
                "agent": agent,
                "why": reason,
            },
        ),
    )
    return Move(out, decision.pool_id, decision.pool_id != current, why)
