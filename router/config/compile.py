"""Compile a validated config document into the frozen ``RoutingConfig``.

Pydantic checks each value on its own; this module checks what spans the document
(references between pools and rules, unique ids, residency reachability) and reports
every problem with its path.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import timedelta
from itertools import product
from typing import Any
from zoneinfo import ZoneInfo

from router.config.schema import ActionModel, MatchModel, PoolModel, RoutingConfigModel
from router.core.config_types import (
    ANY,
    ConfigError,
    DataPolicy,
    HeadMatch,
    LowConfidence,
    Pool,
    RoutingConfig,
    Rule,
    RuleMatch,
)
from router.core.domain import EscalationStep
from router.core.regions import (
    ANY_REGION,
    DEFAULT_REGIONS,
    REST_OF_WORLD,
    UNKNOWN_REGION,
    country_table,
)
from router.core.schedule import (
    DAY_NAMES,
    Closure,
    PoolHours,
    ScheduleIndex,
    WeeklySchedule,
    Window,
    parse_window,
)

DEFAULT_RULE_ID = "default"
_DAY_GROUPS = {"daily": range(7), "weekdays": range(5), "weekends": range(5, 7)}


def content_version(document: dict[str, Any]) -> str:
    """A short hash of the normalised document (without its ``version``)."""
    body = {k: v for k, v in document.items() if k != "version"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def compile_config(model: RoutingConfigModel, *, source: str) -> RoutingConfig:
    """Check cross references and build the ``RoutingConfig``; raises ``ConfigError``."""
    problems: list[tuple[str, str]] = []
    pools = tuple(_compile_pool(p) for p in model.pools)
    ids = [p.id for p in pools]
    _duplicates(problems, ids, "pools", "id")
    known = set(ids)
    regions = (
        {k: tuple(v) for k, v in model.residency.regions.items()}
        if model.residency.regions is not None
        else dict(DEFAULT_REGIONS)
    )
    region_names = {*regions, REST_OF_WORLD, UNKNOWN_REGION}
    for i, pool in enumerate(pools):
        for j, region in enumerate(pool.regions):
            if region != ANY_REGION and region not in region_names:
                problems.append((f"pools[{i}].regions[{j}]", _unknown_region(region, regions)))
    rules = [
        _compile_rule(r.id, r.description, r.match, r, f"rules[{i}]", known, problems)
        for i, r in enumerate(model.rules)
    ]
    _duplicates(problems, [r.id for r in rules], "rules", "id")
    for i, rule in enumerate(rules):
        if rule.id == DEFAULT_RULE_ID:
            problems.append((f"rules[{i}].id", f"{DEFAULT_RULE_ID!r} is the default rule's id"))
        for j, region in enumerate(sorted(rule.match.regions or ())):
            if region not in region_names:
                problems.append(
                    (f"rules[{i}].match.regions[{j}]", _unknown_region(region, regions))
                )
    default = _compile_rule(
        DEFAULT_RULE_ID, "", MatchModel(), model.default, "default", known, problems
    )
    if model.catch_all is not None and model.catch_all not in known:
        problems.append(("catch_all", f"unknown pool {model.catch_all!r}"))
    tiers = {t for p in pools for t in p.tiers}
    if model.low_confidence is not None and model.low_confidence.treat_as not in tiers:
        problems.append(
            ("low_confidence.treat_as", f"no pool serves tier {model.low_confidence.treat_as!r}")
        )
    for i, rule in enumerate(rules):
        if rule.set_tier is not None and rule.set_tier not in tiers:
            problems.append((f"rules[{i}].set_tier", f"no pool serves tier {rule.set_tier!r}"))
    policy = DataPolicy(
        frozenset(model.data_policy.in_house_only_flags),
        frozenset(model.data_policy.full_access_only_flags),
    )
    _check_reachable(problems, pools, [*rules, default], policy, sorted(region_names))
    if problems:
        raise ConfigError(source, problems)
    document = model.model_dump(mode="json", exclude_none=True)
    return RoutingConfig(
        version=model.version or content_version(document),
        source=source,
        pools=pools,
        rules=tuple(rules),
        default_rule=default,
        catch_all=model.catch_all,
        low_confidence=(
            LowConfidence(model.low_confidence.tier_below, model.low_confidence.treat_as)
            if model.low_confidence is not None
            else None
        ),
        data_policy=policy,
        regions=regions,
        country_regions=country_table(regions),
        sla_minutes={str(k): v for k, v in model.sla_minutes.items()},
        document=document,
        schedule_index=ScheduleIndex([PoolHours(p.schedule, p.closures, p.zone) for p in pools]),
        _pool_by_id={p.id: p for p in pools},
        _positions={p.id: i for i, p in enumerate(pools)},
        pool_ids=tuple(ids),
    )


def _unknown_region(region: str, regions: dict[str, tuple[str, ...]]) -> str:
    names = ", ".join([*sorted(regions), REST_OF_WORLD, UNKNOWN_REGION])
    return f"unknown region {region!r} (known: {names}, or * for all)"


def _duplicates(
    problems: list[tuple[str, str]], ids: Sequence[str], section: str, key: str
) -> None:
    seen: set[str] = set()
    for i, value in enumerate(ids):
        if value in seen:
            problems.append((f"{section}[{i}].{key}", f"duplicate id {value!r}"))
        seen.add(value)


def _compile_pool(model: PoolModel) -> Pool:
    windows: list[Window] = []
    schedule = model.schedule
    for group, days in _DAY_GROUPS.items():
        for text in getattr(schedule, group):
            start, end = parse_window(text)
            windows.extend(Window(day, start, end) for day in days)
    for day, name in enumerate(DAY_NAMES):
        for text in getattr(schedule, name):
            start, end = parse_window(text)
            windows.append(Window(day, start, end))
    windows.sort(key=lambda w: (w.day, w.start, w.end))
    return Pool(
        id=model.id,
        name=model.name or model.id,
        kind=model.kind,
        vendor=model.vendor,
        sourcing=model.sourcing,
        country=model.country,
        timezone=model.timezone,
        zone=ZoneInfo(model.timezone),
        schedule=WeeklySchedule(tuple(dict.fromkeys(windows)), always=schedule.always),
        closures=tuple(Closure(c.start, c.end or c.start, c.reason) for c in model.closures),
        languages=tuple(dict.fromkeys(model.languages)),
        tiers=tuple(dict.fromkeys(model.tiers)),
        categories=tuple(dict.fromkeys(model.categories)),
        capacity=model.capacity,
        cost_per_ticket=model.cost_per_ticket,
        data_access=model.data_access,
        regions=tuple(dict.fromkeys(model.regions)),
        sla_minutes={str(k): v for k, v in model.sla_minutes.items()},
    )


def _set(values: Iterable[str] | None, *, upper: bool = False) -> frozenset[str] | None:
    if values is None:
        return None
    return frozenset(v.upper() if upper else v for v in values)


def _compile_rule(
    rule_id: str,
    description: str,
    match: MatchModel,
    action: ActionModel,
    path: str,
    known: set[str],
    problems: list[tuple[str, str]],
) -> Rule:
    if ANY in action.pools:
        if len(action.pools) != 1:
            problems.append((f"{path}.pools", "'*' stands for every pool and must be alone"))
        targets: tuple[str, ...] = (ANY,)
    else:
        targets = tuple(dict.fromkeys(action.pools))
        for j, pool_id in enumerate(action.pools):
            if pool_id not in known:
                problems.append((f"{path}.pools[{j}]", f"unknown pool {pool_id!r}"))
    for pool_id in action.weights:
        if targets != (ANY,) and pool_id not in targets:
            problems.append(
                (f"{path}.weights.{pool_id}", "weight for a pool the rule does not target")
            )
        elif pool_id not in known:
            problems.append((f"{path}.weights.{pool_id}", f"unknown pool {pool_id!r}"))
    if action.weights and action.strategy != "weighted":
        problems.append((f"{path}.weights", "weights need strategy: weighted"))
    for k, step in enumerate(action.escalation):
        for j, pool_id in enumerate(step.pools):
            if pool_id not in known:
                problems.append((f"{path}.escalation[{k}].pools[{j}]", f"unknown pool {pool_id!r}"))
    afters = [s.after_minutes for s in action.escalation]
    if afters != sorted(set(afters)):
        problems.append((f"{path}.escalation", "steps must have increasing after_minutes"))
    return Rule(
        id=rule_id,
        description=description,
        match=RuleMatch(
            languages=_set(match.languages),
            tiers=_set(match.tiers),
            categories=_set(match.categories),
            priorities=_set(match.priorities),
            channels=_set(match.channels),
            sources=_set(match.sources),
            tags=_set(match.tags),
            flags=_set(match.flags),
            plans=_set(match.plans),
            countries=_set(match.countries, upper=True),
            regions=_set(match.regions, upper=True),
            tier_confidence_below=match.tier_confidence_below,
            tier_confidence_above=match.tier_confidence_above,
            language_confidence_below=match.language_confidence_below,
            language_confidence_above=match.language_confidence_above,
            category_confidence_below=match.category_confidence_below,
            category_confidence_above=match.category_confidence_above,
            predicted=_head_matches(match.predicted),
        ),
        pools=targets,
        strategy=action.strategy,
        weights=dict(action.weights),
        priority=action.priority,
        sla_minutes=action.sla_minutes,
        escalation=tuple(
            EscalationStep(int(timedelta(minutes=s.after_minutes).total_seconds()), tuple(s.pools))
            for s in action.escalation
        ),
        require_in_house=action.require_in_house,
        require_full_access=action.require_full_access,
        set_tier=action.set_tier,
    )


def _head_matches(predicted: dict[str, list[str] | float] | None) -> tuple[HeadMatch, ...]:
    """``match.predicted`` per head, in the order the rule first names each head (the
    schema has checked every key and value)."""
    if not predicted:
        return ()
    labels: dict[str, frozenset[str] | None] = {}
    above: dict[str, float] = {}
    below: dict[str, float] = {}
    for key, value in predicted.items():
        if isinstance(value, list):
            labels[key] = frozenset(value)
        elif key.endswith("_confidence_above"):
            head = key.removesuffix("_confidence_above")
            labels.setdefault(head, None)
            above[head] = float(value)
        else:
            head = key.removesuffix("_confidence_below")
            labels.setdefault(head, None)
            below[head] = float(value)
    return tuple(
        HeadMatch(head, values, above.get(head), below.get(head)) for head, values in labels.items()
    )


def _check_reachable(
    problems: list[tuple[str, str]],
    pools: Sequence[Pool],
    rules: Sequence[Rule],
    policy: DataPolicy,
    regions: Sequence[str],
) -> None:
    """Residency is never bypassed, so every region must have somewhere to go under
    every data restriction in use; otherwise a ticket could have no lawful pool."""
    restrictions = {(False, False)}
    if policy.in_house_only_flags:
        restrictions.add((True, False))
    if policy.full_access_only_flags:
        restrictions.add((False, True))
    if policy.in_house_only_flags and policy.full_access_only_flags:
        restrictions.add((True, True))
    for rule in rules:
        for extra in list(restrictions):
            restrictions.add(
                (extra[0] or rule.require_in_house, extra[1] or rule.require_full_access)
            )
    for (in_house, full), region in product(sorted(restrictions), regions):
        if not any(
            p.allows_region(region)
            and (not in_house or p.kind == "in_house")
            and (not full or p.data_access == "full")
            for p in pools
        ):
            what = " ".join(w for w, on in (("in-house", in_house), ("full-access", full)) if on)
            problems.append(
                (
                    "pools",
                    f"no {what + ' ' if what else ''}pool accepts customers from region {region}",
                )
            )
