"""The routing decision: a pure function of ticket, prediction, config, load and now.

1. The ticket's region and the effective tier (low-confidence setting) are derived.
2. The first rule whose match fits wins (else the default rule).
3. Hard limits come first and are never relaxed: residency (the pool accepts the
   customer's region) and data policy (in-house / full-access requirements of the rule
   or of the ticket's flags). Pools passing them are *allowed*.
4. *Eligible* = a target of the rule, allowed, has the language, the tier and the
   category, open now in its own zone and under capacity. The rule's strategy picks one.
5. No eligible pool is never a silent drop; in order the decision falls back to
   ``over_capacity`` (the least loaded qualified target that is open but full),
   ``catch_all`` (the configured catch-all pool, if allowed), ``opens_soonest`` (the
   qualified target, else if no target qualifies any qualified allowed pool, that opens
   first, with ``opens_at``), ``unqualified`` (no allowed pool has the language, tier
   and category: the allowed pool that opens first) and last ``unstaffed`` (qualified
   pools exist but none opens within six weeks: the allowed pool that opens first, if
   any). Config validation guarantees every region has an allowed pool, so there always
   is one. ``decision.fallback is not None`` is the coverage-gap signal (the value tells
   which kind: ``over_capacity`` is a staffing gap rather than an hours gap).

The SLA clock starts at ``now`` even when the pool opens later: a ticket that waits for
a pool to open is late by that much, and the SLA figures should show it.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from classifiers.types import Prediction
from router.core.config_types import RoutingConfig
from router.core.domain import Decision, EscalationStep, Ticket
from router.core.policy_explain import Checks, explain
from router.core.policy_index import PolicyIndex, RuleTable, index_of, residual_ok
from router.core.regions import UNKNOWN_REGION, customer_region
from router.core.schedule import minute_to_datetime

_DEFAULT_SLA_MINUTES = 1440


def _bits(mask: int) -> list[int]:
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


def match_rule(
    index: PolicyIndex, ticket: Ticket, prediction: Prediction, tier: str, region: str
) -> RuleTable:
    """The first rule matching the ticket, or the default rule."""
    customer = ticket.customer
    country = customer.country.upper() if customer.country else None
    values = (
        prediction.language, tier, prediction.category, ticket.priority, ticket.channel,
        ticket.source, customer.plan, country, region,
    )  # fmt: skip
    mask = index.all_rules
    for (by_value, any_mask), value in zip(index.scalar, values, strict=True):
        mask &= by_value.get(value, 0) | any_mask
        if not mask:
            return index.default
    mask &= index.tags.mask_any_of(ticket.tags)
    mask &= index.flags.mask_any_of(ticket.flags)
    while mask:
        low = mask & -mask
        table = index.rules[low.bit_length() - 1]
        if not table.residual or residual_ok(
            table.rule.match,
            prediction.tier_confidence,
            prediction.language_confidence,
            prediction.category_confidence,
            prediction.extra,
        ):
            return table
        mask ^= low
    return index.default


def decide(
    ticket: Ticket,
    prediction: Prediction,
    config: RoutingConfig,
    load: Mapping[str, int],
    now: datetime,
) -> Decision:
    """Route one ticket at instant ``now`` (tz-aware); always returns a decision."""
    if now.tzinfo is None:
        raise ValueError("decide() needs a tz-aware now")  # a naive one would read as local
    index = index_of(config)
    pools = config.pools
    region = customer_region(ticket.customer, config.country_regions)
    if region not in index.region:
        region = UNKNOWN_REGION  # a region the config does not know cannot be checked
    tier = prediction.tier
    low = config.low_confidence
    lowered = ""
    if low is not None and prediction.tier_confidence < low.tier_below and tier != low.treat_as:
        lowered = (
            f"tier confidence {prediction.tier_confidence:.2f} < {low.tier_below}: "
            f"routed as {low.treat_as}"
        )
        tier = low.treat_as
    table = match_rule(index, ticket, prediction, tier, region)
    rule = table.rule
    reasons = [table.label, lowered] if lowered else [table.label]
    if rule.set_tier is not None and rule.set_tier != tier:
        tier = rule.set_tier
        reasons.append(f"rule sets tier {tier}")

    # Hard limits: never relaxed, not even by a fallback.
    allowed = index.region[region]
    policy = config.data_policy
    in_house = table.hard_in_house or not policy.in_house_only_flags.isdisjoint(ticket.flags)
    full = table.hard_full or not policy.full_access_only_flags.isdisjoint(ticket.flags)
    if in_house:
        allowed &= index.in_house
    if full:
        allowed &= index.full_access
    lang = index.lang.get(prediction.language, 0)
    tiers = index.tier.get(tier, 0)
    cats = index.category.get(prediction.category, 0) | index.any_category
    qualified = lang & tiers & cats
    minute = int(now.timestamp()) // 60
    open_now = config.schedule_index.open_mask(minute)
    candidates = table.target_mask & allowed & qualified & open_now
    full_mask = 0
    for i in _bits(candidates):
        if load.get(pools[i].id, 0) >= index.capacities[i]:
            full_mask |= 1 << i
    candidates &= ~full_mask

    fallback: str | None = None
    opens_at: datetime | None = None
    if candidates:
        chosen = _choose(table, candidates, index, ticket.id, load, config.pool_ids)
        reasons.append(f"{rule.strategy}: {pools[chosen].id} of {candidates.bit_count()} eligible")
    else:
        chosen, fallback, opens_at = _fall_back(
            table, index, config, allowed, qualified, open_now & full_mask, load, minute
        )
        reasons.append(_fallback_reason(fallback, pools[chosen].id, opens_at, now))
    pool = pools[chosen]
    priority = rule.priority or ticket.priority
    sla = (
        rule.sla_minutes
        or pool.sla_minutes.get(priority)
        or config.sla_minutes.get(priority, _DEFAULT_SLA_MINUTES)
    )
    checks = Checks(
        rule.id, rule.strategy, region, prediction.language, tier, prediction.category,
        in_house, table.target_mask, index.region[region], allowed, lang, tiers, cats, open_now,
    )  # fmt: skip
    full_lines = (
        {
            i: f"at capacity ({load.get(pools[i].id, 0)}/{pools[i].capacity})"
            for i in _bits(full_mask)
        }
        if full_mask
        else {}
    )
    excluded = explain(index.names, index.all_pools, chosen, checks, full_lines)
    return Decision(
        ticket_id=ticket.id,
        pool_id=pool.id,
        pool_kind=pool.kind,
        data_access=pool.data_access,
        rule=rule.id,
        strategy=rule.strategy,
        priority=priority,
        sla_due=now + timedelta(minutes=sla),
        decided_at=now,
        config_version=config.version,
        reasons=tuple(reasons),
        excluded=excluded,
        escalation=_escalation(config, rule.escalation, allowed),
        fallback=fallback,
        opens_at=opens_at,
        tier=tier,
        region=region,
    )


def _choose(
    table: RuleTable,
    candidates: int,
    index: PolicyIndex,
    ticket_id: str,
    load: Mapping[str, int],
    ids: tuple[str, ...],
) -> int:
    order = [i for i in table.order if candidates >> i & 1]
    strategy = table.rule.strategy
    if strategy == "cheapest":
        return min(order, key=lambda i: index.costs[i])
    if strategy == "least_loaded":
        return min(order, key=lambda i: (load.get(ids[i], 0) / index.capacities[i], index.costs[i]))
    if strategy == "weighted":
        weights = [table.weights[table.order.index(i)] for i in order]
        # A stable hash of the ticket id (not hash(): it is salted per process), so every
        # replica and every retry sends the same ticket to the same pool.
        point = zlib.crc32(ticket_id.encode()) / 2**32 * sum(weights)
        for i, weight in zip(order, weights, strict=True):
            point -= weight
            if point < 0:
                return i
        return order[-1]
    return order[0]


def _fall_back(
    table: RuleTable,
    index: PolicyIndex,
    config: RoutingConfig,
    allowed: int,
    qualified: int,
    open_but_full: int,
    load: Mapping[str, int],
    minute: int,
) -> tuple[int, str, datetime | None]:
    ids = config.pool_ids
    busy = table.target_mask & allowed & qualified & open_but_full
    if busy:
        order = [i for i in table.order if busy >> i & 1]
        return (
            min(order, key=lambda i: load.get(ids[i], 0) / index.capacities[i]),
            "over_capacity",
            None,
        )
    if index.catch_all & allowed:
        return index.catch_all.bit_length() - 1, "catch_all", None
    schedule = config.schedule_index
    # The rule's own qualified targets first, then any qualified pool, then any pool the
    # ticket's data may go to: each group only if the one before has no opening at all.
    groups: tuple[tuple[str, Callable[[], list[int]]], ...] = (
        (
            "opens_soonest",
            lambda: [i for i in table.order if (table.target_mask & allowed & qualified) >> i & 1],
        ),
        ("opens_soonest", lambda: _bits(allowed & qualified)),
        ("unqualified" if not allowed & qualified else "unstaffed", lambda: _bits(allowed)),
    )
    for fallback, group in groups:
        best: tuple[int, int] | None = None
        for i in group():
            at = schedule.next_open(i, minute)
            if at is not None and (best is None or at < best[0]):
                best = (at, i)
        if best is not None:
            return best[1], fallback, minute_to_datetime(best[0])
    return _bits(allowed)[0], "unstaffed", None


def _fallback_reason(fallback: str, pool_id: str, opens_at: datetime | None, now: datetime) -> str:
    if fallback == "over_capacity":
        return f"every qualified pool open is at capacity: {pool_id} is least loaded"
    if fallback == "catch_all":
        return f"no eligible pool open: catch-all {pool_id}"
    if opens_at is None:
        return f"no allowed pool opens within six weeks: {pool_id}"
    when = "open now" if opens_at <= now else f"opens soonest, at {opens_at.isoformat()}"
    if fallback == "unqualified":
        return f"no allowed pool has this language, tier and category: {pool_id} {when}"
    if fallback == "unstaffed":
        return f"no qualified pool opens within six weeks: {pool_id} {when}"
    return f"no eligible pool open: {pool_id} {when}"


def _escalation(
    config: RoutingConfig, steps: tuple[EscalationStep, ...], allowed: int
) -> tuple[EscalationStep, ...]:
    """Escalation steps limited to pools the ticket's data may go to."""
    if not steps:
        return steps
    out = []
    for step in steps:
        pools = tuple(p for p in step.pools if allowed >> config.pool_index(p) & 1)
        if pools:
            out.append(step if pools == step.pools else EscalationStep(step.after_seconds, pools))
    return tuple(out)
