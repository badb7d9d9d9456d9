"""Admin API: tokens and the audit log (scope ``admin``; every change audited)."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from router.core.errors import InvalidInput
from router.core.tokens import LastAdminTokenError, TokenInfo
from router.http import appkeys as K
from router.http.agent_requests import parse_body
from router.http.auth import actor, require_admin, require_read
from router.http.util import json_error, json_response, query_int, read_body
from router.service import token_creation
from router.service.token_creation import TokenRequest

# A token request is a few hundred bytes; a larger body is a mistake or an attack.
MAX_TOKEN_REQUEST_BYTES = 16 * 1024


def admin_routes() -> list[web.RouteDef]:
    """The admin endpoints."""
    return [
        web.post("/v1/admin/tokens", create_token),
        web.get("/v1/admin/tokens", list_tokens),
        web.delete("/v1/admin/tokens/{token_id}", revoke_token),
        web.get("/v1/admin/audit", audit),
    ]


def _info(info: TokenInfo) -> dict[str, Any]:
    def iso(value: Any) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": info.token_id,
        "name": info.name,
        "scopes": sorted(str(s) for s in info.scopes),
        "created_at": iso(info.created_at),
        "expires_at": iso(info.expires_at),
        "revoked_at": iso(info.revoked_at),
        "created_by": info.created_by,
        "agent": info.agent,
    }


def _token_request(raw: bytes) -> TokenRequest:
    """The body as a token request; ``InvalidInput`` naming the field otherwise."""
    try:
        return parse_body(raw, TokenRequest)
    except InvalidInput as exc:
        if exc.reason != "number_too_large":
            raise
        # No field of a token request takes an integer past 64 bits. Rather than the
        # decoder's "body: outside the 64-bit range", name the field and what it allows,
        # as the command line does for the same value: validate the body as orjson reads
        # it (that integer as a float), only to word the refusal.
        lenient = orjson.loads(raw)
        if isinstance(lenient, dict):
            token_creation.token_request(lenient)
        raise  # it validated (the integer was under a key given twice): the decoder's word


async def create_token(request: web.Request) -> web.Response:
    """Create a token; the plaintext is in this response only."""
    require_admin(request)
    body = _token_request(await read_body(request, MAX_TOKEN_REQUEST_BYTES))
    plaintext, info = await token_creation.create_token(
        request.app[K.TOKENS], request.app[K.AUDIT], body, actor(request)
    )
    return json_response({"token": plaintext, **_info(info)}, status=201)


async def list_tokens(request: web.Request) -> web.Response:
    """Every token's metadata (never a secret)."""
    require_read(request)
    infos = await request.app[K.TOKENS].list()
    return json_response({"tokens": [_info(i) for i in infos]})


async def revoke_token(request: web.Request) -> web.Response:
    """Revoke a token: 204, 404 if unknown or already revoked, 409 for the last
    active admin token (create another first, or nobody could administer any more)."""
    require_admin(request)
    token_id = request.match_info["token_id"]
    try:
        revoked = await request.app[K.TOKENS].revoke(token_id)
    except LastAdminTokenError as exc:
        return json_error(409, "token_id", str(exc))
    if not revoked:
        return json_error(404, "token_id", f"no active token {token_id!r}")
    await request.app[K.AUDIT].record(actor(request), "token.revoke", token_id, {})
    return web.Response(status=204)


async def audit(request: web.Request) -> web.Response:
    """The newest audit records (``?n=``, default 100, at most 1000)."""
    require_read(request)
    n = query_int(request, "n", 100, 1, 1000)
    return json_response({"records": await request.app[K.AUDIT].recent(n)})
