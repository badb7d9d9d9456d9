"""Tickets with planted personal data in every place a real ticket puts it.

A careless helpdesk integration copies whatever it has into whatever field is
free: the customer's e-mail into ``customer.id``, a card number into a tag, the
caller's number into ``source``, a CRM export into metadata (values, keys, lists,
numbers and floats, six levels deep, a card split into its groups, a base64 MIME
part) or into top-level fields the router does not know.
:func:`planted_tickets` spreads the formats of ``tests.pii_plants`` over all of
these locations, in sentences of several scripts, deterministically from a seed.
"""

from __future__ import annotations

import base64
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from tests.pii_item import Item
from tests.pii_plants import FORMATS, plant

LOCATIONS = (
    "subject", "body", "customer.email", "customer.phone", "customer.id", "customer.plan",
    "customer.extra", "source", "tags", "metadata.depth1", "metadata.depth2",
    "metadata.depth3", "metadata.depth4", "metadata.depth5", "metadata.depth6",
    "customer.region", "metadata.key", "metadata.deep-key", "metadata.list", "metadata.split",
    "metadata.split-fields", "metadata.number", "metadata.float", "metadata.base64",
    "unknown.value", "unknown.key", "unknown.nested",
)  # fmt: skip
PLAN_MAX = 64
REGION_MAX = 32
SOURCE_MAX = 128

# Sentences around the item; CJK ones glue it to the characters on both sides.
SENTENCES = (
    "Please update my details: {x}. Thanks!",
    "Hola, mi dato es {x}, ¿pueden revisarlo?",
    "Bitte prüfen Sie {x} und melden Sie sich.",
    "Meu contato é {x} — obrigado.",
    "Мой номер {x}, перезвоните, пожалуйста.",
    "رقمي هو {x} شكرا لكم",
    "我的信息是{x}，请帮忙处理。",
    "カード番号は{x}です。よろしくお願いします。",
    "मेरा विवरण {x} है, कृपया जाँच करें।",
    "ref:{x};",
    "({x})",
)
COUNTRIES = (None, "US", "GB", "DE", "FR", "BR", "IN", "ES", "IT", "JP")
EXTRA_KEYS = ("account_ref", "notes", "secondary_contact", "billing_ref", "external_id", "crm")
# A number typed into one box per group (card forms do this) arrives as a list of groups.
_GROUP_SEPARATORS = re.compile(r"[\s\-./\u00a0\u2009\u202f]+")
SPLIT_KINDS = frozenset({"card", "phone", "iban", "ssn", "cpf"})


def split_groups(item: Item) -> list[str]:
    """The groups of ``item`` as separate strings (one group: not splittable)."""
    if "<" in item.written or "&" in item.written:
        return [item.written]  # HTML: its groups are not plain text
    return [g for g in _GROUP_SEPARATORS.split(item.written) if g]


@dataclass
class PlantedTicket:
    """A ticket and the items planted in it, with where each one went."""

    ticket: dict[str, Any]
    placed: list[tuple[Item, str]] = field(default_factory=list)


def compatible(item: Item, location: str) -> bool:
    """Whether a real integration could put ``item`` at ``location`` (and it validates)."""
    if location == "customer.email":
        return item.kind == "email"
    if location == "customer.phone":
        return item.kind == "phone"
    if location in ("metadata.number", "metadata.float"):
        return item.number is not None
    if location in ("metadata.split", "metadata.split-fields"):
        return item.kind in SPLIT_KINDS and len(split_groups(item)) > 1
    if location == "customer.region":
        return len(item.written) <= REGION_MAX
    if location == "customer.plan":
        return len(item.written) + len("pro ") <= PLAN_MAX
    if location == "source":
        return len(item.written) + len("helpdesk:") <= SOURCE_MAX
    return True


def base_ticket(rng: random.Random, ticket_id: str) -> dict[str, Any]:
    """A ticket with no personal data in it (the carrier for planted items)."""
    customer: dict[str, Any] = {"id": f"cus-{rng.randrange(16**6):06x}", "locale": "en-US"}
    country = rng.choice(COUNTRIES)
    if country is not None:
        customer["country"] = country
    return {
        "id": ticket_id,
        "subject": rng.choice(("Problem with my account", "Refund request", "Cannot log in")),
        "body": rng.choice(("Hello, I need help with my order.", "The app keeps crashing.")),
        "customer": customer,
        "channel": rng.choice(("email", "chat", "web")),
        "priority": rng.choice(("low", "normal", "high")),
        "tags": [],
        "metadata": {},
    }


def _nested(depth: int, leaf: Any, n: int) -> dict[str, Any]:
    value: Any = leaf
    for level in range(depth - 1, 0, -1):
        value = {f"level{level + 1}": value}
    return {f"ctx{n}": value}


def place(raw: dict[str, Any], item: Item, location: str, rng: random.Random, n: int) -> None:
    """Put ``item`` at ``location`` of ``raw`` (``n`` keeps the keys of one ticket apart)."""
    sentence = rng.choice(SENTENCES).format(x=item.written)
    customer, metadata = raw["customer"], raw["metadata"]
    if location == "subject":
        raw["subject"] += " " + sentence
    elif location == "body":
        raw["body"] += "\n" + sentence
    elif location in ("customer.email", "customer.phone", "customer.id"):
        customer[location.split(".")[1]] = item.written
    elif location == "customer.region":
        customer["region"] = item.written
    elif location == "customer.plan":
        customer["plan"] = "pro " + item.written
    elif location == "customer.extra":
        customer[f"{rng.choice(EXTRA_KEYS)}_{n}"] = item.written
    elif location == "source":
        raw["source"] = "helpdesk:" + item.written
    elif location == "tags":
        raw["tags"].append(rng.choice((item.written, f"cust:{item.written}")))
    elif location.startswith("metadata.depth"):
        depth = int(location.removeprefix("metadata.depth"))
        metadata.update(_nested(depth, sentence, n))
    elif location == "metadata.key":
        metadata[item.written] = "requester"
    elif location == "metadata.list":
        metadata[f"history{n}"] = ["opened via portal", [sentence], {"step": n}]
    elif location == "metadata.deep-key":
        metadata[f"crm{n}"] = {"contacts": {"by_value": {item.written: {"verified": True}}}}
    elif location == "metadata.split":
        metadata[f"parts{n}"] = split_groups(item)
    elif location == "metadata.split-fields":  # one form field per group
        metadata[f"form{n}"] = {f"cc_{k}": g for k, g in enumerate(split_groups(item), 1)}
    elif location == "metadata.base64":  # a raw MIME part, as mail integrations pass it on
        metadata[f"mime{n}"] = base64.b64encode(sentence.encode()).decode()
    elif location == "metadata.number":
        metadata[f"ref{n}"] = item.number
    elif location == "metadata.float":
        metadata[f"amount{n}"] = float(item.number or 0)
    elif location == "unknown.value":
        raw[f"x_crm_note{n}"] = sentence
    elif location == "unknown.key":
        raw[item.written] = "requester"
    elif location == "unknown.nested":
        raw[f"x_profile{n}"] = {"contact": [{"value": sentence}], "n": n}
    else:
        raise ValueError(f"unknown location {location!r}")


# One item per ticket in these: the field holds one value.
_SINGLE = frozenset(
    {
        "customer.email",
        "customer.phone",
        "customer.id",
        "customer.plan",
        "customer.region",
        "source",
    }
)


def pairs(rng: random.Random) -> Iterator[tuple[str, str]]:
    """(format, location) pairs without end: every compatible pair once per round."""
    probe = {fmt: plant(fmt, 0) for fmt in FORMATS}
    everything = [(fmt, loc) for fmt in FORMATS for loc in LOCATIONS if compatible(probe[fmt], loc)]
    while True:
        rng.shuffle(everything)
        yield from everything


def planted_tickets(
    count: int, seed: int, prefix: str, per_ticket: tuple[int, int] = (3, 6)
) -> list[PlantedTicket]:
    """``count`` tickets with ``per_ticket`` items each, cycling through every
    compatible (format, location) pair; the same arguments give the same tickets."""
    rng = random.Random(seed)
    source = pairs(rng)
    deferred: list[tuple[str, str]] = []
    out: list[PlantedTicket] = []
    serial = 0
    for i in range(count):
        planted = PlantedTicket(base_ticket(rng, f"{prefix}-{i:05d}"))
        used: set[str] = set()
        want = rng.randint(*per_ticket)
        queue, deferred = deferred, []
        while len(planted.placed) < want:
            fmt, location = queue.pop(0) if queue else next(source)
            if location in _SINGLE and location in used:
                deferred.append((fmt, location))
                continue
            serial += 1
            item = plant(fmt, seed * 1_000_003 + serial)
            if not compatible(item, location):
                deferred.append((fmt, location))
                continue
            place(planted.ticket, item, location, rng, len(planted.placed))
            planted.placed.append((item, location))
            used.add(location)
        deferred.extend(queue)
        out.append(planted)
    return out
