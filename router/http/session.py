"""Browser sessions for the dashboard: a token exchanged for an HttpOnly cookie.

``POST /v1/session`` with ``{"token": "trt_..."}`` (an ``admin`` or ``viewer`` token;
no credential needed, the body is one) answers the session -- ``name``, ``scopes``,
``csrf``, ``expires_at`` -- and sets the cookie ``tr_session`` (HttpOnly,
SameSite=Strict, Path=/, Max-Age=28800, and Secure over https). The page keeps
``csrf`` in memory and sends it as ``X-CSRF-Token`` with every request that changes
something (:mod:`router.http.auth` checks it). ``GET /v1/session`` answers the same
body while the cookie is valid (a reloaded page gets its ``csrf`` back), and
``DELETE /v1/session`` signs out: the session is deleted and the cookie cleared.

A refused sign-in -- a token that is not valid -- counts as a failed authentication
of the client address, as a bad bearer token does; a valid token of another scope
(``ingest``, ``agent:<pool>``) gets 403 and counts too, so the sign-in cannot be
used to tell valid tokens apart at the full rate.
"""

from __future__ import annotations

import logging
from datetime import UTC
from typing import Any

from aiohttp import web
from pydantic import Field

from router.core.errors import InvalidInput, TransientError
from router.core.json_input import loads_strict
from router.core.sessions import SESSION_TTL_S
from router.core.tokens import format_scopes
from router.core.validation import StrictModel, validate
from router.http.auth import (
    SESSION_COOKIE,
    came_over_https,
    clear_session_cookie,
    count_failure,
    current_session,
    sessions,
    too_many_failures,
)
from router.http.util import json_error, json_response, read_body
from router.service.sessions import ActiveSession

log = logging.getLogger(__name__)

#: A sign-in body is one token: a few hundred bytes at most.
MAX_SIGN_IN_BYTES = 4096
_NOT_AVAILABLE = "sessions are not available on this service"


class SignInRequest(StrictModel):
    """The body of ``POST /v1/session``."""

    token: str = Field(min_length=1, max_length=1024, description="a bearer token, trt_...")


def session_routes() -> web.RouteTableDef:
    """The session endpoints (``/v1/session``)."""
    routes = web.RouteTableDef()
    routes.post("/v1/session")(sign_in)
    routes.get("/v1/session")(read_session)
    routes.delete("/v1/session")(sign_out)
    return routes


def session_body(active: ActiveSession) -> dict[str, Any]:
    """What the session endpoints answer: who, with which scopes, the CSRF value and
    until when (UTC, ISO 8601 with ``Z``)."""
    expires = active.session.expires_at.astimezone(UTC).isoformat(timespec="seconds")
    return {
        "name": active.principal.name,
        "scopes": format_scopes(active.principal.scopes).split(),
        "csrf": active.session.csrf,
        "expires_at": expires.replace("+00:00", "Z"),
    }


def set_session_cookie(response: web.StreamResponse, request: web.Request, session_id: str) -> None:
    """Set the session cookie: HttpOnly (no script reads it), SameSite=Strict (no other
    site's request carries it), Path=/, Max-Age 8 h, Secure when the request came over
    https (see :func:`came_over_https`)."""
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=SESSION_TTL_S,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=came_over_https(request),
    )


def _sign_in_body(raw: bytes, content_type: str) -> SignInRequest:
    if content_type != "application/json":
        # A form another site posts cannot be application/json without a CORS
        # preflight, which this service never answers: no signing in by a third party.
        raise InvalidInput("Content-Type", "must be application/json")
    if not raw.strip():
        raise InvalidInput("body", 'a JSON object {"token": "trt_..."} is required')
    data = loads_strict(raw)
    if not isinstance(data, dict):
        raise InvalidInput("body", 'must be a JSON object {"token": "trt_..."}')
    return validate(SignInRequest, data)


async def sign_in(request: web.Request) -> web.Response:
    """Exchange an ``admin`` or ``viewer`` token for a session cookie."""
    if (refused := too_many_failures(request)) is not None:
        raise refused
    use_case = sessions(request.app)
    if use_case is None:
        return json_error(503, None, _NOT_AVAILABLE)
    body = _sign_in_body(await read_body(request, MAX_SIGN_IN_BYTES), request.content_type)
    try:
        result = await use_case.sign_in(body.token.strip())
    except TransientError:
        return json_error(503, None, "the token or session store is unavailable; retry later")
    if result == "invalid":
        count_failure(request)
        return json_error(401, "token", "the token is not valid (unknown, revoked or expired)")
    if result == "scope":
        count_failure(request)
        return json_error(403, "token", "only a token with the scope admin or viewer may sign in")
    response = json_response(session_body(result))
    set_session_cookie(response, request, result.session_id)
    return response


def _no_session() -> web.Response:
    return json_error(401, SESSION_COOKIE, "not signed in: no valid session cookie")


async def read_session(request: web.Request) -> web.Response:
    """The session of the cookie (its ``csrf`` included, for a reloaded page); 401
    without one."""
    active = current_session(request)
    if active is None:  # authenticated by a bearer token: no session to show
        return _no_session()
    return json_response(session_body(active))


async def sign_out(request: web.Request) -> web.Response:
    """End the cookie's session and clear the cookie (CSRF value required)."""
    active = current_session(request)
    if active is None:
        return _no_session()
    use_case = sessions(request.app)
    if use_case is None:
        return json_error(503, None, _NOT_AVAILABLE)
    await use_case.sign_out(active.session_id)
    log.info("session closed for token %s", active.principal.token_id)
    response = web.Response(status=204)
    clear_session_cookie(response, request)
    return response
