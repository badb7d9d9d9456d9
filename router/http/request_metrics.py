"""HTTP request metrics: a middleware that counts every answer by route template,
method and status class and times it. Labels are bounded whatever the traffic: the
template (``/v1/pools/{pool}``, never the path itself; ``unmatched`` for a 404 or 405
of no route), one of the HTTP methods (``other`` for the rest), the status class."""

from __future__ import annotations

import asyncio
import time

from aiohttp import web
from aiohttp.typedefs import Handler

from router.http import appkeys as K

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _route(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def request_metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count and time the request (outermost, so it sees every status the API answers;
    ``cancelled`` when the client went away first)."""
    start = time.perf_counter()
    status = "5xx"  # a bug past the error middleware
    try:
        response = await handler(request)
        status = f"{response.status // 100}xx"
        return response
    except web.HTTPException as exc:
        status = f"{exc.status // 100}xx"
        raise
    except asyncio.CancelledError:
        status = "cancelled"
        raise
    finally:
        metrics = request.app.get(K.METRICS)
        if metrics is not None:
            route = _route(request)
            method = request.method if request.method in _METHODS else "other"
            metrics.http_requests.labels(route, method, status).inc()
            metrics.http_seconds.labels(route, method).observe(time.perf_counter() - start)
