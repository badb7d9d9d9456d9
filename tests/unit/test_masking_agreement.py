"""Masked and flagged never disagree: a property over generated tickets, and the memo
that lets the flag and the masked copy share one scan returns what a scan returns."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st
from stdnum import luhn

from router.core.masking import mask_ticket, ticket_has_card, ticket_kinds
from router.core.pii.detect import _Memo, clear_memo, find_pii

SEPARATORS = ("", " ", "-", ".", "\u00a0", "/", "\n", " - ", "\u200b")
PLACES = ("body", "tag", "key", "nested", "number", "split", "plan")


@st.composite
def card_numbers(draw: st.DrawFn) -> str:
    """A Luhn-valid or -invalid 13-19 digit number, written in groups of four."""
    length = draw(st.integers(13, 19))
    digits = draw(st.text("0123456789", min_size=length - 1, max_size=length - 1))
    number = digits + luhn.calc_check_digit(digits)
    if draw(st.booleans()):
        number = number[:-1] + str((int(number[-1]) + 1) % 10)  # fails Luhn now
    sep = draw(st.sampled_from(SEPARATORS))
    return sep.join(number[i : i + 4] for i in range(0, len(number), 4))


def _place(raw: dict[str, Any], number: str, place: str) -> None:
    if place == "body":
        raw["body"] += f" card {number} thanks"
    elif place == "tag":
        raw["tags"] = ["vip", number]
    elif place == "key":
        raw["metadata"] = {number: "card on file"}
    elif place == "nested":
        raw["metadata"] = {"a": [{"b": {"c": f"ref {number}"}}]}
    elif place == "number":
        raw["metadata"] = {"n": int("".join(c for c in number if c.isdigit()))}
    elif place == "split":
        raw["metadata"] = {"cc": number.replace("\u200b", " ").split()}
    else:
        raw["customer"] = {"plan": f"pro {number}", "country": "US"}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(card_numbers(), st.sampled_from(PLACES)), min_size=1, max_size=3))
@example([("3056 9309 0259 04", "body")])
@example([("4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1", "split")])
def test_a_ticket_is_flagged_exactly_when_its_masked_copy_shows_a_card(
    items: list[tuple[str, str]],
) -> None:
    raw: dict[str, Any] = {"id": "T-1", "subject": "Refund", "body": "Hello."}
    for number, place in items:
        _place(raw, number, place)
    shows_card = "[card]" in str(mask_ticket(copy.deepcopy(raw)))
    assert ("card" in ticket_kinds(raw)) is shows_card
    assert ("card" in ticket_kinds(raw, until="card")) is shows_card
    assert ticket_has_card(raw) is shows_card  # no card in the ids here


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="0123456789 -.@abc+()\u00a0", max_size=60), st.sampled_from(["", "GB"]))
def test_the_memo_returns_what_a_scan_returns(text: str, region: str) -> None:
    regions = (region,) if region else ()
    clear_memo()
    first = find_pii(text, regions)  # scanned, then memoised
    again = find_pii(text, regions)  # from the memo
    clear_memo()
    assert first == again == find_pii(text, regions)


def test_the_memo_keeps_to_its_budget() -> None:
    memo = _Memo(budget_chars=160)
    for n in range(20):
        memo.put((f"{n:02d}" * 5, (), "full"), (), 10)  # ten characters each
    assert memo.get(("00" * 5, (), "full")) is None  # evicted, oldest first
    assert memo.get(("19" * 5, (), "full")) == ()
    assert sum(size for _, size in memo._entries.values()) <= 160
    memo.put(("x" * 11, (), "full"), (), 11)  # over a sixteenth of the budget: not kept
    assert memo.get(("x" * 11, (), "full")) is None


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="0123456789 -.@abcDE+()\u00a0", max_size=60))
def test_a_full_scan_resumed_from_the_card_stage_is_a_full_scan(text: str) -> None:
    clear_memo()
    fresh = find_pii(text, ("GB",))
    clear_memo()
    flagged = find_pii(text, ("GB",), until="card")  # memoises the first stage
    resumed = find_pii(text, ("GB",))  # resumes from it
    assert resumed == fresh
    assert set(flagged) <= set(fresh)
