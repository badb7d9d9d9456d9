"""The figures of a simulated week, per pool and hour, and the staffing Erlang C asks for.

What counts where:

- **Tickets, service level, waits, SLA misses, cost** go to the pool a ticket ended in
  (the one that worked it) and the hour it *arrived*. The service level is the share
  accepted within the target wait, out of all those tickets (one still waiting when the
  run ends missed it); waits are of accepted tickets, nearest-rank percentiles, in
  minutes. A ticket missed its SLA when it was not accepted by the due time of its last
  decision. Cost is tickets x the pool's ``cost_per_ticket``.
- **Utilisation** is the agent time spent on tickets while the pool was open, over the
  agent time the config staffs (capacity x open time) in that hour; work finished after
  closing time is counted apart (``overrun_minutes``).
- **Escalations** count in the hour of the move, out of one pool and into another;
  ``stayed`` are steps that came due but left the ticket where it was. **Expiries** are
  leases that ran out, in the hour they did.
- **Staffing**: a pool's demand in an hour is the tickets entering its backlog (routed
  or moved there) in that hour, or at its opening if it was closed. With the arrival
  rate over the pool's open time in that hour and the mean handle time of those
  tickets, Erlang C gives the fewest agents for the target (e.g. 80% within 20
  minutes); ``configured`` is the pool's capacity while it is open. It is the steady
  state of each hour on its own: a backlog that builds up over hours is what the
  simulation itself shows.

Hours are counted from the report's week start (Monday 00:00 in its zone).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from router.core.sim.engine import Outcome, SimRun
from router.core.sim.erlang import agents_needed

_HOUR = 3600.0
PERCENTILES = (50, 90, 99)


@dataclass(frozen=True, slots=True)
class ReportSettings:
    """The report's week and targets."""

    start: datetime
    end: datetime
    zone: ZoneInfo
    target_wait_seconds: float = 1200.0
    target_level: float = 0.8

    @property
    def hours(self) -> int:
        """How many hours the week has (167 or 169 across a DST change)."""
        # Timestamps, not ``end - start``: two datetimes with the same zone subtract as
        # wall times, which would hide the DST hour.
        return round((self.end.timestamp() - self.start.timestamp()) / _HOUR)


def percentile(values: Sequence[float], p: float) -> float | None:
    """The nearest-rank ``p``-th percentile: the smallest value with at least ``p``% of
    the values at or below it; ``None`` for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


class _Cell:
    """The running sums of one pool and hour (or of a pool's week, or of everything)."""

    __slots__ = (
        "accepted", "busy", "cost", "escalated_in", "escalated_out", "expiries",
        "offer_handle", "offers", "open_seconds", "overrun", "sla_missed", "stayed",
        "tickets", "waits", "within",
    )  # fmt: skip

    def __init__(self) -> None:
        self.tickets = 0
        self.accepted = 0
        self.within = 0
        self.sla_missed = 0
        self.cost = 0.0
        self.waits: list[float] = []
        self.busy = 0.0
        self.overrun = 0.0
        self.open_seconds = 0.0
        self.escalated_in = 0
        self.escalated_out = 0
        self.stayed = 0
        self.expiries = 0
        self.offers = 0
        self.offer_handle = 0.0

    def add_ticket(self, o: Outcome, target: float, cost: float) -> None:
        self.tickets += 1
        self.cost += cost
        wait = o.wait_seconds
        if wait is not None:
            self.accepted += 1
            self.waits.append(wait / 60)
            if wait <= target:
                self.within += 1
        if o.accepted_at is None or o.accepted_at > o.sla_due:
            self.sla_missed += 1
        self.stayed += o.steps_stayed

    def figures(self, capacity: int | None) -> dict[str, Any]:
        staffed = (capacity or 0) * self.open_seconds
        return {
            "tickets": self.tickets,
            "accepted": self.accepted,
            "unserved": self.tickets - self.accepted,
            "service_level": _r(self.within / self.tickets) if self.tickets else None,
            "wait_minutes": {f"p{p}": _r(percentile(self.waits, p), 2) for p in PERCENTILES},
            "utilisation": _r(self.busy / staffed) if staffed else None,
            "overrun_minutes": _r(self.overrun / 60, 1),
            "escalated_in": self.escalated_in,
            "escalated_out": self.escalated_out,
            "stayed": self.stayed,
            "expiries": self.expiries,
            "sla_missed": self.sla_missed,
            "cost": _r(self.cost, 2),
        }


def _r(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def _hour_of(at: float, start: float, hours: int) -> int | None:
    h = math.floor((at - start) / _HOUR)
    return h if 0 <= h < hours else None


def _split(a: float, b: float, start: float, hours: int) -> Iterable[tuple[int, float]]:
    """The seconds of [a, b) falling in each hour of the week."""
    a, b = max(a, start), min(b, start + hours * _HOUR)
    while a < b:
        h = math.floor((a - start) / _HOUR)
        edge = min(b, start + (h + 1) * _HOUR)
        yield h, edge - a
        a = edge


def _intersect(
    spans: Sequence[tuple[float, float]], opens: Sequence[tuple[float, float]]
) -> Iterable[tuple[float, float]]:
    """The parts of ``spans`` inside ``opens`` (sorted, disjoint)."""
    for a, b in spans:
        for c, d in opens:
            if d <= a:
                continue
            if c >= b:
                break
            yield max(a, c), min(b, d)


@dataclass(frozen=True, slots=True)
class _Grid:
    """Per pool, the week's total and one cell per hour."""

    total: _Cell
    pools: dict[str, _Cell]
    hours: dict[str, list[_Cell]]
    all_hours: list[_Cell]


def _grid(run: SimRun, settings: ReportSettings) -> _Grid:
    start, hours = settings.start.timestamp(), settings.hours
    config = run.config
    ids = config.pool_ids
    grid = _Grid(
        _Cell(),
        {p: _Cell() for p in ids},
        {p: [_Cell() for _ in range(hours)] for p in ids},
        [_Cell() for _ in range(hours)],
    )
    target = settings.target_wait_seconds
    for o in run.outcomes:
        cost = config.pool(o.pool_id).cost_per_ticket
        h = _hour_of(o.arrived, start, hours)
        cells = [grid.total, grid.pools[o.pool_id]]
        if h is not None:
            cells += [grid.hours[o.pool_id][h], grid.all_hours[h]]
        for cell in cells:
            cell.add_ticket(o, target, cost)
        for move in o.moves:
            grid.pools[move.from_pool].escalated_out += 1
            grid.pools[move.to_pool].escalated_in += 1
            grid.total.escalated_out += 1
            h = _hour_of(move.at, start, hours)
            if h is not None:
                grid.hours[move.from_pool][h].escalated_out += 1
                grid.hours[move.to_pool][h].escalated_in += 1
        for at, pool in o.expiries:
            grid.pools[pool].expiries += 1
            grid.total.expiries += 1
            h = _hour_of(at, start, hours)
            if h is not None:
                grid.hours[pool][h].expiries += 1
    for pool in ids:
        opens = run.open_spans[pool]
        busy = sorted(run.busy[pool])
        cells = grid.hours[pool]
        for a, b in opens:
            for h, seconds in _split(a, b, start, hours):
                cells[h].open_seconds += seconds
        for a, b in busy:
            for h, seconds in _split(a, b, start, hours):
                cells[h].overrun += seconds  # all busy time for now, less the open part below
        for a, b in _intersect(busy, opens):
            for h, seconds in _split(a, b, start, hours):
                cells[h].busy += seconds
                cells[h].overrun -= seconds
        week = grid.pools[pool]
        week.open_seconds = sum(c.open_seconds for c in cells)
        week.busy = sum(c.busy for c in cells)
        week.overrun = sum(c.overrun for c in cells)
    for offer in run.offers:
        h = _hour_of(offer.at, start, hours)
        if h is not None:
            cell = grid.hours[offer.pool_id][h]
            cell.offers += 1
            cell.offer_handle += offer.handle_mean_seconds
    return grid


def _staffing(cell: _Cell, capacity: int, settings: ReportSettings) -> dict[str, Any]:
    """Erlang C's agents for one pool and hour, beside the config's."""
    open_minutes = cell.open_seconds / 60
    configured = capacity if cell.open_seconds > 0 else 0
    if not cell.offers:
        return {
            "open_minutes": round(open_minutes),
            "offered": 0,
            "traffic": 0.0,
            "configured": configured,
            "recommended": 0,
            "gap": -configured,
        }
    handle = cell.offer_handle / cell.offers
    # Tickets are only taken while the pool is open, so the rate is over that time.
    rate = cell.offers / (cell.open_seconds or _HOUR)
    need = agents_needed(rate * handle, handle, settings.target_wait_seconds, settings.target_level)
    return {
        "open_minutes": round(open_minutes),
        "offered": cell.offers,
        "traffic": _r(need.traffic, 3),
        "configured": configured,
        "recommended": need.agents,
        "gap": need.agents - configured,
    }


def build_report(run: SimRun, settings: ReportSettings, *, label: str = "") -> dict[str, Any]:
    """The week's figures as a JSON-ready mapping (see the module docstring)."""
    grid = _grid(run, settings)
    config = run.config
    start = settings.start.timestamp()
    pools = []
    short = []
    for pool in config.pools:
        rows = []
        staffed_hours = needed_hours = short_hours = 0.0
        hours_short = 0
        for h, cell in enumerate(grid.hours[pool.id]):
            staff = _staffing(cell, pool.capacity, settings)
            fraction = cell.open_seconds / _HOUR
            staffed_hours += staff["configured"] * fraction
            needed_hours += staff["recommended"] * (fraction or 1.0)
            if staff["gap"] > 0:
                hours_short += 1
                short_hours += staff["gap"] * (fraction or 1.0)
                short.append({"pool": pool.id, "hour": h, "start": _label(start, h, settings),
                              **staff})  # fmt: skip
            rows.append({"hour": h, **cell.figures(pool.capacity), "staffing": staff})
        pools.append(
            {
                "id": pool.id,
                "kind": pool.kind,
                "capacity": pool.capacity,
                "cost_per_ticket": pool.cost_per_ticket,
                "totals": {
                    **grid.pools[pool.id].figures(pool.capacity),
                    "agent_hours_configured": round(staffed_hours, 1),
                    "agent_hours_recommended": round(needed_hours, 1),
                    "hours_short": hours_short,
                    "agent_hours_short": round(short_hours, 1),
                },
                "hours": rows,
            }
        )
    short.sort(key=lambda row: (-row["gap"], row["hour"], row["pool"]))
    busy = sum(grid.pools[p.id].busy for p in config.pools)
    staffed = sum(grid.pools[p.id].open_seconds * p.capacity for p in config.pools)
    first = Counter(o.decision.pool_id for o in run.outcomes)
    fallbacks = Counter(o.decision.fallback for o in run.outcomes if o.decision.fallback)
    return {
        "label": label,
        "config": {"source": config.source, "version": config.version},
        "totals": {
            **grid.total.figures(None),
            "utilisation": _r(busy / staffed) if staffed else None,
            "routed_first": dict(sorted(first.items())),
            "fallbacks": dict(sorted(fallbacks.items())),
        },
        "hours": [
            {
                "hour": h,
                "start": _label(start, h, settings),
                "tickets": c.tickets,
                "service_level": _r(c.within / c.tickets) if c.tickets else None,
            }
            for h, c in enumerate(grid.all_hours)
        ],
        "pools": pools,
        "staffing": {
            "target": {
                "service_level": settings.target_level,
                "wait_minutes": settings.target_wait_seconds / 60,
            },
            "short": short,
        },
    }


def _label(start: float, hour: int, settings: ReportSettings) -> str:
    at = datetime.fromtimestamp(start + hour * _HOUR, UTC).astimezone(settings.zone)
    return at.isoformat()


_DELTA_KEYS = ("service_level", "unserved", "escalated_out", "expiries", "sla_missed", "cost")


def _delta(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in (*_DELTA_KEYS, "utilisation"):
        x = a.get(key) if a else None
        y = b.get(key) if b else None
        out[key] = _r(y - x, 4) if x is not None and y is not None else None
    waits: dict[str, float | None] = {}
    for p in PERCENTILES:
        x = a["wait_minutes"][f"p{p}"] if a else None
        y = b["wait_minutes"][f"p{p}"] if b else None
        waits[f"p{p}"] = _r(y - x, 2) if x is not None and y is not None else None
    out["wait_minutes"] = waits
    return out


def compare(
    run_a: SimRun, report_a: Mapping[str, Any], run_b: SimRun, report_b: Mapping[str, Any]
) -> dict[str, Any]:
    """What changes from run A to run B on the same arrivals: B minus A for the totals
    and per pool, the tickets whose first pool differs (by pool pair), and per hour the
    service level of each."""
    if len(run_a.outcomes) != len(run_b.outcomes):
        raise ValueError("the runs must replay the same arrivals")
    pairs: Counter[tuple[str, str]] = Counter()
    for x, y in zip(run_a.outcomes, run_b.outcomes, strict=True):
        if x.arrival.ticket.id != y.arrival.ticket.id:
            raise ValueError("the runs must replay the same arrivals, in the same order")
        if x.decision.pool_id != y.decision.pool_id:
            pairs[(x.decision.pool_id, y.decision.pool_id)] += 1
    pools_a = {p["id"]: p["totals"] for p in report_a["pools"]}
    pools_b = {p["id"]: p["totals"] for p in report_b["pools"]}
    ids = [*pools_a, *(p for p in pools_b if p not in pools_a)]
    return {
        "totals": _delta(report_a["totals"], report_b["totals"]),
        "pools": {p: _delta(pools_a.get(p), pools_b.get(p)) for p in ids},
        "routing_changed": sum(pairs.values()),
        "changes": [
            {"from": a, "to": b, "tickets": n}
            for (a, b), n in sorted(pairs.items(), key=lambda item: (-item[1], item[0]))
        ],
        "hours": [
            {
                "hour": x["hour"],
                "start": x["start"],
                "a": x["service_level"],
                "b": y["service_level"],
            }
            for x, y in zip(report_a["hours"], report_b["hours"], strict=True)
        ],
    }
