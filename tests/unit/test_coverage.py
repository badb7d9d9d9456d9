"""Coverage reports: the example config has no gap; without its night vendor, exact gaps."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from router.config.load import RoutingConfig, parse_config
from router.core.coverage import coverage_report, render_coverage

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "config.example.yaml"
COMBOS = {(lang, tier) for lang in ("en", "es", "pt") for tier in ("tier1", "tier2")}


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    data = yaml.safe_load(EXAMPLE.read_text())
    assert isinstance(data, dict)
    return data


def without(doc: dict[str, Any], pool_id: str) -> RoutingConfig:
    data = copy.deepcopy(doc)
    data["pools"] = [p for p in data["pools"] if p["id"] != pool_id]
    for rule in data["rules"]:
        rule["pools"] = [p for p in rule["pools"] if p != pool_id]
        rule.get("weights", {}).pop(pool_id, None)
    return parse_config(data, source=f"without {pool_id}")


def gap_cells(report: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(hour["start"], *cell.split("/")) for hour in report["hours"] for cell in hour["gaps"]}


@pytest.mark.parametrize(
    ("week", "tz", "hours"),
    [(date(2025, 1, 6), "UTC", 168), (date(2025, 3, 24), "Europe/Dublin", 167),
     (date(2025, 10, 27), "America/New_York", 169), (date(2025, 12, 22), "Asia/Manila", 168)],
)  # fmt: skip
def test_example_config_has_no_gap(doc: dict[str, Any], week: date, tz: str, hours: int) -> None:
    report = coverage_report(parse_config(doc, source="example"), week, tz)
    assert len(report["hours"]) == hours
    assert report["gap_count"] == 0 and report["gaps"] == []
    assert {tuple(c.split("/")) for c in report["hours"][0]["cells"]} == COMBOS
    assert json.loads(json.dumps(report)) == report
    assert "No gaps." in render_coverage(report)


def test_removing_the_night_vendor_opens_the_early_utc_hours(doc: dict[str, Any]) -> None:
    # andes-bpo closes at 04:00 UTC (23:00 Bogota); eu-dublin opens at 07:00 UTC in winter.
    report = coverage_report(without(doc, "pacific-night"), date(2025, 1, 8), "UTC")
    expected = {
        (f"2025-01-{day:02d}T{hour:02d}:00:00+00:00", lang, tier)
        for day in range(6, 13)
        for hour in (4, 5, 6)
        for lang, tier in COMBOS
    }
    assert gap_cells(report) == expected
    assert report["gap_count"] == 7 * 3 * 6
    first = report["gaps"][0]
    assert (first["start"], first["end"], first["hours"]) == (
        "2025-01-06T04:00:00+00:00", "2025-01-06T07:00:00+00:00", 3
    )  # fmt: skip
    text = render_coverage(report)
    assert "GAPS: 126 hour(s)" in text and text.index("GAPS") < text.index("mon 00:00")
    assert (
        "  2025-01-12T04:00:00+00:00 .. 2025-01-12T07:00:00+00:00 (3 h): "
        "en/tier1 en/tier2 es/tier1 es/tier2 pt/tier1 pt/tier2\n" in text
    )


def test_gap_follows_dublin_across_its_clock_change(doc: dict[str, Any]) -> None:
    # Dublin springs forward on Sunday 2025-03-30 at 01:00 UTC and opens at 06:00 UTC from then.
    report = coverage_report(without(doc, "pacific-night"), date(2025, 3, 24), "UTC")
    starts = sorted({cell[0] for cell in gap_cells(report)})
    expected = [f"2025-03-{d}T{h:02d}:00:00+00:00" for d in range(24, 30) for h in (4, 5, 6)]
    assert starts == [*expected, "2025-03-30T04:00:00+00:00", "2025-03-30T05:00:00+00:00"]
    assert report["gap_count"] == 20 * 6


def test_region_view_and_partial_hours(doc: dict[str, Any]) -> None:
    config = parse_config(doc, source="example")
    eu = coverage_report(
        config, date(2025, 1, 6), "UTC", languages=["pt"], tiers=["tier1"], region="EU"
    )
    # EU customers' pt/tier1 data may only go to eu-dublin (07:00-23:00 UTC in winter).
    assert eu["gap_count"] == 7 * 8
    assert eu["hours"][7]["cells"]["pt/tier1"] == {"capacity": 30, "pools": ["eu-dublin"]}
    # In Kolkata (UTC+05:30) an hour can straddle a hand-over: 09:00-10:00 local is
    # 03:30-04:30 UTC and andes-bpo closes at 04:00 UTC, so the hour is a gap although
    # a pool was open for half of it.
    india = coverage_report(without(doc, "pacific-night"), date(2025, 1, 6), "Asia/Kolkata")
    assert india["hours"][9]["start"] == "2025-01-06T09:00:00+05:30"
    assert india["hours"][8]["gaps"] == []
    assert len(india["hours"][9]["gaps"]) == 6
    assert india["hours"][9]["cells"]["en/tier1"] == {"capacity": 0, "pools": ["andes-bpo"]}
