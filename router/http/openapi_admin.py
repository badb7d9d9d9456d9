"""The admin part of the OpenAPI document: tokens, the audit log, the config."""

from __future__ import annotations

from typing import Any

from router.core.sim.engine import MAX_HANDLE_MINUTES
from router.core.tokens import SCOPE_POOL_ID
from router.http.admin_requests import RollbackRequest
from router.http.config_api import MAX_PREVIEW
from router.http.openapi_common import (
    AUTH_ERRORS,
    BODY_ERRORS,
    TEXT_PATTERN,
    TIME_ZONE_REF,
    err,
    int_query,
    json_body,
    path_param,
    request_body,
)
from router.http.simulate_api import MAX_RECENT, MAX_VOLUME
from router.service.token_creation import TokenRequest

# Years 1970-9998 (near the calendar's ends a week's local times overflow).
_WEEK_PATTERN = r"^(19[7-9][0-9]|[2-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])-"
_SCOPE_PATTERN = rf"^\s*(ingest|admin|viewer|agent:{SCOPE_POOL_ID.pattern})\s*$"


def _token_request() -> dict[str, Any]:
    schema = TokenRequest.model_json_schema()
    schema["properties"]["name"]["pattern"] = TEXT_PATTERN
    schema["properties"]["scopes"]["items"]["pattern"] = _SCOPE_PATTERN
    # A token bound to an agent must be able to act as one.
    schema["if"] = {"required": ["agent"], "properties": {"agent": {"type": "string"}}}
    schema["then"] = {"properties": {"scopes": {"contains": {"pattern": r"^\s*agent:"}}}}
    return schema


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
        "agent": {"type": ["string", "null"], "description": "the one agent it acts as"},
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
_CONFIG_BODY = {
    "required": True,
    "description": "YAML or JSON, at most 1 MiB, 500 pools and "
    "2,000 rules; no key twice in one mapping, at most 32 levels deep",
    "content": {
        "application/yaml": {"schema": {"$ref": _CONFIG_SCHEMA_REF}},
        "application/json": {"schema": {"$ref": _CONFIG_SCHEMA_REF}},
    },
}
_PREVIEW_N = {"type": "integer", "minimum": 1, "maximum": MAX_PREVIEW}


_MIX = {
    "type": "object",
    "description": "names and relative weights (need not sum to 1), not all 0",
    "minProperties": 1,
    "propertyNames": {"pattern": TEXT_PATTERN},
    "additionalProperties": {"type": "number", "minimum": 0},
}
_MIXES = ("countries", "languages", "tiers", "categories", "plans", "priorities", "channels")
_SIMULATE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "config": {
            "$ref": _CONFIG_SCHEMA_REF,
            "description": "the candidate config (default: the config in force)",
        },
        "compare": {
            "type": "boolean",
            "description": "run the config in force and the candidate on the same arrivals "
            "and add their difference (needs config)",
        },
        "source": {"type": "string", "enum": ["generate", "recent"]},
        "generate": {
            "type": "object",
            "description": "the generator's options (source generate), as the CLI's",
            "additionalProperties": False,
            "properties": {
                "volume": {"type": "integer", "minimum": 1, "maximum": MAX_VOLUME},
                "weekend": {"type": "number", "minimum": 0, "maximum": 100},
                **{name: _MIX for name in _MIXES},
            },
        },
        "n": {"type": "integer", "minimum": 1, "maximum": MAX_RECENT},
        "week": {"type": "string", "format": "date", "pattern": _WEEK_PATTERN},
        "tz": {"$ref": TIME_ZONE_REF},
        "target_wait_minutes": {"type": "number", "exclusiveMinimum": 0, "maximum": 1440},
        "target_level": {"type": "number", "minimum": 0, "exclusiveMaximum": 1},
        "seed": {"type": "integer", "minimum": -(2**63), "maximum": 2**63 - 1},
        "handle_minutes": {
            **_MIX,
            "description": "mean minutes per tier, '*' for the rest",
            "additionalProperties": {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": MAX_HANDLE_MINUTES,
            },
        },
        "handle": {"type": "string", "enum": ["exponential", "fixed"]},
        "lease_expiry": {"type": "number", "minimum": 0, "exclusiveMaximum": 1},
        "lease_seconds": {"type": "number", "exclusiveMinimum": 0, "maximum": 86400},
        "drain_hours": {"type": "number", "minimum": 0, "maximum": 672},
    },
}
_REPORT = {
    "type": "object",
    "description": "the report of ticket-router simulate --json (docs/simulator.md)",
    "required": ["week", "settings", "arrivals", "runs", "source"],
    "properties": {
        "week": {"type": "object"},
        "settings": {"type": "object"},
        "arrivals": {"type": "integer"},
        "runs": {"type": "array", "items": {"type": "object"}},
        "difference": {"type": "object"},
        "source": {"type": "object"},
    },
}


def _list_of(key: str, items: dict[str, Any], description: str) -> dict[str, Any]:
    return json_body(
        {
            "type": "object",
            "required": [key],
            "properties": {key: {"type": "array", "items": items}},
        },
        description,
    )


def admin_paths() -> dict[str, Any]:
    """The ``/v1/admin/...`` and ``/v1/config...`` paths and ``/v1/coverage``."""
    return {
        "/v1/admin/tokens": {
            "post": {
                "summary": "Create a bearer token (admin); the plaintext is shown once",
                "requestBody": request_body(_token_request()),
                "responses": {
                    "201": json_body(_TOKEN, "created; `token` holds the plaintext"),
                    **BODY_ERRORS,
                    **AUTH_ERRORS,
                },
            },
            "get": {
                "summary": "List tokens (admin or viewer); never a secret",
                "responses": {"200": _list_of("tokens", _TOKEN, "token metadata"), **AUTH_ERRORS},
            },
        },
        "/v1/admin/tokens/{token_id}": {
            "delete": {
                "summary": "Revoke a token (admin); never the last active admin token",
                "parameters": [path_param("token_id")],
                "responses": {
                    "204": {"description": "revoked"},
                    "404": err("unknown or already revoked"),
                    "409": err("the last active admin token: create another first"),
                    **AUTH_ERRORS,
                },
            }
        },
        "/v1/admin/audit": {
            "get": {
                "summary": "Newest audit-log records (admin or viewer)",
                "parameters": [int_query("n", 1, 1000, "how many (default 100)")],
                "responses": {
                    "200": _list_of("records", {"type": "object"}, "records, newest first"),
                    "400": err("n is not an integer from 1 to 1000"),
                    **AUTH_ERRORS,
                },
            }
        },
        "/v1/config": {
            "get": {
                "summary": "The routing config in force, with its version and author "
                "(admin or viewer)",
                "responses": {"200": json_body(_CONFIG_VERSION, "the config"), **AUTH_ERRORS},
            },
            "put": {
                "summary": "Validate and put a new config in force on every replica (admin)",
                "parameters": [
                    {
                        "name": "If-Match",
                        "in": "header",
                        "schema": {"type": "string", "pattern": r'^\s*"?[0-9]{1,18}"?\s*$'},
                        "description": "the version number you read; 412 if no longer so",
                    },
                    {"name": "comment", "in": "query", "schema": {"type": "string"}},
                ],
                "requestBody": _CONFIG_BODY,
                "responses": {
                    "200": json_body(_CONFIG_VERSION, "in force; the new version and its diff"),
                    **BODY_ERRORS,
                    "400": err("invalid config; error.problems lists every path and problem"),
                    "412": err("another version was put in force since If-Match"),
                    **AUTH_ERRORS,
                },
            },
        },
        "/v1/config/versions": {
            "get": {
                "summary": "Config history, newest first: who, when, why, diff (admin or viewer)",
                "parameters": [int_query("limit", 1, 1000, "how many (default 50)")],
                "responses": {
                    "200": _list_of("versions", _CONFIG_VERSION, "versions"),
                    "400": err("limit is not an integer from 1 to 1000"),
                    **AUTH_ERRORS,
                },
            }
        },
        "/v1/config/rollback": {
            "post": {
                "summary": "Put an earlier version in force again, as a new version (admin)",
                "requestBody": request_body(RollbackRequest.model_json_schema()),
                "responses": {
                    "200": json_body(_CONFIG_VERSION, "in force"),
                    **BODY_ERRORS,
                    "404": err("no such version"),
                    "412": err("another version was put in force meanwhile"),
                    **AUTH_ERRORS,
                },
            }
        },
        "/v1/config/preview": {
            "post": {
                "summary": "Which of the last n tickets a candidate config would route "
                "elsewhere, and why (admin)",
                "parameters": [
                    int_query("n", 1, MAX_PREVIEW, "how many recent tickets (default 500)")
                ],
                "requestBody": {
                    **_CONFIG_BODY,
                    "content": {
                        "application/yaml": {"schema": {"$ref": _CONFIG_SCHEMA_REF}},
                        "application/json": {
                            "schema": {
                                "oneOf": [
                                    {"$ref": _CONFIG_SCHEMA_REF},
                                    {
                                        "type": "object",
                                        "required": ["config"],
                                        "additionalProperties": False,
                                        "properties": {
                                            "config": {"$ref": _CONFIG_SCHEMA_REF},
                                            "n": _PREVIEW_N,
                                        },
                                    },
                                ]
                            }
                        },
                    },
                },
                "responses": {
                    "200": json_body(_PREVIEW, "the changes"),
                    **BODY_ERRORS,
                    "400": err("invalid candidate config or n"),
                    **AUTH_ERRORS,
                },
            }
        },
        "/v1/simulate": {
            "post": {
                "summary": "A what-if week through the config in force or a candidate (or "
                "both): service level, waits, utilisation, cost and Erlang C staffing per "
                "pool and hour (admin or viewer; changes nothing)",
                "requestBody": request_body(_SIMULATE),
                "responses": {
                    "200": json_body(_REPORT, "the report"),
                    **BODY_ERRORS,
                    "400": err("invalid body or candidate config; error.field names the field"),
                    **AUTH_ERRORS,
                    "429": {
                        **err(
                            "a simulation is running on this replica (or too many failed "
                            "authentications); see Retry-After"
                        ),
                        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                    },
                },
            }
        },
        "/v1/coverage": {
            "get": {
                "summary": "For each hour of the week, which languages x tiers have an "
                "open pool; gaps first (admin or viewer)",
                "parameters": [
                    {
                        "name": "tz",
                        "in": "query",
                        "schema": {"$ref": TIME_ZONE_REF},
                    },
                    {
                        "name": "week",
                        "in": "query",
                        "schema": {"type": "string", "format": "date", "pattern": _WEEK_PATTERN},
                        "description": "a date from 1970-01-01 to 9998-12-31 (its week)",
                    },
                ],
                "responses": {
                    "200": json_body({"type": "object"}, "the coverage report"),
                    "400": err("bad zone or date"),
                    **AUTH_ERRORS,
                },
            }
        },
    }
