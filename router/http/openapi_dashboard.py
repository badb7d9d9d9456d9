"""The dashboard part of the OpenAPI document: the public page and its assets."""

from __future__ import annotations

from typing import Any

from router.http.dashboard import CONTENT_TYPES
from router.http.openapi_common import AUTH_ERRORS, err

_PAGE = {
    "summary": "The dashboard page (public: it holds no data; it signs in with "
    "POST /v1/session and reads the JSON API)",
    "security": [],
    "responses": {
        "200": {
            "description": "the page",
            "content": {"text/html": {"schema": {"type": "string"}}},
        },
        "304": {"description": "not modified (If-None-Match matched the ETag)"},
    },
}


def dashboard_paths() -> dict[str, Any]:
    """``/dashboard``, ``/dashboard/`` and ``/dashboard/assets/{name}``."""
    asset_types = sorted(set(CONTENT_TYPES.values()))
    return {
        "/dashboard": {"get": _PAGE},
        "/dashboard/": {"get": _PAGE},
        "/dashboard/assets/{name}": {
            "get": {
                "summary": "A stylesheet, script or image of the dashboard (public)",
                "security": [],
                "parameters": [
                    {
                        "name": "name",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                        "description": "a file name such as dashboard.js",
                    },
                    {
                        "name": "v",
                        "in": "query",
                        "schema": {"type": "string"},
                        "description": "the content hash the page links: cached for a year",
                    },
                ],
                "responses": {
                    "200": {
                        "description": "the file",
                        "content": {t: {"schema": {"type": "string"}} for t in asset_types},
                    },
                    "304": {"description": "not modified (If-None-Match matched the ETag)"},
                    "404": err("no such asset"),
                    # A name that is not a plain file name is not public: authenticated.
                    **AUTH_ERRORS,
                },
            }
        },
    }
