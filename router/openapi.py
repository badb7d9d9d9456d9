"""The OpenAPI 3 description of the HTTP API.

The ticket schema comes from the validator itself, and a test checks that every
route the app serves is described here and the other way round.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from router import __version__
from router.agent_requests import (
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
from router.ticket_schema import TicketModel

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["field", "message"],
            "properties": {
                "field": {"type": ["string", "null"], "description": "the field that is wrong"},
                "message": {"type": "string"},
            },
        }
    },
}


_TOKEN_REQUEST = {
    "type": "object",
    "required": ["name", "scopes"],
    "properties": {
        "name": {"type": "string"},
        "scopes": {
            "type": "array",
            "items": {"type": "string"},
            "description": "ingest | admin | agent:<pool id>",
        },
        "expires_in_days": {"type": "number", "exclusiveMinimum": 0},
    },
}
_TOKEN = {
    "type": "object",
    "required": ["id", "name", "scopes", "created_at"],
    "properties": {
        "token": {"type": "string", "description": "plaintext; in the create response only"},
        "id": {"type": "string"},
        "name": {"type": "string"},
        "scopes": {"type": "array", "items": {"type": "string"}},
        "created_at": {"type": "string", "format": "date-time"},
        "expires_at": {"type": ["string", "null"], "format": "date-time"},
        "revoked_at": {"type": ["string", "null"], "format": "date-time"},
        "created_by": {"type": ["string", "null"]},
    },
}


_CONFIG_SCHEMA_REF = "#/components/schemas/RoutingConfig"
_CONFIG_VERSION = {
    "type": "object",
    "required": ["version"],
    "properties": {
        "number": {"type": "integer"},
        "version": {"type": "string", "description": "recorded in every decision"},
        "author": {"type": "string"},
        "at": {"type": "string", "format": "date-time"},
        "source": {"type": "string"},
        "comment": {"type": "string"},
        "diff": {"type": "array", "items": {"type": "string"}},
        "config": {"type": "object"},
    },
}
_PREVIEW = {
    "type": "object",
    "required": ["tickets", "changed", "changes"],
    "properties": {
        "tickets": {"type": "integer"},
        "changed": {"type": "integer"},
        "diff": {"type": "array", "items": {"type": "string"}},
        "changes": {"type": "array", "items": {"type": "object"}},
    },
}


def _path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _err(description: str) -> dict[str, Any]:
    return _json({"$ref": "#/components/schemas/Error"}, description)


_AUTH_ERRORS = {
    "401": _err("no token, or not a valid one"),
    "403": _err("the token lacks the scope this needs"),
}


def _config_schemas() -> dict[str, Any]:
    """The editors' JSON Schema of the config file (shipped beside this module), its
    definitions moved to the OpenAPI components."""
    text = Path(__file__).with_name("config.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text.replace("#/$defs/", "#/components/schemas/"))
    defs = schema.pop("$defs", {})
    schema.pop("$schema", None)
    return {"RoutingConfig": schema, **defs}


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
        "kind": {"type": "string", "enum": ["in_house", "outsourced"]},
        "data_access": {"type": "string", "enum": ["full", "masked"]},
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
_CONFLICT = _err(
    "not the lease holder; error.reason: expired, released, completed, escalated, moved "
    "(error.pool says where to), not_yours or wrong_state"
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
        "parameters": [_path_param(p) for p in params],
        "responses": {**responses, **_AUTH_ERRORS, "503": _err("state store unavailable")},
    }
    if body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body.model_json_schema()}},
        }
        op["responses"]["400"] = _err("invalid body; error.field names the field")
    return op


@functools.cache
def _document() -> dict[str, Any]:
    ticket_schema = TicketModel.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = ticket_schema.pop("$defs", {})
    accepted = {
        "type": "object",
        "required": ["id", "status"],
        "properties": {
            "id": {"type": "string"},
            "status": {"type": "string", "enum": ["accepted", "duplicate"]},
            "state": {"type": "string"},
        },
    }
    ticket_state = {
        "type": "object",
        "required": ["id", "state", "assignment"],
        "properties": {
            "id": {"type": "string"},
            "state": {
                "type": "string",
                "enum": ["routing", "assigned", "leased", "accepted", "completed"],
            },
            "assignment": {"$ref": "#/components/schemas/Assignment"},
        },
    }
    assignment = {
        "type": "object",
        "required": [
            "ticket_id",
            "pool_id",
            "pool_kind",
            "tier",
            "category",
            "language",
            "timezone",
            "priority",
            "sla_due",
            "rule",
            "reasons",
            "model_version",
            "config_version",
            "received_at",
            "decided_at",
            "ticket",
        ],
        "properties": {
            "ticket_id": {"type": "string"},
            "pool_id": {"type": "string"},
            "pool_kind": {"type": "string", "enum": ["in_house", "outsourced"]},
            "data_access": {"type": "string", "enum": ["full", "masked"]},
            "tier": {"type": "string"},
            "category": {"type": "string"},
            "language": {"type": "string"},
            "timezone": {"type": ["string", "null"]},
            "priority": {"type": "string", "enum": ["low", "normal", "high", "urgent"]},
            "sla_due": {"type": "string", "format": "date-time"},
            "rule": {"type": "string"},
            "reasons": {"type": "array", "items": {"type": "string"}},
            "excluded": {"type": "object", "additionalProperties": {"type": "string"}},
            "fallback": {"type": ["string", "null"]},
            "model_version": {"type": "string"},
            "config_version": {"type": "string"},
            "received_at": {"type": "string", "format": "date-time"},
            "decided_at": {"type": "string", "format": "date-time"},
            "ticket": {"type": "object"},
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "ticket-router", "version": __version__},
        "paths": {
            "/v1/tickets": {
                "post": {
                    "summary": "Submit a ticket for routing (idempotent on id)",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Ticket"}}
                        },
                    },
                    "responses": {
                        "202": _json(accepted, "published with confirm, or already known"),
                        "400": _err("invalid ticket; error.field names the field"),
                        "413": _err("over the 64 KiB limit"),
                        **_AUTH_ERRORS,
                        "503": _err("broker unavailable; retry"),
                    },
                }
            },
            "/v1/tickets/{ticket_id}": {
                "get": {
                    "summary": "A ticket's state and assignment",
                    "parameters": [
                        {
                            "name": "ticket_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": _json(ticket_state, "state, decision and reasons"),
                        "404": _err("unknown ticket id"),
                        **_AUTH_ERRORS,
                        "503": _err("state store unavailable"),
                    },
                }
            },
            "/v1/admin/tokens": {
                "post": {
                    "summary": "Create a bearer token (admin); the plaintext is shown once",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _TOKEN_REQUEST}},
                    },
                    "responses": {
                        "201": _json(_TOKEN, "created; `token` holds the plaintext"),
                        "400": _err("invalid request; error.field names the field"),
                        **_AUTH_ERRORS,
                    },
                },
                "get": {
                    "summary": "List tokens (admin); never a secret",
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {"tokens": {"type": "array", "items": _TOKEN}},
                            },
                            "token metadata",
                        ),
                        **_AUTH_ERRORS,
                    },
                },
            },
            "/v1/admin/tokens/{token_id}": {
                "delete": {
                    "summary": "Revoke a token (admin)",
                    "parameters": [_path_param("token_id")],
                    "responses": {
                        "204": {"description": "revoked"},
                        "404": _err("unknown or already revoked"),
                        **_AUTH_ERRORS,
                    },
                }
            },
            "/v1/admin/audit": {
                "get": {
                    "summary": "Newest audit-log records (admin)",
                    "parameters": [{"name": "n", "in": "query", "schema": {"type": "integer"}}],
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "records": {"type": "array", "items": {"type": "object"}}
                                },
                            },
                            "records, newest first",
                        ),
                        **_AUTH_ERRORS,
                    },
                }
            },
            "/v1/config": {
                "get": {
                    "summary": "The routing config in force, with its version and author (admin)",
                    "responses": {"200": _json(_CONFIG_VERSION, "the config"), **_AUTH_ERRORS},
                },
                "put": {
                    "summary": "Validate and put a new config in force on every replica (admin)",
                    "parameters": [
                        {
                            "name": "If-Match",
                            "in": "header",
                            "schema": {"type": "string"},
                            "description": "the version number you read; 412 if no longer so",
                        },
                        {"name": "comment", "in": "query", "schema": {"type": "string"}},
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/yaml": {"schema": {"$ref": _CONFIG_SCHEMA_REF}},
                            "application/json": {"schema": {"$ref": _CONFIG_SCHEMA_REF}},
                        },
                    },
                    "responses": {
                        "200": _json(_CONFIG_VERSION, "in force; the new version and its diff"),
                        "400": _err("invalid config; error.problems lists every path and problem"),
                        "412": _err("another version was put in force since If-Match"),
                        **_AUTH_ERRORS,
                    },
                },
            },
            "/v1/config/versions": {
                "get": {
                    "summary": "Config history, newest first: who, when, why, diff (admin)",
                    "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer"}}],
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "versions": {"type": "array", "items": _CONFIG_VERSION}
                                },
                            },
                            "versions",
                        ),
                        **_AUTH_ERRORS,
                    },
                }
            },
            "/v1/config/rollback": {
                "post": {
                    "summary": "Put an earlier version in force again, as a new version (admin)",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["version"],
                                    "properties": {"version": {"type": "integer"}},
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": _json(_CONFIG_VERSION, "in force"),
                        "404": _err("no such version"),
                        **_AUTH_ERRORS,
                    },
                }
            },
            "/v1/config/preview": {
                "post": {
                    "summary": "Which of the last n tickets a candidate config would route "
                    "elsewhere, and why (admin)",
                    "parameters": [
                        {
                            "name": "n",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 5000},
                        },
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/yaml": {"schema": {"$ref": _CONFIG_SCHEMA_REF}},
                            "application/json": {
                                "schema": {
                                    "oneOf": [
                                        {"$ref": _CONFIG_SCHEMA_REF},
                                        {
                                            "type": "object",
                                            "required": ["config"],
                                            "properties": {
                                                "config": {"$ref": _CONFIG_SCHEMA_REF},
                                                "n": {
                                                    "type": "integer",
                                                    "minimum": 1,
                                                    "maximum": 5000,
                                                },
                                            },
                                        },
                                    ]
                                }
                            },
                        },
                    },
                    "responses": {
                        "200": _json(_PREVIEW, "the changes"),
                        "400": _err("invalid candidate config"),
                        **_AUTH_ERRORS,
                    },
                }
            },
            "/v1/coverage": {
                "get": {
                    "summary": "For each hour of the week, which languages x tiers have an "
                    "open pool; gaps first (admin)",
                    "parameters": [
                        {"name": "tz", "in": "query", "schema": {"type": "string"}},
                        {
                            "name": "week",
                            "in": "query",
                            "schema": {"type": "string", "format": "date"},
                        },
                    ],
                    "responses": {
                        "200": _json({"type": "object"}, "the coverage report"),
                        "400": _err("bad zone or date"),
                        **_AUTH_ERRORS,
                    },
                }
            },
            "/v1/pools/{pool}": {
                "get": _agent_op(
                    "A pool's capacity, open and queued counts, agents by presence",
                    None,
                    {"200": _json(_POOL_STATUS, "the pool"), "404": _err("no such pool")},
                    ("pool",),
                )
            },
            "/v1/pools/{pool}/assignments": {
                "get": {
                    **_agent_op(
                        "The pool's backlog and leases, for supervisors (no ticket content)",
                        None,
                        {"200": _json(_POOL_LISTING, "backlog and leases")},
                        ("pool",),
                    ),
                    "parameters": [
                        _path_param("pool"),
                        {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                    ],
                }
            },
            "/v1/pools/{pool}/assignments/next": {
                "post": _agent_op(
                    "Lease the pool's most urgent ticket, waiting up to `wait` seconds",
                    PullBody,
                    {
                        "200": _json(_LEASE_GRANT, "a lease and the (masked) assignment"),
                        "204": {"description": "none came; X-Router-Reason: empty|at-capacity"},
                        "404": _err("no such pool"),
                    },
                    ("pool",),
                )
            },
            "/v1/pools/{pool}/assignments/{ticket_id}/claim": {
                "post": _agent_op(
                    "Lease a ticket whose message came from the pool's queue",
                    ClaimBody,
                    {
                        "200": _json(_LEASE_GRANT, "a lease (the same one for its agent)"),
                        "404": _err("no such ticket in this pool"),
                        "409": _CONFLICT,
                        "429": _err("the pool is at capacity; retry after Retry-After"),
                    },
                )
            },
            **{
                f"/v1/pools/{{pool}}/assignments/{{ticket_id}}/{action}": {
                    "post": _agent_op(
                        summary,
                        body,
                        {
                            "200": _json(_LEASE_STATE, "done"),
                            "404": _err("no such ticket in this pool"),
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
                        "200": _json(_ESCALATED, "where it went"),
                        "404": _err("no such ticket in this pool"),
                        "409": _CONFLICT,
                    },
                )
            },
            "/v1/pools/{pool}/agents/{agent}/presence": {
                "post": _agent_op(
                    "An agent's heartbeat: online, away or offline (stale after 60 s)",
                    PresenceBody,
                    {"200": _json({"type": "object"}, "the status and when it goes stale")},
                    ("pool", "agent"),
                )
            },
            "/healthz": {
                "get": {"summary": "Process alive", "responses": {"200": {"description": "alive"}}}
            },
            "/readyz": {
                "get": {
                    "summary": "Broker and Redis reachable",
                    "responses": {
                        "200": {"description": "ready"},
                        "503": {"description": "not ready"},
                    },
                }
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics (text format)",
                    "responses": {"200": {"description": "metrics"}},
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "responses": {"200": {"description": "OpenAPI 3"}},
                }
            },
        },
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "scopes: ingest (platforms), agent:<pool> (agents), admin (ops)",
                }
            },
            "schemas": {
                "Ticket": ticket_schema,
                **defs,
                "Assignment": assignment,
                **_config_schemas(),
                "Error": _ERROR,
            },
        },
    }


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document (built once)."""
    return _document()
