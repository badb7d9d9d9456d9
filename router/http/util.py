"""Small helpers shared by the HTTP handlers: JSON responses, the one error shape,
bounded body reads and strict query parameters."""

from __future__ import annotations

import re
from typing import Any

import orjson
from aiohttp import web

from router.core.errors import InvalidInput

_INTEGER = re.compile(r"-?[0-9]{1,12}")


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()


def json_response(data: Any, status: int = 200) -> web.Response:
    """A JSON response encoded with orjson."""
    return web.json_response(data, status=status, dumps=_dumps)


def error_body(status: int, field: str | None, message: str, **extra: Any) -> dict[str, Any]:
    """The one error shape of the API:
    ``{"error": {"status": ..., "field": ..., "message": ..., ...}}``; ``extra`` adds
    details some errors carry (``reason``, ``problems``, ``pool``)."""
    return {"error": {"status": status, "field": field, "message": message, **extra}}


def json_error(status: int, field: str | None, message: str, **extra: Any) -> web.Response:
    """An error response in the one shape (see :func:`error_body`)."""
    return json_response(error_body(status, field, message, **extra), status=status)


async def read_body(request: web.Request, limit: int) -> bytes:
    """The whole request body, refused with a 413 :class:`InvalidInput` past ``limit``
    bytes (by ``Content-Length`` at once, else while reading), whatever the app's
    ``client_max_size``: ``request.content.read(n)`` would return only what happens
    to be buffered, which silently cut large bodies short."""
    too_large = InvalidInput(
        "body", f"the body is over the {limit}-byte limit", status=413, reason="too_large"
    )
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.content.iter_any():
        body += chunk
        if len(body) > limit:
            raise too_large
    return bytes(body)


def query_int(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    """The integer query parameter ``name`` (``default`` when absent), from ``low`` to
    ``high``; a 400 :class:`InvalidInput` naming it otherwise (``null``, ``5.0``, ``1e3``
    included)."""
    raw = request.query.get(name)
    if raw is None:
        return default
    if not _INTEGER.fullmatch(raw) or not low <= int(raw) <= high:
        raise InvalidInput(name, f"must be an integer from {low} to {high}")
    return int(raw)
