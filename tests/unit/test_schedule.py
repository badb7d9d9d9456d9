"""Schedules: windows across midnight, closures, daylight-saving days in both hemispheres."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from router.core.schedule import (
    MINUTES_PER_DAY,
    Closure,
    PoolHours,
    ScheduleIndex,
    WeeklySchedule,
    Window,
    epoch_minute,
    is_open_at,
    local_to_epoch_minute,
    minute_to_datetime,
    open_intervals,
    parse_window,
)

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
SYDNEY = ZoneInfo("Australia/Sydney")
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
ZONES = [NEW_YORK, BERLIN, SYDNEY, SAO_PAULO, ZoneInfo("Asia/Kolkata"), ZoneInfo("UTC")]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def daily(text: str) -> WeeklySchedule:
    start, end = parse_window(text)
    return WeeklySchedule(tuple(Window(d, start, end) for d in range(7)))


def spans(
    schedule: WeeklySchedule, zone: ZoneInfo, day: date, closures: tuple[Closure, ...] = ()
) -> list[tuple[datetime, datetime]]:
    """Open intervals (UTC datetimes) of the windows that start on ``day``."""
    only = WeeklySchedule(schedule.windows_on(day.weekday()))
    lo = local_to_epoch_minute(zone, day, 0)
    return [
        (minute_to_datetime(a), minute_to_datetime(b))
        for a, b in open_intervals(only, closures, zone, lo - MINUTES_PER_DAY, lo + 3 * 1440)
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("09:00-17:00", (540, 1020)), ("22:00-06:00", (1320, 1800)), ("00:00-24:00", (0, 1440)),
     ("18:30-00:00", (1110, 1440))],
)  # fmt: skip
def test_parse_window(text: str, expected: tuple[int, int]) -> None:
    assert parse_window(text) == expected


def test_window_crossing_midnight_belongs_to_its_start_day() -> None:
    schedule = WeeklySchedule((Window(4, *parse_window("22:00-06:00")),))  # Friday night
    # Friday 2025-01-10 22:00 UTC until Saturday 06:00 UTC, not Thursday night.
    assert spans(schedule, ZoneInfo("UTC"), date(2025, 1, 10)) == [
        (utc(2025, 1, 10, 22), utc(2025, 1, 11, 6))
    ]
    assert not is_open_at(schedule, (), ZoneInfo("UTC"), utc(2025, 1, 10, 5, 59))
    assert is_open_at(schedule, (), ZoneInfo("UTC"), utc(2025, 1, 11, 5, 59))
    assert not is_open_at(schedule, (), ZoneInfo("UTC"), utc(2025, 1, 11, 6, 0))
    # Closing Saturday does not cut Friday's shift; closing Friday removes all of it.
    saturday = (Closure(date(2025, 1, 11), date(2025, 1, 11)),)
    friday = (Closure(date(2025, 1, 10), date(2025, 1, 10)),)
    assert is_open_at(schedule, saturday, ZoneInfo("UTC"), utc(2025, 1, 11, 3))
    assert not is_open_at(schedule, friday, ZoneInfo("UTC"), utc(2025, 1, 11, 3))
    assert not is_open_at(schedule, friday, ZoneInfo("UTC"), utc(2025, 1, 10, 23))


def test_new_york_spring_forward() -> None:
    day = date(2025, 3, 9)  # 02:00 EST -> 03:00 EDT (07:00 UTC)
    assert spans(daily("02:00-03:00"), NEW_YORK, day) == []
    assert spans(daily("01:00-02:30"), NEW_YORK, day) == [(utc(2025, 3, 9, 6), utc(2025, 3, 9, 7))]
    assert spans(daily("02:30-04:00"), NEW_YORK, day) == [(utc(2025, 3, 9, 7), utc(2025, 3, 9, 8))]
    assert spans(daily("09:00-17:00"), NEW_YORK, day) == [
        (utc(2025, 3, 9, 13), utc(2025, 3, 9, 21))
    ]
    assert spans(daily("09:00-17:00"), NEW_YORK, date(2025, 3, 8)) == [
        (utc(2025, 3, 8, 14), utc(2025, 3, 8, 22))
    ]
    # The Saturday night shift across the change lasts 7 real hours, not 8.
    assert spans(daily("22:00-06:00"), NEW_YORK, date(2025, 3, 8)) == [
        (utc(2025, 3, 9, 3), utc(2025, 3, 9, 10))
    ]


def test_new_york_fall_back() -> None:
    day = date(2025, 11, 2)  # 02:00 EDT -> 01:00 EST (06:00 UTC); 01:00-02:00 happens twice
    assert spans(daily("00:00-01:30"), NEW_YORK, day) == [
        (utc(2025, 11, 2, 4), utc(2025, 11, 2, 5, 30))
    ]
    assert spans(daily("01:30-09:00"), NEW_YORK, day) == [
        (utc(2025, 11, 2, 5, 30), utc(2025, 11, 2, 14))
    ]
    assert spans(daily("22:00-06:00"), NEW_YORK, date(2025, 11, 1)) == [
        (utc(2025, 11, 2, 2), utc(2025, 11, 2, 11))
    ]  # fmt: skip


def test_berlin_both_changes() -> None:
    # 2025-03-30 02:00 CET -> 03:00 CEST at 01:00 UTC; 2025-10-26 03:00 CEST -> 02:00 CET.
    assert spans(daily("09:00-17:00"), BERLIN, date(2025, 3, 29)) == [
        (utc(2025, 3, 29, 8), utc(2025, 3, 29, 16))
    ]
    assert spans(daily("09:00-17:00"), BERLIN, date(2025, 3, 30)) == [
        (utc(2025, 3, 30, 7), utc(2025, 3, 30, 15))
    ]
    assert spans(daily("02:00-03:00"), BERLIN, date(2025, 3, 30)) == []
    assert spans(daily("00:00-24:00"), BERLIN, date(2025, 3, 30)) == [
        (utc(2025, 3, 29, 23), utc(2025, 3, 30, 22))
    ]
    assert spans(daily("00:00-24:00"), BERLIN, date(2025, 10, 26)) == [
        (utc(2025, 10, 25, 22), utc(2025, 10, 26, 23))
    ]


def test_sydney_southern_hemisphere() -> None:
    # DST ends 2025-04-06 03:00 AEDT -> 02:00 AEST; starts 2025-10-05 02:00 AEST -> 03:00 AEDT.
    assert spans(daily("09:00-17:00"), SYDNEY, date(2025, 4, 5)) == [
        (utc(2025, 4, 4, 22), utc(2025, 4, 5, 6))
    ]
    assert spans(daily("09:00-17:00"), SYDNEY, date(2025, 4, 6)) == [
        (utc(2025, 4, 5, 23), utc(2025, 4, 6, 7))
    ]
    assert spans(daily("02:00-03:00"), SYDNEY, date(2025, 10, 5)) == []
    assert spans(daily("22:00-06:00"), SYDNEY, date(2025, 10, 4)) == [
        (utc(2025, 10, 4, 12), utc(2025, 10, 4, 19))
    ]
    assert spans(daily("22:00-06:00"), SYDNEY, date(2025, 4, 5)) == [
        (utc(2025, 4, 5, 11), utc(2025, 4, 5, 20))
    ]


def test_sao_paulo_midnight_changes() -> None:
    # Until 2019 Brazil changed at midnight: 2018-11-04 00:00 did not exist (-03 -> -02),
    # and on 2019-02-16 the hour 23:00-24:00 happened twice (-02 -> -03).
    assert spans(daily("00:00-08:00"), SAO_PAULO, date(2018, 11, 4)) == [
        (utc(2018, 11, 4, 3), utc(2018, 11, 4, 10))
    ]
    assert spans(daily("18:00-23:30"), SAO_PAULO, date(2019, 2, 16)) == [
        (utc(2019, 2, 16, 20), utc(2019, 2, 17, 1, 30))
    ]
    assert spans(daily("22:00-24:00"), SAO_PAULO, date(2019, 2, 16)) == [
        (utc(2019, 2, 17, 0), utc(2019, 2, 17, 3))
    ]
    # Since 2019 there is no DST: the same window is the same UTC time all year.
    assert spans(daily("09:00-17:00"), SAO_PAULO, date(2024, 1, 15)) == [
        (utc(2024, 1, 15, 12), utc(2024, 1, 15, 20))
    ]


def test_always_open_and_closures_in_local_dates() -> None:
    always = WeeklySchedule(always=True)
    christmas = (Closure(date(2025, 12, 25), date(2025, 12, 25), "Christmas"),)
    assert is_open_at(always, christmas, SYDNEY, utc(2025, 12, 24, 12, 59))  # 23:59 on the 24th
    assert not is_open_at(always, christmas, SYDNEY, utc(2025, 12, 24, 13, 0))  # 00:00 local
    assert not is_open_at(always, christmas, SYDNEY, utc(2025, 12, 25, 12, 59))
    assert is_open_at(always, christmas, SYDNEY, utc(2025, 12, 25, 13, 0))


def test_index_next_open_and_week_masks() -> None:
    berlin = PoolHours(daily("09:00-17:00"), (), BERLIN)
    index = ScheduleIndex([berlin, PoolHours(WeeklySchedule(always=True), (), SYDNEY)])
    minute = epoch_minute(utc(2025, 3, 30, 6, 59))
    assert index.open_mask(minute) == 0b10
    assert index.open_mask(minute + 1) == 0b11
    assert index.next_open(0, minute) == minute + 1
    friday_night = epoch_minute(utc(2025, 3, 28, 16, 0))
    assert minute_to_datetime(index.next_open(0, friday_night) or 0) == utc(2025, 3, 29, 8)
    never = ScheduleIndex([PoolHours(WeeklySchedule(), (), BERLIN)])
    assert never.next_open(0, minute) is None


def _oracle(
    schedule: WeeklySchedule, closures: tuple[Closure, ...], zone: ZoneInfo, at: datetime
) -> bool:
    """Open by local wall time: a window of today, or yesterday's crossing midnight."""
    local = at.astimezone(zone)
    minute = local.hour * 60 + local.minute
    today, yesterday = local.date(), local.date() - timedelta(days=1)
    for day, at_minute in ((today, minute), (yesterday, minute + MINUTES_PER_DAY)):
        if any(c.covers(day) for c in closures):
            continue
        if any(w.day == day.weekday() and w.start <= at_minute < w.end for w in schedule.windows):
            return True
    return False


def _offset_never_falls(zone: ZoneInfo, at: datetime) -> bool:
    """No clock turned back in the 2 days before ``at``: wall time is then monotonic."""
    offsets = [(at - timedelta(hours=h)).astimezone(zone).utcoffset() for h in range(50, -1, -1)]
    return all(a <= b for a, b in pairwise(offsets))  # type: ignore[operator]


windows = st.builds(
    lambda day, start, length: Window(day, start, start + length),
    st.integers(0, 6), st.integers(0, MINUTES_PER_DAY - 1), st.integers(1, MINUTES_PER_DAY),
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    schedule_windows=st.lists(windows, max_size=5),
    closed=st.lists(st.integers(0, 20), max_size=3),
    at=st.datetimes(min_value=datetime(2016, 1, 1), max_value=datetime(2027, 12, 31)),
)
def test_index_agrees_with_wall_clock(
    zone: ZoneInfo, schedule_windows: list[Window], closed: list[int], at: datetime
) -> None:
    instant = at.replace(tzinfo=UTC, second=0, microsecond=0)
    assume(_offset_never_falls(zone, instant))
    schedule = WeeklySchedule(tuple(schedule_windows))
    base = instant.astimezone(zone).date() - timedelta(days=10)
    closures = tuple(Closure(base + timedelta(days=d), base + timedelta(days=d)) for d in closed)
    expected = _oracle(schedule, closures, zone, instant)
    assert is_open_at(schedule, closures, zone, instant) == expected
    index = ScheduleIndex([PoolHours(schedule, closures, zone)])
    assert index.open_mask(epoch_minute(instant)) == int(expected)
