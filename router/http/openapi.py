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
from router.core.domain import DATA_ACCESSES, POOL_KINDS, PRIORITIES
from router.core.ticket_schema import TicketModel
from router.http.openapi_admin import admin_paths
from router.http.openapi_agents import agent_paths
from router.http.openapi_common import (
    AUTH_ERRORS,
    BODY_ERRORS,
    ERROR,
    TEXT_PATTERN,
    TICKET_ID_PATTERN,
    TIME_ZONE,
    TIME_ZONE_REF,
    err,
    json_body,
    path_param,
    request_body,
)
from router.http.openapi_dashboard import dashboard_paths
from router.http.openapi_session import session_paths
from router.http.openapi_stats import stats_paths

_PUBLIC: list[dict[str, list[str]]] = []  # security: none
_HEALTHY = {
    "type": "object",
    "required": ["status"],
    "properties": {"status": {"type": "string", "enum": ["ok"]}},
}
_READY = {
    "type": "object",
    "required": ["status"],
    "properties": {
        "status": {"type": "string", "enum": ["ready", "not ready"]},
        "warnings": {"type": "array", "items": {"type": "string"}},
        "model": {
            "type": "object",
            "description": "the model routing; synthetic_heads and note when tier or category "
            "were trained on synthetic tickets (the shipped default)",
            "required": ["version"],
            "properties": {
                "version": {"type": "string"},
                "synthetic_default": {"type": "boolean"},
                "synthetic_heads": {"type": "array", "items": {"type": "string"}},
                "note": {"type": "string"},
            },
        },
    },
    "additionalProperties": {"type": ["string", "array"]},
}


def _config_schemas() -> dict[str, Any]:
    """The editors' JSON Schema of the config file (shipped beside this module), its
    definitions moved to the OpenAPI components."""
    text = (Path(__file__).parent.parent / "config" / "config.schema.json").read_text(
        encoding="utf-8"
    )
    schema: dict[str, Any] = json.loads(text.replace("#/$defs/", "#/components/schemas/"))
    defs = schema.pop("$defs", {})
    schema.pop("$schema", None)
    defs["PoolModel"]["properties"]["timezone"] = {"$ref": TIME_ZONE_REF}
    return {"RoutingConfig": schema, **defs}


def _ticket_schema() -> dict[str, Any]:
    """The validator's own schema, with what pydantic cannot say about it added."""
    schema = TicketModel.model_json_schema(ref_template="#/components/schemas/{model}")
    zone = schema["$defs"]["CustomerModel"]["properties"]["timezone"]
    zone["anyOf"] = [{"$ref": TIME_ZONE_REF}, {"type": "null"}]
    schema["properties"]["id"]["pattern"] = TICKET_ID_PATTERN
    schema["properties"]["id"]["description"] = (
        "the idempotency key, NFC-normalised; no control or invisible characters"
    )
    # One of subject and body must have text.
    schema["anyOf"] = [
        {"required": [name], "properties": {name: {"type": "string", "pattern": TEXT_PATTERN}}}
        for name in ("subject", "body")
    ]
    schema["description"] = (
        "The inbound ticket, at most 64 KiB. Unknown top-level fields are kept. The "
        "document is at most 32 levels deep, has no key twice in one object and no "
        "integer outside 64 bits."
    )
    return schema


@functools.cache
def _document() -> dict[str, Any]:
    ticket_schema = _ticket_schema()
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
            "pool_kind": {"type": "string", "enum": list(POOL_KINDS)},
            "data_access": {"type": "string", "enum": list(DATA_ACCESSES)},
            "tier": {"type": "string"},
            "category": {"type": "string"},
            "language": {"type": "string"},
            "timezone": {"type": ["string", "null"]},
            "priority": {"type": "string", "enum": list(PRIORITIES)},
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
        "info": {
            "title": "ticket-router",
            "version": __version__,
            "description": "Every error has the body of `#/components/schemas/Error`: "
            "the statuses listed per operation, and 404 for a path and 405 (with `Allow`) "
            "for a method this document does not list. Request bodies are strict: unknown "
            "fields refused, no type coercion, no key twice in one object, at most 32 "
            "levels deep.",
        },
        "paths": {
            "/v1/tickets": {
                "post": {
                    "summary": "Submit a ticket for routing (idempotent on id)",
                    "requestBody": request_body({"$ref": "#/components/schemas/Ticket"}),
                    "responses": {
                        "202": json_body(accepted, "published with confirm, or already known"),
                        **BODY_ERRORS,
                        "413": err("over the 64 KiB limit"),
                        **AUTH_ERRORS,
                        "503": err("broker unavailable; retry"),
                    },
                }
            },
            "/v1/tickets/{ticket_id}": {
                "get": {
                    "summary": "A ticket's state and assignment",
                    "parameters": [path_param("ticket_id")],
                    "responses": {
                        "200": json_body(ticket_state, "state, decision and reasons"),
                        "404": err("unknown ticket id"),
                        **AUTH_ERRORS,
                        "403": err("an agent token and a ticket not of its pools (or unknown)"),
                        "503": err("state store unavailable"),
                    },
                }
            },
            **admin_paths(),
            **agent_paths(),
            **stats_paths(),
            "/healthz": {
                "get": {
                    "summary": "Process alive (public)",
                    "security": _PUBLIC,
                    "responses": {"200": json_body(_HEALTHY, "alive")},
                }
            },
            "/readyz": {
                "get": {
                    "summary": "Ready to route: broker, Redis and the consumer (public)",
                    "security": _PUBLIC,
                    "responses": {
                        "200": json_body(_READY, "ready"),
                        "503": json_body(_READY, "not ready; the body names what is not"),
                    },
                }
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics, text format (public)",
                    "security": _PUBLIC,
                    "responses": {
                        "200": {
                            "description": "metrics",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document (public)",
                    "security": _PUBLIC,
                    "responses": {"200": json_body({"type": "object"}, "OpenAPI 3.1")},
                }
            },
            **dashboard_paths(),
            # Last: the fuzz run's failed sign-ins use up the failed-authentication
            # allowance of its address, which would slow the operations after them.
            **session_paths(),
        },
        "security": [{"bearer": []}, {"session": []}],
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "scopes: ingest (platforms), agent:<pool> (agents), admin "
                    "(ops), viewer (ops, read only)",
                },
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "tr_session",
                    "description": "the dashboard's session (POST /v1/session); requests "
                    "but GET, HEAD and OPTIONS also need X-CSRF-Token",
                },
            },
            "schemas": {
                "Ticket": ticket_schema,
                **defs,
                "Assignment": assignment,
                **_config_schemas(),
                "Error": ERROR,
                "TimeZone": TIME_ZONE,
            },
        },
    }


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document (built once)."""
    return _document()
