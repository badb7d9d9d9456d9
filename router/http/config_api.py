"""Ops API for the routing config: read, replace (validated, versioned, audited),
roll back, preview a candidate on recent tickets, and the coverage report.

A config body is read whole up to ``max_config_bytes`` (1 MiB by default; 413
past it) and holds at most 500 pools and 2,000 rules (400 naming the count).
Decoding it (YAML in a worker process, JSON in a thread), validating and compiling
it, and the preview's routing of up to 5,000 tickets run off the event loop, so
health checks, ticket ingestion and agents' pulls keep answering meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, date, datetime, timedelta
from multiprocessing import get_context
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
from aiohttp import web

from classifiers.types import Classifier, Prediction
from router.config.document import DocumentError, load_document
from router.config.load import ConfigError, RoutingConfig, content_version, diff_configs
from router.core.assignment import Assignment
from router.core.config_version import ConfigConflict
from router.core.coverage import coverage_report
from router.core.errors import InvalidInput
from router.core.policy_preview import RoutingChange, preview
from router.core.ticket_schema import ticket_from_object
from router.http import appkeys as K
from router.http.admin_requests import RollbackRequest
from router.http.agent_requests import parse_body
from router.http.auth import actor, require_admin, require_read
from router.http.simulate_api import simulate_routes
from router.http.util import json_error, json_response, query_int, read_body
from router.service.config_follower import candidate

MAX_PREVIEW = 5000
_FIRST_WEEK, _LAST_WEEK = date(1970, 1, 1), date(9998, 12, 31)


def config_routes() -> list[web.RouteDef]:
    """The config and coverage endpoints."""
    return [
        web.get("/v1/config", get_config),
        web.put("/v1/config", put_config),
        web.get("/v1/config/versions", config_versions),
        web.post("/v1/config/rollback", rollback_config),
        web.post("/v1/config/preview", preview_config),
        web.get("/v1/coverage", coverage),
        *simulate_routes(),
    ]


def _config_errors(exc: ConfigError) -> web.Response:
    problems = [{"path": path or None, "problem": problem} for path, problem in exc.problems]
    first = exc.problems[0] if exc.problems else ("", str(exc))
    return json_error(400, first[0] or None, first[1], problems=problems)


def max_config_bytes(request: web.Request) -> int:
    """The config body limit (``ROUTER_MAX_CONFIG_BYTES``, 1 MiB by default)."""
    limit = request.app[K.SETTINGS].max_config_bytes
    return int(limit)


_yaml_decoder: ProcessPoolExecutor | None = None


def _decoder() -> ProcessPoolExecutor:
    """One worker process for YAML bodies, started on first use. PyYAML builds a
    few hundred thousand objects for a large config, and the garbage collections
    that triggers stop every thread for 200-400 ms at a time: in a thread of this
    process they would stall health checks just the same."""
    global _yaml_decoder
    if _yaml_decoder is None:
        _yaml_decoder = ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"))
    return _yaml_decoder


async def _decoded(raw: bytes) -> dict[str, Any] | web.Response:
    """The body as a config document, decoded off the event loop, or a 400."""
    try:
        if raw.lstrip()[:1] == b"{":  # JSON (or a YAML flow mapping): orjson, fast
            data = await asyncio.to_thread(load_document, raw)
        else:
            try:
                data = await asyncio.get_running_loop().run_in_executor(
                    _decoder(), load_document, raw
                )
            except BrokenProcessPool:  # the worker died (killed, out of memory)
                global _yaml_decoder
                _yaml_decoder = None
                data = await asyncio.to_thread(load_document, raw)
    except DocumentError as exc:
        return json_error(400, "body", str(exc))
    if not isinstance(data, dict):
        return json_error(400, "body", "the config must be a mapping of sections")
    return data


def _compile(
    body: dict[str, Any], source: str, model: Classifier | None = None
) -> RoutingConfig | web.Response:
    """Validate and compile a config document, checked against ``model`` (CPU work: run
    it in a thread)."""
    try:
        return candidate(body, source=source, model=model)
    except ConfigError as exc:
        return _config_errors(exc)


async def get_config(request: web.Request) -> web.Response:
    """The config in force: its version, who set it and when, and the document."""
    require_read(request)
    stored = await request.app[K.CONFIG_STORE].current()
    config = request.app[K.CONFIG].value
    meta = stored.summary() if stored is not None else {}
    return json_response({**meta, "version": config.version, "config": config.to_dict()})


async def put_config(request: web.Request) -> web.Response:
    """Validate and put a new config in force on every replica.

    ``If-Match: <number>`` makes it conditional on the version the caller read
    (412 otherwise); ``?comment=`` is kept with the version.
    """
    require_admin(request)
    body = await _decoded(await read_body(request, max_config_bytes(request)))
    if isinstance(body, web.Response):
        return body
    model = request.app[K.MODEL].value
    new = await asyncio.to_thread(_compile, body, "PUT /v1/config", model)
    if isinstance(new, web.Response):
        return new
    return await _put_in_force(request, new, request.query.get("comment", ""), "api")


def _to_store(old: RoutingConfig, new: RoutingConfig) -> tuple[dict[str, Any], str, list[str]]:
    """The document, content version and diff to store (a tenth of a second for a
    500-pool config: run it in a thread)."""
    document = {k: v for k, v in new.to_dict().items() if k != "version"}
    return document, f"?.{content_version(document)}", diff_configs(old, new)


async def _put_in_force(
    request: web.Request, new: RoutingConfig, comment: str, source: str
) -> web.Response:
    follower = request.app[K.CONFIG_FOLLOWER]
    old = request.app[K.CONFIG].value
    expect_header = request.headers.get("If-Match")
    expect_text = expect_header.strip().strip('"') if expect_header else None
    if expect_text is not None and not (expect_text.isascii() and expect_text.isdigit()):
        return json_error(400, "If-Match", "must be a config version number")
    expect = int(expect_text[:18]) if expect_text else follower.number
    document, version, diff = await asyncio.to_thread(_to_store, old, new)
    who = actor(request)
    try:
        stored = await request.app[K.CONFIG_STORE].append(
            document,
            version=version,
            author=who,
            source=source,
            comment=comment,
            diff=diff,
            expect=expect,
        )
    except ConfigConflict as exc:
        return json_error(
            412, "If-Match", f"version {exc.current} is in force now; read it and retry"
        )
    config = await follower.apply(stored)
    await request.app[K.AUDIT].record(
        who, "config.put", str(stored.number), {"diff": diff, "comment": comment}
    )
    return json_response({**stored.summary(), "version": config.version})


async def config_versions(request: web.Request) -> web.Response:
    """The newest versions with who, when, why and what changed."""
    require_read(request)
    limit = query_int(request, "limit", 50, 1, 1000)
    history = await request.app[K.CONFIG_STORE].history(limit)
    return json_response({"versions": [v.summary() for v in history]})


async def rollback_config(request: web.Request) -> web.Response:
    """Put an earlier version's document in force again (as a new version)."""
    require_admin(request)
    number = parse_body(await read_body(request, 4096), RollbackRequest).version
    stored = await request.app[K.CONFIG_STORE].get(number)
    if stored is None:
        return json_error(404, "version", f"no config version {number}")
    try:
        new = await asyncio.to_thread(
            candidate,
            stored.document,
            source=f"config version {number}",
            model=request.app[K.MODEL].value,
        )
    except ConfigError as exc:  # valid once, refused by today's rules (e.g. a new cap)
        return _config_errors(exc)
    return await _put_in_force(request, new, f"rollback to version {number}", "rollback")


def _prediction(assignment: dict[str, Any]) -> Prediction:
    return Assignment.from_dict(assignment).prediction()


async def preview_config(request: web.Request) -> web.Response:
    """Route the last ``n`` tickets (default 500) by a candidate config at the instants
    they were decided, and list those whose pool, rule or fallback would change.

    The body is the candidate config itself (YAML or JSON, ``?n=`` in the query), or
    a JSON object ``{"config": {...}, "n": 500}``.
    """
    require_admin(request)
    n_query = query_int(request, "n", 500, 1, MAX_PREVIEW)
    body = await _decoded(await read_body(request, max_config_bytes(request)))
    if isinstance(body, web.Response):
        return body
    wrapped = "config" in body and "pools" not in body
    n = body.get("n", 500) if wrapped else n_query
    document = body["config"] if wrapped else body
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_PREVIEW:
        return json_error(400, "n", f"must be an integer from 1 to {MAX_PREVIEW}")
    if wrapped and set(body) - {"config", "n"}:
        extra = sorted(str(k) for k in set(body) - {"config", "n"})[0]
        return json_error(400, extra, "unknown field; the wrapper holds only config and n")
    if not isinstance(document, dict):
        return json_error(400, "config", "must be a mapping")
    try:
        new = await asyncio.to_thread(
            candidate, document, source="preview", model=request.app[K.MODEL].value
        )
    except ConfigError as exc:
        return _config_errors(exc)
    store = request.app[K.STORE]
    old = request.app[K.CONFIG].value
    records = []
    for ticket_id in await store.recent_ids(n):
        stored = await store.get(ticket_id)
        if stored is not None:
            records.append(stored.record)
    loads = await store.loads(sorted(set(old.pool_ids) | set(new.pool_ids)))
    tickets, changes, diff = await asyncio.to_thread(_preview, records, old, new, loads)
    return json_response(
        {
            "tickets": tickets,
            "changed": len(changes),
            "diff": diff,
            "changes": [c.as_dict() for c in changes],
        }
    )


def _preview(
    records: Sequence[bytes], old: RoutingConfig, new: RoutingConfig, loads: dict[str, int]
) -> tuple[int, list[RoutingChange], list[str]]:
    """Route stored assignments' tickets by both configs (CPU work: run it in a thread)."""
    candidates = []
    for record in records:
        assignment = orjson.loads(record)
        try:
            ticket = ticket_from_object(assignment["ticket"])
        except InvalidInput:
            continue
        at = datetime.fromisoformat(assignment["decided_at"])
        candidates.append((ticket, _prediction(assignment), at))
    return len(candidates), preview(candidates, old, new, loads), diff_configs(old, new)


async def coverage(request: web.Request) -> web.Response:
    """The 168-hour coverage of the config in force (``?tz=`` zone, ``?week=`` a date)."""
    require_read(request)
    tz_name = request.query.get("tz", "UTC")
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        return json_error(400, "tz", f"unknown IANA time zone {tz_name!r}")
    try:
        week = date.fromisoformat(request.query["week"]) if "week" in request.query else None
    except ValueError:
        return json_error(400, "week", "must be a date like 2026-03-30")
    if week is not None and not _FIRST_WEEK <= week <= _LAST_WEEK:
        # Near the ends of the calendar a week's local times overflow a datetime.
        return json_error(400, "week", f"must be from {_FIRST_WEEK} to {_LAST_WEEK}")
    if week is None:
        today = datetime.now(UTC).astimezone(tz).date()
        week = today - timedelta(days=today.weekday())
    return json_response(coverage_report(request.app[K.CONFIG].value, week, tz))
