"""Inbound ticket validation: every rule of DESIGN.md, and no input that crashes it."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from router.errors import InvalidInput
from router.ticket_schema import parse_ticket, ticket_from_object


def _err(data: Any) -> InvalidInput:
    with pytest.raises(InvalidInput) as info:
        ticket_from_object(data)
    return info.value


def test_minimal_ticket() -> None:
    ticket = ticket_from_object({"id": "T-1", "subject": "Refund please"})
    assert ticket.id == "T-1"
    assert ticket.text == "Refund please"
    assert ticket.priority == "normal"
    assert ticket.customer.email is None


def test_full_ticket_and_unknown_fields_kept() -> None:
    data = {
        "id": "T-2",
        "subject": "Fatura em dobro",
        "body": "Fui cobrado duas vezes.",
        "customer": {
            "id": "c1",
            "email": "a@b.com",
            "locale": "pt-BR",
            "timezone": "America/Sao_Paulo",
            "country": "br",
            "plan": "pro",
        },
        "channel": "email",
        "created_at": "2026-11-22T08:00:00Z",
        "priority": "high",
        "tags": ["billing"],
        "source": "zendesk",
        "metadata": {"n": 1},
        "brand": "acme",
    }
    ticket = ticket_from_object(data)
    assert ticket.customer.country == "BR"
    assert ticket.created_at is not None and ticket.created_at.utcoffset() is not None
    assert ticket.tags == ("billing",)
    assert ticket.raw["brand"] == "acme"
    assert ticket.text == "Fatura em dobro\nFui cobrado duas vezes."


@pytest.mark.parametrize(
    ("data", "field", "reason"),
    [
        ([1], "body", "not_object"),
        ({"body": "x"}, "id", "invalid_id"),
        ({"id": "", "body": "x"}, "id", "invalid_id"),
        ({"id": "   ", "body": "x"}, "id", "invalid_id"),
        ({"id": "x" * 129, "body": "x"}, "id", "invalid_id"),
        ({"id": 7, "body": "x"}, "id", "invalid_id"),
        ({"id": "a"}, "subject", "no_text"),
        ({"id": "a", "subject": " ", "body": "\n"}, "subject", "no_text"),
        ({"id": "a", "body": 5}, "body", "invalid_body"),
        ({"id": "a", "body": "x", "priority": "asap"}, "priority", "invalid_priority"),
        ({"id": "a", "body": "x", "channel": "fax"}, "channel", "invalid_channel"),
        ({"id": "a", "body": "x", "tags": ["a", 1]}, "tags[1]", "invalid_tags"),
        ({"id": "a", "body": "x", "metadata": []}, "metadata", "invalid_metadata"),
        (
            {"id": "a", "body": "x", "created_at": "2026-11-22 08:00"},
            "created_at",
            "invalid_created_at",
        ),
        (
            {"id": "a", "body": "x", "customer": {"timezone": "Europe/Atlantis"}},
            "customer.timezone",
            "invalid_customer",
        ),
        (
            {"id": "a", "body": "x", "customer": {"country": "DEU"}},
            "customer.country",
            "invalid_customer",
        ),
        (
            {"id": "a", "body": "x", "customer": {"locale": "not a locale"}},
            "customer.locale",
            "invalid_customer",
        ),
        ({"id": "a", "body": "x", "customer": "bob"}, "customer", "invalid_customer"),
    ],
)
def test_invalid_fields_are_named(data: Any, field: str, reason: str) -> None:
    error = _err(data)
    assert error.field == field
    assert error.reason == reason
    assert error.status == 400


def test_naive_timestamp_is_refused_with_a_hint() -> None:
    error = _err({"id": "a", "body": "x", "created_at": "2026-11-22T08:00:00"})
    assert "UTC offset" in error.problem


def test_size_limit_and_bad_json() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_ticket(orjson.dumps({"id": "a", "body": "x" * 70_000}))
    assert (info.value.status, info.value.reason) == (413, "too_large")
    with pytest.raises(InvalidInput) as info:
        parse_ticket(b"\xff\xfe")
    assert info.value.reason == "not_json"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "id",
                "subject",
                "body",
                "customer",
                "channel",
                "created_at",
                "priority",
                "tags",
                "source",
                "metadata",
                "other",
            ]
        ),
        json_values,
    )
)
def test_any_json_object_is_a_ticket_or_a_named_error(data: dict[str, Any]) -> None:
    try:
        ticket = ticket_from_object(data)
    except InvalidInput as exc:
        assert exc.field
        assert exc.problem
    else:
        assert ticket.id == data["id"]
        assert ticket.text.strip()


def test_card_numbers_flag_the_ticket() -> None:
    card = ticket_from_object({"id": "a", "body": "my card 4111 1111 1111 1111 was charged"})
    order = ticket_from_object({"id": "b", "body": "order 4111 1111 1111 1112 is late"})
    assert card.flags == frozenset({"contains_card_data"})
    assert order.flags == frozenset()  # fails the Luhn check: an order number
