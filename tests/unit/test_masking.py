"""Masking by example: each kind of personal data, what must stay, and ticket walking.

More formats per kind: test_masking_formats.py; keys, numbers, pseudonyms and the
card flag: test_masking_ticket.py; the pool's copy: test_masking_assignment.py.
"""

from __future__ import annotations

import copy
import re
import time
from typing import Any

import pytest
from stdnum import luhn

from router.core.masking import MAX_DEPTH, REDACTED, contains_card_data, mask_text, mask_ticket

ORDER_ID = "1234567890123456"  # 16 digits, fails Luhn: not a card, masked as a long number


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
        "paid 1,234.56 EUR on 2024-03-05 at 10:30:00, ticket #123456",
        "due 05/03/2024 or 5.3.2024, version 1.2.3, room 101",
        "no digits at all, just words and an at sign: @home",
        "999.1.2.3 is no address",
    ],
)
def test_look_alikes_are_kept(text: str) -> None:
    assert mask_text(text).text == text
    assert mask_text(text).kinds == frozenset()


# Changed with the rule that masks every ambiguous run of 7+ digits: these were kept
# (order numbers, a "QQ" National Insurance number) and are masked now.
@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (f"order {ORDER_ID} shipped", "order [number] shipped"),
        ("order 1234 5678 9012 3456 shipped", "order [number] shipped"),
        ("order 1234-5678-9012-3456 shipped", "order [number] shipped"),
        ("ticket #12345678", "ticket #[number]"),
        ("NI QQ 12 34 56 C", "NI [nino]"),
    ],
)
def test_ambiguous_numbers_are_masked(text: str, masked: str) -> None:
    assert mask_text(text).text == masked


@pytest.mark.parametrize(
    ("text", "kind", "masked"),
    [
        ("IBAN GB82 WEST 1234 5698 7654 33 (typo)", "iban", "IBAN GB82 WEST [phone] (typo)"),
        (
            "SSN 000-12-3456 and 666-12-3456 and 912-12-3456",
            "ssn",
            "SSN [phone] and [phone] and [phone]",
        ),
        ("CPF 681.089.573-63", "cpf", "CPF [phone]"),
    ],
)
def test_failed_checks_are_not_that_kind_but_masked_all_the_same(
    text: str, kind: str, masked: str
) -> None:
    result = mask_text(text)
    assert kind not in result.kinds
    assert result.text == masked


def test_order_id_is_a_number_not_a_phone_with_a_region_too() -> None:
    for region in ("US", "GB", "DE", "BR", "IN"):
        assert mask_text(f"order {ORDER_ID}", [region]).text == "order [number]"


def test_card_inside_a_longer_digit_run_is_found() -> None:
    text = "ref 1234 4111 1111 1111 1111 paid"
    assert mask_text(text).text == "ref 1234 [card] paid"
    assert contains_card_data(text)


def test_region_reads_national_numbers() -> None:
    # Nine bare digits: masked as a number by shape, read as a mobile number in Portugal.
    assert mask_text("ligue 936252760").text == "ligue [number]"
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
    assert out["id"] == "T-4111111111111111"  # the ticket id is delivered as sent
    assert out["subject"] == "Refund to [card]"
    assert out["body"] == "Call me on [phone] or mail [email]."
    assert out["customer"] == {
        "id": "[customer-id]",  # was kept; now a pseudonym, redacted without a key
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
        "order": "[number]",  # was kept: 16 digits are masked now
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
    assert mask_ticket({"id": "t", "body": "ligue 936252760"})["body"] == "ligue [number]"


def test_long_adversarial_text_is_handled() -> None:
    # Shapes that make careless regexes backtrack; 64 KiB is the ticket limit.
    shapes = (
        "1 " * 32_000 + "a",
        "a@" * 32_000,
        "DE89 " * 13_000,
        "1-" * 32_000 + "x",
        "a at b." * 9_000,
        "\u200b1" * 32_000,
        "1:" * 32_000,
        "4111 " * 13_000,
    )
    for text in shapes:
        start = time.perf_counter()
        masked = mask_text(text).text
        assert time.perf_counter() - start < 5.0, text[:20]
        # Whatever the shape, no run of seven digits joined as numbers are is left in
        # clear (":" joins times, not numbers: "1:1:1..." is no number).
        assert re.search(r"\d(?:[ ./()_*~|+-]{0,2}\d){6}", masked) is None, text[:20]
    # Percent-encoded at signs are no digits: left as they are, and quickly.
    start = time.perf_counter()
    assert mask_text("%40" * 21_000).text == "%40" * 21_000
    assert time.perf_counter() - start < 5.0
