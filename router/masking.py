"""Masking personal data for pools whose data access is ``masked``.

Pure: text in, text out. Every finder reports spans; the spans of one kind are
replaced by a token such as ``[email]`` before the next kind is searched, in an
order where the more specific kinds go first (an e-mail address may hold digits,
a card number is also phone-shaped).

``mask_ticket`` walks a ticket JSON object: the fields routing needs are kept,
fields whose key names personal data (e-mail, phone, name, address, birth date)
are replaced whole, and every other string, at any depth, is scanned.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from router import masking_numbers as numbers
from router import masking_phones as phones
from router.masking_numbers import contains_card_data

__all__ = ["MaskResult", "contains_card_data", "mask_text", "mask_ticket", "ticket_regions"]

Span = tuple[int, int]

# Local part and domain as RFC 5322 allows in practice; \w admits
# internationalised addresses. The look-behind keeps the scan linear.
_EMAIL = re.compile(r"(?<![\w.+'-])[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")

# Kept verbatim: what routing and the agent need, and nothing personal.
_KEPT_TOP = frozenset({"id", "channel", "created_at", "priority", "source"})
_KEPT_CUSTOMER = frozenset({"id", "locale", "timezone", "country", "plan", "region"})
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


@dataclass(frozen=True, slots=True)
class MaskResult:
    """Masked text and the kinds of personal data that were replaced in it."""

    text: str
    kinds: frozenset[str]


def _replace(text: str, spans: Sequence[Span], token: str) -> str:
    """Replace spans (overlapping ones merged) with ``token``."""
    parts: list[str] = []
    pos = 0
    for start, end in sorted(spans):
        if end <= pos:
            continue
        parts.append(text[pos : max(start, pos)])
        parts.append(token)
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


def _email_spans(text: str) -> list[Span]:
    return [m.span() for m in _EMAIL.finditer(text)] if "@" in text else []


# Order matters: see the module doc.
_FINDERS: tuple[tuple[str, Callable[[str], list[Span]]], ...] = (
    ("email", _email_spans),
    ("iban", numbers.iban_spans),
    ("card", numbers.card_spans),
    ("cpf", numbers.cpf_spans),
    ("ssn", numbers.ssn_spans),
    ("nino", numbers.nino_spans),
    ("ip", numbers.ip_spans),
)
_HAS_DIGIT = re.compile(r"\d")


def mask_text(text: str, regions: Sequence[str] = ()) -> MaskResult:
    """Replace personal data in ``text`` with tokens such as ``[email]`` or ``[card]``.

    ``regions`` (ISO 3166-1 alpha-2, e.g. the customer's country) lets national
    phone numbers be read by their numbering plan; without one, phone numbers
    are found by shape (see ``router.masking_phones``).
    """
    kinds: set[str] = set()
    if not _HAS_DIGIT.search(text) and "@" not in text:
        return MaskResult(text, frozenset())  # nothing below can match: the common fast path
    for kind, finder in _FINDERS:
        spans = finder(text)
        if spans:
            text = _replace(text, spans, f"[{kind}]")
            kinds.add(kind)
    spans = phones.phone_spans(text, regions)
    if spans:
        text = _replace(text, spans, "[phone]")
        kinds.add("phone")
    return MaskResult(text, frozenset(kinds))


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
    norm = re.sub(r"[^a-z0-9]", "", key.lower())
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


class _Masker:
    """One ticket's walk; holds the phone regions so every string uses them."""

    def __init__(self, regions: Sequence[str]) -> None:
        self.regions = regions

    def value(self, value: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            return REDACTED
        if isinstance(value, str):
            return mask_text(value, self.regions).text
        if isinstance(value, bool) or value is None or isinstance(value, float):
            return value
        if isinstance(value, int):
            # An id stored as a number can still be a card or phone number.
            masked = mask_text(str(value), self.regions).text
            return value if masked == str(value) else masked
        if isinstance(value, Mapping):
            return self.mapping(value, depth + 1, kept=frozenset())
        if isinstance(value, list | tuple):
            return [self.value(item, depth + 1) for item in value]
        return REDACTED  # not JSON: nothing we know how to check

    def mapping(self, obj: Mapping[str, Any], depth: int, kept: frozenset[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, item in obj.items():
            if key in kept:
                out[key] = item
                continue
            kind = _key_kind(str(key))
            if kind is not None and item not in (None, "", [], {}):
                out[key] = f"[{kind}]"
            else:
                out[key] = self.value(item, depth)
        return out


def mask_ticket(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A masked copy of a ticket JSON object; ``raw`` is not changed.

    Kept: the ticket ``id``, ``channel``, ``created_at``, ``priority``,
    ``source`` and the customer's ``id``, ``locale``, ``timezone``, ``country``,
    ``plan`` and ``region``. Replaced whole: any field, at any depth, whose key
    names an e-mail, phone, name, address or birth date. Scanned with
    ``mask_text``: every other string (subject, body, tags, metadata and
    unknown fields).
    """
    masker = _Masker(ticket_regions(raw))
    out = masker.mapping(raw, 0, kept=_KEPT_TOP)
    customer = raw.get("customer")
    if isinstance(customer, Mapping):
        out["customer"] = masker.mapping(customer, 1, kept=_KEPT_CUSTOMER)
    return out
