"""The session part of the OpenAPI document: signing in to the dashboard."""

from __future__ import annotations

from typing import Any

from router.http.openapi_common import AUTH_ERRORS, BODY_ERRORS, err, json_body, request_body
from router.http.session import SignInRequest

_SESSION = {
    "type": "object",
    "required": ["name", "scopes", "csrf", "expires_at"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "description": "the token's name"},
        "scopes": {"type": "array", "items": {"type": "string"}},
        "csrf": {
            "type": "string",
            "description": "send it as X-CSRF-Token with every signed-in request but "
            "GET, HEAD and OPTIONS",
        },
        "expires_at": {
            "type": "string",
            "format": "date-time",
            "description": "8 hours after sign-in, or the token's expiry if sooner",
        },
    },
}
_COOKIE = {
    "Set-Cookie": {
        "description": "tr_session=<opaque id>; HttpOnly; SameSite=Strict; Path=/; "
        "Max-Age=28800 (and Secure over https)",
        "schema": {"type": "string"},
    }
}
_CLEARED = {
    "Set-Cookie": {
        "description": 'tr_session=""; Max-Age=0; ... (the cookie cleared)',
        "schema": {"type": "string"},
    }
}


def session_paths() -> dict[str, Any]:
    """``/v1/session``: sign in, read the session, sign out."""
    signed_in = json_body(_SESSION, "signed in; the cookie is set")
    return {
        "/v1/session": {
            "post": {
                "summary": "Sign in: exchange an admin or viewer token for a session cookie "
                "(no credential needed: the token is in the body)",
                "security": [],
                "requestBody": request_body(SignInRequest.model_json_schema()),
                "responses": {
                    "200": {**signed_in, "headers": _COOKIE},
                    **BODY_ERRORS,
                    "401": err("the token is not valid (error.field: token)"),
                    "403": err("a valid token of another scope than admin or viewer"),
                    "429": AUTH_ERRORS["429"],
                    "503": AUTH_ERRORS["503"],
                },
            },
            "get": {
                "summary": "The session of the cookie, csrf included (admin or viewer)",
                "responses": {
                    "200": json_body(_SESSION, "the session"),
                    **AUTH_ERRORS,
                    "401": err("no valid session cookie (a bearer token has no session)"),
                },
            },
            "delete": {
                "summary": "Sign out: end the session, clear the cookie (X-CSRF-Token needed)",
                "responses": {
                    "204": {"description": "signed out", "headers": _CLEARED},
                    **AUTH_ERRORS,
                    "401": err("no valid session cookie (a bearer token has no session)"),
                    "403": err("X-CSRF-Token missing or not the session's"),
                },
            },
        }
    }
