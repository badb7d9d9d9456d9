"""The agents' pull API: lease the next ticket of a pool, then accept, complete,
release, escalate or extend it; claim a ticket taken from the pool's queue; presence.

Every endpoint needs the scope ``agent:<pool>`` (or ``admin``) and checks it before
anything else, so another pool's token learns nothing about a ticket. Only the
holder of a lease (``lease_id``) may act on it; a refusal says why (409). A token
bound to one agent id pulls, claims and beats presence only as that agent (403
otherwise) and acts only on leases held by that agent (409 ``not_yours``), even
given another agent's lease id.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import unicodedata
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
from aiohttp import web

from router.core.assignment import Viewer, for_pool
from router.core.domain import AGENT_ID_RULE, valid_pool_id
from router.core.errors import InvalidInput, TransientError
from router.core.leases import Acted, Lease, Refusal
from router.core.masking import masker_for
from router.http import appkeys as K
from router.http.agent_requests import (
    B,
    ClaimBody,
    CompleteBody,
    EscalateBody,
    ExtendBody,
    LeaseBody,
    PresenceBody,
    PullBody,
    ReleaseBody,
    parse_body,
    valid_agent,
)
from router.http.appkeys import DESK
from router.http.auth import principal, require_pool, require_pool_read
from router.http.util import json_error, json_response, query_int
from router.service.escalation import Move
from router.service.leases import AgentDesk

log = logging.getLogger(__name__)

_POOL = "/v1/pools/{pool}"
_ONE = _POOL + "/assignments/{ticket_id}"


class _BadBody(Exception):
    def __init__(self, response: web.Response) -> None:
        self.response = response


async def _body(request: web.Request, model: type[B]) -> B:
    try:
        return parse_body(await request.read(), model)
    except InvalidInput as exc:
        raise _BadBody(json_error(400, exc.field, exc.problem)) from None


Handler = Callable[[web.Request, AgentDesk, str], Awaitable[web.StreamResponse]]


def _endpoint(
    handler: Handler, *, read: bool = False
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Scope check first, then the handler; bad bodies and Redis outages answered here.
    ``read``: a read that changes nothing, also open to ``viewer`` tokens."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        pool_id = request.match_info["pool"]
        (require_pool_read if read else require_pool)(request, pool_id)
        if not valid_pool_id(pool_id):  # only admin or viewer gets here with one
            return json_error(404, "pool", "not a pool id")
        try:
            return await handler(request, request.app[DESK], pool_id)
        except _BadBody as bad:
            return bad.response
        except TransientError as exc:
            log.warning("%s %s: %s", request.method, request.path, exc)
            return json_error(503, None, "the state store is unavailable; retry later")

    wrapped.__doc__ = handler.__doc__
    return wrapped


def _ticket_id(request: web.Request) -> str:
    # Tickets are stored under the NFC form of their id (see ticket_schema).
    return unicodedata.normalize("NFC", request.match_info["ticket_id"])


def _iso_ms(ms: int) -> str:
    return (
        datetime.fromtimestamp(ms / 1000, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def _names_pools(request: web.Request, pool_id: str) -> bool:
    """Whether ``pool_id``'s agents may learn other pools' ids: in-house pools with
    full access only -- an outsourced or masked pool never learns another's name."""
    config = request.app[K.CONFIG].value
    if not config.has_pool(pool_id):
        return False
    pool = config.pool(pool_id)
    return pool.kind == "in_house" and pool.data_access == "full"


def _conflict(request: web.Request, refusal: Refusal, ticket_id: str, pool_id: str) -> web.Response:
    reason, detail = refusal.reason, refusal.detail
    if reason == "missing":
        return json_error(404, "ticket_id", f"no ticket {ticket_id!r} in pool {pool_id}")
    extra: dict[str, Any] = {}
    if reason == "moved":
        if _names_pools(request, pool_id):
            message, code, extra = f"the ticket moved to pool {detail}", "moved", {"pool": detail}
        else:
            message, code = "the ticket moved to another pool", "moved"
    elif (reason == "ended" and detail == "expired") or reason == "expired":
        message, code = "your lease expired", "expired"
    elif reason == "ended":
        message, code = f"your lease ended: the ticket was {detail}", str(detail)
    elif reason in ("not_yours", "taken"):
        message, code = "another agent holds this ticket's lease", "not_yours"
    elif reason == "state" and detail == "completed":
        message, code = "the ticket is already completed", "completed"
    else:
        message, code = f"the ticket is {detail or reason}, not leased", "wrong_state"
    return json_error(409, None, message, reason=code, **extra)


def _not_this_agent(request: web.Request, agent: str) -> web.Response | None:
    """A 403 when the caller's token is bound to another agent id than ``agent``."""
    who = principal(request)
    if who.acts_as(agent):
        return None
    return json_error(403, "agent", f"this token acts only as agent {who.agent!r}")


async def _held_by_other(
    request: web.Request, desk: AgentDesk, pool_id: str, ticket_id: str, lease_id: str
) -> web.Response | None:
    """For a token bound to an agent: a refusal unless that agent holds the lease.

    Lease ids are unique per grant, so the holder read here is the holder the action
    that follows will check the same lease id against."""
    bound = principal(request).agent
    if bound is None:
        return None
    held = await desk.store.act("check", pool_id, ticket_id, lease_id)
    if isinstance(held, Refusal):
        desk.metrics.refused.labels(held.reason).inc()
        return _conflict(request, held, ticket_id, pool_id)
    if held.agent != bound:
        desk.metrics.refused.labels("not_yours").inc()
        return _conflict(request, Refusal("not_yours"), ticket_id, pool_id)
    return None


def _assignment(request: web.Request, pool_id: str, raw: bytes) -> dict[str, Any]:
    """The pool's copy: masked if the record or the config in force says so."""
    record: dict[str, Any] = orjson.loads(raw)
    config = request.app[K.CONFIG].value
    if config.has_pool(pool_id) and config.pool(pool_id).data_access == "masked":
        record["data_access"] = "masked"
    return for_pool(record, masker_for(request.app[K.SETTINGS].pseudonym_key))


def _lease_json(lease: Lease) -> dict[str, Any]:
    return {
        "ticket_id": lease.ticket_id,
        "agent": lease.agent,
        "expires_at": _iso_ms(lease.expires_ms),
        "lease_id": lease.lease_id,
    }


async def _deliver(
    request: web.Request, desk: AgentDesk, pool_id: str, lease: Lease
) -> web.StreamResponse:
    """Send the lease; if the agent is gone before it has it, the ticket goes back."""
    payload = {
        "lease": _lease_json(lease),
        "assignment": _assignment(request, pool_id, lease.record),
    }
    response = web.Response(body=orjson.dumps(payload), content_type="application/json")
    try:
        await response.prepare(request)
        await response.write_eof()
    except (ConnectionError, asyncio.CancelledError) as exc:
        log.info("ticket %s: agent left before its lease was sent; released", lease.ticket_id)
        await asyncio.shield(
            desk.store.act("release", pool_id, lease.ticket_id, lease.lease_id, "not delivered")
        )
        if isinstance(exc, asyncio.CancelledError):
            raise
    return response


def _capacity(request: web.Request, pool_id: str) -> int | None:
    config = request.app[K.CONFIG].value
    return config.pool(pool_id).capacity if config.has_pool(pool_id) else None


def _gone(request: web.Request) -> bool:
    return request.transport is None or request.transport.is_closing()


async def pull_next(request: web.Request, desk: AgentDesk, pool_id: str) -> web.StreamResponse:
    """Lease the pool's most urgent queued ticket (200), waiting up to ``wait`` seconds
    for one; 204 when none came (header ``X-Router-Reason``: empty or at-capacity)."""
    body = await _body(request, PullBody)
    if (refused := _not_this_agent(request, body.agent)) is not None:
        return refused
    if _capacity(request, pool_id) is None:
        return json_error(404, "pool", f"no pool {pool_id!r} in the config in force")
    await desk.presence.beat(pool_id, body.agent, "online")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + body.wait
    while True:
        capacity = _capacity(request, pool_id) or 0
        if _gone(request):
            return web.Response(status=204)
        lease_id = secrets.token_urlsafe(18)
        got = await desk.store.pull(
            pool_id, body.agent, lease_id, body.lease_seconds * 1000, capacity
        )
        if isinstance(got, Lease):
            desk.metrics.granted.labels(pool_id, "pull").inc()
            return await _deliver(request, desk, pool_id, got)
        remaining = deadline - loop.time()
        if remaining <= 0 or desk.watch.closing:
            why = "at-capacity" if got.reason == "full" else "empty"
            return web.Response(status=204, headers={"X-Router-Reason": why})
        await desk.watch.wait(pool_id, remaining)


async def claim(request: web.Request, desk: AgentDesk, pool_id: str) -> web.StreamResponse:
    """Lease a ticket whose message came from the pool's queue (same lease as a pull);
    409 if another agent has it or it moved; 429 while the pool is at capacity."""
    body = await _body(request, ClaimBody)
    if (refused := _not_this_agent(request, body.agent)) is not None:
        return refused
    ticket_id = _ticket_id(request)
    capacity = _capacity(request, pool_id)
    if capacity is None:
        return json_error(404, "pool", f"no pool {pool_id!r} in the config in force")
    lease_id = secrets.token_urlsafe(18)
    got = await desk.store.claim(
        pool_id, ticket_id, body.agent, lease_id, body.lease_seconds * 1000, capacity
    )
    if isinstance(got, Refusal):
        desk.metrics.refused.labels(got.reason).inc()
        if got.reason == "full":
            response = json_error(429, None, f"pool {pool_id} is at capacity; retry later")
            response.headers["Retry-After"] = "5"
            return response
        return _conflict(request, got, ticket_id, pool_id)
    if got.lease_id == lease_id:
        desk.metrics.granted.labels(pool_id, "claim").inc()
    return await _deliver(request, desk, pool_id, got)


def _lease_action(
    action: Literal["accept", "extend", "complete", "release"], model: type[LeaseBody]
) -> Handler:
    async def handle(request: web.Request, desk: AgentDesk, pool_id: str) -> web.StreamResponse:
        body = await _body(request, model)
        ticket_id = _ticket_id(request)
        if refused := await _held_by_other(request, desk, pool_id, ticket_id, body.lease_id):
            return refused
        done = await desk.store.act(action, pool_id, ticket_id, body.lease_id, body.argument())
        if isinstance(done, Refusal):
            desk.metrics.refused.labels(done.reason).inc()
            return _conflict(request, done, ticket_id, pool_id)
        desk.metrics.actions.labels(pool_id, action).inc()
        if action in ("release", "complete"):
            # A ticket back in the backlog, or capacity freed: waiting pulls may go on.
            desk.watch.notify(pool_id)
        return json_response(_acted(ticket_id, pool_id, body.lease_id, done))

    handle.__doc__ = f"``{action}`` by the lease holder; 409 names why not."
    return handle


def _acted(ticket_id: str, pool_id: str, lease_id: str, done: Acted) -> dict[str, Any]:
    out: dict[str, Any] = {"ticket_id": ticket_id, "pool": pool_id, "state": done.state}
    if done.expires_ms:
        out["lease"] = {"lease_id": lease_id, "expires_at": _iso_ms(done.expires_ms)}
    return out


async def escalate(request: web.Request, desk: AgentDesk, pool_id: str) -> web.StreamResponse:
    """The lease holder hands the ticket to tier 2: decided again and queued in the
    pool chosen (its queue is told when that is another pool)."""
    body = await _body(request, EscalateBody)
    ticket_id = _ticket_id(request)
    if refused := await _held_by_other(request, desk, pool_id, ticket_id, body.lease_id):
        return refused
    moved = await desk.mover.by_agent(pool_id, ticket_id, body.lease_id, body.reason)
    if isinstance(moved, Refusal):
        desk.metrics.refused.labels(moved.reason).inc()
        return _conflict(request, moved, ticket_id, pool_id)
    desk.metrics.actions.labels(pool_id, "escalate").inc()
    return json_response(_escalated(request, pool_id, ticket_id, moved))


def _escalated(request: web.Request, pool_id: str, ticket_id: str, move: Move) -> dict[str, Any]:
    # What the escalating pool may see of the new decision (the pool it went to and its
    # reasons name other pools; a masked pool's copy is masked): one choke point.
    config = request.app[K.CONFIG].value
    pool = config.pool(pool_id) if config.has_pool(pool_id) else None
    viewer = Viewer(pool_id, pool.kind, pool.data_access) if pool else Viewer(pool_id, "", "")
    view = for_pool(move.record, masker_for(request.app[K.SETTINGS].pseudonym_key), viewer)
    return {
        "ticket_id": ticket_id,
        "pool": view.get("pool_id"),
        "state": "assigned",
        "moved": move.moved,
        "tier": view.get("tier"),
        "reasons": view.get("reasons", []),
    }


def _summary(record: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("priority", "tier", "category", "language", "sla_due", "decided_at")
    return {k: record.get(k) for k in keys}


async def list_assignments(
    request: web.Request, desk: AgentDesk, pool_id: str
) -> web.StreamResponse:
    """The pool's queued tickets (most urgent first) and its leased and accepted ones,
    for its supervisors: ids, who, until when, no ticket content."""
    limit = query_int(request, "limit", 100, 1, 1000)
    queued_count, open_count = await desk.store.counts(pool_id)
    queued, leased = await desk.store.listing(pool_id, limit)
    return json_response(
        {
            "pool": pool_id,
            "queued": queued_count,
            "open": open_count,
            "backlog": [
                {"ticket_id": h.ticket_id, **_summary(orjson.loads(h.record or b"{}"))}
                for h in queued
            ],
            "leased": [
                {
                    "ticket_id": h.ticket_id,
                    "state": h.state,
                    "agent": h.agent,
                    "expires_at": _iso_ms(h.expires_ms) if h.expires_ms else None,
                    **_summary(orjson.loads(h.record or b"{}")),
                }
                for h in leased
            ],
        }
    )


async def pool_status(request: web.Request, desk: AgentDesk, pool_id: str) -> web.StreamResponse:
    """Capacity, open and queued counts and the agents by presence."""
    config = request.app[K.CONFIG].value
    if not config.has_pool(pool_id):
        return json_error(404, "pool", f"no pool {pool_id!r} in the config in force")
    pool = config.pool(pool_id)
    queued, open_count = await desk.store.counts(pool_id)
    agents = await desk.presence.agents(pool_id)
    return json_response(
        {
            "pool": pool_id,
            "name": pool.name,
            "kind": pool.kind,
            "data_access": pool.data_access,
            "capacity": pool.capacity,
            "open": open_count,
            "available": max(pool.capacity - open_count, 0),
            "queued": queued,
            "agents": agents,
            "agent_counts": {status: len(ids) for status, ids in agents.items()},
        }
    )


async def presence(request: web.Request, desk: AgentDesk, pool_id: str) -> web.StreamResponse:
    """An agent's heartbeat: its status until ``expires_at``, offline after that."""
    body = await _body(request, PresenceBody)
    agent = request.match_info["agent"]
    if not valid_agent(agent):
        return json_error(400, "agent", f"agent ids are {AGENT_ID_RULE}")
    if (refused := _not_this_agent(request, agent)) is not None:
        return refused
    expires = await desk.presence.beat(pool_id, agent, body.status)
    return json_response(
        {"pool": pool_id, "agent": agent, "status": body.status, "expires_at": _iso_ms(expires)}
    )


def agent_routes() -> list[web.RouteDef]:
    """The agents' endpoints."""
    return [
        web.post(_POOL + "/assignments/next", _endpoint(pull_next)),
        web.get(_POOL + "/assignments", _endpoint(list_assignments, read=True)),
        web.post(_ONE + "/claim", _endpoint(claim)),
        web.post(_ONE + "/accept", _endpoint(_lease_action("accept", LeaseBody))),
        web.post(_ONE + "/extend", _endpoint(_lease_action("extend", ExtendBody))),
        web.post(_ONE + "/complete", _endpoint(_lease_action("complete", CompleteBody))),
        web.post(_ONE + "/release", _endpoint(_lease_action("release", ReleaseBody))),
        web.post(_ONE + "/escalate", _endpoint(escalate)),
        web.get(_POOL, _endpoint(pool_status, read=True)),
        web.post(_POOL + "/agents/{agent}/presence", _endpoint(presence)),
    ]
