"""``POST /v1/simulate``: the what-if simulator over HTTP (admin or viewer).

The body names a candidate config (default: the one in force), whether to run the
config in force against it (``compare``), the arrivals (a generated week, or the
service's recent tickets as the config preview reads them) and the targets; the answer
is the report ``ticket-router simulate --json`` writes, built by the same code
(:func:`router.service.simulation.week_report`).

A simulation is CPU work of seconds: it runs in one worker process, so health checks,
ingestion and agents' pulls keep answering (a thread would share the interpreter lock
and its garbage collections). One at a time per replica: a second one is answered 429
with ``Retry-After``. The generated volume is capped (:data:`MAX_VOLUME`) and the
recent tickets read at :data:`MAX_RECENT`.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import date
from multiprocessing import get_context
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web

from router.config.load import ConfigError, RoutingConfig
from router.core.errors import InvalidInput
from router.core.json_input import loads_strict
from router.core.sim import arrivals as defaults
from router.core.sim.arrivals import GeneratorSpec
from router.core.sim.engine import MAX_HANDLE_MINUTES, HandleTimes, SimSettings
from router.http import appkeys as K
from router.http.auth import require_read
from router.http.util import json_error, json_response, read_body
from router.service.config_follower import candidate
from router.service.simulation import Refused, WhatIfJob, run_job

#: The most tickets a generated week may have (a week of 50,000 through the example
#: config takes some 3 s of CPU for one run, twice that with ``compare``).
MAX_VOLUME = 50_000
#: The most recent tickets ``"source": "recent"`` reads (the config preview's limit).
MAX_RECENT = 5000
#: Seconds a refused second simulation is told to wait.
RETRY_AFTER = 10
#: The body's fields and the generator's (``generate``), for the unknown-field 400.
FIELDS = frozenset({
    "config", "compare", "source", "generate", "n", "week", "tz", "target_wait_minutes",
    "target_level", "seed", "handle_minutes", "handle", "lease_expiry", "lease_seconds",
    "drain_hours",
})  # fmt: skip
GENERATE_FIELDS = frozenset({"volume", "weekend", *GeneratorSpec(0).mixes()})

_pool: ProcessPoolExecutor | None = None
_running = False


def simulate_routes() -> list[web.RouteDef]:
    """The simulator's endpoint."""
    return [web.post("/v1/simulate", simulate_week)]


def _worker() -> ProcessPoolExecutor:
    """One worker process for simulations, started on first use."""
    global _pool
    if _pool is None:
        _pool = ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"))
    return _pool


def _number(
    body: Mapping[str, Any],
    name: str,
    default: float,
    low: float,
    high: float,
    *,
    low_open: bool = False,
    high_open: bool = False,
    prefix: str = "",
) -> float:
    """The number field ``name`` of ``body`` from ``low`` to ``high`` (either end open if
    so marked); a 400 naming ``prefix + name`` otherwise."""
    value = body.get(name, default)
    name = prefix + name
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(name, "must be a number")
    above = value > low if low_open else value >= low
    below = value < high if high_open else value <= high
    if not (above and below):
        lo = f"more than {low:g} and" if low_open else f"from {low:g} to"
        hi = f"less than {high:g}" if high_open else ("at most" if low_open else "") + f" {high:g}"
        raise InvalidInput(name, f"must be {lo} {hi.strip()}")
    return float(value)


def _integer(
    body: Mapping[str, Any], name: str, default: int, low: int, high: int, prefix: str = ""
) -> int:
    """The integer field ``name`` of ``body`` from ``low`` to ``high``; a 400 naming
    ``prefix + name`` otherwise."""
    value = body.get(name, default)
    name = prefix + name
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(name, f"must be an integer from {low} to {high}")
    return value


def _mix(value: Any, name: str) -> dict[str, float]:
    """``{"en": 65, "es": 22}``: names with weights >= 0, not all 0."""
    if not isinstance(value, dict) or not value:
        raise InvalidInput(name, "must be an object of names and weights")
    out: dict[str, float] = {}
    for key, weight in value.items():
        if (
            not key.strip()
            or isinstance(weight, bool)
            or not isinstance(weight, int | float)
            or not 0 <= weight < math.inf
        ):
            raise InvalidInput(f"{name}.{key}", "must be a number >= 0")
        out[key] = float(weight)
    if sum(out.values()) <= 0:
        raise InvalidInput(name, "the weights sum to 0")
    return out


def _spec(value: Any) -> GeneratorSpec:
    """The generator's options (``generate``), the CLI's defaults where absent."""
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise InvalidInput("generate", "must be an object")
    if extra := sorted(set(value) - GENERATE_FIELDS):
        raise InvalidInput(f"generate.{extra[0]}", "unknown field")
    volume = _integer(value, "volume", 5000, 1, MAX_VOLUME, prefix="generate.")
    weekend = _number(value, "weekend", defaults.WEEKEND, 0, 100, prefix="generate.")
    mixes: dict[str, dict[str, float]] = {}
    for name, default in GeneratorSpec(0).mixes().items():
        # Plain dicts: the spec travels to the worker process, and a mapping proxy
        # (the defaults) cannot be pickled.
        given = value.get(name)
        mixes[name] = dict(default) if given is None else _mix(given, f"generate.{name}")
    spec = GeneratorSpec(
        volume=volume,
        countries=mixes["countries"],
        languages=mixes["languages"],
        tiers=mixes["tiers"],
        categories=mixes["categories"],
        plans=mixes["plans"],
        priorities=mixes["priorities"],
        channels=mixes["channels"],
        weekend=weekend,
    )
    try:
        spec.check()
    except ValueError as exc:
        field = str(exc).split(":", 1)[0]
        raise InvalidInput(
            f"generate.{field}" if field in GENERATE_FIELDS else "generate", str(exc)
        ) from None
    return spec


def _handle(value: Any, distribution: Any) -> HandleTimes:
    """``{"tier1": 8, "tier2": 20, "*": 10}`` minutes (the CLI's default when absent)."""
    if distribution not in ("exponential", "fixed"):
        raise InvalidInput("handle", "must be exponential or fixed")
    means = {"tier1": 8.0, "tier2": 20.0} if value is None else _mix(value, "handle_minutes")
    for tier, minutes in means.items():
        if not 0 < minutes <= MAX_HANDLE_MINUTES:
            raise InvalidInput(
                f"handle_minutes.{tier}",
                f"must be more than 0 minutes and at most {MAX_HANDLE_MINUTES} (a week)",
            )
    default = means.pop("*", 10.0)
    return HandleTimes({t: m * 60 for t, m in means.items()}, default * 60, distribution)


def _zone(name: Any) -> str:
    if not isinstance(name, str):
        raise InvalidInput("tz", "must be an IANA time zone name")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput("tz", f"unknown IANA time zone {name!r}") from None
    return name


def _week(value: Any) -> date | None:
    if value is None:
        return None
    try:
        day = date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        day = None
    # Near the calendar's ends a week's local times overflow a datetime.
    if day is None or not date(1970, 1, 5) <= day <= date(9998, 12, 24):
        raise InvalidInput("week", "must be a date like 2026-03-04, from 1970 to 9998")
    return day


def _config_errors(exc: ConfigError) -> web.Response:
    problems = [
        {"path": f"config.{path}" if path else "config", "problem": problem}
        for path, problem in exc.problems
    ]
    first = problems[0] if problems else {"path": "config", "problem": str(exc)}
    return json_error(400, first["path"], first["problem"], problems=problems)


async def simulate_week(request: web.Request) -> web.Response:
    """Simulate a week through the config in force or a candidate (or both, with
    ``compare``) and answer the report; see the module's docstring."""
    require_read(request)
    # The body holds a config: the config endpoints' limit.
    raw = await read_body(request, request.app[K.SETTINGS].max_config_bytes)
    if raw.lstrip()[:1] != b"{":
        raise InvalidInput("body", "must be a JSON object")
    body = await asyncio.to_thread(loads_strict, raw)
    if not isinstance(body, dict):
        raise InvalidInput("body", "must be a JSON object")
    if extra := sorted(set(body) - FIELDS):
        raise InvalidInput(extra[0], "unknown field")
    compare = body.get("compare", False)
    if not isinstance(compare, bool):
        raise InvalidInput("compare", "must be true or false")
    source = body.get("source", "generate")
    if source not in ("generate", "recent"):
        raise InvalidInput("source", "must be generate or recent")
    if source == "recent" and "generate" in body:
        raise InvalidInput("generate", "only with source generate")
    spec = _spec(body.get("generate")) if source == "generate" else None
    n = _integer(body, "n", MAX_RECENT, 1, MAX_RECENT)
    if source == "generate" and "n" in body:
        raise InvalidInput("n", "only with source recent")
    zone = _zone(body.get("tz", "UTC"))
    week = _week(body.get("week"))
    target_wait = _number(body, "target_wait_minutes", 20, 0, 1440, low_open=True)
    target_level = _number(body, "target_level", 0.8, 0, 1, high_open=True)
    seed = _integer(body, "seed", 1, -(2**63), 2**63 - 1)
    handle = _handle(body.get("handle_minutes"), body.get("handle", "exponential"))
    settings = SimSettings(
        handle=handle,
        seed=seed,
        lease_seconds=_number(body, "lease_seconds", 300, 0, 86_400, low_open=True),
        lease_expiry_share=_number(body, "lease_expiry", 0, 0, 1, high_open=True),
        # The clock runs minute by minute through the pools' hours: four weeks at most.
        drain_seconds=_number(body, "drain_hours", 168, 0, 672) * 3600,
    )
    in_force = request.app[K.CONFIG].value
    document = body.get("config")
    if compare and document is None:
        raise InvalidInput("compare", "needs a candidate config")
    new: RoutingConfig | None = None
    if document is not None:
        if not isinstance(document, dict):
            raise InvalidInput("config", "must be a mapping")
        try:
            new = await asyncio.to_thread(
                candidate, document, source="candidate", model=request.app[K.MODEL].value
            )
        except ConfigError as exc:
            return _config_errors(exc)
    first = in_force if new is None or compare else new
    second = new if compare else None
    if _running:
        response = json_error(
            429, None, "a simulation is running on this replica; retry when it is done"
        )
        response.headers["Retry-After"] = str(RETRY_AFTER)
        return response
    _mark(True)
    try:
        records: list[tuple[str, bytes]] = []
        kind: dict[str, Any] = {"kind": "generate", "volume": spec.volume} if spec else {}
        if spec is None:
            store = request.app[K.STORE]
            for ticket_id in await store.recent_ids(n):
                stored = await store.get(ticket_id)
                if stored is not None:
                    records.append((ticket_id, stored.record))
            kind = {"kind": "recent", "requested": n}
        docs = await asyncio.to_thread(
            lambda: (first.to_dict(), second.to_dict() if second else None)
        )
        job = WhatIfJob(
            config=docs[0],
            config_source=first.source,
            other=docs[1],
            other_source=second.source if second else "",
            source=kind,
            zone=zone,
            week=week,
            settings=settings,
            target_wait_seconds=target_wait * 60,
            target_level=target_level,
            spec=spec,
            records=records,
        )
        future = _submit(job)
    except BaseException:
        _mark(False)
        raise
    # Free again when the worker is done, not when this request ends: a client that
    # goes away does not stop the worker's run.
    future.add_done_callback(lambda _: _mark(False))
    try:
        result = await asyncio.wrap_future(future)
    except Refused as exc:
        return json_error(400, exc.field or "source", exc.message)
    except BrokenProcessPool:  # the worker died (killed, out of memory)
        _forget_worker()
        return json_error(503, None, "the simulation's worker stopped; retry")
    return json_response(result)


def _mark(running: bool) -> None:
    """Whether a simulation holds this replica's worker (set from the event loop, and
    cleared from the executor's thread when the worker is done)."""
    global _running
    _running = running


def _forget_worker() -> None:
    global _pool
    _pool = None


def _submit(job: WhatIfJob) -> Future[dict[str, Any]]:
    """``job`` handed to the worker process (a new one if the last one died)."""
    try:
        return _worker().submit(run_job, job)
    except BrokenProcessPool:
        _forget_worker()
        return _worker().submit(run_job, job)
