"""Rules several places apply have one definition: pool ids, priorities and channels,
the error root, the wording of validation errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from queues.config_store import ConfigConflict
from queues.topology import TopologyMismatch
from router.config.document import DocumentError
from router.config.schema import PoolId
from router.core.config_types import ConfigError
from router.core.domain import CHANNELS, PRIORITIES, valid_pool_id
from router.core.errors import InvalidInput, RouterError, TransientError
from router.core.ticket_schema import parse_ticket
from router.core.tokens import (
    LastAdminTokenError,
    Principal,
    Scope,
    ScopeError,
    TokenFormatError,
)
from router.core.validation import location
from router.http.agent_requests import PullBody, parse_body
from router.http.openapi import openapi_document
from router.service.token_creation import TokenRequest

_POOL_ID: TypeAdapter[str] = TypeAdapter(PoolId)


def _config_accepts(pool_id: str) -> bool:
    try:
        _POOL_ID.validate_python(pool_id)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize(
    "pool_id",
    ["emea-tier1", "0", "a_b", "a" * 63, "a" * 64, "EMEA", "apac.l2", "-x", "", "a b", "a\n"],
)
def test_a_pool_id_is_what_the_config_accepts(pool_id: str) -> None:
    assert valid_pool_id(pool_id) is _config_accepts(pool_id)


def test_the_openapi_document_takes_the_same_rules() -> None:
    doc = openapi_document()
    [pool] = doc["paths"]["/v1/pools/{pool}"]["get"]["parameters"]
    assert pool["schema"]["pattern"] == "^[a-z0-9][a-z0-9_-]{0,62}$"
    schemas = doc["components"]["schemas"]
    assert schemas["Assignment"]["properties"]["priority"]["enum"] == list(PRIORITIES)
    assert schemas["Ticket"]["properties"]["priority"]["enum"] == list(PRIORITIES)
    assert schemas["Ticket"]["properties"]["channel"]["anyOf"][0]["enum"] == list(CHANNELS)
    assert PRIORITIES == ("low", "normal", "high", "urgent")
    assert CHANNELS == ("email", "chat", "phone", "web", "social")


def test_an_agent_scope_gives_access_only_to_a_pool_id_a_config_can_have() -> None:
    # Agent scopes still take dots and capitals; no pool can have such an id.
    who = Principal("0123456789abcdef", "legacy", frozenset({Scope("agent", "apac.l2_x")}))
    assert not who.allows_pool("apac.l2_x")
    assert Principal("0123456789abcdef", "n", frozenset({Scope("agent", "emea")})).allows_pool(
        "emea"
    )


@pytest.mark.parametrize(
    ("error", "also"),
    [
        (InvalidInput, None),
        (TransientError, None),
        (ConfigError, ValueError),
        (DocumentError, ValueError),
        (ScopeError, ValueError),
        (TokenFormatError, ValueError),
        (LastAdminTokenError, None),
        (ConfigConflict, None),
        (TopologyMismatch, RuntimeError),
    ],
)
def test_every_error_of_the_service_has_one_root(
    error: type[Exception], also: type[Exception] | None
) -> None:
    assert issubclass(error, RouterError)
    if also is not None:
        assert issubclass(error, also)  # what callers catch it as stays true


@pytest.mark.parametrize(
    ("loc", "path"),
    [
        ((), ""),
        (("customer", "email"), "customer.email"),
        (("tags", 0), "tags[0]"),
        (
            ("pools", 3, "schedule", "function-after[_check_window()]", "mon", 0),
            "pools[3].schedule.mon[0]",
        ),
    ],
)
def test_one_way_to_name_where_a_value_is_wrong(loc: tuple[Any, ...], path: str) -> None:
    assert location(loc) == path


@pytest.mark.parametrize(
    ("refuse", "field", "problem"),
    [
        (
            lambda: parse_ticket(b'{"id": "t1", "subject": "s", "tags": [1]}'),
            "tags[0]",
            "Input should be a valid string",
        ),
        (
            lambda: parse_body(b'{"name": "x", "scopes": [1]}', TokenRequest),
            "scopes[0]",
            "Input should be a valid string",
        ),
        (
            lambda: parse_body(b'{"name": "\\u001f", "scopes": ["ingest"]}', TokenRequest),
            "name",
            "must have a visible character",
        ),
        (
            lambda: parse_body(b'{"agent": "ana", "wait": true}', PullBody),
            "wait",
            "Input should be a valid number",
        ),
    ],
)
def test_tickets_and_request_bodies_word_errors_alike(
    refuse: Callable[[], object], field: str, problem: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        refuse()
    assert (refused.value.field, refused.value.problem) == (field, problem)
