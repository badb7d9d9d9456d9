"""The compiled routing config: frozen dataclasses the decision reads.

Built from a validated file by ``router.config.load`` (``load_config`` / ``parse_config``);
never constructed by hand elsewhere.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from router.core.domain import DataAccess, EscalationStep, PoolKind, Priority
from router.core.errors import RouterError
from router.core.regions import ANY_REGION
from router.core.schedule import Closure, ScheduleIndex, WeeklySchedule

ANY = "*"
T = TypeVar("T")


class ConfigError(RouterError, ValueError):
    """A routing config is invalid; the message names the source, the path and the problem.

    ``problems`` holds every (path, problem) pair found, first one first.
    """

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = problems
        lines = [
            f"{source}: {path}: {problem}" if path else f"{source}: {problem}"
            for path, problem in problems
        ]
        super().__init__("\n".join(lines))


@dataclass(frozen=True, slots=True)
class Pool:
    """One agent pool, as the decision sees it."""

    id: str
    name: str
    kind: PoolKind
    vendor: str | None
    sourcing: str
    country: str
    timezone: str
    zone: ZoneInfo
    schedule: WeeklySchedule
    closures: tuple[Closure, ...]
    languages: tuple[str, ...]
    tiers: tuple[str, ...]
    categories: tuple[str, ...]
    capacity: int
    cost_per_ticket: float
    data_access: DataAccess
    regions: tuple[str, ...]
    sla_minutes: Mapping[str, int]

    def serves_category(self, category: str) -> bool:
        """Whether the pool takes tickets of ``category`` (``*`` takes all)."""
        return ANY in self.categories or category in self.categories

    def allows_region(self, region: str) -> bool:
        """Whether customer data of ``region`` may be sent to this pool."""
        return ANY_REGION in self.regions or region in self.regions


@dataclass(frozen=True, slots=True)
class HeadMatch:
    """A rule's conditions on one extra head of the model (``match.predicted``): its
    label is one of ``labels`` and its confidence ``>= above`` and ``< below``; ``None``
    means "any"."""

    head: str
    labels: frozenset[str] | None = None
    above: float | None = None
    below: float | None = None

    def accepts(self, label: str, confidence: float) -> bool:
        """Whether a prediction of this head (label, confidence) meets every condition."""
        if self.labels is not None and label not in self.labels:
            return False
        if self.above is not None and not confidence >= self.above:
            return False
        return self.below is None or confidence < self.below


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """The conditions of a rule; ``None`` means "any"."""

    languages: frozenset[str] | None = None
    tiers: frozenset[str] | None = None
    categories: frozenset[str] | None = None
    priorities: frozenset[str] | None = None
    channels: frozenset[str] | None = None
    sources: frozenset[str] | None = None
    tags: frozenset[str] | None = None
    flags: frozenset[str] | None = None
    plans: frozenset[str] | None = None
    countries: frozenset[str] | None = None
    regions: frozenset[str] | None = None
    tier_confidence_below: float | None = None
    tier_confidence_above: float | None = None
    language_confidence_below: float | None = None
    language_confidence_above: float | None = None
    category_confidence_below: float | None = None
    category_confidence_above: float | None = None
    #: Conditions on extra heads, one per head named, in the order the rule names them.
    predicted: tuple[HeadMatch, ...] = ()


@dataclass(frozen=True, slots=True)
class Rule:
    """A routing rule (or the default, id ``default``, which matches everything)."""

    id: str
    description: str
    match: RuleMatch
    pools: tuple[str, ...]
    strategy: str
    weights: Mapping[str, float]
    priority: Priority | None
    sla_minutes: int | None
    escalation: tuple[EscalationStep, ...]
    require_in_house: bool
    require_full_access: bool
    set_tier: str | None


@dataclass(frozen=True, slots=True)
class LowConfidence:
    """Route a ticket as tier ``treat_as`` when the tier confidence is below ``tier_below``."""

    tier_below: float
    treat_as: str


@dataclass(frozen=True, slots=True)
class DataPolicy:
    """Ticket flags that force in-house or full-access pools, whatever rule matched."""

    in_house_only_flags: frozenset[str] = frozenset()
    full_access_only_flags: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class RoutingConfig:
    """Pools and rules, compiled and frozen; ``version`` identifies the content."""

    version: str
    source: str = field(compare=False)
    pools: tuple[Pool, ...]
    rules: tuple[Rule, ...]
    default_rule: Rule
    catch_all: str | None
    low_confidence: LowConfidence | None
    data_policy: DataPolicy
    regions: Mapping[str, tuple[str, ...]]
    country_regions: Mapping[str, str]
    sla_minutes: Mapping[str, int]
    document: Mapping[str, Any] = field(repr=False, compare=False)
    schedule_index: ScheduleIndex = field(repr=False, compare=False)
    _pool_by_id: Mapping[str, Pool] = field(repr=False, compare=False)
    _positions: Mapping[str, int] = field(repr=False, compare=False)
    #: Pool ids in config order.
    pool_ids: tuple[str, ...] = field(repr=False, compare=False)
    _derived: dict[str, object] = field(default_factory=dict, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def pool(self, pool_id: str) -> Pool:
        """The pool with id ``pool_id``; ``KeyError`` if there is none."""
        return self._pool_by_id[pool_id]

    def has_pool(self, pool_id: str) -> bool:
        """Whether a pool with this id exists."""
        return pool_id in self._pool_by_id

    def pool_index(self, pool_id: str) -> int:
        """The position of a pool (its bit in schedule masks); ``KeyError`` if unknown."""
        return self._positions[pool_id]

    def to_dict(self) -> dict[str, Any]:
        """The normalised document, version included; ``parse_config`` reads it back."""
        data = copy.deepcopy(dict(self.document))
        data["version"] = self.version
        return data

    def cached(self, key: str) -> object | None:
        """A value ``derived`` has computed already, if any (the fast path)."""
        return self._derived.get(key)

    def derived(self, key: str, build: Callable[[], T]) -> T:
        """A value computed once from this config (e.g. the policy's lookup tables)."""
        value = self._derived.get(key)
        if value is None:
            with self._lock:
                value = self._derived.get(key)
                if value is None:
                    value = build()
                    self._derived[key] = value
        return value  # type: ignore[return-value]
