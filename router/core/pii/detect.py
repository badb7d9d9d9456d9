"""The one detector of personal data: typed findings with spans, for masking and for flags.

:func:`find_pii` is the only place that decides what personal data is. Masking
(``router.core.masking``) replaces what it finds; the ticket flag
``contains_card_data`` (``router.core.ticket_schema``) is "did it find a card
anywhere in the ticket". Both run the same finders in the same order over the
same normalised text, so what is masked and what is flagged cannot disagree.

Pipeline, per string:

1. Normalise (``router.core.pii.normalise``): NFKC, invisible characters dropped,
   every space a space, look-alike digits and dashes plain, HTML tags reduced to
   their attribute values, ``%40``, ``&#64;``, ``(at)``, `` dot `` spelled out.
   Findings are mapped back to the original text.
2. Base64 values whose decoded text holds an item (the item's kind).
3. Finders, most specific first. Each one's findings are blanked (same length)
   before the next runs, so an e-mail address's digits are not also a phone
   number: e-mail, IBAN, card, CPF, SSN, UK NI, other national ids, IP address.
4. Amounts are blanked (kept readable), then phone numbers (libphonenumber with
   the ticket's regions, then by shape), then every remaining run of seven or
   more digits that is not a date (``router.core.pii.digits``): the catch-all that
   makes the detector err on the side of masking.

Fast paths skip the pipeline where no finder could find anything, and full scans
are memoised (``_Memo``), so the flag at parse time and the masking at publish time
scan a string once.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from router.core.pii import digits as digits
from router.core.pii import numbers as numbers
from router.core.pii import phones as phones
from router.core.pii.normalise import (
    AT_WORDS,
    DIGITS_OF,
    DOT_WORDS,
    Normalised,
    changes,
    char_class,
    normalise,
)

__all__ = [
    "CARD_SCAN_MIN",
    "KINDS",
    "Finding",
    "clear_memo",
    "contains_card_data",
    "find_pii",
    "may_hold_card",
]

Span = tuple[int, int]

# Local part and domain as RFC 5322 allows in practice; \w admits internationalised
# addresses. A domain without a dot ("ana@localhost") or an address literal
# ("ana@[10.0.0.1]") still has a personal local part.
_DOMAIN = re.compile(r"@(?:\[[0-9A-Fa-f:.]+\]|[\w-]+(?:\.[\w-]+)*)")
_LOCAL = re.compile(r"[\w.+'-]+\Z")
_QUOTED_LOCAL = re.compile(r'"[^"\n]{1,64}"\Z')  # "jan murphy"@example.org
_LOCAL_MAX = 256

# Blanks: not a digit, letter, separator or space, so nothing found later starts,
# ends or continues inside one. (NUL cannot survive normalisation.)
_BLANK = "\x00"


def _email_spans(text: str) -> list[Span]:
    # From each "@": the domain forward, the local part backward (a pattern that
    # starts with the local part would be tried at every letter of the text).
    spans: list[Span] = []
    if "@" not in text:
        return spans
    pos = 0
    for domain in _DOMAIN.finditer(text):
        at = domain.start()
        local = _LOCAL.search(text, max(pos, at - _LOCAL_MAX), at)
        if local is None and at > 0 and text[at - 1] == '"':
            local = _QUOTED_LOCAL.search(text, max(pos, at - 66), at)
        if local is not None and domain.end() > at + 1:
            spans.append((local.start(), domain.end()))
            pos = domain.end()
    return spans


_Finder = Callable[[str], list[Span]]
# The checked finders, in order (see the module doc).
_CHECKED: tuple[tuple[str, _Finder], ...] = (
    ("email", _email_spans),
    ("iban", numbers.iban_spans),
    ("card", numbers.card_spans),
    ("cpf", numbers.cpf_spans),
    ("ssn", numbers.ssn_spans),
    ("nino", numbers.nino_spans),
    ("national_id", numbers.national_id_spans),
    ("ip", numbers.ip_spans),
)
_CARD_STAGE = 3  # e-mail, IBAN, card: the first stage (what the card flag needs)
#: Every kind :func:`find_pii` reports.
KINDS = (*(kind for kind, _ in _CHECKED), "phone", "number")
# What any finder needs: a digit, "@" or a spelling of it, or "::" (an IPv6 address
# can be all letters: "fe::ab"); otherwise only a character the normaliser rewrites
# (a fullwidth digit) can make one.
_INTERESTING = re.compile(
    rf"[\d@%&\\<]|::|\s(?i:{AT_WORDS}|{DOT_WORDS})\s"
    rf"|[(\[{{]\s*(?:(?i:{AT_WORDS}|{DOT_WORDS})|\.)\s*[)\]}}]"
)


@dataclass(frozen=True, slots=True)
class Finding:
    """One piece of personal data: its kind and its span in the original text."""

    kind: str
    start: int
    end: int


_Found = tuple[int, int, str]
_SHORT = 200
_TIMESTAMP = re.compile(
    r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:\.\d{1,9})?)?(?:Z|[+-]\d\d:?\d\d)?"
)
_DIGIT = re.compile(r"\d")
# What can make an item out of a text with few digits: "@" or a spelling of it
# (percent, quoted-printable, entity, escape, bracket, tag), ":"
# (IPv6), an IBAN's country and check digits (a Romanian BBAN may hold no digit:
# "RO56 FYSC JUDS IR7V AHCE KECV"), a base64 value, a character the normaliser rewrites.
_NOT_FEW = re.compile(
    rf"[@:%&=\\<(\[{{]|(?i:\b(?:{AT_WORDS}|{DOT_WORDS})\b)"
    r"|\d(?<=[A-Za-z]{2}\d)\d|\d(?<=[A-Za-z]{2}[\s.-]\d)\d"
)


def _few_digits(text: str) -> bool:
    """True when ``text`` cannot hold an item: every finder needs four digits or more
    (an IPv4 address, the digits of a PAN), an IBAN's start, an "@", ":" or an encoding."""
    return (
        len(_DIGIT.findall(text)) < 4
        and not _NOT_FEW.search(text)
        and not _base64_candidates(text)
        and not changes(text)
    )


# What may become a digit once normalised: an ASCII digit, a Unicode decimal digit
# (the finders' "\d" matches them all), a character the normaliser turns into digits
# (fullwidth, circled, fractions: DIGITS_OF) and the first character of an escape
# (``&#52;``, ``%34``, ``=34``, ``\u0034``) -- an upper bound, never less. A letter
# of another script ("é", "ж", "漢") is no digit: most non-English tickets have few.
_MAYBE_DIGIT = re.compile(r"[0-9&%=\\]|\d|" + char_class(list(DIGITS_OF)))
# The characters that give two or three digits ("\u2469" -> "10", "\u2152" -> "1/10"),
# counted again for the digits after the first.
_MULTI_DIGIT = re.compile(char_class([c for c, n in DIGITS_OF.items() if n > 1]))
# A card hidden in base64 needs 13 decoded bytes (a digit is at least one byte of
# UTF-8), so 18 base64 characters: shorter candidates ("Europe/Vienna") hide none.
_CARD_BASE64_MIN = 18
# A run of that many base64 characters: most texts have none, and one search says so.
_CARD_BASE64_RUN = re.compile(rf"[A-Za-z0-9+/_-]{{{_CARD_BASE64_MIN},}}")


def _maybe_digits(text: str) -> int:
    """An upper bound of the digits ``text`` holds once normalised (escapes decoded)."""
    count = len(_MAYBE_DIGIT.findall(text))
    if not text.isascii():
        count += sum(DIGITS_OF[c] - 1 for c in _MULTI_DIGIT.findall(text))
    return count


def _card_base64(text: str) -> bool:
    """True when ``text`` has a base64 candidate long enough to hide a card number."""
    if not _CARD_BASE64_RUN.search(text):
        return False
    return any(len(m.group().rstrip("=")) >= _CARD_BASE64_MIN for m in _base64_candidates(text))


def _cannot_hold_card(text: str) -> bool:
    """True when ``text`` has too few characters that could be digits for a card
    number (13 or more), and no base64 that could hide one: the card flag's shortcut."""
    if len(text) < _BASE64_MIN and text.isascii():
        # Too short for either: an ASCII character is one digit at most, and the
        # card's digits need 13 ("\u2473" alone is two: other scripts are counted).
        return True
    return _maybe_digits(text) < numbers.CARD_MIN_DIGITS and not _card_base64(text)


def may_hold_card(text: str) -> bool:
    """False when ``text`` certainly holds no card number (``find_pii(text,
    until="card")`` finds no card in it). True means only that the full check is
    needed."""
    return not _cannot_hold_card(text)


def _blank(text: str, spans: Sequence[Span]) -> str:
    parts: list[str] = []
    pos = 0
    for start, end in sorted(spans):
        if end <= pos:
            continue
        start = max(start, pos)
        parts.append(text[pos:start])
        parts.append(_BLANK * (end - start))
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


# Base64 (standard or URL-safe) of at least 9 bytes: an integration that encodes a
# value ("a2VuamkuaGFkZGFk...") hides nothing from a reader who decodes it.
_BASE64_MIN = 12
#: An ASCII text shorter than this holds no card (nor base64 long enough to hide one).
CARD_SCAN_MIN = _BASE64_MIN
_BASE64 = re.compile(rf"[A-Za-z0-9+/_-]{{{_BASE64_MIN},}}={{0,2}}")
# Base64 of text is mixed: digits, "+", "/" or capitals inside. A long word of one
# case ("malheureusement", "Kundendienstmitarbeiter") is no candidate.
_MIXED = re.compile(r"[0-9+/_-]|.[A-Z]")


def _base64_candidates(text: str) -> list[re.Match[str]]:
    return [m for m in _BASE64.finditer(text) if _MIXED.search(m.group().rstrip("="))]


_MAX_DEPTH = 2
_BINARY = re.compile("[\x00-\x08\x0e-\x1f\x7f]")


def _encoded(scan: str, regions: Sequence[str], depth: int) -> list[_Found]:
    """Base64 tokens whose decoded text holds personal data, as that data's kind
    (``card`` first when a card is among it, so the card flag sees it)."""
    found: list[_Found] = []
    if depth >= _MAX_DEPTH:
        return found
    for match in _base64_candidates(scan):
        token = match.group().rstrip("=")
        try:
            raw = base64.b64decode(
                token.replace("-", "+").replace("_", "/") + "=" * (-len(token) % 4), validate=True
            )
            decoded = raw.decode("utf-8")
        except (binascii.Error, ValueError):
            continue
        if _BINARY.search(decoded):
            continue  # bytes, not text (no-break and invisible characters are text)
        # A full scan of the decoded text: the card flag's first stage must know every
        # kind in it, as the masking resumes after that stage.
        inner = {f.kind for f in find_pii(decoded, regions, _depth=depth + 1)}
        if inner:
            kind = "card" if "card" in inner else min(inner)
            found.append((match.start(), match.end(), kind))
    return found


@dataclass(frozen=True, slots=True)
class _Partial:
    """The pipeline's state after the card finder: what the card flag needs, and where
    the masking scan resumes (``complete``: nothing later could find anything)."""

    norm: Normalised
    scan: str
    found: tuple[_Found, ...]
    complete: bool


_Key = tuple[str, tuple[str, ...], str]


class _Memo:
    """The last scans by (text, regions, stage), up to a budget of characters. A
    ticket's strings are scanned up to the card finder when its card flag is computed
    and in full when it is masked for a pool, in the same process: the full scan
    resumes where the flag's stopped, and a second masking costs a lookup. Entries are
    immutable; the budget bounds the memory (texts of 64 KiB included). A lock keeps
    it whole when a worker thread (a config preview re-parses stored tickets) and the
    event loop use it at once."""

    def __init__(self, budget_chars: int) -> None:
        self._budget = budget_chars
        self._used = 0
        self._lock = threading.Lock()
        self._entries: OrderedDict[_Key, tuple[object, int]] = OrderedDict()

    def get(self, key: _Key) -> object | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def put(self, key: _Key, value: object, size: int) -> None:
        if size > self._budget // 16:
            return
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = (value, size)
            self._used += size
            while self._used > self._budget:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._used -= dropped

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._used = 0


# What an entry costs beyond its text's characters: its key, findings, normalised form
# and the order's bookkeeping (measured: about 480 bytes). Counted, the budget holds
# 13,500 entries of short strings (+9 MiB RSS) rather than 86,000 (+46 MiB).
_ENTRY_COST = 500
_MEMO = _Memo(budget_chars=8_000_000)


def clear_memo() -> None:
    """Forget memoised scans (benchmarks measure the detector, not the memo)."""
    _MEMO.clear()


def find_pii(
    text: str,
    regions: Sequence[str] = (),
    *,
    until: Literal["card"] | None = None,
    _depth: int = 0,
) -> list[Finding]:
    """The personal data in ``text``, in order of position, spans in ``text`` itself.

    ``regions`` (ISO 3166-1 alpha-2, e.g. the customer's country) lets national
    phone numbers be read by their numbering plan. ``until="card"`` stops after the
    card finder: what the pipeline finds up to there, which is all a card flag needs
    (the later finders cannot change it). Scans are memoised (see ``_Memo``).
    """
    if (
        not _INTERESTING.search(text)
        and not changes(text)
        and text.count(":") < 7
        and not _base64_candidates(text)
    ):
        return []  # nothing any finder (or the normaliser) could turn into a match
    if len(text) < _SHORT and (_few_digits(text) or _TIMESTAMP.fullmatch(text)):
        # A short router or field text ("ordered: vendor-acme of 3 eligible"), or a
        # timestamp ("2026-03-04T12:00:00Z", kept readable as dates and times are).
        return []
    if until == "card" and not _depth and _cannot_hold_card(text):
        # The card flag of every ticket asks this: most texts hold too few digits for
        # a card, and no finder before the card finder changes what the flag says.
        return []
    regions = tuple(regions)
    if _depth:  # decoded base64: scanned once, not memoised (its key would need depth)
        first = _first_stage(text, regions, _depth)
        if until == "card" or first.complete:
            return _mapped(first.norm.original_span, list(first.found))
        return _second_stage(first, regions)
    if until is None:
        full = _MEMO.get((text, regions, "full"))
        if isinstance(full, tuple):
            return list(full)
    memo = _MEMO.get((text, regions, "card"))
    if isinstance(memo, _Partial):
        partial = memo
    else:
        partial = _first_stage(text, regions, _depth)
        _MEMO.put((text, regions, "card"), partial, 3 * len(text) + _ENTRY_COST)
    if until == "card" or partial.complete:
        return _mapped(partial.norm.original_span, list(partial.found))
    findings = _second_stage(partial, regions)
    _MEMO.put((text, regions, "full"), tuple(findings), len(text) + _ENTRY_COST)
    return findings


def _first_stage(text: str, regions: tuple[str, ...], depth: int) -> _Partial:
    """Normalise, then base64 values and the finders up to cards (module doc, 1-3)."""
    norm = normalise(text)
    scan = norm.text
    found = _encoded(scan, regions, depth)
    if found:
        scan = _blank(scan, [(s, e) for s, e, _ in found])
    if not _DIGIT.search(scan):
        # No digit (after normalising): only an e-mail or an all-letter IPv6 address
        # ("fe::ab") can be there; the other finders all need digits.
        for kind, finder in (_CHECKED[0], ("ip", numbers.ip_spans)):
            found.extend((start, end, kind) for start, end in finder(scan))
        return _Partial(norm, scan, tuple(found), complete=True)
    for kind, finder in _CHECKED[:_CARD_STAGE]:
        spans = finder(scan)
        if spans:
            found.extend((start, end, kind) for start, end in spans)
            scan = _blank(scan, spans)
    return _Partial(norm, scan, tuple(found), complete=False)


def _second_stage(partial: _Partial, regions: tuple[str, ...]) -> list[Finding]:
    """The finders after cards, amounts, phones and long numbers (module doc, 3-4)."""
    scan = partial.scan
    found = list(partial.found)
    for kind, finder in _CHECKED[_CARD_STAGE:]:
        spans = finder(scan)
        if spans:
            found.extend((start, end, kind) for start, end in spans)
            scan = _blank(scan, spans)
    amounts = digits.amount_spans(scan)
    if amounts:
        scan = _blank(scan, amounts)
    spans = phones.phone_spans(scan, regions)
    if spans:
        found.extend((start, end, "phone") for start, end in spans)
        scan = _blank(scan, spans)
    found.extend((start, end, "number") for start, end in digits.long_number_spans(scan))
    return _mapped(partial.norm.original_span, found)


def _mapped(
    to_original: Callable[[int, int], Span], found: list[tuple[int, int, str]]
) -> list[Finding]:
    out = [Finding(kind, *to_original(start, end)) for start, end, kind in found]
    out.sort(key=lambda f: (f.start, f.end))
    return out


def contains_card_data(text: str) -> bool:
    """True when the detector finds a payment card number in ``text``."""
    return any(f.kind == "card" for f in find_pii(text, until="card"))
