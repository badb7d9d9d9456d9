"""The arrivals a simulation replays, and a generator of a synthetic week of them.

An :class:`Arrival` is a ticket, what the policy is told about it (its prediction) and
when it comes in. A trace or the service's recent tickets give real ones (read by the
CLI); :func:`generate` makes a week by customer country (hence time zone), language,
tier, category, plan, priority and channel, with a diurnal shape in the customer's own
local time. Pure: the random numbers come from ``random.Random(seed)``.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from classifiers.timezones import country_timezone
from classifiers.types import Prediction
from router.core.domain import CHANNELS, PRIORITIES, Customer, Priority, Ticket

#: The model version recorded for predictions made of the generator's own labels.
GENERATOR_MODEL = "generator"

#: Relative arrivals per local hour of a weekday (0 = midnight .. 23): quiet at night,
#: busy in office hours with a dip at lunch, tailing off in the evening.
DIURNAL: tuple[float, ...] = (
    0.10, 0.07, 0.05, 0.05, 0.06, 0.10, 0.25, 0.50, 0.85, 1.00, 1.00, 0.95,
    0.80, 0.90, 0.95, 0.90, 0.80, 0.65, 0.50, 0.40, 0.35, 0.30, 0.22, 0.15,
)  # fmt: skip
#: Saturdays and Sundays, local time, get this share of a weekday's arrivals.
WEEKEND = 0.4

DEFAULT_COUNTRIES: Mapping[str, float] = MappingProxyType({
    "US": 35, "GB": 10, "DE": 8, "FR": 5, "ES": 5, "MX": 10, "CO": 5, "BR": 10,
    "IN": 6, "PH": 3, "AU": 3,
})  # fmt: skip
DEFAULT_LANGUAGES: Mapping[str, float] = MappingProxyType({"en": 65, "es": 22, "pt": 13})
DEFAULT_TIERS: Mapping[str, float] = MappingProxyType({"tier1": 80, "tier2": 20})
DEFAULT_CATEGORIES: Mapping[str, float] = MappingProxyType({
    "billing": 25, "account": 20, "technical": 25, "shipping": 15, "feedback": 5, "other": 10,
})  # fmt: skip
DEFAULT_PLANS: Mapping[str, float] = MappingProxyType({"free": 45, "pro": 40, "enterprise": 15})
DEFAULT_PRIORITIES: Mapping[str, float] = MappingProxyType(
    {"low": 15, "normal": 60, "high": 20, "urgent": 5}
)
DEFAULT_CHANNELS: Mapping[str, float] = MappingProxyType(
    {"email": 50, "chat": 30, "web": 15, "phone": 5}
)


@dataclass(frozen=True, slots=True)
class Arrival:
    """One ticket of the replayed week: the ticket, the prediction the policy decides
    on, the instant it arrives (tz-aware) and, if the source knows it, how long an
    agent worked on it (else the simulation draws a handle time)."""

    ticket: Ticket
    prediction: Prediction
    at: datetime
    handle_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class GeneratorSpec:
    """What :func:`generate` makes: ``volume`` tickets over the window, each attribute
    drawn from its mix (name -> relative weight; the weights need not sum to 1)."""

    volume: int
    countries: Mapping[str, float] = field(default_factory=lambda: DEFAULT_COUNTRIES)
    languages: Mapping[str, float] = field(default_factory=lambda: DEFAULT_LANGUAGES)
    tiers: Mapping[str, float] = field(default_factory=lambda: DEFAULT_TIERS)
    categories: Mapping[str, float] = field(default_factory=lambda: DEFAULT_CATEGORIES)
    plans: Mapping[str, float] = field(default_factory=lambda: DEFAULT_PLANS)
    priorities: Mapping[str, float] = field(default_factory=lambda: DEFAULT_PRIORITIES)
    channels: Mapping[str, float] = field(default_factory=lambda: DEFAULT_CHANNELS)
    diurnal: tuple[float, ...] = DIURNAL
    weekend: float = WEEKEND

    def check(self) -> None:
        """Raise ``ValueError`` naming the first thing wrong with the spec."""
        if not 0 <= self.volume <= 10_000_000:
            raise ValueError("volume must be from 0 to 10000000")
        for name, mix in self.mixes().items():
            if not mix or any(not w >= 0 or math.isinf(w) for w in mix.values()):
                raise ValueError(f"{name}: give at least one name with a weight >= 0")
            if sum(mix.values()) <= 0:
                raise ValueError(f"{name}: the weights sum to 0")
        for country in self.countries:
            if country_timezone(country) is None:
                raise ValueError(f"countries: {country!r} is not an ISO country with a zone")
        if unknown := sorted(set(self.priorities) - set(PRIORITIES)):
            raise ValueError(f"priorities: {unknown[0]!r} is not one of {', '.join(PRIORITIES)}")
        if unknown := sorted(set(self.channels) - set(CHANNELS)):
            raise ValueError(f"channels: {unknown[0]!r} is not one of {', '.join(CHANNELS)}")
        if len(self.diurnal) != 24 or any(not 0 <= w < math.inf for w in self.diurnal):
            raise ValueError("diurnal: 24 weights >= 0, one per local hour")
        if max(self.diurnal) <= 0 or not 0 <= self.weekend < math.inf:
            raise ValueError("diurnal: at least one hour > 0; weekend >= 0")

    def mixes(self) -> dict[str, Mapping[str, float]]:
        """The attribute mixes by name (as the CLI options call them)."""
        return {
            "countries": self.countries,
            "languages": self.languages,
            "tiers": self.tiers,
            "categories": self.categories,
            "plans": self.plans,
            "priorities": self.priorities,
            "channels": self.channels,
        }


class _Draw:
    """Draws names from one mix."""

    def __init__(self, mix: Mapping[str, float]) -> None:
        self.names = list(mix)
        total = 0.0
        self.cumulative: list[float] = []
        for name in self.names:
            total += mix[name]
            self.cumulative.append(total)

    def __call__(self, rng: random.Random) -> str:
        point = rng.random() * self.cumulative[-1]
        return self.names[min(bisect_right(self.cumulative, point), len(self.names) - 1)]


def generate(spec: GeneratorSpec, start: datetime, end: datetime, seed: int) -> list[Arrival]:
    """``spec.volume`` arrivals in ``[start, end)``, in time order, ids ``sim-000001``...

    Each ticket's instant is drawn by thinning: a uniform instant is kept with
    probability ``diurnal[local hour] (x weekend on a local Saturday or Sunday) / peak``
    in the zone of the customer's country, so a customer in Manila writes in Manila's
    office hours. Predictions are the generator's labels with confidence 1.
    """
    spec.check()
    if start.tzinfo is None or end <= start:
        raise ValueError("the window needs a tz-aware start before its end")
    rng = random.Random(seed)
    draws = {name: _Draw(mix) for name, mix in spec.mixes().items()}
    peak = max(max(spec.diurnal), max(spec.diurnal) * spec.weekend)
    first = math.ceil(start.timestamp())
    span = math.ceil(end.timestamp()) - first
    # One zone object per country: ZoneInfo's own cache keeps only a few alive.
    zones = {c: ZoneInfo(country_timezone(c) or "UTC") for c in spec.countries}
    drawn: list[tuple[int, int, dict[str, str]]] = []
    for n in range(spec.volume):
        country = draws["countries"](rng)
        zone = zones[country]
        while True:
            second = first + math.floor(rng.random() * span)
            local = datetime.fromtimestamp(second, zone)
            weight = spec.diurnal[local.hour] * (spec.weekend if local.weekday() >= 5 else 1.0)
            if rng.random() * peak < weight:
                break
        labels = {name: draw(rng) for name, draw in draws.items() if name != "countries"}
        labels["country"] = country
        labels["timezone"] = str(zone)
        drawn.append((second, n, labels))
    drawn.sort(key=lambda item: (item[0], item[1]))
    return [
        _arrival(f"sim-{i + 1:06d}", datetime.fromtimestamp(second, UTC), labels)
        for i, (second, _, labels) in enumerate(drawn)
    ]


def _arrival(ticket_id: str, at: datetime, labels: Mapping[str, str]) -> Arrival:
    customer = {
        "country": labels["country"],
        "timezone": labels["timezone"],
        "plan": labels["plans"],
        "locale": f"{labels['languages']}-{labels['country']}",
    }
    priority: Priority = _priority(labels["priorities"])
    subject = f"Simulated {labels['categories']} request"
    raw: dict[str, Any] = {
        "id": ticket_id,
        "subject": subject,
        "customer": customer,
        "channel": labels["channels"],
        "priority": priority,
        "created_at": at.isoformat().replace("+00:00", "Z"),
    }
    ticket = Ticket(
        id=ticket_id,
        subject=subject,
        body="",
        customer=Customer(**customer),
        channel=labels["channels"],
        created_at=at,
        priority=priority,
        raw=raw,
    )
    prediction = Prediction(
        language=labels["languages"],
        language_confidence=1.0,
        tier=labels["tiers"],
        tier_confidence=1.0,
        category=labels["categories"],
        category_confidence=1.0,
        timezone=labels["timezone"],
        timezone_source="customer",
        model_version=GENERATOR_MODEL,
    )
    return Arrival(ticket, prediction, at)


def _priority(name: str) -> Priority:
    for priority in PRIORITIES:
        if priority == name:
            return priority
    raise ValueError(f"unknown priority {name!r}")


def week_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Monday 00:00 in ``zone`` of the week holding ``day``, and the next Monday 00:00
    (167 or 169 hours apart across a DST change)."""
    monday = day - timedelta(days=day.weekday())
    start = datetime(monday.year, monday.month, monday.day, tzinfo=zone)
    nxt = monday + timedelta(days=7)
    return start, datetime(nxt.year, nxt.month, nxt.day, tzinfo=zone)


def sort_arrivals(arrivals: Sequence[Arrival]) -> list[Arrival]:
    """Arrivals in time order, ties kept in input order."""
    return sorted(arrivals, key=lambda a: a.at.timestamp())
