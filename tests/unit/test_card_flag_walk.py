"""The card flag's short walk answers what the full masking walk answers.

``ticket_has_card`` skips the detector for strings that cannot hold a card and stops
at the first card; the full walk (``ticket_kinds(raw, until="card")``) scans every
string. Compared here on generated JSON, on the planted-data tickets and on the
benchmark's tickets, with the memo cleared so neither answer comes from the other.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Mapping
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from router.core.masking import ticket_has_card, ticket_kinds
from router.core.pii.detect import clear_memo, contains_card_data, find_pii, may_hold_card
from router.core.pii.normalise import DIGITS_OF
from tests.pii_tickets import planted_tickets
from tests.tickets import make_tickets

# Digits, separators, base64 letters, escapes and look-alike digits (fullwidth, Arabic).
_ALPHABET = "0123456789 -./+=_%&\\abcXYZ\u00a0\uff14\u0664\u2470\u00bd\u00e9\u6f22"
_SCALARS = st.one_of(
    st.text(_ALPHABET, max_size=24),
    st.integers(-(10**19), 10**19),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=6)
        | st.dictionaries(st.text(_ALPHABET, max_size=12), inner, max_size=6)
    ),
    max_leaves=30,
)


def _full_walk(raw: Mapping[str, Any]) -> bool:
    """The flag as the full walk computes it (ids first, as ``ticket_has_card``)."""
    customer = raw.get("customer")
    ids = [raw.get("id"), customer.get("id") if isinstance(customer, Mapping) else None]
    if any(isinstance(i, str | int) and contains_card_data(str(i)) for i in ids):
        return True
    return "card" in ticket_kinds(raw, until="card")


def _agree(raw: dict[str, Any]) -> bool:
    clear_memo()
    short = ticket_has_card(copy.deepcopy(raw))
    clear_memo()
    return short is _full_walk(raw)


@settings(max_examples=400, deadline=None)
@given(
    st.dictionaries(st.sampled_from(["body", "tags", "metadata", "x", "4111"]), _JSON),
    st.none() | st.dictionaries(st.sampled_from(["id", "plan", "phone", "p1", "p2"]), _JSON),
)
@example({"metadata": {"a": "4111", "b": "1111", "c": "1111", "d": "1111"}}, None)
@example({"tags": ["4111 1111", "1111 1111"]}, None)
@example({"metadata": [4111111111111111]}, None)
@example({"body": "NDExMTExMTExMTExMTExMQ=="}, None)  # a card number in base64
@example({}, {"p1": "4111 1111 1111", "p2": "1111"})
def test_the_short_walk_agrees_with_the_full_walk(
    top: dict[str, Any], customer: dict[str, Any] | None
) -> None:
    raw: dict[str, Any] = {"id": "T-1", **top}
    if customer is not None:
        raw["customer"] = customer
    assert _agree(raw)


def test_it_agrees_on_tickets_with_planted_personal_data() -> None:
    tickets = [p.ticket for p in planted_tickets(300, 11, "F")]
    flagged = [t for t in tickets if ticket_has_card(t)]
    assert all(_agree(t) for t in tickets)
    assert 0 < len(flagged) < len(tickets)  # both answers occur


def test_it_agrees_on_the_benchmark_tickets() -> None:
    assert all(_agree(t) for t in make_tickets(500, 7))


def test_a_string_too_short_or_with_too_few_digits_needs_no_scan() -> None:
    assert not may_hold_card("4111 1111")
    assert not may_hold_card("order 2024-02-15, ref 77")  # 12 digits
    assert may_hold_card("4111 1111 1111 1")  # 13 digits
    assert may_hold_card("NDExMTExMTExMTExMTExMQ==")  # base64, no digit in it
    assert may_hold_card("\uff14" * 13)  # fullwidth digits


# A short string of circled numbers: seven characters, a 14-digit Luhn-valid number.
_CIRCLED_CARD = "\u2470\u2473\u246f\u246c\u246a\u2470\u2469"  # 17 20 16 13 11 17 10


def test_a_card_in_fewer_characters_than_digits_is_flagged() -> None:
    assert [f.kind for f in find_pii(_CIRCLED_CARD)] == ["card"]
    assert ticket_has_card({"id": "T-1", "body": _CIRCLED_CARD})
    assert ticket_has_card({"id": "T-1", "metadata": {"ref": _CIRCLED_CARD}})
    assert _agree({"id": "T-1", "body": _CIRCLED_CARD})


def test_letters_of_other_scripts_are_no_digits() -> None:
    # Order and phone numbers in a German or Japanese ticket, 12 digits in all.
    assert not may_hold_card("Grüße aus München: Bestellung 4711-0815, Rückruf 0221")
    assert not may_hold_card("注文番号 4711-0815 の配送について、電話 0221 まで")
    assert may_hold_card("注文番号 4711-0815 の配送について、電話 0221 / 5")  # 13


# Pieces a card can be written in: digits of every kind, the characters that give two
# or three digits, every escape of them, base64, letters of other scripts, separators.
_MULTI = sorted(c for c, n in DIGITS_OF.items() if n > 1)
_PIECES = st.one_of(
    st.sampled_from([*"0123456789", " ", "-", ".", "\u00e9", "\u0436", "\u6f22", "\uff14"]),
    st.sampled_from(_MULTI),
    st.sampled_from(_MULTI).map(lambda c: f"&#{ord(c)};"),
    st.sampled_from(_MULTI).map(lambda c: f"&#x{ord(c):x};"),
    st.sampled_from(_MULTI).map(lambda c: f"\\u{ord(c):04x}"),
    st.text("0123456789", min_size=13, max_size=19).map(
        lambda d: base64.b64encode(d.encode()).decode()
    ),
)


@settings(max_examples=600, deadline=None)
@given(st.lists(_PIECES, max_size=24).map("".join))
@example(_CIRCLED_CARD)
@example("\u2152" * 5)  # "1/10" five times: runs of one and two digits
@example(base64.b64encode(b"4111111111111111").decode())
def test_a_string_said_to_hold_no_card_holds_none(text: str) -> None:
    clear_memo()
    if not may_hold_card(text):
        assert "card" not in {f.kind for f in find_pii(text)}
