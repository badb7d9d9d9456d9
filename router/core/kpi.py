"""KPI bookkeeping, the pure part: what is counted, under which names, and the maths
that turns merged counts into figures.

Counts live in per-minute buckets (and their hour's and day's buckets, written with
them), each a flat mapping ``field -> integer``. A field is ``<dimension>|<code>``:

* dimensions: ``o`` (overall), ``p:<pool id>``, ``l:<language>``, ``t:<tier>``; a vendor
  or a pool kind is a set of pools, merged when read (:func:`summary` over several
  dimensions);
* codes: one per event of :data:`EVENTS` (``r`` routed, ``a`` accepted, ``c`` completed,
  ``e`` escalated, ``l`` released, ``x`` expired), ``g`` coverage-gap decisions, ``$``
  cost in 1/:data:`COST_SCALE` units, ``s`` / ``m`` SLA met / missed at acceptance, and
  the duration histograms ``A<edge>`` (receipt to acceptance) and ``C<edge>`` (receipt
  to completion), one field per non-empty bucket of :data:`EDGES` (``Ainf`` past the
  last edge).

Buckets are added field by field, so any set of buckets merges by summing: every
replica adds into the same buckets and every replica reads the same figures.

Percentiles come from the merged histogram: the upper edge of the bucket that holds the
rank (nearest rank). The true value lies in ``(previous edge, reported edge]``: the
report is never below it, and at most 1.5 times it from 10 s up (at most 2 times below
10 s, where the edges are 5 and 10 s); a duration exactly on an edge is reported exactly.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from router.core.errors import InvalidInput

#: Duration histogram edges in seconds (a bucket holds durations up to its edge).
EDGES: tuple[int, ...] = (
    5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 240, 300, 450, 600, 900, 1200, 1800, 2700,
    3600, 5400, 7200, 10800, 14400, 21600, 28800, 43200, 57600, 86400, 129600, 172800,
    259200, 345600, 432000, 604800,
)  # fmt: skip
EVENTS = ("routed", "accepted", "completed", "escalated", "released", "expired")
Event = Literal["routed", "accepted", "completed", "escalated", "released", "expired"]
CODES: Mapping[str, str] = {
    "routed": "r",
    "accepted": "a",
    "completed": "c",
    "escalated": "e",
    "released": "l",
    "expired": "x",
}
GAP, COST, SLA_MET, SLA_MISSED = "g", "$", "s", "m"
ACCEPT, COMPLETE = "A", "C"
#: Costs are kept as integers of 1/COST_SCALE of a unit (per ticket, rounded).
COST_SCALE = 10_000
OVERALL = "o"
#: How long buckets live in Redis (from their last write): minutes two days, so that
#: "today" in any zone is there; hours five weeks; days 400 days, so that a year of
#: weekly scorecards is there. Memory is bounded by these and the number of fields.
MINUTE_TTL_S = 48 * 3600
HOUR_TTL_S = 35 * 86400
DAY_TTL_S = 400 * 86400
#: The bucket sizes in minutes: a minute, an hour, a day.
SIZES = (1, 60, 1440)
#: How far back minute and hour buckets are read (a margin below their TTL); a range's
#: edges older than that are read from the next coarser buckets.
READABLE = (47 * 60, 34 * 1440)
#: Longest range one stats request reads.
MAX_RANGE = timedelta(days=92)
MAX_WEEKS = 52
PERIODS = ("last_hour", "today")
GROUPINGS = ("overall", "pool", "vendor", "language", "tier")
IN_HOUSE = "in-house"
_SAFE = re.compile(r"[A-Za-z0-9_.-]{1,63}")

Counts = dict[str, int]


def dimensions(pool: str, language: str, tier: str) -> tuple[str, ...]:
    """The dimensions an event of a ticket of ``pool``, ``language`` and ``tier`` counts in."""
    return (OVERALL, f"p:{_safe(pool)}", f"l:{_safe(language)}", f"t:{_safe(tier)}")


def _safe(value: str) -> str:
    # Pools, languages and tiers are bounded names already; anything else is one label.
    return value if _SAFE.fullmatch(value) else "other"


def edge_of(seconds: float) -> str:
    """The histogram bucket (its edge, as a field suffix) a duration falls in."""
    for edge in EDGES:
        if seconds <= edge:
            return str(edge)
    return "inf"


def cost_units(cost_per_ticket: float) -> int:
    """A pool's cost per ticket in the integer units counts keep."""
    return round(cost_per_ticket * COST_SCALE)


def epoch_minute(at: datetime) -> int:
    """The minute bucket ``at`` falls in (minutes since the epoch, UTC)."""
    return math.floor(at.timestamp() / 60)


@dataclass
class Tally:
    """Counts not yet written, per minute bucket; cheap to add to, merged per write."""

    buckets: dict[int, Counter[str]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return any(self.buckets.values())

    def add(self, minute: int, dims: Iterable[str], code: str, n: int = 1) -> None:
        """Add ``n`` to ``code`` of each of ``dims`` in the bucket of ``minute`` (see
        :func:`epoch_minute`)."""
        bucket = self.buckets.setdefault(minute, Counter())
        for dim in dims:
            bucket[f"{dim}|{code}"] += n

    def absorb(self, other: Tally) -> None:
        """Add ``other``'s counts to these (a write that failed goes back)."""
        for minute, counts in other.buckets.items():
            self.buckets.setdefault(minute, Counter()).update(counts)

    def prune(self, oldest_minute: int) -> int:
        """Drop buckets older than ``oldest_minute`` (bounded memory while Redis is away);
        how many went."""
        old = [m for m in self.buckets if m < oldest_minute]
        for minute in old:
            del self.buckets[minute]
        return len(old)

    def plain(self) -> dict[int, dict[str, int]]:
        """The buckets as plain dicts, fields with nothing added left out."""
        return {m: {k: v for k, v in c.items() if v} for m, c in self.buckets.items() if c}


def merge(buckets: Iterable[Mapping[str, int]]) -> Counts:
    """The sum of several buckets, field by field."""
    summed: Counter[str] = Counter()
    for bucket in buckets:
        summed.update(bucket)
    return dict(summed)


def percentile(histogram: Mapping[str, int], q: float) -> float | None:
    """The ``q`` quantile (0 < q <= 1) of a histogram ``edge -> count`` (edges as
    :func:`edge_of` names them): the upper edge of the bucket holding the nearest rank;
    None when empty or when the rank lies past the last edge."""
    n = sum(histogram.values())
    if n <= 0:
        return None
    rank = max(1, math.ceil(q * n - 1e-9))
    seen = 0
    for edge in EDGES:
        seen += histogram.get(str(edge), 0)
        if seen >= rank:
            return float(edge)
    return None


def attainment(met: int, missed: int) -> float | None:
    """The share of tickets accepted before their ``sla_due``; None when none was."""
    total = met + missed
    return met / total if total else None


def share(part: int, whole: int) -> float | None:
    """``part / whole``; None when ``whole`` is 0."""
    return part / whole if whole else None


def total(counts: Mapping[str, int], dims: Sequence[str], code: str) -> int:
    """The sum of ``code`` over the dimensions ``dims``."""
    return sum(counts.get(f"{dim}|{code}", 0) for dim in dims)


def _histogram(counts: Mapping[str, int], dims: Sequence[str], code: str) -> dict[str, int]:
    names = [*map(str, EDGES), "inf"]
    return {e: n for e in names if (n := total(counts, dims, code + e))}


def _durations(histogram: Mapping[str, int]) -> dict[str, Any]:
    return {
        "count": sum(histogram.values()),
        "p50": percentile(histogram, 0.5),
        "p90": percentile(histogram, 0.9),
        "p99": percentile(histogram, 0.99),
    }


def summary(counts: Mapping[str, int], dims: Sequence[str]) -> dict[str, Any]:
    """The figures of the dimensions ``dims`` merged (a vendor: its pools), JSON-ready."""
    out: dict[str, Any] = {name: total(counts, dims, CODES[name]) for name in EVENTS}
    met, missed = total(counts, dims, SLA_MET), total(counts, dims, SLA_MISSED)
    out["coverage_gaps"] = total(counts, dims, GAP)
    out["cost"] = total(counts, dims, COST) / COST_SCALE
    out["sla"] = {"met": met, "missed": missed, "attainment": attainment(met, missed)}
    out["time_to_accept"] = _durations(_histogram(counts, dims, ACCEPT))
    out["time_to_complete"] = _durations(_histogram(counts, dims, COMPLETE))
    return out


def values_of(counts: Mapping[str, int], kind: str) -> list[str]:
    """The values of one dimension kind (``p``, ``l`` or ``t``) that have counts, sorted."""
    prefix = f"{kind}:"
    return sorted({f.split("|", 1)[0][len(prefix) :] for f in counts if f.startswith(prefix)})


def vendor_key(vendor: str | None) -> str:
    """The URL-safe key of a pool's vendor (``in-house`` for a pool without one):
    lower case ASCII letters and digits, every other run of characters one ``-``."""
    if not vendor:
        return IN_HOUSE
    folded = unicodedata.normalize("NFKD", vendor).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")[:63].strip("-")
    return slug or "vendor"


# -- Time ranges ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Plan:
    """The buckets that make up ``[start_minute, end_minute)``: whole days from day
    buckets, whole hours left from hour buckets, the rest from minute buckets."""

    start_minute: int
    end_minute: int
    minutes: tuple[int, ...] = ()
    hours: tuple[int, ...] = ()
    days: tuple[int, ...] = ()


def plan(start_minute: int, end_minute: int, now_minute: int) -> Plan:
    """The buckets to read for ``[start_minute, end_minute)`` at ``now_minute``. An edge
    whose finer buckets are gone (see :data:`READABLE`) widens to its coarser bucket:
    the plan's start and end say the range actually read."""
    oldest = tuple(now_minute - back for back in READABLE)
    first, last, parts = _cover(start_minute, end_minute, len(SIZES) - 1, oldest)
    by_level: list[list[int]] = [[] for _ in SIZES]
    for level, index in parts:
        by_level[level].append(index)
    minutes, hours, days = (tuple(sorted(b)) for b in by_level)
    return Plan(first, last, minutes, hours, days)


def _cover(
    start: int, end: int, level: int, oldest: tuple[int, ...]
) -> tuple[int, int, list[tuple[int, int]]]:
    """(start, end, [(level, bucket)]) covering ``[start, end)`` with the whole buckets
    of ``level`` inside it and finer ones for its edges, where they still exist."""
    if level == 0 or start >= end:
        return start, end, [(0, m) for m in range(start, end)]
    size = SIZES[level]
    inner_first, inner_end = -(-start // size), end // size
    if inner_first >= inner_end:  # no whole bucket of this level inside
        if start >= oldest[level - 1]:
            return _cover(start, end, level - 1, oldest)
        first, stop = start // size, -(-end // size)
        return first * size, stop * size, [(level, i) for i in range(first, stop)]
    parts = [(level, i) for i in range(inner_first, inner_end)]
    if start < inner_first * size:  # the lead edge
        if start >= oldest[level - 1]:
            start, _, lead = _cover(start, inner_first * size, level - 1, oldest)
            parts += lead
        else:
            parts.append((level, inner_first - 1))
            start = (inner_first - 1) * size
    if inner_end * size < end:  # the tail edge
        if inner_end * size >= oldest[level - 1]:
            _, end, tail = _cover(inner_end * size, end, level - 1, oldest)
            parts += tail
        else:
            parts.append((level, inner_end))
            end = (inner_end + 1) * size
    return start, end, parts


def minute_start(minute: int) -> datetime:
    """When a minute bucket starts (UTC)."""
    return datetime.fromtimestamp(minute * 60, UTC)


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; ``InvalidInput`` naming ``tz`` if there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput("tz", f"unknown IANA time zone {name!r}") from None


def _instant(name: str, text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(name, "must be an RFC 3339 date-time with an offset") from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(name, "must carry a UTC offset (e.g. Z or +02:00)")
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise InvalidInput(name, "is out of range") from None


def window(
    now: datetime,
    *,
    period: str | None = None,
    tz: str | None = None,
    start: str | None = None,
    end: str | None = None,
) -> tuple[int, int]:
    """``[start minute, end minute)`` of a stats request: ``period`` (``last_hour``:
    the current minute and the 59 before it; ``today``: from midnight in ``tz``, UTC by
    default, through the current minute) or ``start``/``end`` (RFC 3339, each taken to
    its minute; ``end`` past now is now). ``InvalidInput`` naming the parameter."""
    current = epoch_minute(now)
    local_zone = zone(tz) if tz is not None else UTC
    if period is not None and (start is not None or end is not None):
        raise InvalidInput("period", "give either period or from and to, not both")
    if start is None and end is None:
        period = period or "last_hour"
        if period == "last_hour":
            return current - 59, current + 1
        if period != "today":
            raise InvalidInput("period", f"must be one of {', '.join(PERIODS)}")
        local = now.astimezone(local_zone)
        midnight = datetime.combine(local.date(), time(0), tzinfo=local.tzinfo)
        return epoch_minute(midnight), current + 1
    if start is None or end is None:
        raise InvalidInput("from" if start is None else "to", "from and to go together")
    first, last = _instant("from", start), _instant("to", end)
    if last - first > MAX_RANGE:
        raise InvalidInput("to", f"a range is at most {MAX_RANGE.days} days")
    low, high = epoch_minute(first), min(epoch_minute(last), current + 1)
    if low >= high:
        raise InvalidInput("to", "must be a later minute than from, and from before now")
    return low, high


def iso_weeks(now: datetime, n: int) -> list[tuple[str, int, int]]:
    """The last ``n`` ISO weeks (Monday 00:00 UTC), oldest first, the current one up to
    now: ``(label like 2026-W48, start minute, end minute)``."""
    today = now.astimezone(UTC).date()
    monday = today - timedelta(days=today.weekday())
    current = epoch_minute(now) + 1
    out = []
    for back in range(n - 1, -1, -1):
        start = monday - timedelta(weeks=back)
        year, week, _ = start.isocalendar()
        first = _day_minute(start)
        out.append((f"{year}-W{week:02d}", first, min(_day_minute(start + timedelta(7)), current)))
    return out


def _day_minute(day: date) -> int:
    return epoch_minute(datetime.combine(day, time(0), tzinfo=UTC))
