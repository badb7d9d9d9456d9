"""Lookup tables compiled once per config so a decision is a handful of bit operations.

Pool ``i`` is bit ``i`` of every pool mask (config order); rule ``r`` is bit ``r`` of
every rule mask (file order). Matching a ticket ANDs one rule mask per field, so the
first matching rule is the lowest set bit, whatever the number of rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from router.core.config_types import ANY, RoutingConfig, Rule, RuleMatch
from router.core.policy_explain import PoolNames
from router.core.regions import REST_OF_WORLD, UNKNOWN_REGION


@dataclass(frozen=True, slots=True)
class RuleTable:
    """One rule with its targets resolved to pool positions."""

    rule: Rule
    label: str
    target_mask: int
    order: tuple[int, ...]
    weights: tuple[float, ...]
    hard_in_house: bool
    hard_full: bool
    residual: bool


@dataclass(frozen=True, slots=True)
class FieldIndex:
    """For one ticket field: value -> mask of rules accepting it, plus rules accepting any."""

    by_value: Mapping[str | None, int]
    any_mask: int

    def mask_any_of(self, values: Iterable[str]) -> int:
        """Rules that accept at least one of ``values`` (set-valued fields: tags, flags)."""
        mask = self.any_mask
        for value in values:
            mask |= self.by_value.get(value, 0)
        return mask


# The scalar match fields, in the order the decision passes their values.
SCALAR_FIELDS: tuple[str, ...] = (
    "languages", "tiers", "categories", "priorities", "channels", "sources", "plans",
    "countries", "regions",
)  # fmt: skip
_CONFIDENCE_FIELDS = (
    "tier_confidence_below", "tier_confidence_above", "language_confidence_below",
    "language_confidence_above", "category_confidence_below", "category_confidence_above",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class PolicyIndex:
    """Everything ``decide`` looks up, derived from one ``RoutingConfig``."""

    all_pools: int
    lang: Mapping[str, int]
    tier: Mapping[str, int]
    category: Mapping[str, int]
    any_category: int
    region: Mapping[str, int]
    in_house: int
    full_access: int
    rules: tuple[RuleTable, ...]
    default: RuleTable
    scalar: tuple[tuple[Mapping[str | None, int], int], ...]
    tags: FieldIndex
    flags: FieldIndex
    all_rules: int
    catch_all: int
    costs: tuple[float, ...]
    capacities: tuple[int, ...]
    names: PoolNames


def _masks(config: RoutingConfig, values: Iterable[tuple[int, Iterable[str]]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for i, names in values:
        for name in names:
            out[name] = out.get(name, 0) | (1 << i)
    return out


def _rule_table(config: RoutingConfig, rule: Rule) -> RuleTable:
    if rule.pools == (ANY,):
        order = tuple(range(len(config.pools)))
    else:
        order = tuple(config.pool_index(p) for p in rule.pools)
    mask = 0
    for i in order:
        mask |= 1 << i
    weights = tuple(rule.weights.get(config.pools[i].id, 1.0) for i in order)
    # Checked per candidate rule after the masks: confidences and the extra heads.
    residual = bool(rule.match.predicted) or any(
        getattr(rule.match, f) is not None for f in _CONFIDENCE_FIELDS
    )
    return RuleTable(
        rule,
        f"rule {rule.id}",
        mask,
        order,
        weights,
        rule.require_in_house,
        rule.require_full_access,
        residual,
    )


def _field(rules: tuple[Rule, ...], name: str) -> FieldIndex:
    by_value: dict[str | None, int] = {}
    any_mask = 0
    for r, rule in enumerate(rules):
        values: frozenset[str] | None = getattr(rule.match, name)
        if values is None:
            any_mask |= 1 << r
            continue
        for value in values:
            by_value[value] = by_value.get(value, 0) | (1 << r)
    return FieldIndex(by_value, any_mask)


def build_index(config: RoutingConfig) -> PolicyIndex:
    """Compile the lookup tables of ``config``."""
    pools = config.pools
    region_names = {*config.regions, REST_OF_WORLD, UNKNOWN_REGION}
    region = {
        name: sum(1 << i for i, p in enumerate(pools) if p.allows_region(name))
        for name in region_names
    }
    categories = _masks(config, ((i, p.categories) for i, p in enumerate(pools)))
    any_category = categories.pop(ANY, 0)
    return PolicyIndex(
        all_pools=(1 << len(pools)) - 1,
        lang=_masks(config, ((i, p.languages) for i, p in enumerate(pools))),
        tier=_masks(config, ((i, p.tiers) for i, p in enumerate(pools))),
        category=categories,
        any_category=any_category,
        region=region,
        in_house=sum(1 << i for i, p in enumerate(pools) if p.kind == "in_house"),
        full_access=sum(1 << i for i, p in enumerate(pools) if p.data_access == "full"),
        rules=tuple(_rule_table(config, r) for r in config.rules),
        default=_rule_table(config, config.default_rule),
        scalar=tuple(
            (f.by_value, f.any_mask) for f in (_field(config.rules, n) for n in SCALAR_FIELDS)
        ),
        tags=_field(config.rules, "tags"),
        flags=_field(config.rules, "flags"),
        all_rules=(1 << len(config.rules)) - 1,
        catch_all=(1 << config.pool_index(config.catch_all)) if config.catch_all else 0,
        costs=tuple(p.cost_per_ticket for p in pools),
        capacities=tuple(p.capacity for p in pools),
        names=PoolNames(config.pool_ids),
    )


def residual_ok(
    match: RuleMatch,
    tier_conf: float,
    language_conf: float,
    category_conf: float,
    extra: Mapping[str, tuple[str, float]] | None = None,
) -> bool:
    """The confidence thresholds of a rule (``below`` is strict, ``above`` inclusive)
    and its conditions on extra heads: ``extra`` is the prediction's extra heads, and a
    head it lacks matches no condition on that head."""
    for condition in match.predicted:
        found = extra.get(condition.head) if extra is not None else None
        if found is None or not condition.accepts(found[0], found[1]):
            return False
    if match.tier_confidence_below is not None and not tier_conf < match.tier_confidence_below:
        return False
    if match.tier_confidence_above is not None and not tier_conf >= match.tier_confidence_above:
        return False
    if (
        match.language_confidence_below is not None
        and not language_conf < match.language_confidence_below
    ):
        return False
    if (
        match.language_confidence_above is not None
        and not language_conf >= match.language_confidence_above
    ):
        return False
    if (
        match.category_confidence_below is not None
        and not category_conf < match.category_confidence_below
    ):
        return False
    return not (
        match.category_confidence_above is not None
        and not category_conf >= match.category_confidence_above
    )


def index_of(config: RoutingConfig) -> PolicyIndex:
    """The (cached) policy index of ``config``."""
    found = config.cached(_INDEX_KEY)
    if found is None:
        found = config.derived(_INDEX_KEY, lambda: build_index(config))
    return found  # type: ignore[return-value]


_INDEX_KEY = "policy_index"
