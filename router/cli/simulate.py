"""``ticket-router simulate``: a what-if week through the real routing policy.

The arrivals come from a trace file (``--trace``), the service's recent tickets in
Redis (``--recent``) or the generator (``--generate``); the simulation and the report
are ``router.core.sim`` with the service's SLA steps (``router.service.simulation``).
The command reads the files, prints a summary (or JSON) and writes the chart.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
from redis.exceptions import RedisError

from router.cli.simulate_chart import render_html, render_svg
from router.cli.simulate_input import needs_model, predict, read_recent, read_trace
from router.config.load import ConfigError, RoutingConfig, load_config
from router.core.errors import TransientError
from router.core.sim import arrivals as arrivals_module
from router.core.sim.arrivals import WEEKEND, GeneratorSpec
from router.core.sim.engine import MAX_HANDLE_MINUTES, HandleTimes, SimSettings
from router.service.settings import Settings, default_config_path
from router.service.simulation import Loaded, Refused, generated, week_report

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
#: The most recent tickets ``--recent`` reads (the config preview's own limit is 5000).
MAX_RECENT = 100_000


class _Refused(Exception):
    """A problem with the command's input: one line on stderr, exit 2."""


def _mix(text: str) -> dict[str, float]:
    """``name=weight,name=weight`` -> a mapping (weights >= 0, not all 0)."""
    out: dict[str, float] = {}
    for part in text.split(","):
        name, sep, weight = part.partition("=")
        name = name.strip()
        try:
            value = float(weight) if sep else math.nan
        except ValueError:
            value = math.nan
        if not name or not 0 <= value < math.inf:
            raise argparse.ArgumentTypeError(f"expected name=weight[,name=weight...], got {text!r}")
        out[name] = value
    if sum(out.values()) <= 0:
        raise argparse.ArgumentTypeError("the weights sum to 0")
    return out


def _number(accept: Callable[[float], bool], rule: str) -> Callable[[str], float]:
    """An argparse type: a number for which ``accept`` holds (``rule`` says which)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not accept(value):
            raise argparse.ArgumentTypeError(rule)
        return value

    return parse


_positive = _number(lambda v: 0 < v < math.inf, "must be more than 0")
_share = _number(lambda v: 0 <= v < 1, "must be from 0 to less than 1")
# The clock runs minute by minute through the pools' hours: four weeks at most.
_drain = _number(lambda v: 0 <= v <= 672, "must be from 0 to 672 hours (four weeks)")
_lease = _number(lambda v: 0 < v <= 86_400, "must be more than 0 and at most 86400")


def _count(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high}")
        return value

    return parse


def _handle(text: str) -> HandleTimes:
    """``tier1=8,tier2=20[,*=10]`` minutes -> handle times (``*``: tiers not listed)."""
    means = _mix(text)
    if any(not 0 < v <= MAX_HANDLE_MINUTES for v in means.values()):
        raise argparse.ArgumentTypeError(
            f"handle times must be more than 0 minutes and at most {MAX_HANDLE_MINUTES} (a week)"
        )
    default = means.pop("*", 10.0)
    return HandleTimes({tier: m * 60 for tier, m in means.items()}, default * 60)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``simulate`` command to the ``ticket-router`` parser."""
    p = subparsers.add_parser(
        "simulate",
        help="replay a week of tickets through a config with agents who take time: "
        "service level, waits, utilisation, escalations and cost per pool and hour, and "
        "Erlang C staffing",
        description="Replay a week of arrivals through the routing policy with the "
        "config's pools as agents (capacity = concurrent agents, working in the pool's "
        "hours) and report per pool and hour. See docs/simulator.md.",
    )
    p.add_argument("--config", type=Path, default=default_config_path(), help="routing config file")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--trace", type=Path, metavar="FILE", help="arrivals export: .csv or JSON Lines"
    )
    source.add_argument(
        "--recent",
        type=_count(1, MAX_RECENT),
        nargs="?",
        const=5000,
        metavar="N",
        help="the service's N most recent tickets from Redis (ROUTER_* settings; default 5000)",
    )
    source.add_argument("--generate", action="store_true", help="generate a synthetic week")
    gen = p.add_argument_group("generator (--generate); mixes are name=weight,...")
    gen.add_argument("--volume", type=_count(0, 10_000_000), default=5000, help="tickets a week")
    gen.add_argument("--countries", type=_mix, help="customer countries (hence time zones)")
    gen.add_argument("--languages", type=_mix, help="e.g. en=65,es=22,pt=13")
    gen.add_argument("--tiers", type=_mix, help="e.g. tier1=80,tier2=20")
    gen.add_argument("--categories", type=_mix, help="e.g. billing=25,technical=25,...")
    gen.add_argument("--plans", type=_mix, help="e.g. free=45,pro=40,enterprise=15")
    gen.add_argument("--priorities", type=_mix, help="e.g. normal=60,high=20,urgent=5,low=15")
    gen.add_argument("--channels", type=_mix, help="e.g. email=50,chat=30,web=15,phone=5")
    gen.add_argument(
        "--weekend", type=float, default=WEEKEND, help="weekend share of a weekday's volume"
    )
    p.add_argument("--seed", type=int, default=1, help="random seed (generator, handle times)")
    p.add_argument(
        "--week",
        type=date.fromisoformat,
        help="a date in the week to replay (default: the first arrival's; --generate: today)",
    )
    p.add_argument("--tz", default="UTC", help="IANA zone of the report's hours and week")
    p.add_argument(
        "--handle-minutes",
        type=_handle,
        default=_handle("tier1=8,tier2=20"),
        metavar="TIER=MIN,...",
        help="mean handle time per tier, '*' for the rest (default tier1=8,tier2=20,*=10)",
    )
    p.add_argument(
        "--handle", choices=("exponential", "fixed"), default="exponential",
        help="handle time distribution around the mean (default exponential)",
    )  # fmt: skip
    numbers: tuple[tuple[str, Callable[[str], float], float, str, str], ...] = (
        ("--target-wait", _positive, 20.0, "MINUTES",
         "service level: accepted within this wait (default 20)"),
        ("--target-level", _share, 0.8, "SHARE",
         "the service level Erlang C staffs for (default 0.8)"),
        ("--lease-expiry", _share, 0.0, "SHARE",
         "share of leases agents let run out (back to the backlog); default 0"),
        ("--lease-seconds", _lease, 300.0, "SECONDS",
         "how long a lease that runs out lasted (default 300)"),
        ("--drain-hours", _drain, 168.0, "HOURS",
         "how long the clock runs on after the last arrival (default 168)"),
    )  # fmt: skip
    for flag, kind, default, metavar, text in numbers:
        p.add_argument(flag, type=kind, default=default, metavar=metavar, help=text)
    p.add_argument("--compare", type=Path, metavar="FILE2", help="a second config to run")
    p.add_argument("--model", type=Path, help="model folder for a trace without labels")
    p.add_argument(
        "--json", nargs="?", const="-", metavar="FILE", help="the JSON report (stdout or FILE)"
    )
    p.add_argument("--chart", type=Path, metavar="FILE", help="write charts: .svg or .html")
    p.set_defaults(func=run)


def _config(path: Path) -> RoutingConfig:
    try:
        return load_config(path)
    except ConfigError as exc:
        raise _Refused(str(exc)) from None


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise _Refused(f"--tz: unknown IANA time zone {name!r}") from None


def _arrivals(args: argparse.Namespace, zone: ZoneInfo) -> tuple[Loaded, dict[str, Any]]:
    if args.generate:
        spec = GeneratorSpec(
            volume=args.volume,
            countries=args.countries or arrivals_module.DEFAULT_COUNTRIES,
            languages=args.languages or arrivals_module.DEFAULT_LANGUAGES,
            tiers=args.tiers or arrivals_module.DEFAULT_TIERS,
            categories=args.categories or arrivals_module.DEFAULT_CATEGORIES,
            plans=args.plans or arrivals_module.DEFAULT_PLANS,
            priorities=args.priorities or arrivals_module.DEFAULT_PRIORITIES,
            channels=args.channels or arrivals_module.DEFAULT_CHANNELS,
            weekend=args.weekend,
        )
        try:
            loaded = generated(spec, args.week, zone, args.seed)
        except Refused as exc:
            raise _Refused(f"--generate: {exc.message}") from None
        return loaded, {"kind": "generate", "volume": args.volume}
    if args.trace is not None:
        try:
            rows, refused = read_trace(args.trace)
        except (OSError, UnicodeDecodeError) as exc:
            raise _Refused(f"--trace: cannot read {args.trace}: {exc}") from None
        rows, duplicates = _unique(rows)
        model = None
        if needs_model(rows):
            # Imported here: the learners' numeric stack takes seconds to load, and only a
            # trace without labels needs it.
            from classifiers.errors import ModelError
            from classifiers.model import load_model
            from classifiers.paths import default_model_dir

            model_dir = args.model or Settings.from_env().model_dir or default_model_dir()
            try:
                model = load_model(model_dir)
            except ModelError as exc:
                raise _Refused(
                    f"--trace: some tickets have no language, tier and category labels and "
                    f"the model cannot be loaded ({exc}); pass --model DIR"
                ) from None
        loaded = predict(rows, model)
        refused = [*refused, *duplicates, *loaded.refused]
        return Loaded(loaded.arrivals, refused, loaded.classified), {
            "kind": "trace",
            "file": str(args.trace),
        }
    try:
        loaded = asyncio.run(read_recent(Settings.from_env(), args.recent))
    except (TransientError, RedisError, OSError) as exc:
        raise _Unreachable(f"cannot reach Redis: {exc}") from None
    return loaded, {"kind": "recent", "requested": args.recent}


class _Unreachable(Exception):
    """Redis is away: exit 1."""


def _unique(rows: list[Any]) -> tuple[list[Any], list[str]]:
    """The first ticket of each id (the service drops a known id as a duplicate)."""
    seen: set[str] = set()
    out, refused = [], []
    for row in rows:
        if row.ticket.id in seen:
            refused.append(f"ticket {row.ticket.id}: duplicate id, dropped as the service would")
            continue
        seen.add(row.ticket.id)
        out.append(row)
    return out, refused


def run(args: argparse.Namespace) -> int:
    """Run the command; exit 0, 1 when Redis is away, 2 for bad input."""
    try:
        return _run(args)
    except _Refused as exc:
        print(f"ticket-router simulate: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except _Unreachable as exc:
        print(f"ticket-router simulate: {exc}", file=sys.stderr)
        return EXIT_FAILED


def _run(args: argparse.Namespace) -> int:
    config = _config(args.config)
    other = _config(args.compare) if args.compare is not None else None
    zone = _zone(args.tz)
    loaded, source = _arrivals(args, zone)
    handle: HandleTimes = args.handle_minutes
    settings = SimSettings(
        handle=HandleTimes(handle.mean_seconds, handle.default_seconds, args.handle),
        seed=args.seed,
        lease_seconds=args.lease_seconds,
        lease_expiry_share=args.lease_expiry,
        drain_seconds=args.drain_hours * 3600,
    )
    try:
        result = week_report(
            loaded,
            source,
            config,
            other,
            zone=zone,
            week=args.week,
            settings=settings,
            target_wait_seconds=args.target_wait * 60,
            target_level=args.target_level,
        )
    except Refused as exc:
        raise _Refused(exc.message) from None
    for line in loaded.refused[:5]:
        print(f"ticket-router simulate: refused {line}", file=sys.stderr)
    if len(loaded.refused) > 5:
        print(f"ticket-router simulate: ... {len(loaded.refused) - 5} more", file=sys.stderr)
    if args.json is not None:
        encoded = orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n"
        if args.json == "-":
            sys.stdout.write(encoded)
        else:
            Path(args.json).write_text(encoded, encoding="utf-8")
    if args.json != "-":
        sys.stdout.write(render_text(result))
    if args.chart is not None:
        html = args.chart.suffix.lower() in (".html", ".htm")
        args.chart.write_text(render_html(result) if html else render_svg(result), encoding="utf-8")
    return EXIT_OK


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


_COLUMNS = (
    "pool", "tickets", "SL", "p50", "p90", "p99", "util", "esc out/in", "expired",
    "SLA missed", "cost", "agent-h cfg/rec", "h short",
)  # fmt: skip


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "".join(
        "  ".join(cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in
                  enumerate(zip(row, widths, strict=True))).rstrip() + "\n"
        for row in rows
    )  # fmt: skip


def _pool_row(name: str, t: Mapping[str, Any]) -> list[str]:
    w = t["wait_minutes"]
    staffed = (
        f"{t['agent_hours_configured']:g}/{t['agent_hours_recommended']:g}"
        if "agent_hours_configured" in t
        else ""
    )
    return [
        name, str(t["tickets"]), _pct(t["service_level"]), _num(w["p50"]), _num(w["p90"]),
        _num(w["p99"]), _pct(t["utilisation"]), f"{t['escalated_out']}/{t['escalated_in']}",
        str(t["expiries"]), str(t["sla_missed"]), f"{t['cost']:,.2f}", staffed,
        str(t.get("hours_short", "")),
    ]  # fmt: skip


def render_text(result: Mapping[str, Any]) -> str:
    """A summary a person reads in a terminal: per run a table per pool, the worst
    staffing shortfalls and, with two runs, what changes."""
    week = result["week"]
    lines = [
        f"week {week['start']} .. {week['end']} ({week['zone']}, {week['hours']} h), "
        f"{result['arrivals']} arrivals ({result.get('source', {}).get('kind', '?')}), "
        f"seed {result['settings']['seed']}\n"
    ]
    for run in result["runs"]:
        target = run["staffing"]["target"]
        name = f"{run['label']}: " if run["label"] else ""
        lines.append(
            f"\n{name}{run['config']['source']} (version {run['config']['version'][:12]}); "
            f"target {target['service_level']:.0%} within {target['wait_minutes']:g} min; "
            "waits in minutes\n"
        )
        rows = [list(_COLUMNS)]
        rows += [_pool_row(p["id"], p["totals"]) for p in run["pools"]]
        rows.append(_pool_row("all", run["totals"]))
        lines.append(_table(rows))
        short = run["staffing"]["short"]
        lines.append(f"staffing short of Erlang C in {len(short)} pool-hours")
        lines.append(", worst:\n" if short else "\n")
        for row in short[:5]:
            lines.append(
                f"  {row['pool']} {row['start'][:16]}: {row['offered']} tickets, "
                f"{row['traffic']} Erlangs, configured {row['configured']}, "
                f"recommended {row['recommended']} (+{row['gap']})\n"
            )
    diff = result.get("difference")
    if diff is not None:
        t = diff["totals"]
        lines.append(
            f"\nb minus a: service level {_signed(t['service_level'], '.1f', '%', 100)}, "
            f"p90 wait {_signed(t['wait_minutes']['p90'], '.1f', ' min')}, "
            f"SLA missed {_signed(t['sla_missed'], '.0f')}, "
            f"escalated {_signed(t['escalated_out'], '.0f')}, cost {_signed(t['cost'], ',.2f')}; "
            f"{diff['routing_changed']} tickets routed to another pool first\n"
        )
        for change in diff["changes"][:5]:
            lines.append(f"  {change['from']} -> {change['to']}: {change['tickets']}\n")
        for pool, d in diff["pools"].items():
            lines.append(
                f"  {pool}: service level {_signed(d['service_level'], '.1f', '%', 100)}, "
                f"p90 wait {_signed(d['wait_minutes']['p90'], '.1f', ' min')}, "
                f"cost {_signed(d['cost'], ',.2f')}\n"
            )
    return "".join(lines)


def _signed(value: float | None, spec: str, unit: str = "", scale: float = 1) -> str:
    """``value`` with its sign (``-`` when unknown), e.g. ``+1.3%`` or ``-6,045.00``."""
    return "-" if value is None else f"{value * scale:+{spec}}{unit}"
