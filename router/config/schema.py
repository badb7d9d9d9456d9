"""The routing config file format: pydantic models that validate one YAML document.

These models are only the file's shape (and the source of ``config.schema.json``);
``router.config.load`` checks cross references and compiles them into frozen dataclasses
the decision uses.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from classifiers.heads import BUILTIN_HEADS, CONFIDENCE_SUFFIXES, head_name_problem
from router.core.domain import POOL_ID_PATTERN, DataAccess, PoolKind, Priority
from router.core.schedule import parse_window

# Rule ids are shown in assignments and metrics labels: the same alphabet as pools.
RULE_ID_PATTERN = POOL_ID_PATTERN
LANGUAGE_PATTERN = r"^[a-z]{2,3}$"
TOKEN_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,62}$"
COUNTRY_PATTERN = r"^[A-Z]{2}$"
REGION_PATTERN = r"^([A-Z][A-Z0-9_]{1,31}|\*)$"

PoolId = Annotated[str, Field(pattern=POOL_ID_PATTERN)]
Language = Annotated[str, Field(pattern=LANGUAGE_PATTERN)]
Token = Annotated[str, Field(pattern=TOKEN_PATTERN)]
Country = Annotated[str, Field(pattern=COUNTRY_PATTERN)]
Region = Annotated[str, Field(pattern=REGION_PATTERN)]
Strategy = Literal["ordered", "cheapest", "least_loaded", "weighted"]


def _check_window(text: str) -> str:
    parse_window(text)
    return text


def _check_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown IANA time zone {name!r}") from None
    return name


WindowText = Annotated[str, AfterValidator(_check_window)]
ZoneName = Annotated[str, AfterValidator(_check_zone)]
# Caps: every pool is a quorum queue on the broker and every config is compiled on
# each replica, so their number is bounded; times and amounts are bounded so that
# no accepted config can overflow a date or a number when tickets are routed.
MAX_POOLS = 500
MAX_RULES = 2000
MAX_MINUTES = 525_600  # one year
MAX_CAPACITY = 100_000
MAX_AMOUNT = 1e9
SlaMinutes = dict[Priority, Annotated[int, Field(gt=0, le=MAX_MINUTES)]]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScheduleModel(_Model):
    """A weekly schedule: ``always: true`` for 24/7, or windows per day.

    ``daily``, ``weekdays`` (mon-fri) and ``weekends`` (sat, sun) add their windows to
    each day they name.
    """

    always: bool = False
    daily: list[WindowText] = []
    weekdays: list[WindowText] = []
    weekends: list[WindowText] = []
    mon: list[WindowText] = []
    tue: list[WindowText] = []
    wed: list[WindowText] = []
    thu: list[WindowText] = []
    fri: list[WindowText] = []
    sat: list[WindowText] = []
    sun: list[WindowText] = []


class ClosureModel(_Model):
    """Dates (inclusive, in the pool's zone) a pool is closed: a holiday or an outage."""

    start: date
    end: date | None = None
    reason: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> ClosureModel:
        if self.end is not None and self.end < self.start:
            raise ValueError("closure ends before it starts")
        return self


class PoolModel(_Model):
    """One agent pool."""

    id: PoolId
    name: str = ""
    kind: PoolKind
    vendor: str | None = None
    sourcing: Literal["onshore", "nearshore", "offshore"]
    country: Country
    timezone: ZoneName
    schedule: ScheduleModel
    closures: list[ClosureModel] = []
    languages: list[Language] = Field(min_length=1)
    tiers: list[Token] = Field(min_length=1)
    categories: list[Token | Literal["*"]] = ["*"]
    capacity: int = Field(gt=0, le=MAX_CAPACITY)
    cost_per_ticket: float = Field(ge=0, le=MAX_AMOUNT)
    data_access: DataAccess
    regions: list[Region] = ["*"]
    sla_minutes: SlaMinutes = {}

    @model_validator(mode="after")
    def _vendor(self) -> PoolModel:
        if self.kind == "outsourced" and not self.vendor:
            raise ValueError("an outsourced pool needs a vendor")
        return self


# A key of ``match.predicted``: a head name, or one with a confidence suffix.
PREDICTED_KEY_PATTERN = r"^[a-z][a-z0-9_]{0,31}(_confidence_above|_confidence_below)?$"
PredictedKey = Annotated[str, Field(pattern=PREDICTED_KEY_PATTERN)]
HeadLabelText = Annotated[str, Field(min_length=1, max_length=128)]
Confidence = Annotated[float, Field(ge=0, le=1)]
# Where a rule matches a built-in head instead of under ``predicted``.
_BUILTIN_FIELDS = {"language": "languages", "tier": "tiers", "category": "categories"}


def _check_predicted(value: Any) -> Any:
    """The shape of ``predicted``, key by key, before pydantic reads the values: a head
    name takes a list of labels, ``<head>_confidence_above|below`` a number in [0, 1]."""
    if not isinstance(value, dict):
        return value  # pydantic says what is wrong with it
    for key, item in value.items():
        if not isinstance(key, str):
            raise ValueError(f"key {key!r} is not a head name")
        suffix = next((s for s in CONFIDENCE_SUFFIXES if key.endswith(s)), "")
        head = key.removesuffix(suffix) if suffix else key
        problem = head_name_problem(head)
        if problem is not None:
            raise ValueError(f"{key}: {problem}")
        if head in BUILTIN_HEADS:
            instead = f"{head}{suffix}" if suffix else _BUILTIN_FIELDS[head]
            raise ValueError(
                f"{key}: {head} is a built-in head: match it with {instead!r} beside 'predicted'"
            )
        if suffix:
            if isinstance(item, bool) or not isinstance(item, int | float) or not 0 <= item <= 1:
                raise ValueError(f"{key}: must be a confidence from 0 to 1 (got {item!r})")
        elif (
            not isinstance(item, list)
            or not item
            or not all(isinstance(label, str) and label for label in item)
        ):
            raise ValueError(f"{key}: must be a non-empty list of labels of head {head!r}")
    return value


class MatchModel(_Model):
    """What a rule matches; every field given must match, list fields match any item."""

    languages: list[Language] | None = None
    tiers: list[Token] | None = None
    categories: list[Token] | None = None
    priorities: list[Priority] | None = None
    channels: list[str] | None = None
    sources: list[str] | None = None
    tags: list[str] | None = None
    flags: list[Token] | None = None
    plans: list[str] | None = None
    countries: list[Country] | None = None
    regions: list[Region] | None = None
    tier_confidence_below: float | None = Field(default=None, ge=0, le=1)
    tier_confidence_above: float | None = Field(default=None, ge=0, le=1)
    language_confidence_below: float | None = Field(default=None, ge=0, le=1)
    language_confidence_above: float | None = Field(default=None, ge=0, le=1)
    category_confidence_below: float | None = Field(default=None, ge=0, le=1)
    category_confidence_above: float | None = Field(default=None, ge=0, le=1)
    predicted: dict[PredictedKey, list[HeadLabelText] | Confidence] | None = Field(
        default=None,
        description="The model's extra heads (priority, queue, ...): `queue: [billing]` "
        "matches when head queue's label is one of the list, `queue_confidence_above: 0.7` "
        "when its confidence is at least 0.7 (`_below`: under). The model in force must "
        "have every head and label named.",
    )

    _predicted = field_validator("predicted", mode="before")(_check_predicted)


class EscalationModel(_Model):
    """If the ticket is not accepted within ``after_minutes``, move it to ``pools``."""

    after_minutes: int = Field(gt=0, le=MAX_MINUTES)
    pools: list[PoolId] = Field(min_length=1)


class ActionModel(_Model):
    """Where a matched ticket goes and how it is handled."""

    pools: list[PoolId | Literal["*"]] = ["*"]
    strategy: Strategy = "ordered"
    weights: dict[PoolId, Annotated[float, Field(gt=0, le=MAX_AMOUNT)]] = {}
    priority: Priority | None = None
    sla_minutes: int | None = Field(default=None, gt=0, le=MAX_MINUTES)
    escalation: list[EscalationModel] = []
    require_in_house: bool = False
    require_full_access: bool = False
    set_tier: Token | None = None


class RuleModel(ActionModel):
    """An ordered routing rule: the first rule whose ``match`` fits wins."""

    id: Annotated[str, Field(pattern=RULE_ID_PATTERN)]
    description: str = ""
    match: MatchModel = MatchModel()


class LowConfidenceModel(_Model):
    """Below ``tier_below`` tier confidence, route the ticket as tier ``treat_as``."""

    tier_below: float = Field(ge=0, le=1)
    treat_as: Token


class DataPolicyModel(_Model):
    """Ticket flags (e.g. ``contains_card_data``) that restrict where data may go,
    whatever rule matched."""

    in_house_only_flags: list[Token] = []
    full_access_only_flags: list[Token] = []


class ResidencyModel(_Model):
    """Customer regions: ``regions`` maps region names to ISO countries and replaces
    the built-in table when given."""

    regions: dict[Region, list[Country]] | None = None


class RoutingConfigModel(_Model):
    """The whole routing config document."""

    version: str | None = Field(default=None, min_length=1, max_length=64)
    pools: list[PoolModel] = Field(min_length=1, max_length=MAX_POOLS)
    rules: list[RuleModel] = Field(default=[], max_length=MAX_RULES)
    default: ActionModel = ActionModel(strategy="cheapest")
    catch_all: PoolId | None = None
    low_confidence: LowConfidenceModel | None = None
    data_policy: DataPolicyModel = DataPolicyModel()
    residency: ResidencyModel = ResidencyModel()
    sla_minutes: SlaMinutes = {"low": 2880, "normal": 1440, "high": 240, "urgent": 60}


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the config file, for editors and linters."""
    schema = RoutingConfigModel.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "ticket-router routing config"
    return schema


def schema_path() -> Path:
    """Where the committed JSON Schema lives (shipped with the package)."""
    return Path(__file__).with_name("config.schema.json")


def render_json_schema() -> str:
    """The JSON Schema as the text committed in ``router/config/config.schema.json``."""
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
