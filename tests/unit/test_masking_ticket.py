"""Masking a whole ticket: keys, nesting, numbers, the customer pseudonym, and the card
flag computed by the same walk."""

from __future__ import annotations

import base64
import logging
from typing import Any

import orjson
import pytest

from router.core.masking import Masker, mask_ticket, masker_for, ticket_has_card, ticket_kinds
from router.core.pii.detect import find_pii
from router.core.pii.normalise import normalise
from router.core.pii.pseudonym import NO_KEY_TOKEN, is_pseudonym, pseudonym
from router.core.ticket_schema import parse_ticket

KEY = b"k" * 32
CARD = "4111 1111 1111 1111"


def _ticket(**extra: Any) -> dict[str, Any]:
    return {"id": "T-1", "subject": "Hello", "body": "Please help.", **extra}


def test_keys_are_scanned_at_every_depth() -> None:
    raw = _ticket(
        metadata={"ana@example.com": "owner", "nested": {CARD: {"+44 20 7946 0958": 1}}},
        x_unknown={"john at example dot com": ["ok"]},
    )
    out = mask_ticket(raw)
    assert out["metadata"] == {"[email]": "owner", "nested": {"[card]": {"[phone]": 1}}}
    assert out["x_unknown"] == {"[email]": ["ok"]}


def test_two_keys_masked_alike_keep_both_values() -> None:
    out = mask_ticket(_ticket(metadata={"a@example.com": "x", "b@example.com": "y"}))
    assert out["metadata"] == {"[email]": "x", "[email]#2": "y"}


def test_every_field_is_scanned_none_kept_by_place() -> None:
    raw = _ticket(
        source="crm 4111111111111111",
        channel="email",
        tags=["vip", "ana@example.com"],
        customer={
            "id": "c-1",
            "plan": "pro DE89 3704 0044 0532 0130 00",
            "region": "eu",
            "locale": "en-GB",
            "extra": {"ssn": "536-22-8726"},
        },
        metadata={"a": [{"b": ["ip 10.1.2.3"]}]},
        unknown_top="QQ123456C",
    )
    out = mask_ticket(raw)
    assert out["source"] == "crm [card]"
    assert out["channel"] == "email"
    assert out["tags"] == ["vip", "[email]"]
    assert out["customer"] == {
        "id": NO_KEY_TOKEN,
        "plan": "pro [iban]",
        "region": "eu",
        "locale": "en-GB",
        "extra": {"ssn": "[ssn]"},
    }
    assert out["metadata"] == {"a": [{"b": ["ip [ip]"]}]}
    assert out["unknown_top"] == "[nino]"


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        (4111111111111111, "[card]"),
        (5362287260, "[phone]"),
        (1234567, "[number]"),
        (123456, 123456),  # short numbers stay numbers
        (41111111.0, "[phone]"),
        (2.5, 2.5),
        (True, True),
        (None, None),
    ],
)
def test_numbers_are_scanned_too(value: Any, masked: Any) -> None:
    assert mask_ticket(_ticket(metadata={"v": value}))["metadata"]["v"] == masked


def test_fields_named_personal_are_replaced_whole() -> None:
    out = mask_ticket(
        _ticket(metadata={"first_name": "Ana", "home_address": {"city": "X"}, "dob": "1990-01-02"})
    )
    assert out["metadata"] == {
        "first_name": "[name]",
        "home_address": {"city": "X"},
        "dob": "[dob]",
    }


def test_the_ticket_id_is_delivered_as_sent() -> None:
    assert mask_ticket({"id": "T-ana@example.com", "body": "x"})["id"] == "T-ana@example.com"


def test_pseudonym_is_stable_per_key_and_differs_across_keys() -> None:
    one = Masker(KEY)(_ticket(customer={"id": "cust-42"}))["customer"]["id"]
    again = Masker(KEY)(_ticket(customer={"id": "cust-42"}))["customer"]["id"]
    other_key = Masker(b"q" * 32)(_ticket(customer={"id": "cust-42"}))["customer"]["id"]
    other_id = Masker(KEY)(_ticket(customer={"id": "cust-43"}))["customer"]["id"]
    assert one == again == pseudonym("cust-42", KEY)
    assert is_pseudonym(one)
    assert one.startswith("cus_")
    assert len({one, other_key, other_id}) == 3
    assert "cust-42" not in one


def test_pseudonym_of_a_numeric_id_and_without_a_key() -> None:
    assert Masker(KEY)(_ticket(customer={"id": 4242}))["customer"]["id"] == pseudonym("4242", KEY)
    assert mask_ticket(_ticket(customer={"id": "cust-42"}))["customer"]["id"] == NO_KEY_TOKEN


def test_a_pseudonym_is_no_personal_data_and_survives_masking_again() -> None:
    masked = Masker(KEY)(_ticket(customer={"id": "ana@example.com"}))
    assert find_pii(masked["customer"]["id"]) == []
    assert Masker(KEY)(masked) == masked


def test_masker_for_refuses_a_short_key_and_warns_without_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        masker_for("short")
    masker_for.cache_clear()
    with caplog.at_level(logging.WARNING, logger="router.core.masking"):
        assert not masker_for(None).has_key
    assert "ROUTER_PSEUDONYM_KEY is not set" in caplog.text
    assert masker_for("x" * 16).has_key


@pytest.mark.parametrize(
    "raw",
    [
        _ticket(body=f"card {CARD}"),
        _ticket(tags=["4111.1111.1111.1111"]),
        _ticket(metadata={"deep": [{"x": "４１１１１１１１１１１１１１１１"}]}),
        _ticket(metadata={CARD: "key"}),
        _ticket(metadata={"n": 4111111111111111}),
        _ticket(customer={"plan": "3056 9309 0259 04"}),
        _ticket(customer={"phone": CARD}),  # replaced whole by its key, flagged all the same
        _ticket(source="4111\u00a01111\u00a01111\u00a01111"),
        _ticket(x_unknown="4111\u200b1111\u200b1111\u200b1111"),
        {"id": "4111111111111111", "body": "x"},  # the id too: it is delivered as sent
        _ticket(customer={"id": "4111111111111111"}),  # pseudonymised, flagged all the same
        _ticket(body="card 4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 ok"),  # a voice transcript
        _ticket(metadata={"cc": {"a": "4111", "b": "1111", "c": "1111", "d": "1111"}}),
        _ticket(metadata={"blob": "Y2FyZCA0MTExIDExMTEgMTExMSAxMTEx"}),  # base64 of a card
    ],
)
def test_a_card_anywhere_flags_the_ticket(raw: dict[str, Any]) -> None:
    assert ticket_has_card(raw)
    ticket = parse_ticket(orjson.dumps(raw))
    assert ticket.flags == frozenset({"contains_card_data"})


@pytest.mark.parametrize(
    "raw",
    [
        _ticket(body="order 1234 5678 9012 3456"),  # fails Luhn: masked, not a card
        _ticket(body="4111111111111111@example.com"),  # an e-mail address, masked as one
        _ticket(metadata={"iban": "DE89 3704 0044 0532 0130 00"}),
    ],
)
def test_no_card_no_flag(raw: dict[str, Any]) -> None:
    assert not ticket_has_card(raw)


def test_flag_and_masking_agree_on_cards() -> None:
    raws = [
        _ticket(body=f"x {CARD}", metadata={"k": "4111-1111-1111-1112"}),
        _ticket(metadata={"a": {"b": ["5500 0000 0000 0004"]}}),
        _ticket(body="nothing"),
    ]
    for raw in raws:
        masked_shows_card = "[card]" in str(mask_ticket(raw))
        assert ("card" in ticket_kinds(raw)) is masked_shows_card
        assert ("card" in ticket_kinds(raw, until="card")) is masked_shows_card


def test_spans_map_back_to_the_original_text() -> None:
    text = "mail john at example dot com or ４１１１\u200b１１１１ １１１１ １１１１ now"
    findings = find_pii(text)
    assert [(f.kind, text[f.start : f.end]) for f in findings] == [
        ("email", "john at example dot com"),
        ("card", "４１１１\u200b１１１１ １１１１ １１１１"),
    ]


def test_normalise_keeps_plain_text_as_it_is() -> None:
    plain = normalise("Plain ASCII text, nothing to rewrite: look at this.")
    assert plain.edits == ()
    assert plain.original_span(3, 9) == (3, 9)
    spaced = normalise("a\u00a0b\u200bc")
    assert spaced.text == "a bc"
    assert spaced.original_span(0, 4) == (0, 5)
    assert spaced.original_span(3, 4) == (4, 5)


@pytest.mark.parametrize(
    ("html", "masked"),
    [
        ('<a href="mailto:ana@example.com">write</a>', "[email]write</a>"),
        ('<a href="tel:+442079460958">call</a>', "[phone]call</a>"),
        ('<input name="cc" value="4111 1111 1111 1111">', "[card]"),
        ("<br/> no data <b>here</b>", "<br/> no data <b>here</b>"),
    ],
)
def test_html_attribute_values_are_read(html: str, masked: str) -> None:
    assert mask_ticket(_ticket(body=html))["body"] == masked


def test_values_split_over_fields_are_masked_together() -> None:
    raw = _ticket(
        metadata={
            "form": {"cc_1": "4111", "cc_2": "1111", "cc_3": "1111", "cc_4": "1111", "n": 2},
            "phone": ["+44", "20", "7946", "0958"],
            "sizes": ["38", "40", "42"],
        }
    )
    out = mask_ticket(raw)["metadata"]
    assert out["form"] == {
        "cc_1": "[card]",
        "cc_2": "[card]",
        "cc_3": "[card]",
        "cc_4": "[card]",
        "n": 2,
    }
    assert out["phone"] == "[phone]"  # the key names a phone: replaced whole
    assert out["sizes"] == ["38", "40", "42"]


def test_a_split_card_with_a_long_piece_is_masked_whole() -> None:
    # The 9-digit piece is masked alone; the pieces before it still hold ten digits.
    raw = _ticket(metadata={"form": {"a": "6304", "b": "000000", "c": "000000018"}})
    form = mask_ticket(raw)["metadata"]["form"]
    assert [v.startswith("[") for v in form.values()] == [True, True, True]


def test_a_card_split_with_a_long_piece_is_a_card_and_flagged() -> None:
    raw = _ticket(metadata={"cc": ["4695", "476192", "513681802"]})
    assert mask_ticket(raw)["metadata"]["cc"] == ["[card]", "[card]", "[card]"]
    assert ticket_has_card(raw)


def test_a_card_next_to_a_count_does_not_take_the_count_along() -> None:
    out = mask_ticket(_ticket(metadata={"card": 4111111111111111, "count": 3}))
    assert out["metadata"] == {"card": "[card]", "count": 3}


def test_a_split_phone_read_with_a_region_is_masked() -> None:
    # Joined, "(11) 95933 0986" is a phone number: each piece is masked although none
    # is a finding alone (once libphonenumber, given GB, split it into two).
    raw = _ticket(customer={"country": "GB"}, metadata={"parts": ["(11)", "95933", "0986"]})
    assert mask_ticket(raw)["metadata"]["parts"] == ["[phone]", "[phone]", "[phone]"]


def test_base64_values_are_decoded_and_masked() -> None:

    blob = base64.b64encode(b"Please write to ana.lopez@example.com, thanks").decode()
    out = mask_ticket(_ticket(metadata={"mime": blob, "word": "Kundendienstmitarbeiterin"}))
    assert out["metadata"] == {"mime": "[email]", "word": "Kundendienstmitarbeiterin"}
