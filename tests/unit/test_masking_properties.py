"""Property tests: personal data planted anywhere in a ticket never survives masking.

The items come from ``tests.pii_plants`` (e-mails, phones, cards, IBANs, national
ids and IP addresses in the formats people and integrations really write) and are
put where ``tests.pii_tickets`` says a careless integration puts them: every field,
metadata value, key, list and number, unknown fields. Hypothesis draws how many,
which and where. The masked copy is serialised (keys included) and searched for
every fragment of every item, so a leak anywhere fails. The same holds for the
copy a masked pool gets of an assignment (``for_pool``), including the text the
router adds (reasons, moves), and that copy names no other pool.
"""

from __future__ import annotations

import copy
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from hypothesis import example, given, settings
from hypothesis import strategies as st
from stdnum import luhn

from classifiers.types import Prediction
from router.config.load import RoutingConfig, parse_config
from router.core.assignment import build_assignment, for_pool
from router.core.masking import Masker, mask_text, mask_ticket
from router.core.policy import decide
from router.core.ticket_schema import parse_ticket, ticket_from_object
from router.service.escalation import agent_move, sla_move
from tests.dp_config import ESCALATION_TARGET, MASKED, dp_config, foreign_names
from tests.pii_item import Item
from tests.pii_oracle import Views, leaks
from tests.pii_plants import FORMATS, OTHER_VENDOR_AGENT, card_item, plant
from tests.pii_tickets import LOCATIONS, PlantedTicket, base_ticket, compatible, place

SEEDS = st.integers(0, 2**32 - 1)
NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
KNOWN_CASE = "011-3079424) 091 9179386"  # once left "[phone] 9179386"


def assert_nothing_in_clear(document: Any, placed: list[tuple[Item, str]]) -> None:
    """Fail naming every item (format, location, what survived) found in ``document``."""
    views = Views.of(document)
    found = [(i.fmt, loc, i.written, leaks(views, i)) for i, loc in placed if leaks(views, i)]
    assert not found, found


@st.composite
def planted(draw: st.DrawFn, max_items: int = 6) -> PlantedTicket:
    """A ticket with 1..``max_items`` items, each of a drawn format at a drawn location."""
    out = PlantedTicket(base_ticket(random.Random(draw(SEEDS)), "T-1"))
    rng = random.Random(draw(SEEDS))
    used: set[str] = set()
    for fmt, seed, location in draw(
        st.lists(st.tuples(st.sampled_from(FORMATS), SEEDS, st.sampled_from(LOCATIONS)),
                 min_size=1, max_size=max_items)
    ):  # fmt: skip
        item = plant(fmt, seed)
        if not compatible(item, location) or location in used:
            location = "body"  # the field is taken or cannot hold it: the body always can
        place(out.ticket, item, location, rng, len(out.placed))
        out.placed.append((item, location))
        used.add(location)
    return out


def single(fmt: str, location: str, seed: int = 0) -> PlantedTicket:
    """One item of ``fmt`` at ``location`` (for the explicit examples)."""
    out = PlantedTicket(base_ticket(random.Random(seed), "T-1"))
    item = plant(fmt, seed)
    place(out.ticket, item, location, random.Random(seed), 0)
    out.placed.append((item, location))
    return out


def glued_to_cjk() -> PlantedTicket:
    """A card written between Chinese characters, no space on either side."""
    out = PlantedTicket(base_ticket(random.Random(0), "T-1"))
    item = card_item("4132493501046288", "space-dash")
    out.ticket["subject"] += f" 我的信息是{item.written}，请帮忙处理。"
    out.placed.append((item, "subject"))
    return out


def _everywhere(fmt: str, seed: int) -> PlantedTicket:
    out = PlantedTicket(base_ticket(random.Random(seed), "T-1"))
    for n, location in enumerate(LOCATIONS):
        item = plant(fmt, seed + n)
        if compatible(item, location):
            place(out.ticket, item, location, random.Random(n), n)
            out.placed.append((item, location))
    return out


def test_the_oracle_sees_every_item_unmasked_and_nothing_in_the_carrier() -> None:
    for fmt in FORMATS:
        case = _everywhere(fmt, 1)
        carrier = Views.of(base_ticket(random.Random(1), "T-1"))
        assert len(case.placed) >= 15, fmt
        for item, location in case.placed:
            assert leaks(Views.of(case.ticket), item), (fmt, location)
            assert not leaks(carrier, item), (fmt, location)
    assert plant("phone/known-case", 0).written == KNOWN_CASE  # the example stays this input
    for seed in range(50):  # the checked numbers are valid: a masker cannot excuse itself
        assert luhn.is_valid(plant("card/dots", seed).digits[0])


@settings(max_examples=300, deadline=None)
@given(planted())
@example(single("phone/known-case", "body"))  # once "[phone] 9179386"
@example(single("phone/known-case", "subject"))
@example(single("phone/known-case", "customer.phone"))
@example(single("phone/known-case", "metadata.depth3"))
@example(single("card/spaces", "subject", 3))
@example(glued_to_cjk())  # once "4132 - 4935 - [phone]"
@example(single("card/newlines", "tags", 1))
@example(single("card/dashes", "metadata.split", 2))
@example(single("phone/arabic-indic", "unknown.nested", 4))
@example(single("ip/ipv6-full", "source", 5))
@example(single("email/html-tags", "metadata.depth1"))
@example(single("card/html-spans", "unknown.nested"))
@example(single("iban/newlines", "unknown.key"))
@example(single("card/spaces", "metadata.split-fields"))
@example(single("phone/uk-national", "metadata.split-fields"))
@example(single("email/plain", "metadata.base64"))
@example(single("email/html-href", "body"))  # tag attributes were not scanned
@example(single("card/html-attribute", "subject"))
@example(single("iban/html-attribute", "metadata.depth2"))
@example(single("phone/html-href", "unknown.value"))
@example(single("iban/angle", "body"))  # "<DK45...>" read as a tag, its digits too
@example(single("id/nino-angle", "tags"))
@example(single("email/quoted-local", "subject"))
@example(single("iban/spaces", "tags", 220))  # "RO56 FYSC JUDS IR7V AHCE KECV"
@example(single("email/quoted-printable", "body"))  # "=40" is "@" in a raw MIME body
@example(single("card/quoted-printable", "subject"))
@example(single("iban/quoted-printable", "metadata.list"))
@example(single("email/words-nbsp", "body"))  # "at"/"dot" between no-break spaces
@example(single("email/words-es", "customer.extra"))  # "arroba" ... "punto"
@example(single("phone/digit-by-digit", "metadata.split"))  # ["0", "2", "3", "9", ...]
def test_no_fragment_survives_mask_ticket(case: PlantedTicket) -> None:
    before = copy.deepcopy(case.ticket)
    masked = mask_ticket(case.ticket)
    assert case.ticket == before  # the input is not changed
    assert masked["id"] == case.ticket["id"]
    assert_nothing_in_clear(masked, case.placed)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(FORMATS), SEEDS, st.sampled_from(("US", "GB", "DE", "FR", "BR", "IN")))
@example("phone/known-case", 0, "US")
@example("iban/dots", 374, "US")  # "RO58.SJRB.PH1W.DKIN.RWPH.THTQ": few digits, once not scanned
def test_no_fragment_survives_mask_text(fmt: str, seed: int, region: str) -> None:
    item = plant(fmt, seed)
    for text in (item.written, f"Call me: {item.written}.", f"我的号码是{item.written}，谢谢"):
        for regions in ((), (region,)):
            result = mask_text(text, regions)
            assert not leaks(Views.of(result.text), item), (text, regions, result.text)


CARD_FORMATS = tuple(f for f in FORMATS if f.startswith("card/"))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(CARD_FORMATS), SEEDS, st.sampled_from(LOCATIONS))
@example("card/digit-by-digit", 0, "body")  # masked, yet once not flagged: went outsourced
@example("card/form-encoded", 0, "source")  # "4111+1111+...": masked as a number, not flagged
@example("card/grouped", 0, "metadata.split")  # ["4695", "476192", "513681802"]: 19 digits
def test_a_card_anywhere_flags_the_ticket(fmt: str, seed: int, location: str) -> None:
    item = plant(fmt, seed)
    if not compatible(item, location):
        location = "body"
    raw = base_ticket(random.Random(seed), "T-1")
    place(raw, item, location, random.Random(seed), 0)
    assert "contains_card_data" in ticket_from_object(raw).flags, (fmt, location, item.written)


# What text puts right against an item: punctuation and quotes of several languages,
# CJK with no spaces, other spaces, emoji, invisible marks. (Not letters or digits:
# those change the item itself.)
GLUE = tuple("([{<\"'«“「¿¡#*:;,.!?…—–-)]}>»”」。，、是はの\u00a0\u3000\t\n🙂\u200b\u200e")


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(FORMATS), SEEDS, st.text(GLUE, max_size=2), st.text(GLUE, max_size=2),
    st.sampled_from(((), ("US",), ("GB",), ("DE",), ("BR",), ("IN",))),
)  # fmt: skip
@example("phone/known-case", 0, "<", "\u00a0", ())  # once "<[phone] 9179386"
@example("id/nino-compact", 0, "是", "。", ())
@example("id/ssn-labelled", 0, "<", ">", ())  # "<SSN 873798373>" read as a tag, not scanned
def test_an_item_glued_to_punctuation_or_cjk_is_masked(
    fmt: str, seed: int, before: str, after: str, regions: tuple[str, ...]
) -> None:
    item = plant(fmt, seed)
    masked = mask_text(before + item.written + after, regions).text
    assert not leaks(Views.of(masked), item), (before + item.written + after, masked)


@settings(max_examples=100, deadline=None)
@given(planted())
def test_masking_is_idempotent(case: PlantedTicket) -> None:
    once = mask_ticket(case.ticket)
    assert mask_ticket(once) == once


def test_many_keys_that_mask_alike_stay_small_and_fast() -> None:
    # A CRM contact map keyed by e-mail (or by number): every key masks to the same
    # token. Once each repeat got one more "'" than the last: 2,000 keys gave a 2 MB
    # copy of a 47 KB ticket, 4,000 seven-digit keys took 9.8 s, and the card flag at
    # ingestion walks the same way (a ticket under the size limit held the loop).
    for keys in (
        {f"ana.lopez{i}@example.com": 1 for i in range(2000)},
        {f"{i:07d}": 1 for i in range(3500)},
    ):
        raw = {"id": "T-1", "subject": "export", "metadata": keys}
        payload = orjson.dumps(raw)
        assert len(payload) < 64 * 1024
        started = time.perf_counter()
        masked = orjson.dumps(mask_ticket(raw))
        parse_ticket(payload)  # computes the card flag over the whole ticket
        elapsed = time.perf_counter() - started
        assert len(masked) < 2 * len(payload), (len(payload), len(masked))
        assert elapsed < 2.0, f"{elapsed:.1f}s to mask and flag a {len(payload)}-byte ticket"


@st.composite
def order_ids(draw: st.DrawFn) -> str:
    digits = draw(st.text(alphabet="0123456789", min_size=16, max_size=16))
    return digits[:-1] + next(d for d in "0123456789" if not luhn.is_valid(digits[:-1] + d))


@settings(max_examples=100, deadline=None)
@given(order_ids(), st.sampled_from(("", " ", "-")), st.sampled_from(((), ("US",), ("DE",))))
def test_non_luhn_order_ids_are_not_cards(
    order_id: str, sep: str, regions: tuple[str, ...]
) -> None:
    written = sep.join(order_id[i : i + 4] for i in range(0, 16, 4))
    assert "card" not in mask_text(f"Order {written} shipped", regions).kinds


# --- the copy a masked pool gets ------------------------------------------------

CONFIG = parse_config(dp_config(["en", "es", "de"]), source="data-protection test")
MASKER = Masker(b"data-protection-test-pseudonym-key")


def _prediction(tier: str = "tier1") -> Prediction:
    return Prediction("en", 0.9, tier, 0.6, "billing", 0.8, None, "none", "test-model")


def _assignment(raw: dict[str, Any], config: RoutingConfig = CONFIG) -> dict[str, Any]:
    ticket = ticket_from_object(raw)
    decision = decide(ticket, _prediction(), config, {}, NOW)
    return build_assignment(ticket, _prediction(), decision, received_at=NOW)


def assert_isolated(copy_: dict[str, Any], pool_id: str) -> None:
    """The copy names no other pool (id, name or vendor) and carries no ``excluded`` map."""
    assert copy_.get("excluded") in (None, {}), copy_.get("excluded")
    text = Views.of(copy_).text
    named = [name for name in foreign_names(pool_id) if name in text]
    assert not named, (named, copy_)


@settings(max_examples=150, deadline=None)
@given(planted())
def test_a_masked_pool_gets_nothing_in_clear_and_no_other_pool(case: PlantedTicket) -> None:
    assignment = _assignment(case.ticket)
    assert (assignment["pool_id"], assignment["data_access"]) == (MASKED, "masked")
    delivered = for_pool(assignment, MASKER)
    assert delivered["ticket_masked"] is True
    assert_nothing_in_clear(delivered, case.placed)
    assert_isolated(delivered, MASKED)


@settings(max_examples=100, deadline=None)
@given(planted(max_items=2), st.lists(st.tuples(st.sampled_from(FORMATS), SEEDS), min_size=3,
                                      max_size=3))  # fmt: skip
@example(
    single("phone/known-case", "body"),
    [("email/plain", 1), ("card/spaces", 2), ("phone/known-case", 0)],
)
def test_an_escalation_reason_reaches_the_next_masked_pool_masked(
    case: PlantedTicket, reason_items: list[tuple[str, int]]
) -> None:
    items = [plant(fmt, seed) for fmt, seed in reason_items]
    reason = "Customer says: " + ", ".join(i.written for i in items)
    record = _assignment(case.ticket)
    agent = OTHER_VENDOR_AGENT.written
    move = agent_move(record, agent, reason[:500], CONFIG, {}, NOW + timedelta(minutes=3))
    assert move.pool_id == ESCALATION_TARGET
    delivered = for_pool(move.record, MASKER)
    assert delivered["data_access"] == "masked"
    placed = [*case.placed, *((i, "escalation.reason") for i in items)]
    placed.append((OTHER_VENDOR_AGENT, "escalation.agent"))
    assert_nothing_in_clear(delivered, placed)
    assert_isolated(delivered, ESCALATION_TARGET)


def test_an_sla_move_to_a_masked_pool_names_no_other_pool() -> None:
    case = _everywhere("email/plain", 5)
    record = _assignment(case.ticket)
    move = sla_move(record, 0, CONFIG, {}, NOW + timedelta(minutes=2))
    assert (move.pool_id, move.moved) == (ESCALATION_TARGET, True)
    delivered = for_pool(move.record, MASKER)
    assert_nothing_in_clear(delivered, case.placed)
    assert_isolated(delivered, ESCALATION_TARGET)
