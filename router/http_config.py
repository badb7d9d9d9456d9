"""Ops API for the routing config: read, replace (validated, versioned, audited),
roll back, preview a candidate on recent tickets, and the coverage report."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
import yaml
from aiohttp import web

from classifiers.types import Prediction
from queues.config_store import ConfigConflict
from router import appkeys as K
from router.auth import actor, require_admin
from router.config import ConfigError, RoutingConfig, content_version, diff_configs
from router.config_runtime import candidate
from router.coverage import coverage_report
from router.errors import InvalidInput
from router.http_util import json_error, json_response
from router.policy_preview import preview
from router.ticket_schema import ticket_from_object

MAX_CONFIG_BYTES = 1024 * 1024
MAX_PREVIEW = 5000


def config_routes() -> list[web.RouteDef]:
    """The config and coverage endpoints."""
    return [
        web.get("/v1/config", get_config),
        web.put("/v1/config", put_config),
        web.get("/v1/config/versions", config_versions),
        web.post("/v1/config/rollback", rollback_config),
        web.post("/v1/config/preview", preview_config),
        web.get("/v1/coverage", coverage),
    ]


def _config_errors(exc: ConfigError) -> web.Response:
    problems = [{"path": path or None, "problem": problem} for path, problem in exc.problems]
    first = exc.problems[0] if exc.problems else ("", str(exc))
    return json_response(
        {"error": {"field": first[0] or None, "message": first[1], "problems": problems}},
        status=400,
    )


async def _document(request: web.Request) -> dict[str, Any] | web.Response:
    """The request body as a config document (YAML or JSON), or an error response."""
    raw = await request.content.read(MAX_CONFIG_BYTES + 1)
    if len(raw) > MAX_CONFIG_BYTES:
        return json_error(413, "body", f"a config is at most {MAX_CONFIG_BYTES} bytes")
    try:
        data = yaml.safe_load(raw)  # JSON is YAML too
    except yaml.YAMLError as exc:
        return json_error(400, "body", f"not valid YAML or JSON: {exc}")
    if not isinstance(data, dict):
        return json_error(400, "body", "the config must be a mapping of sections")
    return data


async def get_config(request: web.Request) -> web.Response:
    """The config in force: its version, who set it and when, and the document."""
    require_admin(request)
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
    body = await _document(request)
    if isinstance(body, web.Response):
        return body
    try:
        new = candidate(body, source="PUT /v1/config")
    except ConfigError as exc:
        return _config_errors(exc)
    return await _put_in_force(request, new, request.query.get("comment", ""), "api")


async def _put_in_force(
    request: web.Request, new: RoutingConfig, comment: str, source: str
) -> web.Response:
    follower = request.app[K.CONFIG_FOLLOWER]
    old = request.app[K.CONFIG].value
    expect_header = request.headers.get("If-Match")
    try:
        expect = int(expect_header.strip('"')) if expect_header else follower.number
    except ValueError:
        return json_error(400, "If-Match", "must be a config version number")
    document = {k: v for k, v in new.to_dict().items() if k != "version"}
    diff = diff_configs(old, new)
    who = actor(request)
    try:
        stored = await request.app[K.CONFIG_STORE].append(
            document,
            version=f"?.{content_version(document)}",
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
    require_admin(request)
    history = await request.app[K.CONFIG_STORE].history(int(request.query.get("limit", "50")))
    return json_response({"versions": [v.summary() for v in history]})


async def rollback_config(request: web.Request) -> web.Response:
    """Put an earlier version's document in force again (as a new version)."""
    require_admin(request)
    try:
        body = orjson.loads(await request.read())
        number = int(body["version"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return json_error(400, "version", "give the version number to roll back to")
    stored = await request.app[K.CONFIG_STORE].get(number)
    if stored is None:
        return json_error(404, "version", f"no config version {number}")
    new = candidate(stored.document, source=f"config version {number}")
    return await _put_in_force(request, new, f"rollback to version {number}", "rollback")


def _prediction(assignment: dict[str, Any]) -> Prediction:
    confidence = assignment.get("confidence", {})
    return Prediction(
        language=assignment["language"],
        language_confidence=float(confidence.get("language", 1.0)),
        tier=assignment["tier"],
        tier_confidence=float(confidence.get("tier", 1.0)),
        category=assignment["category"],
        category_confidence=float(confidence.get("category", 1.0)),
        timezone=assignment.get("timezone"),
        timezone_source=assignment.get("timezone_source", "none"),
        model_version=assignment.get("model_version", ""),
    )


async def preview_config(request: web.Request) -> web.Response:
    """Route the last ``n`` tickets (default 500) by a candidate config at the instants
    they were decided, and list those whose pool, rule or fallback would change.

    The body is the candidate config itself (YAML or JSON, ``?n=`` in the query), or
    a JSON object ``{"config": {...}, "n": 500}``.
    """
    require_admin(request)
    body = await _document(request)
    if isinstance(body, web.Response):
        return body
    wrapped = "config" in body and "pools" not in body
    try:
        n = body.get("n", 500) if wrapped else int(request.query.get("n", "500"))
    except ValueError:
        n = 0
    document = body["config"] if wrapped else body
    if not isinstance(n, int) or not 1 <= n <= MAX_PREVIEW:
        return json_error(400, "n", f"must be an integer from 1 to {MAX_PREVIEW}")
    if not isinstance(document, dict):
        return json_error(400, "config", "must be a mapping")
    try:
        new = candidate(document, source="preview")
    except ConfigError as exc:
        return _config_errors(exc)
    store = request.app[K.STORE]
    old = request.app[K.CONFIG].value
    candidates = []
    for ticket_id in await store.recent_ids(n):
        stored = await store.get(ticket_id)
        if stored is None:
            continue
        assignment = orjson.loads(stored.record)
        try:
            ticket = ticket_from_object(assignment["ticket"])
        except InvalidInput:
            continue
        at = datetime.fromisoformat(assignment["decided_at"])
        candidates.append((ticket, _prediction(assignment), at))
    loads = await store.loads(sorted(set(old.pool_ids) | set(new.pool_ids)))
    changes = preview(candidates, old, new, loads)
    return json_response(
        {
            "tickets": len(candidates),
            "changed": len(changes),
            "diff": diff_configs(old, new),
            "changes": [c.as_dict() for c in changes],
        }
    )


async def coverage(request: web.Request) -> web.Response:
    """The 168-hour coverage of the config in force (``?tz=`` zone, ``?week=`` a date)."""
    require_admin(request)
    tz_name = request.query.get("tz", "UTC")
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        return json_error(400, "tz", f"unknown IANA time zone {tz_name!r}")
    try:
        week = date.fromisoformat(request.query["week"]) if "week" in request.query else None
    except ValueError:
        return json_error(400, "week", "must be a date like 2026-03-30")
    if week is None:
        today = datetime.now(UTC).astimezone(tz).date()
        week = today - timedelta(days=today.weekday())
    return json_response(coverage_report(request.app[K.CONFIG].value, week, tz))
