"""Coverage: for every hour of a reference week, which languages x tiers have an open pool.

Hours are the wall-clock hours of the chosen zone, so a week that contains a daylight
saving change has 167 or 169 of them. A cell (hour, language, tier) is a *gap* when,
at some minute of that hour, no open pool serves the language at the tier; its
``capacity`` is the smallest total capacity of such open pools over the hour. Pool
closures in the reference week count. Categories are not a dimension here; a
``region`` restricts the view to pools that may receive that region's customers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from router.core.config_types import RoutingConfig
from router.core.schedule import DAY_NAMES, epoch_minute, minute_to_datetime

_MINUTES_PER_HOUR = 60


def _cell(language: str, tier: str) -> str:
    return f"{language}/{tier}"


def coverage_report(
    config: RoutingConfig,
    week_start: date,
    tz: str | ZoneInfo = "UTC",
    *,
    languages: Sequence[str] | None = None,
    tiers: Sequence[str] | None = None,
    region: str | None = None,
) -> dict[str, Any]:
    """The JSON-able coverage report of the week holding ``week_start`` (from its
    Monday, in zone ``tz``); gaps first, then every hour.

    ``languages`` and ``tiers`` default to all those any pool serves.
    """
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    monday = week_start - timedelta(days=week_start.weekday())
    start = datetime.combine(monday, time(), tzinfo=zone)
    end = datetime.combine(monday + timedelta(days=7), time(), tzinfo=zone)
    langs = list(languages) if languages is not None else _union(p.languages for p in config.pools)
    tier_list = list(tiers) if tiers is not None else _union(p.tiers for p in config.pools)
    combos = [(lang, tier) for lang in langs for tier in tier_list]
    serving = {
        combo: [
            i
            for i, p in enumerate(config.pools)
            if combo[0] in p.languages
            and combo[1] in p.tiers
            and (region is None or p.allows_region(region))
        ]
        for combo in combos
    }
    index = config.schedule_index
    hours: list[dict[str, Any]] = []
    gap_cells: list[tuple[int, str, str]] = []
    first, last = epoch_minute(start), epoch_minute(end)
    for n, hour_start in enumerate(range(first, last, _MINUTES_PER_HOUR)):
        hour_end = min(hour_start + _MINUTES_PER_HOUR, last)
        masks = {index.open_mask(m) for m in range(hour_start, hour_end)}
        local = minute_to_datetime(hour_start).astimezone(zone)
        cells: dict[str, dict[str, Any]] = {}
        gaps: list[str] = []
        for lang, tier in combos:
            pools = serving[(lang, tier)]
            capacity = min(
                sum(config.pools[i].capacity for i in pools if mask >> i & 1) for mask in masks
            )
            open_pools = [config.pools[i].id for i in pools if any(m >> i & 1 for m in masks)]
            cells[_cell(lang, tier)] = {"capacity": capacity, "pools": open_pools}
            if capacity == 0:
                gaps.append(_cell(lang, tier))
                gap_cells.append((n, lang, tier))
        hours.append(
            {
                "start": local.isoformat(),
                "weekday": DAY_NAMES[local.weekday()],
                "hour": local.hour,
                "gaps": gaps,
                "cells": cells,
            }
        )
    return {
        "config_version": config.version,
        "timezone": zone.key,
        "week_start": start.isoformat(),
        "week_end": end.isoformat(),
        "region": region,
        "languages": langs,
        "tiers": tier_list,
        "gap_count": len(gap_cells),
        "gaps": _merge_gaps(gap_cells, hours, end),
        "hours": hours,
    }


def _union(groups: Any) -> list[str]:
    out: dict[str, None] = {}
    for group in groups:
        out.update(dict.fromkeys(group))
    return list(out)


def _merge_gaps(
    cells: list[tuple[int, str, str]], hours: list[dict[str, Any]], end: datetime
) -> list[dict[str, Any]]:
    """Consecutive gap hours of one language/tier as one range, in time order."""
    runs: dict[tuple[str, str], list[list[int]]] = {}
    for n, lang, tier in cells:
        spans = runs.setdefault((lang, tier), [])
        if spans and spans[-1][1] == n:
            spans[-1][1] = n + 1
        else:
            spans.append([n, n + 1])
    out = []
    for (lang, tier), spans in runs.items():
        for a, b in spans:
            stop = hours[b]["start"] if b < len(hours) else end.isoformat()
            out.append(
                {
                    "language": lang,
                    "tier": tier,
                    "start": hours[a]["start"],
                    "end": stop,
                    "hours": b - a,
                }
            )
    out.sort(key=lambda g: (g["start"], g["language"], g["tier"]))
    return out


def render_coverage(report: dict[str, Any]) -> str:
    """A text table of a coverage report: the gaps first, then capacity per hour."""
    lines = [
        f"Coverage {report['week_start']} .. {report['week_end']} ({report['timezone']}), "
        f"config {report['config_version']}"
        + (f", region {report['region']}" if report.get("region") else "")
    ]
    gaps = report["gaps"]
    if gaps:
        lines.append(f"GAPS: {report['gap_count']} hour(s) x language/tier without an open pool")
        # One line per time range, naming every language/tier uncovered in it.
        ranges: dict[tuple[str, str, int], list[str]] = {}
        for gap in gaps:
            key = (gap["start"], gap["end"], gap["hours"])
            ranges.setdefault(key, []).append(f"{gap['language']}/{gap['tier']}")
        for (start, end, hours), cells in ranges.items():
            lines.append(f"  {start} .. {end} ({hours} h): {' '.join(cells)}")
    else:
        lines.append("No gaps.")
    columns = [_cell(lang, tier) for lang in report["languages"] for tier in report["tiers"]]
    width = max([9, *(len(c) for c in columns)])
    lines.append("")
    lines.append("day hour  " + " ".join(c.rjust(width) for c in columns))
    for hour in report["hours"]:
        cells = [
            ("GAP" if c in hour["gaps"] else str(hour["cells"][c]["capacity"])).rjust(width)
            for c in columns
        ]
        lines.append(f"{hour['weekday']} {hour['hour']:02d}:00 " + " ".join(cells))
    return "\n".join(lines) + "\n"
