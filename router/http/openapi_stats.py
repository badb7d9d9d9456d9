"""The KPI part of the OpenAPI document: ``/v1/stats`` and the vendor scorecards."""

from __future__ import annotations

from typing import Any

from router.core.kpi import EVENTS, GROUPINGS, MAX_WEEKS, PERIODS
from router.http.openapi_common import AUTH_ERRORS, TIME_ZONE_REF, err, int_query, json_body
from router.service.stats import SCORECARD_COLUMNS

_NUMBER_OR_NULL = {"type": ["number", "null"]}
_DURATIONS = {
    "type": "object",
    "description": "seconds; a percentile is the upper edge of its histogram bucket "
    "(never below the true value, at most 1.5 times it from 10 s up); null when none",
    "required": ["count", "p50", "p90", "p99"],
    "properties": {
        "count": {"type": "integer"},
        "p50": _NUMBER_OR_NULL,
        "p90": _NUMBER_OR_NULL,
        "p99": _NUMBER_OR_NULL,
    },
}
_FIGURES = {
    "type": "object",
    "required": [*EVENTS, "coverage_gaps", "cost", "sla", "time_to_accept", "time_to_complete"],
    "properties": {
        **{name: {"type": "integer"} for name in EVENTS},
        "coverage_gaps": {"type": "integer", "description": "routed with a fallback"},
        "cost": {"type": "number", "description": "routed x the pool's cost_per_ticket"},
        "sla": {
            "type": "object",
            "required": ["met", "missed", "attainment"],
            "properties": {
                "met": {"type": "integer", "description": "accepted by sla_due"},
                "missed": {"type": "integer"},
                "attainment": _NUMBER_OR_NULL,
            },
        },
        "time_to_accept": _DURATIONS,
        "time_to_complete": _DURATIONS,
    },
}
_SHARE = {
    "type": "object",
    "required": ["routed", "cost", "volume_share", "cost_share"],
    "properties": {
        "routed": {"type": "integer"},
        "cost": {"type": "number"},
        "volume_share": _NUMBER_OR_NULL,
        "cost_share": _NUMBER_OR_NULL,
    },
}
_POOL_BACKLOG = {
    "type": "object",
    "required": ["queued", "open", "capacity", "oldest_waiting_seconds"],
    "properties": {
        "queued": {"type": "integer"},
        "open": {"type": "integer"},
        "capacity": {"type": "integer"},
        "oldest_waiting_seconds": _NUMBER_OR_NULL,
    },
}
_TIME = {"type": "string", "format": "date-time"}
_STATS = {
    "type": "object",
    "required": ["from", "to", "by", "overall", "groups", "share", "backlog"],
    "properties": {
        "from": _TIME,
        "to": {**_TIME, "description": "exclusive; whole minutes (hours past 47 h ago)"},
        "by": {"type": "string", "enum": list(GROUPINGS)},
        "overall": _FIGURES,
        "groups": {"type": "object", "additionalProperties": _FIGURES},
        "share": {"type": "object", "additionalProperties": _SHARE},
        "backlog": {
            "type": "object",
            "required": ["queued", "open", "oldest_received_at", "oldest_waiting_seconds", "pools"],
            "properties": {
                "queued": {"type": "integer"},
                "open": {"type": "integer"},
                "oldest_received_at": {"type": ["string", "null"], "format": "date-time"},
                "oldest_waiting_seconds": _NUMBER_OR_NULL,
                "pools": {"type": "object", "additionalProperties": _POOL_BACKLOG},
            },
        },
    },
}
_WEEK = {
    "type": "object",
    "required": list(SCORECARD_COLUMNS),
    "properties": {
        "week": {"type": "string", "description": "ISO week, e.g. 2026-W48 (UTC)"},
        "from": _TIME,
        "to": _TIME,
        **{name: {"type": "integer"} for name in EVENTS},
        "sla_met": {"type": "integer"},
        "sla_missed": {"type": "integer"},
        "sla_attainment": _NUMBER_OR_NULL,
        "cost": {"type": "number"},
    },
}
_SCORECARD = {
    "type": "object",
    "required": ["vendor", "name", "pools", "weeks"],
    "properties": {
        "vendor": {"type": "string"},
        "name": {"type": "string"},
        "pools": {"type": "array", "items": {"type": "string"}},
        "weeks": {"type": "array", "items": _WEEK},
    },
}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema, "description": description}


def stats_paths() -> dict[str, Any]:
    """The ``/v1/stats`` and ``/v1/vendors/{vendor}/scorecard`` paths."""
    return {
        "/v1/stats": {
            "get": {
                "summary": "KPIs of a period: volume, SLA attainment, times to accept and "
                "complete, cost, shares, coverage gaps, the backlog now (admin or viewer)",
                "parameters": [
                    _query(
                        "period",
                        {"type": "string", "enum": list(PERIODS)},
                        "last_hour (default) or today (from midnight in tz); not with from/to",
                    ),
                    _query("tz", {"$ref": TIME_ZONE_REF}, "the zone of today (default UTC)"),
                    _query("from", _TIME, "with to: the range's start (RFC 3339, an offset)"),
                    _query("to", _TIME, "exclusive, at most 92 days after from"),
                    _query(
                        "by",
                        {"type": "string", "enum": list(GROUPINGS)},
                        "how groups are formed (default overall: none)",
                    ),
                ],
                "responses": {
                    "200": json_body(_STATS, "the figures"),
                    "400": err("a bad period, zone, range or grouping; error.field names it"),
                    **AUTH_ERRORS,
                },
            }
        },
        "/v1/vendors/{vendor}/scorecard": {
            "get": {
                "summary": "A vendor's weekly scorecard: volume, SLA attainment, cost, "
                "escalations, expiries (admin or viewer, or an agent token for its own pools)",
                "parameters": [
                    {
                        "name": "vendor",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                        "description": "the vendor's key: its name in lower case, other "
                        "characters as '-' (e.g. andes-contact-center-s-a-s); in-house",
                    },
                    int_query("weeks", 1, MAX_WEEKS, "how many ISO weeks (default 4)"),
                    _query("format", {"type": "string", "enum": ["json", "csv"]}, "default json"),
                ],
                "responses": {
                    "200": {
                        "description": "the weeks, oldest first",
                        "content": {
                            "application/json": {"schema": _SCORECARD},
                            "text/csv": {"schema": {"type": "string"}},
                        },
                    },
                    "400": err("weeks or format out of range"),
                    "404": err("admin: no such vendor in the config in force"),
                    **AUTH_ERRORS,
                    "403": err("an agent token none of whose pools is the vendor's"),
                },
            }
        },
    }
