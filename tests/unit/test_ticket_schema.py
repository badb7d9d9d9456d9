"""Inbound ticket validation: every rule of the ticket format, and no input that crashes it."""

from __future__ import annotations

import unicodedata
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from router.core.errors import InvalidInput
from router.core.ticket_schema import parse_ticket, ticket_from_object


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
        assert ticket.id == unicodedata.normalize("NFC", data["id"])
        assert ticket.text.strip()
        # What is accepted can always be written back: never a poison ticket for routing.
        assert orjson.loads(orjson.dumps(ticket.raw)) == {**data, "id": ticket.id}


def test_card_numbers_flag_the_ticket() -> None:
    card = ticket_from_object({"id": "a", "body": "my card 4111 1111 1111 1111 was charged"})
    order = ticket_from_object({"id": "b", "body": "order 4111 1111 1111 1112 is late"})
    assert card.flags == frozenset({"contains_card_data"})
    assert order.flags == frozenset()  # fails the Luhn check: an order number


def _parse_err(payload: bytes) -> InvalidInput:
    with pytest.raises(InvalidInput) as info:
        parse_ticket(payload)
    return info.value


def _nested(depth: int) -> bytes:
    """A ticket whose ``metadata`` makes the document ``depth`` levels deep."""
    inner = b'"x"'
    for _ in range(depth - 1):
        inner = b'{"k":' + inner + b"}"
    return b'{"id":"deep","body":"x","metadata":' + inner + b"}"


def test_nesting_up_to_32_levels_is_accepted() -> None:
    ticket = parse_ticket(_nested(32))
    assert ticket.id == "deep"


@pytest.mark.parametrize(
    ("depth", "field"), [(33, "metadata"), (300, "metadata"), (1100, "body"), (9_000, "body")]
)
def test_nesting_past_32_levels_is_refused_naming_the_field(depth: int, field: str) -> None:
    # Past orjson's own limit (1,024) its error cannot say which field: "body" then.
    error = _parse_err(_nested(depth))
    assert (error.field, error.reason, error.status) == (field, "too_deep", 400)
    assert "32 levels" in error.problem


def test_deep_arrays_are_refused_too() -> None:
    payload = b'{"id":"a","body":"x","tags":' + b"[" * 40 + b"]" * 40 + b"}"
    error = _parse_err(payload)
    assert (error.field, error.reason) == ("tags", "too_deep")


def test_a_value_built_deep_in_python_is_refused_without_recursion() -> None:
    value: dict[str, Any] = {}
    for _ in range(200_000):
        value = {"k": value}
    error = _err({"id": "a", "body": "x", "metadata": value})
    assert (error.field, error.reason) == ("metadata", "too_deep")


@pytest.mark.parametrize(
    "payload",
    [
        b'{"id":"a","id":"b","body":"x"}',
        b'{"id":"a","body":"x","metadata":{"n":1,"n":2}}',
        b'{"id":"a","body":"x","metadata":{"l":[{"z":{"q":1,"q":1}}]}}',
        b'{"id":"a","body":"x","customer":{"email":"a@b.c","email":"evil@x.y"}}',
    ],
)
def test_duplicate_keys_are_refused_at_any_depth(payload: bytes) -> None:
    error = _parse_err(payload)
    assert (error.field, error.reason, error.status) == ("body", "duplicate_key", 400)
    assert "appears twice" in error.problem


@pytest.mark.parametrize(
    "bad_id", [r"a\u0000b", r"a\u001fb", r"T\u202e1", r"T\u200b1", r"T\u20281", r"\u0007"]
)
def test_ids_with_control_or_invisible_characters_are_refused(bad_id: str) -> None:
    error = _parse_err(b'{"id":"' + bad_id.encode() + b'","body":"x"}')
    assert (error.field, error.reason) == ("id", "invalid_id")
    assert "U+" in error.problem


def test_nfc_and_nfd_spellings_of_an_id_are_one_ticket() -> None:
    nfc, nfd = "Caf\u00e9-1", "Cafe\u0301-1"
    composed = parse_ticket(orjson.dumps({"id": orjson.loads(f'"{nfc}"'), "body": "x"}))
    decomposed = parse_ticket(orjson.dumps({"id": orjson.loads(f'"{nfd}"'), "body": "x"}))
    assert composed.id == decomposed.id == "Caf\u00e9-1"
    assert decomposed.raw["id"] == composed.id  # the record carries the key it is stored by
    assert len(decomposed.id) == 6


@pytest.mark.parametrize("value", [2**53 + 1, 2**63 - 1, 2**64 - 1, -(2**63)])
def test_big_integers_within_64_bits_stay_exact(value: int) -> None:
    ticket = parse_ticket(b'{"id":"a","body":"x","metadata":{"n":%d}}' % value)
    kept = ticket.raw["metadata"]["n"]
    assert type(kept) is int and kept == value
    assert orjson.loads(orjson.dumps(ticket.raw))["metadata"]["n"] == value


@pytest.mark.parametrize("literal", [b"18446744073709551616", b"-9223372036854775809", b"9" * 40])
def test_integers_past_64_bits_are_refused_not_turned_into_floats(literal: bytes) -> None:
    error = _parse_err(b'{"id":"a","body":"x","metadata":{"n":' + literal + b"}}")
    assert (error.reason, error.status) == ("number_too_large", 400)
    assert "string" in error.problem
    python_error = _err({"id": "a", "body": "x", "metadata": {"n": int(literal)}})
    assert (python_error.field, python_error.reason) == ("metadata", "number_too_large")


def test_a_number_is_not_a_timestamp() -> None:
    error = _err({"id": "a", "body": "x", "created_at": 1_700_000_000})
    assert (error.field, error.reason) == ("created_at", "invalid_created_at")
