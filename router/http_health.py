"""Liveness, readiness, metrics and the OpenAPI document."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from router import appkeys as K
from router.http_util import json_response
from router.openapi import openapi_document


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
    """200 when both the broker and Redis are reachable, else 503 naming which is not."""
    app = request.app
    redis_ok = K.STORE in app and await app[K.STORE].ping()
    amqp_ok = K.AMQP in app and not app[K.AMQP].is_closed
    body = {
        "status": "ready" if redis_ok and amqp_ok else "not ready",
        "redis": "ok" if redis_ok else "unreachable",
        "broker": "ok" if amqp_ok else "unreachable",
    }
    return json_response(body, status=200 if redis_ok and amqp_ok else 503)


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text format."""
    body = generate_latest(request.app[K.METRICS].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def openapi(request: web.Request) -> web.Response:
    """The OpenAPI 3 description of this API."""
    return json_response(openapi_document())
