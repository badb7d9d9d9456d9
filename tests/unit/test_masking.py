"""Masking by example: each kind of personal data, what must stay, and ticket walking."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from stdnum import luhn

from router.masking import MAX_DEPTH, REDACTED, contains_card_data, mask_text, mask_ticket

ORDER_ID = "1234567890123456"  # 16 digits, fails Luhn


def test_order_id_fixture_really_fails_luhn() -> None:
    assert not luhn.is_valid(ORDER_ID)


@pytest.mark.parametrize(
    ("text", "masked", "kind"),
    [
        ("write to jane.doe+support@example.co.uk.", "write to [email].", "email"),
        ("Mail: zoë.müller@beispiel.de", "Mail: [email]", "email"),
        ("card 4111 1111 1111 1111 exp 12/27", "card [card] exp 12/27", "card"),
        ("card 4111-1111-1111-1111.", "card [card].", "card"),
        ("amex 378282246310005", "amex [card]", "card"),
        ("visa13 4222222222222 ok", "visa13 [card] ok", "card"),
        ("IBAN DE89 3704 0044 0532 0130 00 OK thanks", "IBAN [iban] OK thanks", "iban"),
        ("iban GB82WEST12345698765432", "iban [iban]", "iban"),
        ("SSN 536-22-8726 on file", "SSN [ssn] on file", "ssn"),
        ("CPF 681.089.573-62", "CPF [cpf]", "cpf"),
        ("NI AB 12 34 56 C, thanks", "NI [nino], thanks", "nino"),
        ("from 192.168.10.20.", "from [ip].", "ip"),
        ("from 2001:db8::1 today", "from [ip] today", "ip"),
        ("call +44 20 7946 0958 today", "call [phone] today", "phone"),
        ("call (0161) 496 0066 or 555-1234", "call [phone] or [phone]", "phone"),
        ("call 206.269.0743x9150 please", "call [phone] please", "phone"),
        ("ring 0049 30 1234567", "ring [phone]", "phone"),
    ],
)
def test_each_kind_is_masked_and_reported(text: str, masked: str, kind: str) -> None:
    result = mask_text(text)
    assert result.text == masked
    assert result.kinds == frozenset({kind})


@pytest.mark.parametrize(
    "text",
    [
        f"order {ORDER_ID} shipped",
        "order 1234 5678 9012 3456 shipped",
        "order 1234-5678-9012-3456 shipped",
        "NI QQ 12 34 56 C",
        "paid 1,234.56 EUR on 2024-03-05 at 10:30:00, ticket #12345678",
        "due 05/03/2024 or 5.3.2024, version 1.2.3, room 101",
        "no digits at all, just words and an at sign: @home",
        "999.1.2.3 is no address",
    ],
)
def test_look_alikes_are_kept(text: str) -> None:
    assert mask_text(text).text == text
    assert mask_text(text).kinds == frozenset()


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("IBAN GB82 WEST 1234 5698 7654 33 (typo)", "iban"),
        ("SSN 000-12-3456 and 666-12-3456 and 912-12-3456", "ssn"),
        ("CPF 681.089.573-63", "cpf"),
    ],
)
def test_failed_checks_are_not_reported_as_that_kind(text: str, kind: str) -> None:
    # Their digits may still be masked as phone-shaped: erring towards masking.
    assert kind not in mask_text(text).kinds


def test_order_id_is_kept_with_a_region_too() -> None:
    for region in ("US", "GB", "DE", "BR", "IN"):
        assert mask_text(f"order {ORDER_ID}", [region]).text == f"order {ORDER_ID}"


def test_card_inside_a_longer_digit_run_is_found() -> None:
    text = "ref 1234 4111 1111 1111 1111 paid"
    assert mask_text(text).text == "ref 1234 [card] paid"
    assert contains_card_data(text)


def test_region_reads_national_numbers() -> None:
    # Nine bare digits: an order number by shape, a mobile number in Portugal.
    assert mask_text("ligue 936252760").text == "ligue 936252760"
    assert mask_text("ligue 936252760", ["PT"]).text == "ligue [phone]"
    assert mask_text("ligue 936252760", ["pt", "zz", ""]).text == "ligue [phone]"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4111111111111111", True),
        ("pay with 4111 1111 1111 1111 please", True),
        ("5500-0000-0000-0004", True),
        ("3782 822463 10005", True),
        ("4111111111111112", False),  # Luhn fails
        (ORDER_ID, False),
        ("411111111111", False),  # 12 digits: too short
        ("41111111111111111111", False),  # 20 digits: too long
        ("", False),
        ("no numbers here", False),
    ],
)
def test_contains_card_data(text: str, expected: bool) -> None:
    assert contains_card_data(text) is expected


def _ticket() -> dict[str, Any]:
    return {
        "id": "T-4111111111111111",
        "subject": "Refund to 4111 1111 1111 1111",
        "body": "Call me on +1 415 555 2671 or mail j.doe@example.com.",
        "customer": {
            "id": "cust-42",
            "email": "j.doe@example.com",
            "phone": "+1 415 555 2671",
            "name": "Jane Doe",
            "first_name": "Jane",
            "locale": "en-US",
            "timezone": "America/New_York",
            "country": "US",
            "plan": "pro",
            "address": {"street": "1 Main St", "city": "Springfield"},
        },
        "channel": "email",
        "created_at": "2024-03-05T10:30:00Z",
        "priority": "high",
        "tags": ["vip", "card 4111111111111111"],
        "source": "zendesk",
        "metadata": {
            "order": ORDER_ID,
            "payer": {"Display-Name": "J. Doe", "contact_email": "x@y.org", "hostname": "web-1"},
            "card_on_file": 4111111111111111,
            "count": 3,
            "ratio": 0.5,
            "flag": True,
            "empty_name": None,
        },
        "x_unknown": "fax 020 7946 0958",
    }


def test_mask_ticket_masks_what_is_personal_and_keeps_the_rest() -> None:
    out = mask_ticket(_ticket())
    assert out["id"] == "T-4111111111111111"
    assert out["subject"] == "Refund to [card]"
    assert out["body"] == "Call me on [phone] or mail [email]."
    assert out["customer"] == {
        "id": "cust-42",
        "email": "[email]",
        "phone": "[phone]",
        "name": "[name]",
        "first_name": "[name]",
        "locale": "en-US",
        "timezone": "America/New_York",
        "country": "US",
        "plan": "pro",
        "address": "[address]",
    }
    assert (out["channel"], out["created_at"], out["priority"], out["source"]) == (
        "email",
        "2024-03-05T10:30:00Z",
        "high",
        "zendesk",
    )
    assert out["tags"] == ["vip", "card [card]"]
    assert out["metadata"] == {
        "order": ORDER_ID,
        "payer": {"Display-Name": "[name]", "contact_email": "[email]", "hostname": "web-1"},
        "card_on_file": "[card]",
        "count": 3,
        "ratio": 0.5,
        "flag": True,
        "empty_name": None,
    }
    assert out["x_unknown"] == "fax [phone]"


def test_mask_ticket_does_not_change_its_input() -> None:
    raw = _ticket()
    before = copy.deepcopy(raw)
    mask_ticket(raw)
    assert raw == before


def test_mask_ticket_redacts_below_the_depth_limit() -> None:
    nested: Any = "4111111111111111"
    for _ in range(MAX_DEPTH + 5):
        nested = [nested]
    out = mask_ticket({"id": "t", "body": "x", "metadata": {"deep": nested}})
    node = out["metadata"]["deep"]
    depth = 0
    while isinstance(node, list):
        node, depth = node[0], depth + 1
    assert node == REDACTED
    assert depth < MAX_DEPTH + 5


def test_mask_ticket_uses_the_customer_locale_as_phone_region() -> None:
    raw = {"id": "t", "body": "ligue 936252760", "customer": {"locale": "pt_PT"}}
    assert mask_ticket(raw)["body"] == "ligue [phone]"
    assert mask_ticket({"id": "t", "body": "ligue 936252760"})["body"] == "ligue 936252760"


def test_long_adversarial_text_is_handled() -> None:
    # Shapes that make careless regexes backtrack; 64 KiB is the ticket limit.
    for text in ("1 " * 32_000 + "a", "a@" * 32_000, "DE89 " * 13_000, "1-" * 32_000 + "x"):
        assert isinstance(mask_text(text).text, str)
