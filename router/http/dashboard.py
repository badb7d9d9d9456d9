"""The ops dashboard served by the service: HTML and assets over the JSON API."""

from __future__ import annotations

from aiohttp import web


def dashboard_routes() -> web.RouteTableDef:
    """The dashboard's pages and assets (``/dashboard``)."""
    return web.RouteTableDef()
