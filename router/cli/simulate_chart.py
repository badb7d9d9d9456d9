"""Charts of a simulation report, as one self-contained SVG (or an HTML page holding it).

Hand-written SVG, no plotting library: for each run a heat map per pool and hour of the
service level, of utilisation and of the staffing gap against Erlang C; bars per pool;
with two runs, the hourly service level of both on one chart. Every cell carries a
tooltip with its figures.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from html import escape
from typing import Any

_LEFT = 150  # room for pool names
_CELL = 6  # px per hour
_ROW = 16
_RIGHT = 215  # room for the legend
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_RUN_COLOURS = ("#2b6cb0", "#dd6b20")


def _mix(a: str, b: str, t: float) -> str:
    t = min(1.0, max(0.0, t))
    x = [int(a[i : i + 2], 16) for i in (1, 3, 5)]
    y = [int(b[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(p + (q - p) * t):02x}" for p, q in zip(x, y, strict=True))


def _level_colour(level: float | None, target: float) -> str:
    """Red at 0, yellow at half the target, green at the target or above."""
    if level is None:
        return "#e6e6e6"
    t = level / target if target else 1.0
    if t >= 1:
        return "#1a9850"
    if t < 0.5:
        return _mix("#d73027", "#fee08b", t * 2)
    return _mix("#fee08b", "#66bd63", (t - 0.5) * 2)


def _util_colour(util: float | None) -> str:
    return "#ffffff" if util is None else _mix("#eef5fc", "#08306b", util)


def _gap_colour(staff: Mapping[str, Any]) -> str:
    if not staff["configured"] and not staff["offered"]:
        return "#ffffff"  # closed, nothing waiting
    if not staff["offered"]:
        return "#eeeeee"
    gap, need = staff["gap"], max(1, staff["recommended"])
    if gap > 0:
        return _mix("#fcbba1", "#a50f15", gap / need)
    return "#c7e9c0"


class _Svg:
    """An SVG document built top to bottom."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.y = 0
        self.parts: list[str] = []

    def add(self, text: str) -> None:
        self.parts.append(text)

    def text(self, x: float, y: float, text: str, *, size: int = 12, **attrs: str) -> None:
        extra = "".join(f' {k.replace("_", "-")}="{escape(v)}"' for k, v in attrs.items())
        self.add(f'<text x="{x:g}" y="{y:g}" font-size="{size}"{extra}>{escape(text)}</text>')

    def rect(self, x: float, y: float, w: float, h: float, fill: str, tip: str = "") -> None:
        title = f"<title>{escape(tip)}</title>" if tip else ""
        close = f">{title}</rect>" if title else "/>"
        self.add(f'<rect x="{x:g}" y="{y:g}" width="{w:g}" height="{h:g}" fill="{fill}"{close}')

    def line(self, x1: float, y1: float, x2: float, y2: float, stroke: str, **attrs: str) -> None:
        extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
        self.add(
            f'<line x1="{x1:g}" y1="{y1:g}" x2="{x2:g}" y2="{y2:g}" stroke="{stroke}"{extra}/>'
        )

    def document(self) -> str:
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width}" '
            f'height="{self.y + 20}" viewBox="0 0 {self.width} {self.y + 20}" '
            'font-family="Helvetica, Arial, sans-serif">\n'
            f'<rect width="100%" height="100%" fill="#ffffff"/>\n'
            + "\n".join(self.parts)
            + "\n</svg>\n"
        )


def _day_axis(svg: _Svg, hours: Sequence[Mapping[str, Any]], top: float, bottom: float) -> None:
    """Day names above the grid and a line at each local midnight."""
    for h, row in enumerate(hours):
        start = datetime.fromisoformat(row["start"])
        if start.hour == 0:
            x = _LEFT + h * _CELL
            svg.line(x, top - 4, x, bottom, "#999999", stroke_width="0.5")
            svg.text(x + 3, top - 6, f"{_DAYS[start.weekday()]} {start:%d}", size=10, fill="#555")


def _heat_map(
    svg: _Svg,
    title: str,
    pools: Sequence[Mapping[str, Any]],
    hours: Sequence[Mapping[str, Any]],
    cell: Any,
    legend: Sequence[tuple[str, str]],
) -> None:
    svg.y += 28
    svg.text(10, svg.y, title, size=14, font_weight="bold")
    svg.y += 22
    top = svg.y
    for pool in pools:
        svg.text(10, svg.y + _ROW - 4, pool["id"], size=11)
        for h, row in enumerate(pool["hours"]):
            fill, tip = cell(pool, row)
            svg.rect(_LEFT + h * _CELL, svg.y, _CELL, _ROW - 2, fill, tip)
        svg.y += _ROW
    _day_axis(svg, hours, top, svg.y)
    x = _LEFT + len(hours) * _CELL + 14
    for n, (colour, label) in enumerate(legend):
        svg.rect(x, top + n * 15, 11, 11, colour)
        svg.text(x + 16, top + n * 15 + 10, label, size=10)
    svg.y = max(svg.y, top + len(legend) * 15)


def _when(hours: Sequence[Mapping[str, Any]], h: int) -> str:
    start = datetime.fromisoformat(hours[h]["start"])
    return f"{_DAYS[start.weekday()]} {start:%H:%M}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _minutes(value: float | None) -> str:
    return "-" if value is None else f"{value:g} min"


def _run_maps(svg: _Svg, run: Mapping[str, Any], target: Mapping[str, Any], name: str) -> None:
    level = float(target["service_level"])
    wait = target["wait_minutes"]
    hours = run["hours"]
    pools = run["pools"]

    def sl_cell(pool: Mapping[str, Any], row: Mapping[str, Any]) -> tuple[str, str]:
        tip = (
            f"{pool['id']} {_when(hours, row['hour'])}: {row['tickets']} tickets, "
            f"service level {_pct(row['service_level'])}, p90 wait "
            f"{_minutes(row['wait_minutes']['p90'])}"
        )
        return _level_colour(row["service_level"], level), tip

    def util_cell(pool: Mapping[str, Any], row: Mapping[str, Any]) -> tuple[str, str]:
        staff = row["staffing"]
        tip = (
            f"{pool['id']} {_when(hours, row['hour'])}: utilisation {_pct(row['utilisation'])}"
            f" ({staff['configured']} agents, open {staff['open_minutes']} min)"
        )
        return _util_colour(row["utilisation"]), tip

    def gap_cell(pool: Mapping[str, Any], row: Mapping[str, Any]) -> tuple[str, str]:
        staff = row["staffing"]
        tip = (
            f"{pool['id']} {_when(hours, row['hour'])}: {staff['offered']} tickets offered, "
            f"{staff['traffic']} Erlangs; configured {staff['configured']}, "
            f"Erlang C recommends {staff['recommended']}"
        )
        return _gap_colour(staff), tip

    _heat_map(
        svg,
        f"{name}Service level by pool and hour of arrival (target {level:.0%} within {wait:g} min)",
        pools,
        hours,
        sl_cell,
        [
            ("#1a9850", "at or above target"),
            ("#fee08b", "half the target"),
            ("#d73027", "0%"),
            ("#e6e6e6", "no tickets"),
        ],
    )
    _heat_map(
        svg,
        f"{name}Utilisation of the configured agents while open",
        pools,
        hours,
        util_cell,
        [("#08306b", "100%"), ("#7da7d0", "50%"), ("#eef5fc", "0%"), ("#ffffff", "closed")],
    )
    _heat_map(
        svg,
        f"{name}Agents: the config's capacity against Erlang C",
        pools,
        hours,
        gap_cell,
        [
            ("#a50f15", "short by as many again"),
            ("#fcbba1", "a little short"),
            ("#c7e9c0", "enough"),
            ("#eeeeee", "open, no tickets"),
            ("#ffffff", "closed"),
        ],
    )


def _bars(svg: _Svg, runs: Sequence[Mapping[str, Any]], key: str, title: str, fmt: Any) -> None:
    """Horizontal bars per pool of ``totals[key]``, one bar per run."""
    svg.y += 30
    svg.text(10, svg.y, title, size=14, font_weight="bold")
    svg.y += 10
    ids = list(dict.fromkeys(p["id"] for run in runs for p in run["pools"]))
    values = {
        (n, p["id"]): p["totals"][key]
        for n, run in enumerate(runs)
        for p in run["pools"]
        if p["totals"][key] is not None
    }
    top = max([abs(v) for v in values.values()] + [1e-9])
    width = 520
    for pool in ids:
        svg.text(10, svg.y + 12, pool, size=11)
        for n in range(len(runs)):
            value = values.get((n, pool))
            length = 0 if value is None else width * abs(value) / top
            svg.rect(_LEFT, svg.y + 2, max(length, 0.5), 10, _RUN_COLOURS[n % 2])
            svg.text(_LEFT + length + 6, svg.y + 11, fmt(value), size=10)
            svg.y += 12
        svg.y += 6


def _lines(svg: _Svg, difference: Mapping[str, Any], target: float, labels: Sequence[str]) -> None:
    """The hourly service level of both runs (all pools together)."""
    svg.y += 30
    svg.text(10, svg.y, "Service level per hour, all pools: a against b", size=14,
             font_weight="bold")  # fmt: skip
    svg.y += 14
    hours = difference["hours"]
    top, height = svg.y, 120
    svg.rect(_LEFT, top, len(hours) * _CELL, height, "#fafafa")
    for frac in (0.0, 0.5, 1.0):
        y = top + height * (1 - frac)
        svg.line(_LEFT, y, _LEFT + len(hours) * _CELL, y, "#dddddd")
        svg.text(_LEFT - 34, y + 4, f"{frac:.0%}", size=10)
    y = top + height * (1 - target)
    svg.line(_LEFT, y, _LEFT + len(hours) * _CELL, y, "#1a9850", stroke_dasharray="4 3")
    for n, key in enumerate(("a", "b")):
        points = [
            f"{_LEFT + (h + 0.5) * _CELL:g},{top + height * (1 - row[key]):.1f}"
            for h, row in enumerate(hours)
            if row[key] is not None
        ]
        if points:
            svg.add(
                f'<polyline fill="none" stroke="{_RUN_COLOURS[n]}" stroke-width="1.3" '
                f'points="{" ".join(points)}"/>'
            )
    _day_axis(svg, hours, top, top + height)
    x = _LEFT + len(hours) * _CELL + 14
    for n, label in enumerate(labels):
        svg.rect(x, top + n * 15, 11, 11, _RUN_COLOURS[n])
        svg.text(x + 16, top + n * 15 + 10, label, size=10)
    svg.y = top + height


def _name(source: str) -> str:
    """The file name of a config's source path (the legend has little room)."""
    name = source.replace("\\", "/").rsplit("/", 1)[-1]
    return name if len(name) <= 24 else name[:23] + "…"


def _summary(run: Mapping[str, Any]) -> str:
    t = run["totals"]
    return (
        f"{t['tickets']} tickets, service level {_pct(t['service_level'])}, "
        f"wait p50/p90/p99 {t['wait_minutes']['p50']}/{t['wait_minutes']['p90']}/"
        f"{t['wait_minutes']['p99']} min, utilisation {_pct(t['utilisation'])}, "
        f"{t['escalated_out']} escalated, {t['expiries']} expired, "
        f"{t['sla_missed']} SLA missed, cost {t['cost']:,.2f}"
    )


def _shortfalls(svg: _Svg, runs: Sequence[Mapping[str, Any]], names: Sequence[str]) -> None:
    svg.y += 30
    svg.text(10, svg.y, "Where the config's capacity falls short of Erlang C (worst first)",
             size=14, font_weight="bold")  # fmt: skip
    for run, name in zip(runs, names, strict=True):
        rows = run["staffing"]["short"]
        svg.y += 18
        svg.text(10, svg.y, f"{name}{len(rows)} pool-hours short", size=12)
        for row in rows[:8]:
            svg.y += 15
            start = datetime.fromisoformat(row["start"])
            svg.text(
                24,
                svg.y,
                f"{row['pool']}  {_DAYS[start.weekday()]} {start:%H:%M}: configured "
                f"{row['configured']}, recommended {row['recommended']} (+{row['gap']}), "
                f"{row['offered']} tickets, {row['traffic']} Erlangs",
                size=11,
            )


def render_svg(result: Mapping[str, Any]) -> str:
    """The report's charts as one SVG document."""
    runs: Sequence[Mapping[str, Any]] = result["runs"]
    hours = len(runs[0]["hours"])
    svg = _Svg(_LEFT + hours * _CELL + _RIGHT)
    week = result["week"]
    svg.y = 26
    svg.text(10, svg.y, f"What-if simulation: week from {week['start'][:10]} ({week['zone']})",
             size=18, font_weight="bold")  # fmt: skip
    names = [f"{run['label']}: " if run["label"] else "" for run in runs]
    for n, (run, name) in enumerate(zip(runs, names, strict=True)):
        svg.y += 20
        svg.text(10, svg.y, f"{name}{run['config']['source']}", size=12, font_weight="bold",
                 fill=_RUN_COLOURS[n % 2])  # fmt: skip
        svg.y += 16
        svg.text(24, svg.y, _summary(run), size=12)
    target = runs[0]["staffing"]["target"]
    for run, name in zip(runs, names, strict=True):
        _run_maps(svg, run, target, name)
    _bars(svg, runs, "service_level", "Service level per pool", _pct)
    _bars(svg, runs, "cost", "Cost per pool (tickets x cost per ticket)",
          lambda v: "-" if v is None else f"{v:,.2f}")  # fmt: skip
    if "difference" in result:
        _lines(svg, result["difference"], float(target["service_level"]),
               [f"{run['label']}: {_name(run['config']['source'])}" for run in runs])  # fmt: skip
    _shortfalls(svg, runs, names)
    return svg.document()


def render_html(result: Mapping[str, Any]) -> str:
    """An HTML page with the SVG and a table of the worst staffing shortfalls."""
    rows: Iterable[str] = (
        f"<tr><td>{escape(run['label'] or '')}</td><td>{escape(r['pool'])}</td>"
        f"<td>{escape(r['start'])}</td><td>{r['offered']}</td><td>{r['traffic']}</td>"
        f"<td>{r['configured']}</td><td>{r['recommended']}</td><td>+{r['gap']}</td></tr>"
        for run in result["runs"]
        for r in run["staffing"]["short"][:50]
    )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>ticket-router what-if simulation</title>"
        "<style>body{font-family:Helvetica,Arial,sans-serif;margin:16px}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;"
        "font-size:12px}</style></head><body>\n"
        + render_svg(result)
        + "<h2>Staffing short of Erlang C (worst 50 per run)</h2>\n<table><tr><th>run</th>"
        "<th>pool</th><th>hour</th><th>tickets</th><th>Erlangs</th><th>configured</th>"
        "<th>recommended</th><th>gap</th></tr>\n" + "\n".join(rows) + "\n</table></body></html>\n"
    )
