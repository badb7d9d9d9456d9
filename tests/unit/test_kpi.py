"""The pure KPI maths (router/core/kpi.py): histogram buckets and percentiles, SLA
attainment, merged summaries, time ranges and the buckets they are read from, vendor keys."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from router.core import kpi
from router.core.errors import InvalidInput

NOW = datetime(2026, 11, 24, 10, 37, 20, tzinfo=UTC)  # a Tuesday
NOW_MIN = kpi.epoch_minute(NOW)


@pytest.mark.parametrize(
    ("seconds", "edge"),
    [(0, "5"), (5, "5"), (5.001, "10"), (60, "60"), (61, "90"), (604800, "604800"), (1e7, "inf")],
)
def test_a_duration_falls_in_the_first_bucket_whose_edge_is_not_below_it(
    seconds: float, edge: str
) -> None:
    assert kpi.edge_of(seconds) == edge


def test_the_edges_are_at_most_one_and_a_half_apart_from_ten_seconds_up() -> None:
    pairs = list(zip(kpi.EDGES, kpi.EDGES[1:], strict=False))
    assert all(b / a <= 1.5 for a, b in pairs if a >= 10)
    assert kpi.EDGES[:2] == (5, 10)


def test_percentiles_are_the_upper_edge_of_the_bucket_holding_the_nearest_rank() -> None:
    histogram = {"60": 1, "120": 1, "300": 1, "450": 1}
    assert kpi.percentile(histogram, 0.5) == 120.0  # rank 2 of 4
    assert kpi.percentile(histogram, 0.9) == 450.0  # rank 4
    assert kpi.percentile(histogram, 0.25) == 60.0
    assert kpi.percentile({"30": 9, "inf": 1}, 0.9) == 30.0
    assert kpi.percentile({"30": 9, "inf": 1}, 0.99) is None  # past the last edge
    assert kpi.percentile({}, 0.5) is None


def test_a_percentile_is_never_below_the_true_value_and_at_most_one_and_a_half_times_it() -> None:
    durations = [11, 17, 26, 44, 70, 100, 200, 333, 1000, 5000, 40000]
    histogram: dict[str, int] = {}
    for d in durations:
        histogram[kpi.edge_of(d)] = histogram.get(kpi.edge_of(d), 0) + 1
    for q in (0.5, 0.9, 0.99):
        true = sorted(durations)[math.ceil(q * len(durations)) - 1]  # nearest rank
        got = kpi.percentile(histogram, q)
        assert got is not None and true <= got <= 1.5 * true, q


def test_attainment_and_shares_are_plain_ratios_or_none() -> None:
    assert kpi.attainment(3, 1) == 0.75
    assert kpi.attainment(0, 0) is None
    assert kpi.share(2, 6) == 2 / 6
    assert kpi.share(1, 0) is None


def test_a_summary_merges_the_dimensions_it_is_given() -> None:
    counts = {
        "p:a|r": 2, "p:b|r": 3, "p:a|$": 90_000, "p:b|$": 75_000, "p:a|s": 1, "p:b|m": 1,
        "p:a|A60": 1, "p:b|A120": 1, "p:b|C600": 2, "p:a|g": 1, "o|r": 5,
    }  # fmt: skip
    got = kpi.summary(counts, ["p:a", "p:b"])
    assert got == {
        "routed": 5, "accepted": 0, "completed": 0, "escalated": 0, "released": 0, "expired": 0,
        "coverage_gaps": 1, "cost": 16.5,
        "sla": {"met": 1, "missed": 1, "attainment": 0.5},
        "time_to_accept": {"count": 2, "p50": 60.0, "p90": 120.0, "p99": 120.0},
        "time_to_complete": {"count": 2, "p50": 600.0, "p90": 600.0, "p99": 600.0},
    }  # fmt: skip
    assert kpi.values_of(counts, "p") == ["a", "b"]


def test_a_tally_counts_each_dimension_in_the_minute_of_the_event() -> None:
    tally = kpi.Tally()
    dims = kpi.dimensions("hq-tier1", "en", "tier1")
    tally.add(NOW_MIN, dims, "r")
    tally.add(NOW_MIN, dims, "$", kpi.cost_units(9.0))
    assert tally.plain() == {
        NOW_MIN: {
            "o|r": 1, "p:hq-tier1|r": 1, "l:en|r": 1, "t:tier1|r": 1,
            "o|$": 90_000, "p:hq-tier1|$": 90_000, "l:en|$": 90_000, "t:tier1|$": 90_000,
        }
    }  # fmt: skip
    assert kpi.dimensions("p", "e|n", "") == ("o", "p:p", "l:other", "t:other")
    other = kpi.Tally()
    other.add(NOW_MIN, ["o"], "r", 2)
    tally.absorb(other)
    assert tally.plain()[NOW_MIN]["o|r"] == 3
    assert tally.prune(NOW_MIN + 1) == 1 and not tally


def test_a_range_reads_whole_days_and_hours_from_their_buckets_and_its_edges_from_minutes() -> None:
    # 09:50 .. 12:10 of day 0: the minutes 09:50-09:59 and 12:00-12:09, the hours 10 and 11.
    start, end = 9 * 60 + 50, 12 * 60 + 10
    assert kpi.plan(start, end, now_minute=end) == kpi.Plan(
        start, end, (*range(590, 600), *range(720, 730)), (10, 11), ()
    )
    # Inside one hour: minutes only.
    assert kpi.plan(605, 615, 615) == kpi.Plan(605, 615, tuple(range(605, 615)))
    # Day 10 23:50 (minute 15830) .. day 12 01:10 (17350): day 11 whole, hour 288 (its
    # first), the ten minutes before and the ten after.
    start, end = 1440 * 10 + 1430, 1440 * 12 + 70
    assert kpi.plan(start, end, now_minute=end) == kpi.Plan(
        start, end, (*range(start, start + 10), *range(17340, 17350)), (288,), (11,)
    )


def test_edges_whose_finer_buckets_are_gone_widen_to_the_coarser_ones() -> None:
    start, end = 1440 * 10 + 1430, 1440 * 12 + 70
    minutes_gone = end + kpi.READABLE[0] + 1
    assert kpi.plan(start, end, minutes_gone) == kpi.Plan(15780, 17400, (), (263, 288, 289), (11,))
    hours_gone = end + kpi.READABLE[1] + 1
    assert kpi.plan(start, end, hours_gone) == kpi.Plan(14400, 18720, (), (), (10, 11, 12))
    assert kpi.plan(605, 615, 605 + kpi.READABLE[0] + 1) == kpi.Plan(600, 660, (), (10,))
    assert kpi.plan(605, 615, 605 + kpi.READABLE[1] + 1) == kpi.Plan(0, 1440, (), (), (0,))


def test_the_finer_buckets_are_read_no_longer_than_they_live() -> None:
    assert kpi.READABLE[0] * 60 < kpi.MINUTE_TTL_S
    assert kpi.READABLE[1] * 60 < kpi.HOUR_TTL_S
    assert kpi.MAX_WEEKS * 7 * 86400 < kpi.DAY_TTL_S


def test_last_hour_is_the_current_minute_and_the_59_before_it() -> None:
    assert kpi.window(NOW) == (NOW_MIN - 59, NOW_MIN + 1)
    assert kpi.window(NOW, period="last_hour", tz="Asia/Tokyo") == (NOW_MIN - 59, NOW_MIN + 1)


def test_today_starts_at_midnight_in_the_zone_given() -> None:
    paris_midnight = datetime(2026, 11, 24, 0, 0, tzinfo=UTC).timestamp() // 60 - 60  # UTC+1
    assert kpi.window(NOW, period="today", tz="Europe/Paris") == (paris_midnight, NOW_MIN + 1)
    utc_midnight = datetime(2026, 11, 24, tzinfo=UTC).timestamp() // 60
    assert kpi.window(NOW, period="today") == (utc_midnight, NOW_MIN + 1)
    # Kolkata is UTC+5:30: its midnight is a half hour.
    kolkata = datetime(2026, 11, 23, 18, 30, tzinfo=UTC).timestamp() // 60
    assert kpi.window(NOW, period="today", tz="Asia/Kolkata")[0] == kolkata


def test_from_and_to_are_taken_to_their_minutes_and_to_stops_at_now() -> None:
    got = kpi.window(NOW, start="2026-11-24T08:00:30+01:00", end="2026-11-24T09:30:00Z")
    assert got == (NOW_MIN - 37 - 60 * 3, NOW_MIN - 67)
    assert kpi.window(NOW, start="2026-11-24T10:00:00Z", end="2027-01-01T00:00:00Z") == (
        NOW_MIN - 37,
        NOW_MIN + 1,
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "yesterday"}, "period"),
        ({"period": "today", "tz": "Mars/Olympus"}, "tz"),
        ({"period": "today", "start": "2026-11-24T08:00:00Z"}, "period"),
        ({"start": "2026-11-24T08:00:00Z"}, "to"),
        ({"end": "2026-11-24T08:00:00Z"}, "from"),
        ({"start": "2026-11-24T08:00:00", "end": "2026-11-24T09:00:00Z"}, "from"),
        ({"start": "yesterday", "end": "2026-11-24T09:00:00Z"}, "from"),
        ({"start": "2026-11-24T09:00:00Z", "end": "2026-11-24T09:00:30Z"}, "to"),
        ({"start": "2026-11-25T09:00:00Z", "end": "2026-11-26T09:00:00Z"}, "to"),
        ({"start": "2026-01-01T00:00:00Z", "end": "2026-11-24T00:00:00Z"}, "to"),
        ({"start": "0001-01-01T00:00:00+01:00", "end": "2026-11-24T00:00:00Z"}, "from"),
    ],
)
def test_a_bad_range_names_its_parameter(params: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        kpi.window(NOW, **params)
    assert info.value.field == field


def test_iso_weeks_start_on_monday_utc_and_the_last_ends_now() -> None:
    weeks = kpi.iso_weeks(NOW, 2)
    monday = kpi.epoch_minute(datetime(2026, 11, 23, tzinfo=UTC))
    assert weeks == [
        ("2026-W47", monday - 7 * 1440, monday),
        ("2026-W48", monday, NOW_MIN + 1),
    ]
    assert kpi.iso_weeks(datetime(2027, 1, 1, tzinfo=UTC), 1)[0][0] == "2026-W53"


@pytest.mark.parametrize(
    ("vendor", "key"),
    [
        ("Andes Contact Center S.A.S.", "andes-contact-center-s-a-s"),
        ("Pacific Support Services Inc.", "pacific-support-services-inc"),
        ("Société Générale", "societe-generale"),
        (None, "in-house"),
        ("", "in-house"),
        ("***", "vendor"),
    ],
)
def test_a_vendor_key_is_its_name_in_lower_case_with_dashes(vendor: str | None, key: str) -> None:
    assert kpi.vendor_key(vendor) == key
