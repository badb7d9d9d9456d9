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
from router.openapi_agents import agent_paths
from router.openapi_common import AUTH_ERRORS, ERROR, err, json_body, path_param
from router.ticket_schema import TicketModel

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


def _config_schemas() -> dict[str, Any]:
    """The editors' JSON Schema of the config file (shipped beside this module), its
    definitions moved to the OpenAPI components."""
    text = Path(__file__).with_name("config.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text.replace("#/$defs/", "#/components/schemas/"))
    defs = schema.pop("$defs", {})
    schema.pop("$schema", None)
    return {"RoutingConfig": schema, **defs}


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
                        "202": json_body(accepted, "published with confirm, or already known"),
                        "400": err("invalid ticket; error.field names the field"),
                        "413": err("over the 64 KiB limit"),
                        **AUTH_ERRORS,
                        "503": err("broker unavailable; retry"),
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
                        "200": json_body(ticket_state, "state, decision and reasons"),
                        "404": err("unknown ticket id"),
                        **AUTH_ERRORS,
                        "503": err("state store unavailable"),
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
                        "201": json_body(_TOKEN, "created; `token` holds the plaintext"),
                        "400": err("invalid request; error.field names the field"),
                        **AUTH_ERRORS,
                    },
                },
                "get": {
                    "summary": "List tokens (admin); never a secret",
                    "responses": {
                        "200": json_body(
                            {
                                "type": "object",
                                "properties": {"tokens": {"type": "array", "items": _TOKEN}},
                            },
                            "token metadata",
                        ),
                        **AUTH_ERRORS,
                    },
                },
            },
            "/v1/admin/tokens/{token_id}": {
                "delete": {
                    "summary": "Revoke a token (admin)",
                    "parameters": [path_param("token_id")],
                    "responses": {
                        "204": {"description": "revoked"},
                        "404": err("unknown or already revoked"),
                        **AUTH_ERRORS,
                    },
                }
            },
            "/v1/admin/audit": {
                "get": {
                    "summary": "Newest audit-log records (admin)",
                    "parameters": [{"name": "n", "in": "query", "schema": {"type": "integer"}}],
                    "responses": {
                        "200": json_body(
                            {
                                "type": "object",
                                "properties": {
                                    "records": {"type": "array", "items": {"type": "object"}}
                                },
                            },
                            "records, newest first",
                        ),
                        **AUTH_ERRORS,
                    },
                }
            },
            "/v1/config": {
                "get": {
                    "summary": "The routing config in force, with its version and author (admin)",
                    "responses": {"200": json_body(_CONFIG_VERSION, "the config"), **AUTH_ERRORS},
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
                        "200": json_body(_CONFIG_VERSION, "in force; the new version and its diff"),
                        "400": err("invalid config; error.problems lists every path and problem"),
                        "412": err("another version was put in force since If-Match"),
                        **AUTH_ERRORS,
                    },
                },
            },
            "/v1/config/versions": {
                "get": {
                    "summary": "Config history, newest first: who, when, why, diff (admin)",
                    "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer"}}],
                    "responses": {
                        "200": json_body(
                            {
                                "type": "object",
                                "properties": {
                                    "versions": {"type": "array", "items": _CONFIG_VERSION}
                                },
                            },
                            "versions",
                        ),
                        **AUTH_ERRORS,
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
                        "200": json_body(_CONFIG_VERSION, "in force"),
                        "404": err("no such version"),
                        **AUTH_ERRORS,
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
                        "200": json_body(_PREVIEW, "the changes"),
                        "400": err("invalid candidate config"),
                        **AUTH_ERRORS,
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
                        "200": json_body({"type": "object"}, "the coverage report"),
                        "400": err("bad zone or date"),
                        **AUTH_ERRORS,
                    },
                }
            },
            **agent_paths(),
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
                "Error": ERROR,
            },
        },
    }


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document (built once)."""
    return _document()
