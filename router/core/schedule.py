"""Weekly schedules and closures in a pool's own time zone, and when they are open.

A window such as ``09:00-17:00`` is local wall time on the day it is listed for; a
window whose end is not after its start (``22:00-06:00``) crosses midnight and belongs
to the day it starts, so a closure on that day removes the whole shift and a closure on
the next day does not cut it short. Each occurrence of a window is one interval of real
time from its local start to its local end:

* a wall time that does not exist (the hour skipped when clocks spring forward) stands
  for the instant of the change, so ``02:00-03:00`` on that day is empty and
  ``01:00-02:30`` ends at 03:00 new time;
* a wall time that happens twice (clocks falling back) means its first occurrence, so
  ``00:00-01:30`` followed by ``01:30-09:00`` still meet without a hole or an overlap.

The fast lookups work on whole minutes of a UTC week (10,080 of them, weeks starting on
a Monday 00:00 UTC) stored as Python ints used as bitsets.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 1440
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY
DAY_NAMES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# 1970-01-05 was a Monday: UTC weeks are counted from there so a week index is
# a plain integer division of the epoch minute.
_EPOCH_MONDAY_MINUTE = 4 * MINUTES_PER_DAY
# How many weeks of bitsets one index keeps; a service only ever looks at "now"
# and a few weeks ahead, coverage reports at one reference week.
_WEEK_CACHE_SIZE = 16


@dataclass(frozen=True, slots=True)
class Window:
    """One opening on ``day`` (0 = Monday) from ``start`` to ``end`` minutes after local
    midnight; ``end`` > 1440 when the window crosses midnight."""

    day: int
    start: int
    end: int

    def label(self) -> str:
        """The window as written in a config file, e.g. ``22:00-06:00``."""
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}"


@dataclass(frozen=True, slots=True)
class Closure:
    """Dates (inclusive, in the pool's zone) on which no window of the pool starts."""

    start: date
    end: date
    reason: str = ""

    def covers(self, day: date) -> bool:
        """Whether ``day`` falls in this closure."""
        return self.start <= day <= self.end


@dataclass(frozen=True, slots=True)
class WeeklySchedule:
    """A pool's opening hours: ``always`` (24/7) or a set of weekly windows."""

    windows: tuple[Window, ...] = ()
    always: bool = False

    def windows_on(self, weekday: int) -> tuple[Window, ...]:
        """The windows that start on ``weekday`` (0 = Monday)."""
        return tuple(w for w in self.windows if w.day == weekday)


def parse_window(text: str) -> tuple[int, int]:
    """Parse ``HH:MM-HH:MM`` into (start, end) minutes; end > 1440 crosses midnight.

    ``24:00`` is allowed as an end only. Raises ``ValueError`` with a short reason.
    """
    parts = text.strip().split("-")
    if len(parts) != 2:
        raise ValueError(f"window {text!r} is not HH:MM-HH:MM")
    start = _parse_hhmm(parts[0], allow_24=False, text=text)
    end = _parse_hhmm(parts[1], allow_24=True, text=text)
    if end == start:
        raise ValueError(f"window {text!r} is empty (00:00-24:00 is a whole day)")
    if end < start:
        end += MINUTES_PER_DAY
    return start, end


def _parse_hhmm(part: str, *, allow_24: bool, text: str) -> int:
    hh, sep, mm = part.strip().partition(":")
    if not sep or len(hh) != 2 or len(mm) != 2 or not (hh.isdigit() and mm.isdigit()):
        raise ValueError(f"window {text!r} is not HH:MM-HH:MM")
    hours, minutes = int(hh), int(mm)
    if allow_24 and hours == 24 and minutes == 0:
        return MINUTES_PER_DAY
    if hours > 23 or minutes > 59:
        raise ValueError(f"window {text!r} has a time out of range")
    return hours * 60 + minutes


def _hhmm(minutes: int) -> str:
    if minutes == MINUTES_PER_DAY:
        return "24:00"
    minutes %= MINUTES_PER_DAY
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def epoch_minute(at: datetime) -> int:
    """Whole minutes since the Unix epoch of a tz-aware instant."""
    if at.tzinfo is None:
        raise ValueError("a tz-aware datetime is required")
    return int(at.timestamp()) // 60


def minute_to_datetime(minute: int) -> datetime:
    """The UTC instant of an epoch minute."""
    return datetime.fromtimestamp(minute * 60, tz=UTC)


def week_of(minute: int) -> int:
    """The index of the UTC week (Monday 00:00 UTC onwards) holding an epoch minute."""
    return (minute - _EPOCH_MONDAY_MINUTE) // MINUTES_PER_WEEK


def week_start_minute(week: int) -> int:
    """The epoch minute at which UTC week ``week`` starts."""
    return _EPOCH_MONDAY_MINUTE + week * MINUTES_PER_WEEK


def local_to_epoch_minute(zone: ZoneInfo, day: date, minute_of_day: int) -> int:
    """The epoch minute of local wall time ``day`` + ``minute_of_day`` in ``zone``.

    Skipped wall times map to the instant of the change; repeated ones to their first
    occurrence (see the module docstring).
    """
    wall = datetime.combine(day, time()) + timedelta(minutes=minute_of_day)
    first = wall.replace(tzinfo=zone, fold=0)
    utc_first = int(first.timestamp()) // 60
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall:
        return utc_first
    # In a gap fold=0 applies the offset in force before the change and fold=1 the one
    # after; the change itself lies between the two readings.
    utc_second = int(wall.replace(tzinfo=zone, fold=1).timestamp()) // 60
    lo, hi = sorted((utc_first, utc_second))
    after = _offset_minutes(zone, hi)
    while lo < hi:
        mid = (lo + hi) // 2
        if _offset_minutes(zone, mid) == after:
            hi = mid
        else:
            lo = mid + 1
    return lo


def _offset_minutes(zone: ZoneInfo, minute: int) -> int:
    offset = minute_to_datetime(minute).astimezone(zone).utcoffset()
    return 0 if offset is None else int(offset.total_seconds()) // 60


def open_intervals(
    schedule: WeeklySchedule,
    closures: Sequence[Closure],
    zone: ZoneInfo,
    start_minute: int,
    end_minute: int,
) -> list[tuple[int, int]]:
    """The open intervals ``[a, b)`` in epoch minutes that overlap ``[start, end)``,
    clipped to it, sorted and merged."""
    first_day = minute_to_datetime(start_minute).astimezone(zone).date() - timedelta(days=1)
    last_day = minute_to_datetime(end_minute).astimezone(zone).date()
    intervals: list[tuple[int, int]] = []
    day = first_day
    while day <= last_day:
        if not any(c.covers(day) for c in closures):
            windows: Sequence[tuple[int, int]]
            if schedule.always:
                windows = ((0, MINUTES_PER_DAY),)
            else:
                windows = [(w.start, w.end) for w in schedule.windows if w.day == day.weekday()]
            for w_start, w_end in windows:
                a = max(local_to_epoch_minute(zone, day, w_start), start_minute)
                b = min(local_to_epoch_minute(zone, day, w_end), end_minute)
                if a < b:
                    intervals.append((a, b))
        day += timedelta(days=1)
    intervals.sort()
    merged: list[tuple[int, int]] = []
    for a, b in intervals:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def is_open_at(
    schedule: WeeklySchedule, closures: Sequence[Closure], zone: ZoneInfo, at: datetime
) -> bool:
    """Whether a schedule is open at instant ``at`` (the slow, obvious way)."""
    minute = epoch_minute(at)
    return bool(open_intervals(schedule, closures, zone, minute, minute + 1))


@dataclass(frozen=True, slots=True)
class PoolHours:
    """What the index needs to know about one pool's hours."""

    schedule: WeeklySchedule
    closures: tuple[Closure, ...]
    zone: ZoneInfo


class ScheduleIndex:
    """Which pools are open at which minute, precomputed one UTC week at a time.

    Pools are numbered by their position; bit ``i`` of a mask is pool ``i``. Weeks are
    computed on first use and kept in a small cache, so a lookup is one division, one
    dictionary hit and one list index.
    """

    def __init__(self, pools: Sequence[PoolHours]) -> None:
        self._pools = tuple(pools)
        self._weeks: dict[int, _Week] = {}
        self._lock = threading.Lock()

    def _week(self, week: int) -> _Week:
        cached = self._weeks.get(week)
        if cached is not None:
            return cached
        with self._lock:
            cached = self._weeks.get(week)
            if cached is not None:
                return cached
            base = week_start_minute(week)
            pool_bits: list[int] = []
            spans: list[tuple[list[int], list[int]]] = []
            masks = [0] * MINUTES_PER_WEEK
            for hours in self._pools:
                bits = 0
                starts: list[int] = []
                ends: list[int] = []
                for a, b in open_intervals(
                    hours.schedule, hours.closures, hours.zone, base, base + MINUTES_PER_WEEK
                ):
                    bits |= ((1 << (b - a)) - 1) << (a - base)
                    starts.append(a)
                    ends.append(b)
                pool_bits.append(bits)
                spans.append((starts, ends))
            _fill_masks(masks, pool_bits)
            entry = _Week(tuple(pool_bits), masks, tuple(spans))
            if len(self._weeks) >= _WEEK_CACHE_SIZE:
                self._weeks.pop(next(iter(self._weeks)))
            self._weeks[week] = entry
            return entry

    def open_mask(self, minute: int) -> int:
        """The mask of pools open at epoch minute ``minute``."""
        week = (minute - _EPOCH_MONDAY_MINUTE) // MINUTES_PER_WEEK
        entry = self._weeks.get(week)
        if entry is None:
            entry = self._week(week)
        return entry.masks[minute - _EPOCH_MONDAY_MINUTE - week * MINUTES_PER_WEEK]

    def week_bits(self, week: int) -> tuple[int, ...]:
        """Per pool, a bitset of the open minutes of UTC week ``week`` (bit 0 = its start)."""
        return self._week(week).pool_bits

    def week_masks(self, week: int) -> Sequence[int]:
        """Per minute of UTC week ``week``, the mask of open pools."""
        return self._week(week).masks

    def next_open(self, pool: int, minute: int, horizon_weeks: int = 6) -> int | None:
        """The first epoch minute >= ``minute`` at which ``pool`` is open, if any within
        ``horizon_weeks``."""
        week = week_of(minute)
        for step in range(horizon_weeks + 1):
            starts, ends = self._week(week + step).spans[pool]
            # Intervals are sorted and disjoint: the last one starting at or before
            # ``minute`` holds it, or the next one is the first opening.
            n = bisect_right(starts, minute)
            if n and ends[n - 1] > minute:
                return minute
            if n < len(starts):
                return starts[n]
        return None


class _Week(NamedTuple):
    """One UTC week: per pool its open minutes as a bitset and as sorted epoch-minute
    intervals; per minute of the week the mask of open pools."""

    pool_bits: tuple[int, ...]
    masks: list[int]
    spans: tuple[tuple[list[int], list[int]], ...]


def _fill_masks(masks: list[int], pool_bits: Sequence[int]) -> None:
    """Turn per-pool bitsets into per-minute masks by sweeping their change points."""
    events: dict[int, int] = {}
    for i, bits in enumerate(pool_bits):
        bit = 1 << i
        # Rising and falling edges of the bitset: where a run of ones starts/ends.
        rises = bits & ~(bits << 1)
        falls = (bits << 1) & ~bits
        for edges in (rises, falls):
            while edges:
                low = edges & -edges
                pos = low.bit_length() - 1
                events[pos] = events.get(pos, 0) ^ bit
                edges ^= low
    current = 0
    positions = sorted(events)
    for n, pos in enumerate(positions):
        current ^= events[pos]
        end = positions[n + 1] if n + 1 < len(positions) else MINUTES_PER_WEEK
        end = min(end, MINUTES_PER_WEEK)
        if pos < MINUTES_PER_WEEK and current:
            masks[pos:end] = [current] * (end - pos)
