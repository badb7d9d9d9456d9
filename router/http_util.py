"""Small helpers shared by the HTTP handlers."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()


def json_response(data: Any, status: int = 200) -> web.Response:
    """A JSON response encoded with orjson."""
    return web.json_response(data, status=status, dumps=_dumps)


def json_error(status: int, field: str | None, message: str) -> web.Response:
    """The one error shape of the API: ``{"error": {"field": ..., "message": ...}}``."""
    return json_response({"error": {"field": field, "message": message}}, status=status)
