"""Admin API: tokens and the audit log (scope ``admin``; every change audited)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import orjson
from aiohttp import web

from router import appkeys as K
from router.auth import actor, require_admin
from router.http_util import json_error, json_response
from router.tokens import ScopeError, TokenInfo, format_scopes, parse_scopes


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
    }


async def create_token(request: web.Request) -> web.Response:
    """Create a token; the plaintext is in this response only."""
    require_admin(request)
    try:
        body = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        return json_error(400, "body", "not valid JSON")
    if not isinstance(body, dict):
        return json_error(400, "body", "must be a JSON object")
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        return json_error(400, "name", "a non-empty string is required")
    raw_scopes = body.get("scopes")
    if (
        not isinstance(raw_scopes, list)
        or not raw_scopes
        or not all(isinstance(s, str) for s in raw_scopes)
    ):
        return json_error(400, "scopes", "a non-empty list of scopes is required")
    try:
        scopes = parse_scopes(raw_scopes)
    except ScopeError as exc:
        return json_error(400, "scopes", str(exc))
    days = body.get("expires_in_days")
    if days is not None and (not isinstance(days, int | float) or days <= 0):
        return json_error(400, "expires_in_days", "must be a positive number")
    store = request.app[K.TOKENS]
    expires_at = store.now() + timedelta(days=days) if days else None
    plaintext, info = await store.create(
        name.strip(), scopes, expires_at=expires_at, created_by=actor(request)
    )
    await request.app[K.AUDIT].record(
        actor(request),
        "token.create",
        info.token_id,
        {"name": info.name, "scopes": format_scopes(info.scopes)},
    )
    return json_response({"token": plaintext, **_info(info)}, status=201)


async def list_tokens(request: web.Request) -> web.Response:
    """Every token's metadata (never a secret)."""
    require_admin(request)
    infos = await request.app[K.TOKENS].list()
    return json_response({"tokens": [_info(i) for i in infos]})


async def revoke_token(request: web.Request) -> web.Response:
    """Revoke a token: 204, or 404 if unknown or already revoked."""
    require_admin(request)
    token_id = request.match_info["token_id"]
    if not await request.app[K.TOKENS].revoke(token_id):
        return json_error(404, "token_id", f"no active token {token_id!r}")
    await request.app[K.AUDIT].record(actor(request), "token.revoke", token_id, {})
    return web.Response(status=204)


async def audit(request: web.Request) -> web.Response:
    """The newest audit records (``?n=``, default 100, at most 1000)."""
    require_admin(request)
    try:
        n = min(int(request.query.get("n", "100")), 1000)
    except ValueError:
        return json_error(400, "n", "must be an integer")
    return json_response({"records": await request.app[K.AUDIT].recent(n)})
