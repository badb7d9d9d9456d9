"""Browser sessions for the dashboard: a token exchanged for an HttpOnly cookie."""

from __future__ import annotations

from aiohttp import web


def session_routes() -> web.RouteTableDef:
    """The session endpoints (``/v1/session``)."""
    return web.RouteTableDef()
