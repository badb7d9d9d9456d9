"""Building blocks of the OpenAPI document shared by its parts."""

from __future__ import annotations

from typing import Any

ERROR = {
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


def path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def json_body(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def err(description: str) -> dict[str, Any]:
    return json_body({"$ref": "#/components/schemas/Error"}, description)


AUTH_ERRORS = {
    "401": err("no token, or not a valid one"),
    "403": err("the token lacks the scope this needs"),
}
