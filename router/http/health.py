"""Liveness, readiness, metrics and the OpenAPI document."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from classifiers.defaults import model_info
from router.http import appkeys as K
from router.http.openapi import openapi_document
from router.http.util import json_response


def health_routes() -> list[web.RouteDef]:
    """The operational endpoints."""
    return [
        web.get("/healthz", healthz),
        web.get("/readyz", readyz),
        web.get("/metrics", metrics),
        web.get("/openapi.json", openapi),
    ]


async def healthz(request: web.Request) -> web.Response:
    """200 while the process runs."""
    return json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """200 when this replica can route: the broker and Redis reachable, the inbound
    consumer attached and (when required) Redis persistent; else 503. The body names
    every check, and ``warnings`` lists what an operator must know even while ready
    (a Redis that does not persist, or whose data vanished). ``model`` says which model
    routes, and whether it is the synthetic default (see
    :func:`classifiers.defaults.model_info`)."""
    app = request.app
    settings = app[K.SETTINGS]
    if K.SERVICE not in app and K.STARTUP in app:
        # Still opening (in the background): the step and what it waits for.
        progress = app[K.STARTUP]
        starting: dict[str, object] = {"status": "starting", "step": progress.step}
        for dependency in ("redis", "broker"):
            why = progress.waiting.get(dependency)
            starting[dependency] = f"waiting: {why}" if why is not None else "not waiting"
        return json_response(starting, status=503)
    redis_ok = K.STORE in app and await app[K.STORE].ping()
    amqp_ok = K.AMQP in app and not app[K.AMQP].is_closed
    checks: dict[str, str] = {
        "redis": "ok" if redis_ok else "unreachable",
        "broker": "ok" if amqp_ok else "unreachable",
    }
    ready = redis_ok and amqp_ok
    if K.CONSUMER in app:
        attached = await app[K.CONSUMER].attached()
        checks["consumer"] = "attached" if attached else "not attached"
        ready = ready and attached
    warnings: list[str] = []
    if K.REDIS_HEALTH in app:
        health = app[K.REDIS_HEALTH].last
        checks["redis_persistence"] = health.persistence
        warnings = [w for w in health.problems() if w != "redis unreachable"]
        if settings.require_persistent_redis and not health.persistent:
            checks["redis_persistence"] += (
                " (persistence required: ROUTER_REQUIRE_PERSISTENT_REDIS)"
            )
            ready = False
    body: dict[str, object] = {"status": "ready" if ready else "not ready", **checks}
    if K.MODEL in app:
        body["model"] = model_info(app[K.MODEL].value)
    if warnings:
        body["warnings"] = warnings
    return json_response(body, status=200 if ready else 503)


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text format."""
    body = generate_latest(request.app[K.METRICS].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def openapi(request: web.Request) -> web.Response:
    """The OpenAPI 3 description of this API."""
    return json_response(openapi_document())
