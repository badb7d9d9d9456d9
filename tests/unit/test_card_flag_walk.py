"""The card flag's short walk answers what the full masking walk answers.

``ticket_has_card`` skips the detector for strings that cannot hold a card and stops
at the first card; the full walk (``ticket_kinds(raw, until="card")``) scans every
string. Compared here on generated JSON, on the planted-data tickets and on the
benchmark's tickets, with the memo cleared so neither answer comes from the other.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from router.core.masking import ticket_has_card, ticket_kinds
from router.core.pii.detect import clear_memo, contains_card_data, may_hold_card
from tests.pii_tickets import planted_tickets
from tests.tickets import make_tickets

# Digits, separators, base64 letters, escapes and look-alike digits (fullwidth, Arabic).
_ALPHABET = "0123456789 -./+=_%&\\abcXYZ\u00a0\uff14\u0664"
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
