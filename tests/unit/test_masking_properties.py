"""Property tests: personal data planted in generated tickets never survives masking.

Faker makes the data realistic in several locales (its own formats for phone
numbers, e-mail addresses, card numbers and IBANs); hypothesis draws how much
of it, where, and how it is written. The output is serialised and searched, so
a leak anywhere (subject, body, tags, nested metadata, unknown fields) fails.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from faker import Faker
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import iban as iban_check
from stdnum import luhn

from router.masking import mask_text, mask_ticket

# Locales whose phone formats are found by shape alone, with no region given.
SHAPE_LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "pt_BR", "es_ES", "ja_JP", "nl_NL", "pl_PL")
# Locales that write national numbers as bare short runs ("936252760"): found
# only through the customer's country, as the ticket carries it.
REGION_LOCALES = (*SHAPE_LOCALES, "it_IT", "pt_PT", "da_DK", "en_AU", "he_IL", "tr_TR", "en_NZ")
IBAN_LOCALES = ("de_DE", "fr_FR", "en_GB", "nl_NL", "es_ES", "it_IT", "pl_PL", "pt_PT")
# Faker's Maestro numbers have 12 digits, below the 13 that card masking covers.
CARD_TYPES = ("visa13", "visa16", "visa19", "mastercard", "amex", "discover", "diners", "jcb16")
# Never a bare space: "+44 1632 960 513 020 7946 0958" is one number or two,
# nobody can tell which.
SEPARATORS = (", ", "; ", "\n", " / ", ": ", " (", ") ")
TRAILERS = ("", ".", ",", "!", ")", "?")


@cache
def faker(locale: str) -> Faker:
    return Faker(locale)


@dataclass
class Planted:
    """The personal data put into one ticket, to search for afterwards."""

    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    cards: list[str] = field(default_factory=list)
    ibans: list[str] = field(default_factory=list)


def _grouped(number: str, sep: str, size: int = 4) -> str:
    return sep.join(number[i : i + size] for i in range(0, len(number), size))


@st.composite
def pii_pieces(draw: st.DrawFn, locale: str, planted: Planted) -> str:
    """A run of sentences with e-mails, phones, cards and IBANs among them."""
    fake = faker(locale)
    pieces: list[str] = []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(("email", "phone", "card", "iban", "text")))
        if kind == "email":
            value = fake.email()
            planted.emails.append(value)
        elif kind == "phone":
            value = fake.phone_number()
            planted.phones.append(value)
        elif kind == "card":
            card_fake = faker("en_US")  # card types are the same everywhere
            card_fake.seed_instance(draw(st.integers(0, 2**32 - 1)))
            number = card_fake.credit_card_number(draw(st.sampled_from(CARD_TYPES)))
            value = draw(st.sampled_from((number, _grouped(number, " "), _grouped(number, "-"))))
            planted.cards.append(number)
        elif kind == "iban":
            iban_fake = faker(draw(st.sampled_from(IBAN_LOCALES)))
            iban_fake.seed_instance(draw(st.integers(0, 2**32 - 1)))
            number = iban_fake.iban()
            value = draw(st.sampled_from((number, _grouped(number, " "))))
            planted.ibans.append(number)
        else:
            value = fake.sentence()
        pieces.append(value + draw(st.sampled_from(TRAILERS)))
    out = ""
    for piece in pieces:
        out += piece + draw(st.sampled_from(SEPARATORS))
    return out


@st.composite
def tickets(draw: st.DrawFn, locales: tuple[str, ...], with_country: bool) -> tuple[Any, Planted]:
    """A ticket JSON object and what personal data was planted in it."""
    locale = draw(st.sampled_from(locales))
    fake = faker(locale)
    fake.seed_instance(draw(st.integers(0, 2**32 - 1)))
    planted = Planted()

    def text() -> str:
        return draw(pii_pieces(locale, planted))

    customer: dict[str, Any] = {"id": "cust-abc", "email": fake.email(), "name": fake.name()}
    customer["phone"] = fake.phone_number()
    planted.emails.append(customer["email"])
    planted.phones.append(customer["phone"])
    if with_country:
        customer["country"] = locale.split("_")[1]
    raw: dict[str, Any] = {
        "id": "ticket-xyz",
        "subject": text(),
        "body": text(),
        "customer": customer,
        "tags": [text() for _ in range(draw(st.integers(0, 2)))],
        "metadata": {"note": text(), "nested": {"items": [text()]}},
        "x_platform_field": text(),
    }
    return raw, planted


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _phone_core(phone: str) -> str:
    """The last seven digits of a phone number, extension left off."""
    return _digits(re.split(r"x|ext", phone)[0])[-7:]


def assert_no_leak(masked: Any, planted: Planted) -> None:
    out = json.dumps(masked, ensure_ascii=False)
    no_separators = re.sub(r"[\s-]", "", out)
    digits = _digits(out)
    for email in planted.emails:
        assert email not in out, email
    for card in planted.cards:
        assert luhn.is_valid(card)  # the oracle's own premise
        assert card not in no_separators, card
    for number in planted.ibans:
        assert iban_check.is_valid(number)
        assert number not in no_separators.upper(), number
    for phone in planted.phones:
        assert phone not in out, phone
        assert _phone_core(phone) not in digits, phone


@settings(max_examples=150, deadline=None)
@given(tickets(SHAPE_LOCALES, with_country=False))
def test_no_personal_data_survives_without_a_region(case: tuple[Any, Planted]) -> None:
    raw, planted = case
    before = copy.deepcopy(raw)
    masked = mask_ticket(raw)
    assert raw == before
    assert masked["customer"]["name"] == "[name]"
    assert (masked["id"], masked["customer"]["id"]) == ("ticket-xyz", "cust-abc")
    assert_no_leak(masked, planted)


@settings(max_examples=150, deadline=None)
@given(tickets(REGION_LOCALES, with_country=True))
def test_no_personal_data_survives_with_the_customer_country(case: tuple[Any, Planted]) -> None:
    raw, planted = case
    assert_no_leak(mask_ticket(raw), planted)


@st.composite
def order_ids(draw: st.DrawFn) -> str:
    digits = draw(st.text(alphabet="0123456789", min_size=16, max_size=16))
    return digits[:-1] + next(d for d in "0123456789" if not luhn.is_valid(digits[:-1] + d))


@settings(max_examples=100, deadline=None)
@given(
    order_ids(),
    st.sampled_from(("", " ", "-")),
    st.sampled_from(((), ("US",), ("GB",), ("DE",), ("BR",))),
    st.sampled_from(SHAPE_LOCALES),
    st.integers(0, 2**32 - 1),
)
def test_non_luhn_order_ids_are_kept(
    order_id: str, sep: str, regions: tuple[str, ...], locale: str, seed: int
) -> None:
    written = _grouped(order_id, sep) if sep else order_id
    fake = faker(locale)
    fake.seed_instance(seed)
    text = f"{fake.sentence()} Order {written} {fake.sentence()}"
    result = mask_text(text, regions)
    assert written in result.text
    assert "card" not in result.kinds


@settings(max_examples=100, deadline=None)
@given(tickets(SHAPE_LOCALES, with_country=False))
def test_masking_is_idempotent(case: tuple[Any, Planted]) -> None:
    raw, _ = case
    once = mask_ticket(raw)
    assert mask_ticket(once) == once
