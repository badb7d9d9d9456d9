"""Bearer-token authentication and scope checks for the HTTP API.

Every route needs a token except the operational ones that load balancers and
Prometheus call (:data:`PUBLIC_PATHS`). Handlers state the scope they need with
:func:`require_ingest`, :func:`require_admin` or :func:`require_pool`; a refusal
is the same whatever the resource, so it reveals nothing about it.
"""

from __future__ import annotations

import logging

import orjson
from aiohttp import web
from aiohttp.typedefs import Handler

from router import appkeys as K
from router.errors import TransientError
from router.tokens import Principal

log = logging.getLogger(__name__)

PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/openapi.json"})
_PRINCIPAL = web.RequestKey("principal", Principal)


def _error(cls: type[web.HTTPException], message: str, **headers: str) -> web.HTTPException:
    body = orjson.dumps({"error": {"field": None, "message": message}}).decode()
    return cls(text=body, content_type="application/json", headers=headers or None)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Authenticate ``Authorization: Bearer <token>``; 401 when missing or not valid."""
    if request.path in PUBLIC_PATHS or request.path.startswith("/dashboard"):
        return await handler(request)
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _error(
            web.HTTPUnauthorized, "a bearer token is required", **{"WWW-Authenticate": "Bearer"}
        )
    try:
        principal = await request.app[K.TOKENS].authenticate(token.strip())
    except TransientError:
        raise _error(web.HTTPServiceUnavailable, "the token store is unavailable") from None
    if principal is None:
        raise _error(
            web.HTTPUnauthorized,
            "the token is not valid (unknown, revoked or expired)",
            **{"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    request[_PRINCIPAL] = principal
    return await handler(request)


def principal(request: web.Request) -> Principal:
    """The authenticated caller of this request."""
    return request[_PRINCIPAL]


def _forbidden(request: web.Request, need: str) -> web.HTTPException:
    who = principal(request)
    log.info(
        "refused %s %s to token %s: needs %s", request.method, request.path, who.token_id, need
    )
    return _error(web.HTTPForbidden, f"this token does not have the scope {need}")


def require_admin(request: web.Request) -> Principal:
    """The caller, if it has the ``admin`` scope; else 403."""
    who = principal(request)
    if not who.allows_admin():
        raise _forbidden(request, "admin")
    return who


def require_ingest(request: web.Request) -> Principal:
    """The caller, if it may submit tickets (``ingest`` or ``admin``); else 403."""
    who = principal(request)
    if not who.allows_ingest():
        raise _forbidden(request, "ingest")
    return who


def require_pool(request: web.Request, pool_id: str) -> Principal:
    """The caller, if it may work pool ``pool_id`` (``agent:<pool>`` or ``admin``); else 403."""
    who = principal(request)
    if not who.allows_pool(pool_id):
        raise _forbidden(request, f"agent:{pool_id}")
    return who


def actor(request: web.Request) -> str:
    """How the audit log names the caller."""
    who = principal(request)
    return f"token:{who.token_id}:{who.name}"
