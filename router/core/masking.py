"""Masking personal data for pools whose data access is ``masked``.

Pure: JSON in, JSON out. What counts as personal data is decided by one detector
(:func:`router.core.pii.detect.find_pii`); this module walks a ticket and replaces
each finding with a token such as ``[email]`` or ``[card]``.

Masking by construction: every string of the ticket is scanned, at any depth,
keys included (``{"ana@example.com": "owner"}`` becomes ``{"[email]": "owner"}``),
numbers too (a card number sent as a JSON number). Nothing is kept because of
where it is. The values of a list or an object are also scanned joined, so a
number split over form fields (``{"cc_1": "4111", "cc_2": "1111", ...}``) is found.
Three rules on top:

- fields whose key names personal data (e-mail, phone, name, address, birth
  date, at any depth) are replaced whole, whatever they hold;
- ``customer.id`` becomes a keyed pseudonym (``router.core.pii.pseudonym``), so a
  vendor can tell a returning customer without learning who it is;
- the ticket ``id`` is delivered as sent: it is the platform's key for the
  ticket and the handle of the agents' API (claim, accept, complete), and a
  platform does not put its customers' data in it (see docs/data-protection.md).

:func:`ticket_kinds` runs the same walk and reports the kinds found;
:func:`ticket_has_card` (the ticket's ``contains_card_data`` flag) is "a card among
them, or in one of the ticket's ids".
"""

from __future__ import annotations

import bisect
import functools
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from router.core.config_types import ConfigError
from router.core.pii import phones as phones
from router.core.pii.detect import (
    CARD_SCAN_MIN,
    Finding,
    contains_card_data,
    find_pii,
    may_hold_card,
)
from router.core.pii.pseudonym import MIN_KEY_BYTES, NO_KEY_TOKEN, is_pseudonym, pseudonym

log = logging.getLogger(__name__)

__all__ = [
    "MAX_DEPTH",
    "REDACTED",
    "MaskResult",
    "Masker",
    "contains_card_data",
    "mask_text",
    "mask_ticket",
    "masker_for",
    "ticket_has_card",
    "ticket_kinds",
    "ticket_regions",
]

# Pieces of a split value are short ("4111", "+44", "DE89"); longer values are
# scanned on their own only (joining the subject and body would scan them twice).
_PIECE_MAX = 16
_SPLIT_MAX = 19
_IBAN_MAX = 34
# Deeper than any honest ticket: below this, values are redacted, not walked.
MAX_DEPTH = 32
REDACTED = "[redacted]"

# Normalised key (lower case, letters and digits only) -> kind, for exact keys.
_KEY_KINDS: Mapping[str, str] = {
    **dict.fromkeys(("email", "emails", "mail", "emailaddress"), "email"),
    **dict.fromkeys(
        ("phone", "phones", "phonenumber", "mobile", "telephone", "tel", "cell", "fax", "msisdn"),
        "phone",
    ),
    **dict.fromkeys(
        (
            "address",
            "street",
            "streetaddress",
            "addressline1",
            "addressline2",
            "postcode",
            "postalcode",
            "zip",
            "zipcode",
            "billingaddress",
            "shippingaddress",
        ),
        "address",
    ),
    **dict.fromkeys(("dob", "birthdate", "dateofbirth", "birthday"), "dob"),
}
# "...name" keys are personal (first_name, display_name ...) except these.
_TECHNICAL_NAMES = frozenset(
    {"filename", "hostname", "pathname", "domainname", "typename", "classname", "queuename"}
)
_KEY_CHARS = re.compile(r"[^a-z0-9]")
# A key masked already ("[email]", "tel:[phone]") names no kind: its kind was decided
# on the key as written, so masking a masked copy again changes nothing.
_TOKEN = re.compile(r"\[[a-z_]+\]")


@dataclass(frozen=True, slots=True)
class MaskResult:
    """Masked text and the kinds of personal data that were replaced in it."""

    text: str
    kinds: frozenset[str]


def mask_text(text: str, regions: Sequence[str] = ()) -> MaskResult:
    """Replace personal data in ``text`` with tokens such as ``[email]`` or ``[card]``.

    ``regions`` (ISO 3166-1 alpha-2, e.g. the customer's country) lets national
    phone numbers be read by their numbering plan.
    """
    findings = find_pii(text, regions)
    if not findings:
        return MaskResult(text, frozenset())
    parts: list[str] = []
    pos = 0
    for f in findings:  # by position; overlapping findings merge into the first one
        if f.end <= pos:
            continue
        if f.start >= pos:
            parts.append(text[pos : f.start])
            parts.append(f"[{f.kind}]")
        pos = f.end
    parts.append(text[pos:])
    return MaskResult("".join(parts), frozenset(f.kind for f in findings))


def ticket_regions(raw: Mapping[str, Any]) -> tuple[str, ...]:
    """Phone regions a ticket suggests: its customer's country, then its locale's region."""
    customer = raw.get("customer")
    if not isinstance(customer, Mapping):
        return ()
    candidates: list[str | None] = []
    country = customer.get("country")
    if isinstance(country, str):
        candidates.append(country)
    locale = customer.get("locale")
    if isinstance(locale, str):
        # "pt-BR", "pt_BR", "zh-Hant-TW": the region is the last two-letter part.
        parts = re.split(r"[-_]", locale)
        candidates.extend(p for p in parts[1:] if len(p) == 2)
    return phones.known_regions(candidates)


def _key_kind(key: str) -> str | None:
    # The same few keys come ticket after ticket; long ones are not kept.
    return _known_key_kind(key) if len(key) <= 64 else _read_key_kind(key)


@functools.lru_cache(maxsize=4096)
def _known_key_kind(key: str) -> str | None:
    return _read_key_kind(key)


def _read_key_kind(key: str) -> str | None:
    if _TOKEN.search(key):
        return None
    norm = _KEY_CHARS.sub("", key.lower())
    kind = _KEY_KINDS.get(norm)
    if kind is not None:
        return kind
    if norm.endswith("email"):
        return "email"
    if norm.endswith("phone"):
        return "phone"
    if norm.endswith("name") and norm not in _TECHNICAL_NAMES:
        return "name"
    return None


@dataclass(slots=True)
class _Walk:
    """One ticket's walk: the phone regions every string uses, and the kinds found."""

    regions: Sequence[str]
    until: Literal["card"] | None = None
    kinds: set[str] = field(default_factory=set)

    def text(self, text: str) -> str:
        if self.until is not None:
            self.kinds.update(f.kind for f in find_pii(text, self.regions, until=self.until))
            return text
        result = mask_text(text, self.regions)
        self.kinds |= result.kinds
        return result.text

    def value(self, value: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            return REDACTED
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, int | float):
            # An id stored as a number can still be a card or phone number.
            masked = self.text(str(value))
            return value if masked == str(value) else masked
        if isinstance(value, Mapping):
            return self.mapping(value, depth + 1)
        if isinstance(value, list | tuple):
            return self.joined([self.value(item, depth + 1) for item in value], value)
        return REDACTED  # not JSON: nothing we know how to check

    def joined(self, masked: list[Any], original: Sequence[Any]) -> list[Any]:
        """Items (of a list, or the values of an object) that hold personal data only
        together ("4111", "1111", "1111", "1111"): the short scalar items are scanned
        joined by spaces too, and every item a finding spans is replaced by its token.

        Twice: as written, for what the pieces hold together (a card split 4/6/9 whose
        long piece alone reads as a number), unless one of the pieces alone is that
        kind already (a card number next to a count must not take the count along);
        then as masked, for what is left around pieces masked on their own."""
        pieces = [
            i
            for i, item in enumerate(original)
            if isinstance(item, str | int | float)
            and not isinstance(item, bool)
            and len(str(item)) <= _PIECE_MAX
        ]
        if len(pieces) < 2 or not any(any(c.isdigit() for c in str(original[i])) for i in pieces):
            return masked
        for finding, touched in self._scan_joined([str(original[i]) for i in pieces], pieces):
            own = ({f.kind for f in find_pii(str(original[i]), self.regions)} for i in touched)
            if len(touched) > 1 and not any(finding.kind in kinds for kinds in own):
                for i in touched:
                    masked[i] = f"[{finding.kind}]"
        for finding, touched in self._scan_joined([str(masked[i]) for i in pieces], pieces):
            for i in touched:
                masked[i] = f"[{finding.kind}]"
        return masked

    def _scan_joined(self, texts: list[str], pieces: list[int]) -> list[tuple[Finding, list[int]]]:
        """Findings in ``texts`` joined by spaces, each with the pieces it touches.

        A finding over more pieces than any item has characters (19 for a card, 34
        for an IBAN) is left out: that is a list of numbers ({"ana@...": 1, ...},
        [1, 2, ..., 6000]), not one item split in pieces."""
        starts, pos = [], 0
        for piece in texts:
            starts.append(pos)
            pos += len(piece) + 1
        out = []
        for finding in find_pii(" ".join(texts), self.regions, until=self.until):
            first = bisect.bisect_right(starts, finding.start) - 1
            last = bisect.bisect_left(starts, finding.end) - 1
            touched = list(range(first, last + 1))
            if len(touched) > (_IBAN_MAX if finding.kind == "iban" else _SPLIT_MAX):
                continue
            self.kinds.add(finding.kind)
            out.append((finding, [pieces[k] for k in touched]))
        return out

    def mapping(self, obj: Mapping[Any, Any], depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        repeats: dict[str, int] = {}
        for key, item in obj.items():
            name = str(key)
            masked_key = self.text(name)
            if masked_key in out:  # keys masked alike: keep every value, "[email]#2" ...
                repeats[masked_key] = repeats.get(masked_key, 1) + 1
                masked_key = f"{masked_key}#{repeats[masked_key]}"
                while masked_key in out:  # a key written "[email]#2" already
                    masked_key += "#"
            kind = _key_kind(name)
            value = self.value(item, depth)
            if kind is not None and item not in (None, "", [], {}):
                value = f"[{kind}]"  # scanned all the same, so its kinds are reported
            out[masked_key] = value
        if len(out) > 1:
            # A number split over fields ({"cc1": "4111", "cc2": "1111", ...}).
            keys = list(out)
            values = self.joined([out[k] for k in keys], list(obj.values()))
            out = dict(zip(keys, values, strict=True))
        return out


class Masker:
    """Masks tickets for masked pools; holds the pseudonym key for ``customer.id``.

    Calling the masker masks a ticket (``masker(raw)``), so it is what
    ``router.core.assignment.for_pool`` takes.
    """

    __slots__ = ("_key",)

    def __init__(self, pseudonym_key: bytes | None = None) -> None:
        self._key = pseudonym_key or None

    @property
    def has_key(self) -> bool:
        """True when customer ids become pseudonyms, False when they are redacted."""
        return self._key is not None

    def __call__(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        return self.ticket(raw)

    def ticket(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """A masked copy of a ticket JSON object; ``raw`` is not changed."""
        walk = _Walk(ticket_regions(raw))
        return self._walk_ticket(raw, walk)

    def text(self, text: str, regions: Sequence[str] = ()) -> str:
        """``text`` masked (the router's own texts about a ticket: reasons, notes)."""
        return mask_text(text, regions).text

    def _walk_ticket(self, raw: Mapping[str, Any], walk: _Walk) -> dict[str, Any]:
        rest = {k: v for k, v in raw.items() if k != "id"}
        out: dict[str, Any] = {"id": raw["id"]} if "id" in raw else {}
        customer = rest.pop("customer", None)
        out.update(walk.mapping(rest, 0))
        if isinstance(customer, Mapping):
            cid = customer.get("id")
            masked = walk.mapping({k: v for k, v in customer.items() if k != "id"}, 1)
            if cid is not None and cid != "":
                text = str(cid)
                masked = {
                    "id": text if is_pseudonym(text) else pseudonym(text, self._key),
                    **masked,
                }
            elif "id" in customer:
                masked = {"id": cid, **masked}
            out["customer"] = masked
        elif customer is not None or "customer" in raw:
            out["customer"] = walk.value(customer, 1)
        return out


def ticket_kinds(raw: Mapping[str, Any], *, until: Literal["card"] | None = None) -> frozenset[str]:
    """The kinds of personal data anywhere in a ticket, found by the masking walk.

    ``until="card"`` runs the detector only as far as its card finder (what the
    ``contains_card_data`` flag needs; the result for ``"card"`` is the same).
    """
    walk = _Walk(ticket_regions(raw), until=until)
    Masker()._walk_ticket(raw, walk)
    return frozenset(walk.kinds)


def ticket_has_card(raw: Mapping[str, Any]) -> bool:
    """True when a ticket holds a payment card number: where its masked copy shows
    ``[card]``, or in one of its ids -- the ticket id (delivered as sent, see the module
    doc) or the customer id (a pseudonym in the masked copy, but card data all the
    same where the ticket goes unmasked)."""
    customer = raw.get("customer")
    ids = [raw.get("id"), customer.get("id") if isinstance(customer, Mapping) else None]
    if any(
        isinstance(i, str | int) and may_hold_card(str(i)) and contains_card_data(str(i))
        for i in ids
    ):
        return True
    return _CardWalk(ticket_regions(raw)).ticket(raw)


@dataclass(frozen=True, slots=True)
class _CardWalk:
    """The walk of :func:`ticket_kinds` with ``until="card"`` (the same strings, keys
    and joined pieces at the same depths), answering only "is there a card", and
    cheaper: it stops at the first card, and gives a string (or a list's or object's
    short pieces, joined) to the detector only when it could hold one -- most strings
    of a ticket have too few digits (``may_hold_card``)."""

    regions: Sequence[str]

    def ticket(self, raw: Mapping[str, Any]) -> bool:
        # The parts of the ticket _walk_ticket walks, at the same depths.
        rest = {k: v for k, v in raw.items() if k not in ("id", "customer")}
        if self.mapping(rest, 0):
            return True
        customer = raw.get("customer")
        if isinstance(customer, Mapping):
            return self.mapping({k: v for k, v in customer.items() if k != "id"}, 1)
        return "customer" in raw and self.value(customer, 1)

    def text(self, text: str) -> bool:
        if (len(text) < CARD_SCAN_MIN and text.isascii()) or not may_hold_card(text):
            return False  # most keys and values are short (checked here: it is hot)
        return any(f.kind == "card" for f in find_pii(text, self.regions, until="card"))

    def value(self, value: Any, depth: int) -> bool:
        if depth > MAX_DEPTH or isinstance(value, bool) or value is None:
            return False
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, int | float):
            return self.text(str(value))
        if isinstance(value, Mapping):
            return self.mapping(value, depth + 1)
        if isinstance(value, list | tuple):
            if any(self.value(item, depth + 1) for item in value):
                return True
            if not _pieces_may_hold_card(value):
                return False
            inner = depth + 1 > MAX_DEPTH
            return self.joined(list(value), [REDACTED if inner else v for v in value])
        return False

    def mapping(self, obj: Mapping[Any, Any], depth: int) -> bool:
        for key, item in obj.items():
            key = str(key)
            # The short ASCII test of text() first, here: most keys and values are such.
            if (len(key) >= CARD_SCAN_MIN or not key.isascii()) and self.text(key):
                return True
            if isinstance(item, str) and depth <= MAX_DEPTH:
                if (len(item) >= CARD_SCAN_MIN or not item.isascii()) and self.text(item):
                    return True
            elif self.value(item, depth):
                return True
        if len(obj) < 2 or not _pieces_may_hold_card(obj.values()):
            return False
        # What _Walk.mapping hands its joined scan as masked: the token of a field whose
        # key names personal data, "[redacted]" below the depth limit, else the value.
        masked = []
        for key, item in obj.items():
            kind = _key_kind(str(key))
            if kind is not None and item not in (None, "", [], {}):
                masked.append(f"[{kind}]")
            else:
                masked.append(REDACTED if depth > MAX_DEPTH else item)
        return self.joined(list(obj.values()), masked)

    def joined(self, original: list[Any], masked: list[Any]) -> bool:
        """A card in the short pieces of a list or object, joined (``_Walk.joined``)."""
        walk = _Walk(self.regions, until="card")
        walk.joined(masked, original)
        return "card" in walk.kinds


def _pieces_may_hold_card(items: Iterable[Any]) -> bool:
    """False when the short pieces of ``items`` (those ``_Walk.joined`` scans joined)
    cannot hold a card together; the masked pieces it scans again are these pieces or
    tokens without digits. (Joined once and checked once: cheaper than piece by piece.)"""
    pieces = []
    for item in items:
        if isinstance(item, str):
            if len(item) <= _PIECE_MAX:
                pieces.append(item)
        elif isinstance(item, int | float) and not isinstance(item, bool):
            text = str(item)
            if len(text) <= _PIECE_MAX:
                pieces.append(text)
    return len(pieces) > 1 and may_hold_card(" ".join(pieces))


#: A masker without a pseudonym key: customer ids are redacted, not pseudonymised.
mask_ticket = Masker()


@functools.lru_cache(maxsize=4)
def masker_for(pseudonym_key: str | None) -> Masker:
    """The masker for a configured pseudonym key (``ROUTER_PSEUDONYM_KEY``); one per key.

    Without a key, customer ids cannot be pseudonymised safely and are redacted; that
    is said once, as a warning. A key shorter than 16 bytes is refused: customer ids
    are guessable, so a weak key would let them be recovered. The refusal is a
    ``ConfigError``, so the service says it in one line at start-up and exits 2.
    """
    if pseudonym_key and len(pseudonym_key.encode("utf-8")) < MIN_KEY_BYTES:
        raise ConfigError(
            "ROUTER_PSEUDONYM_KEY",
            [("", f"must be at least {MIN_KEY_BYTES} bytes (use 32 random bytes)")],
        )
    if not pseudonym_key:
        log.warning(
            "ROUTER_PSEUDONYM_KEY is not set: masked pools get customer.id as %s, "
            "not a pseudonym they can correlate on",
            NO_KEY_TOKEN,
        )
        return mask_ticket
    return Masker(pseudonym_key.encode("utf-8"))
