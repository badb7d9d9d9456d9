"""The one error middleware: every error the API answers has the JSON shape of
:func:`router.http.util.error_body` -- aiohttp's own 404, 405 and 413 included --
and bad input is never a 500.

``InvalidInput`` raised by a handler becomes its 4xx, ``TransientError`` (Redis or
the broker away) a 503; an exception nobody expected is logged with its traceback
and answered as a JSON 500 that reveals nothing.
"""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from router.core.errors import InvalidInput, TransientError
from router.http.util import json_error

log = logging.getLogger(__name__)


def _message(request: web.Request, exc: web.HTTPException) -> tuple[str | None, str]:
    if exc.status == 404:
        return None, f"no such resource: {request.method} {request.path}"
    if exc.status == 405:
        allowed = exc.headers.get("Allow", "")
        return None, f"{request.method} is not allowed on {request.path}; allowed: {allowed}"
    if exc.status == 413:
        return "body", "the body is over the size limit of this endpoint"
    return None, exc.reason


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer every error in the one JSON shape (see the module docstring)."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or (exc.content_type == "application/json" and exc.text):
            raise  # a redirect, or one of ours already in the shape
        field, message = _message(request, exc)
        response = json_error(exc.status, field, message)
        for name in ("Allow", "Retry-After", "WWW-Authenticate"):
            if name in exc.headers:
                response.headers[name] = exc.headers[name]
        return response
    except InvalidInput as exc:
        return json_error(exc.status, exc.field or None, exc.problem)
    except TransientError as exc:
        log.warning("%s %s: %s", request.method, request.path, exc)
        response = json_error(503, None, "a dependency is unavailable; retry later")
        response.headers["Retry-After"] = "1"
        return response
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return json_error(500, None, "internal error; the service logged it")
