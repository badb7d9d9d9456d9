"""Building blocks of the OpenAPI document shared by its parts."""

from __future__ import annotations

import unicodedata
from typing import Any
from zoneinfo import available_timezones

from router.core.domain import AGENT_ID_PATTERN, POOL_ID_PATTERN

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "field", "message"],
            "properties": {
                "status": {"type": "integer", "description": "the HTTP status again"},
                "field": {"type": ["string", "null"], "description": "the field that is wrong"},
                "message": {"type": "string"},
                "reason": {"type": "string", "description": "409s: a stable code"},
                "pool": {"type": "string", "description": "409 moved: where it is now"},
                "problems": {
                    "type": "array",
                    "description": "invalid config: every path and its problem",
                    "items": {
                        "type": "object",
                        "required": ["path", "problem"],
                        "properties": {
                            "path": {"type": ["string", "null"]},
                            "problem": {"type": "string"},
                        },
                    },
                },
            },
        }
    },
}

POOL_PATTERN = POOL_ID_PATTERN
TIME_ZONE_REF = "#/components/schemas/TimeZone"
TIME_ZONE = {
    "type": "string",
    "description": "an IANA time zone this service knows",
    "enum": sorted(available_timezones()),
}
AGENT_PATTERN = AGENT_ID_PATTERN


def _refused_id_class() -> str:
    """A regex character class of what an id may not hold (control, format and
    separator characters of the Basic Multilingual Plane). Surrogates are left out:
    JSON text cannot carry a lone one (the decoder refuses it) and regex engines
    refuse them in a class."""
    ranges: list[tuple[int, int]] = []
    for code in range(0x10000):
        if unicodedata.category(chr(code)) in {"Cc", "Cf", "Zl", "Zp"}:
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return "".join(f"\\u{lo:04x}" if lo == hi else f"\\u{lo:04x}-\\u{hi:04x}" for lo, hi in ranges)


_REFUSED = _refused_id_class()
# At least one character that is not white space, none that is refused.
TICKET_ID_PATTERN = f"^[^{_REFUSED}]*[^\\s{_REFUSED}][^{_REFUSED}]*$"
# Some text that is not only white space.
TEXT_PATTERN = r"\S"


def path_param(name: str, pattern: str | None = None) -> dict[str, Any]:
    """A required string path parameter."""
    schema: dict[str, Any] = {"type": "string"}
    if pattern:
        schema["pattern"] = pattern
    return {"name": name, "in": "path", "required": True, "schema": schema}


def int_query(name: str, low: int, high: int, description: str = "") -> dict[str, Any]:
    """An optional integer query parameter from ``low`` to ``high`` (else 400)."""
    param: dict[str, Any] = {
        "name": name,
        "in": "query",
        "schema": {"type": "integer", "minimum": low, "maximum": high},
    }
    if description:
        param["description"] = description
    return param


def json_body(schema: dict[str, Any], description: str) -> dict[str, Any]:
    """A response (or request body) of JSON matching ``schema``."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def request_body(schema: dict[str, Any]) -> dict[str, Any]:
    """A required JSON request body."""
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def err(description: str) -> dict[str, Any]:
    """An error response in the one shape."""
    return json_body({"$ref": "#/components/schemas/Error"}, description)


AUTH_ERRORS = {
    "401": err("no token, or not a valid one"),
    "403": err("the token lacks the scope this needs"),
    "429": err("too many failed authentications from this address; see Retry-After"),
    "503": err("a dependency (Redis, the broker) is unavailable; retry later"),
}
BODY_ERRORS = {
    "400": err("invalid body; error.field names the field"),
    "413": err("the body is over this endpoint's size limit"),
}
