"""The agents' part of the OpenAPI document: pools, leases, presence."""

from __future__ import annotations

from typing import Any

from router.core.domain import DATA_ACCESSES, POOL_KINDS
from router.http.agent_requests import (
    AgentRequest,
    ClaimBody,
    CompleteBody,
    EscalateBody,
    ExtendBody,
    LeaseBody,
    PresenceBody,
    PullBody,
    ReleaseBody,
)
from router.http.openapi_common import (
    AGENT_PATTERN,
    AUTH_ERRORS,
    BODY_ERRORS,
    POOL_PATTERN,
    err,
    int_query,
    json_body,
    path_param,
    request_body,
)

_PATTERNS = {"pool": POOL_PATTERN, "agent": AGENT_PATTERN}

_LEASE = {
    "type": "object",
    "required": ["ticket_id", "agent", "expires_at", "lease_id"],
    "properties": {
        "ticket_id": {"type": "string"},
        "agent": {"type": "string"},
        "expires_at": {"type": "string", "format": "date-time"},
        "lease_id": {"type": "string", "description": "the holder's key to act on the lease"},
    },
}
_LEASE_GRANT = {
    "type": "object",
    "required": ["lease", "assignment"],
    "properties": {
        "lease": _LEASE,
        "assignment": {"$ref": "#/components/schemas/Assignment"},
    },
}
_LEASE_STATE = {
    "type": "object",
    "required": ["ticket_id", "pool", "state"],
    "properties": {
        "ticket_id": {"type": "string"},
        "pool": {"type": "string"},
        "state": {"type": "string", "enum": ["assigned", "leased", "accepted", "completed"]},
        "lease": {
            "type": "object",
            "properties": {
                "lease_id": {"type": "string"},
                "expires_at": {"type": "string", "format": "date-time"},
            },
        },
    },
}
_ESCALATED = {
    "type": "object",
    "required": ["ticket_id", "pool", "state", "moved"],
    "properties": {
        "ticket_id": {"type": "string"},
        "pool": {"type": "string", "description": "where it is queued now"},
        "state": {"type": "string", "enum": ["assigned"]},
        "moved": {"type": "boolean"},
        "tier": {"type": "string"},
        "reasons": {"type": "array", "items": {"type": "string"}},
    },
}
_AGENTS = {
    "type": "object",
    "properties": {
        s: {"type": "array", "items": {"type": "string"}} for s in ("online", "away", "offline")
    },
}
_POOL_STATUS = {
    "type": "object",
    "required": ["pool", "capacity", "open", "queued", "agents"],
    "properties": {
        "pool": {"type": "string"},
        "name": {"type": "string"},
        "kind": {"type": "string", "enum": list(POOL_KINDS)},
        "data_access": {"type": "string", "enum": list(DATA_ACCESSES)},
        "capacity": {"type": "integer"},
        "open": {"type": "integer", "description": "leased + accepted"},
        "available": {"type": "integer"},
        "queued": {"type": "integer"},
        "agents": _AGENTS,
        "agent_counts": {"type": "object", "additionalProperties": {"type": "integer"}},
    },
}
_HELD = {
    "type": "object",
    "required": ["ticket_id"],
    "properties": {
        "ticket_id": {"type": "string"},
        "state": {"type": "string"},
        "agent": {"type": ["string", "null"]},
        "expires_at": {"type": ["string", "null"], "format": "date-time"},
        "priority": {"type": ["string", "null"]},
        "tier": {"type": ["string", "null"]},
        "category": {"type": ["string", "null"]},
        "language": {"type": ["string", "null"]},
        "sla_due": {"type": ["string", "null"], "format": "date-time"},
        "decided_at": {"type": ["string", "null"], "format": "date-time"},
    },
}
_POOL_LISTING = {
    "type": "object",
    "required": ["pool", "queued", "open", "backlog", "leased"],
    "properties": {
        "pool": {"type": "string"},
        "queued": {"type": "integer"},
        "open": {"type": "integer"},
        "backlog": {"type": "array", "items": _HELD, "description": "most urgent first"},
        "leased": {"type": "array", "items": _HELD, "description": "soonest expiry first"},
    },
}
_CONFLICT = err(
    "not the lease holder; error.reason: expired, released, completed, escalated, moved "
    "(error.pool says where to, for in-house full-access pools only), not_yours or wrong_state"
)


def _agent_op(
    summary: str,
    body: type[AgentRequest] | None,
    responses: dict[str, Any],
    params: tuple[str, ...] = ("pool", "ticket_id"),
) -> dict[str, Any]:
    """An operation of the agents' API (scope ``agent:<pool>`` or ``admin``)."""
    op: dict[str, Any] = {
        "summary": summary,
        "parameters": [path_param(p, _PATTERNS.get(p)) for p in params],
        "responses": {
            "404": err("not a pool id, or no such pool"),
            **responses,
            **AUTH_ERRORS,
            "403": err("the token lacks the scope agent:<pool>, or is bound to another agent id"),
            "503": err("state store unavailable"),
        },
    }
    if body is not None:
        op["requestBody"] = request_body(body.model_json_schema())
        op["responses"].update(BODY_ERRORS)
    return op


def agent_paths() -> dict[str, Any]:
    """The ``/v1/pools/...`` paths."""
    return {
        "/v1/pools/{pool}": {
            "get": _agent_op(
                "A pool's capacity, open and queued counts, agents by presence "
                "(agent:<pool>, admin or viewer)",
                None,
                {"200": json_body(_POOL_STATUS, "the pool"), "404": err("no such pool")},
                ("pool",),
            )
        },
        "/v1/pools/{pool}/assignments": {
            "get": {
                **_agent_op(
                    "The pool's backlog and leases, for supervisors (no ticket content; "
                    "agent:<pool>, admin or viewer)",
                    None,
                    {
                        "200": json_body(_POOL_LISTING, "backlog and leases"),
                        "400": err("limit is not an integer from 1 to 1000"),
                    },
                    ("pool",),
                ),
                "parameters": [
                    path_param("pool", POOL_PATTERN),
                    int_query("limit", 1, 1000, "how many of each (default 100)"),
                ],
            }
        },
        "/v1/pools/{pool}/assignments/next": {
            "post": _agent_op(
                "Lease the pool's most urgent ticket, waiting up to `wait` seconds",
                PullBody,
                {
                    "200": json_body(_LEASE_GRANT, "a lease and the (masked) assignment"),
                    "204": {"description": "none came; X-Router-Reason: empty|at-capacity"},
                    "404": err("no such pool"),
                },
                ("pool",),
            )
        },
        "/v1/pools/{pool}/assignments/{ticket_id}/claim": {
            "post": _agent_op(
                "Lease a ticket whose message came from the pool's queue",
                ClaimBody,
                {
                    "200": json_body(_LEASE_GRANT, "a lease (the same one for its agent)"),
                    "404": err("no such ticket in this pool"),
                    "409": _CONFLICT,
                    "429": err("the pool is at capacity; retry after Retry-After"),
                },
            )
        },
        **{
            f"/v1/pools/{{pool}}/assignments/{{ticket_id}}/{action}": {
                "post": _agent_op(
                    summary,
                    body,
                    {
                        "200": json_body(_LEASE_STATE, "done"),
                        "404": err("no such ticket in this pool"),
                        "409": _CONFLICT,
                    },
                )
            }
            for action, summary, body in (
                ("accept", "Accept: stops SLA escalation, renews the lease", LeaseBody),
                ("extend", "Make the lease end `seconds` from now", ExtendBody),
                ("complete", "Complete with an outcome; frees capacity", CompleteBody),
                ("release", "Put the ticket back in the pool's backlog", ReleaseBody),
            )
        },
        "/v1/pools/{pool}/assignments/{ticket_id}/escalate": {
            "post": _agent_op(
                "Escalate to tier 2: decided again and queued where chosen",
                EscalateBody,
                {
                    "200": json_body(_ESCALATED, "where it went"),
                    "404": err("no such ticket in this pool"),
                    "409": _CONFLICT,
                },
            )
        },
        "/v1/pools/{pool}/agents/{agent}/presence": {
            "post": _agent_op(
                "An agent's heartbeat: online, away or offline (stale after 60 s)",
                PresenceBody,
                {"200": json_body({"type": "object"}, "the status and when it goes stale")},
                ("pool", "agent"),
            )
        },
    }
