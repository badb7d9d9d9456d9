"""Finders for checked personal numbers: payment cards, IBANs, national ids, IP addresses.

Each finder returns the spans of the matches it has verified; ``router.core.pii.detect``
runs them in order over normalised text (ASCII digits, plain spaces and dashes: see
``router.core.pii.normalise``). Candidates are found with precompiled regexes; a card,
IBAN, CPF or SSN only counts as one once its check passes (Luhn, mod-97, the id's
own check digits or ranges). The checks come from python-stdnum rather than being
written again here. What fails a check is not let through: its digits are masked by
the phone and long-number finders that run after these.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator

from stdnum import iban, luhn
from stdnum.br import cpf
from stdnum.us import ssn

Span = tuple[int, int]

CARD_MIN_DIGITS = 13
CARD_MAX_DIGITS = 19
CARD_MIN_BLOCK = 3
IBAN_MIN_CHARS = 15  # Norway, the shortest IBAN
IBAN_MAX_CHARS = 34

# Patterns start with the character class they match first and put the
# look-behind after it ("\d(?<![\d-]\d)" rather than "(?<![\d-])\d"): Python's
# re then skips ahead to candidate characters instead of trying every
# position, which makes these scans 2-5 times faster on ticket text.

# A run of digit groups joined by a separator: "4111 1111 1111 1111",
# "4111-1111-1111-1111", "4111.1111.1111.1111", "4111/1111/...", "4111 - 1111 ...",
# one per line, "4111+1111+..." (a form-encoded space)
# or "4111111111111111" (no-break spaces and fullwidth digits are plain by now:
# see router.core.pii.normalise). The card may sit inside a longer run ("ref 1234 4111
# 1111 1111 1111"), so windows of groups are checked below.
_DIGIT_RUN = re.compile(r"\d(?<!\d\d)\d*(?:(?:[./_+-]|\s{1,2}| - )\d+)*(?!\d)")
_GROUP = re.compile(r"\d+")
_NOT_DIGIT = re.compile(r"\D")

# Two letters, two check digits, then 11-30 letters/digits, in any grouping: spaces,
# dashes or dots between any characters ("DE89-3704-...", "BE68 5390 0754 7034",
# "BE68539007547034", lower case too). The tail may swallow a following short word,
# so shorter windows ending before each separator are tried too.
#
# Patterns of ids that start with letters are anchored at their first digit, with
# the letters looked behind for: a pattern starting with a letter is tried at every
# letter of the text, one starting with a digit only at digits (five times faster).
# The letters' own left boundary is checked in code (_left_clear).
_IBAN_CANDIDATE = re.compile(
    r"\d(?:(?<=[A-Za-z]{2}\d)|(?<=[A-Za-z]{2}[\s.-]\d))\d(?:[\s.-]?[A-Za-z0-9]){11,32}"
    r"(?![A-Za-z0-9])"
)
_IBAN_SEPARATORS = re.compile(r"[\s.-]")

# US SSN only with its separators: nine bare digits are far too common to mask.
_SSN = re.compile(r"\d(?<![\d-]\d)\d{2}([- ])\d{2}\1\d{4}(?![\d-])")
# Brazilian CPF, printed ("123.456.789-09") or bare (11 digits); check digits decide.
_CPF = re.compile(r"\d(?<![\d.]\d)(?:\d{2}\.\d{3}\.\d{3}-\d{2}|\d{10})(?![\d-])")
# UK National Insurance number: two letters, six digits (in pairs or not), suffix
# A-D. Any prefix letters, either case: "QQ 12 34 56 C" is the format printed in
# examples and forms, never issued, but a customer copying it into a ticket may
# have typed a real one over it -- masking a look-alike costs nothing.
_NINO = re.compile(
    r"\d(?:(?<=[A-Za-z]{2}\d)|(?<=[A-Za-z]{2}[\s.-]\d))\d(?P<s>[\s.-]?)\d{2}(?P=s)\d{2}(?P=s)?"
    r"[A-Da-d](?![A-Za-z0-9])"
)
# Ids with letters in them, which the digit-run rule (router.core.pii.digits) cannot see:
# Italy's codice fiscale (omocodia letters allowed for digits) and India's PAN.
_CF_DIGIT = "[0-9LMNPQRSTUVlmnpqrstuv]"
_CODICE_FISCALE = re.compile(
    rf"\d(?<=[A-Za-z]{{6}}\d){_CF_DIGIT}[A-Za-z]{_CF_DIGIT}{{2}}[A-Za-z]{_CF_DIGIT}{{3}}"
    r"[A-Za-z](?![A-Za-z0-9])"
)
_PAN = re.compile(r"\d(?<=[A-Za-z]{3}[ABCFGHLJPTabcfghljpt][A-Za-z]\d)\d{3}[A-Za-z](?![A-Za-z0-9])")
# Spain's DNI and NIE: the digits are masked as a long number anyway; the letter
# with them says what it is.
_DNI = re.compile(r"\d(?<![0-9]\d)\d{6,7}[ -]?[A-Za-z](?![A-Za-z0-9])")
_NIE_LETTERS = "XYZxyz"
# What those need at least, looked for once before the patterns run.
_FIVE_LETTERS_DIGIT = re.compile(r"\d(?<=[A-Za-z]{5}\d)")
_SEVEN_DIGITS = re.compile(r"\d{7}")
# ASCII word boundaries: an address glued to CJK text ("は10.0.0.1です") is one all the same.
_IPV4 = re.compile(r"\d(?<![\w.]\d)\d{0,2}\.(?:\d{1,3}\.){2}\d{1,3}(?!\w|\.\d)", re.ASCII)
# IPv6: up to eight hex groups joined by colons, starting with a group or "::", not
# inside a longer such run, but maybe glued to a word by one colon ("helpdesk:2001:db8::1").
_IPV6 = re.compile(
    r"(?<![0-9A-Fa-f])(?<![0-9A-Fa-f:]:)(?:[0-9A-Fa-f]{1,4}:|::)(?:[0-9A-Fa-f]{0,4}:){0,6}"
    r"[0-9A-Fa-f]{0,4}(?![0-9A-Fa-f])"
)


def card_spans(text: str) -> list[Span]:
    """Spans of Luhn-valid payment card numbers (13-19 digits, any separator)."""
    spans: list[Span] = []
    for run in _DIGIT_RUN.finditer(text):
        groups = [(g.start(), g.end()) for g in _GROUP.finditer(run.group())]
        if CARD_MIN_DIGITS <= len(groups) <= CARD_MAX_DIGITS and len(groups) * 2 - 1 >= len(
            run.group()
        ):
            # One digit at a time, as a voice transcript writes it ("4 1 1 1 ..."): the
            # whole run is the candidate (a window of it would cost a check per digit).
            if luhn.is_valid(_NOT_DIGIT.sub("", run.group())):
                spans.append(run.span())
            continue
        spans.extend(
            (run.start() + start, run.start() + end)
            for start, end in _card_windows(run.group(), groups)
        )
    return spans


def _card_windows(run: str, groups: list[Span]) -> Iterator[Span]:
    """Greedy left-to-right: the longest Luhn-valid window of whole groups at each start.

    A card is written bare or in blocks of at least three digits (4-4-4-4,
    4-6-5), the last block maybe shorter (4-4-4-2, 4-4-4-1), so a window of
    several groups starts with a long one and ends at the first short one; that
    also keeps runs of small numbers ("1 2 3 ...") from costing a Luhn check each.
    """
    sizes = [end - start for start, end in groups]
    i = 0
    while i < len(groups):
        found = None
        digits = 0
        ends: list[tuple[int, int]] = []  # (group index, digits so far)
        for j in range(i, len(groups)):
            if j > i and sizes[i] < CARD_MIN_BLOCK:
                break
            digits += sizes[j]
            if digits > CARD_MAX_DIGITS:
                break
            ends.append((j, digits))
            if j > i and sizes[j] < CARD_MIN_BLOCK:
                break  # a short group only ends a card ("3056 9309 0259 04")
        for j, count in reversed(ends):
            if count < CARD_MIN_DIGITS:
                break
            number = "".join(run[s:e] for s, e in groups[i : j + 1])
            if luhn.is_valid(number):
                found = j
                break
        if found is None:
            i += 1
            continue
        yield groups[i][0], groups[found][1]
        i = found + 1


def _left_clear(text: str, start: int) -> bool:
    """True when nothing alphanumeric is glued to the left of ``start``."""
    return start == 0 or not text[start - 1].isascii() or not text[start - 1].isalnum()


def _letters_before(text: str, digit: int, letters: int, separators: str = "") -> int | None:
    """Where an id with ``letters`` letters before its first digit (at ``digit``) starts,
    one of ``separators`` maybe between; None when letters are glued to its left."""
    start = digit - letters
    if separators and text[digit - 1] in separators:
        start -= 1
    return start if _left_clear(text, start) else None


def iban_spans(text: str) -> list[Span]:
    """Spans of IBANs whose mod-97 check digits are valid, in any grouping."""
    spans: list[Span] = []
    for match in _IBAN_CANDIDATE.finditer(text):
        begin = _letters_before(text, match.start(), 2, " .-\t\n\r")
        if begin is None:
            continue
        candidate = text[begin : match.end()]
        # Try the whole candidate, then shorter ones ending before each separator.
        ends = [len(candidate)] + [
            k for k in range(len(candidate) - 1, 0, -1) if candidate[k] in " .-\t\n\r"
        ]
        for end in ends:
            compact = _IBAN_SEPARATORS.sub("", candidate[:end]).upper()
            if len(compact) < IBAN_MIN_CHARS:
                break
            if len(compact) <= IBAN_MAX_CHARS and iban.is_valid(compact, check_country=False):
                spans.append((begin, begin + end))
                break
    return spans


def _verified(pattern: re.Pattern[str], text: str, check: Callable[[str], bool]) -> list[Span]:
    return [m.span() for m in pattern.finditer(text) if check(m.group())]


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def ssn_spans(text: str) -> list[Span]:
    """Spans of US social security numbers in issued ranges ("123-45-6789")."""
    return _verified(_SSN, text, lambda s: bool(ssn.is_valid(s.replace(" ", "-"))))


def cpf_spans(text: str) -> list[Span]:
    """Spans of Brazilian CPF numbers whose two check digits are right."""
    return _verified(_CPF, text, cpf.is_valid)


def nino_spans(text: str) -> list[Span]:
    """Spans of UK National Insurance numbers: two letters, six digits, A-D."""
    spans: list[Span] = []
    for match in _NINO.finditer(text):
        start = _letters_before(text, match.start(), 2, " .-\t\n\r")
        if start is not None:
            spans.append((start, match.end()))
    return spans


def national_id_spans(text: str) -> list[Span]:
    """Spans of national ids with letters: codice fiscale, Indian PAN, Spanish DNI/NIE."""
    spans: list[Span] = []
    patterns = ((_CODICE_FISCALE, 6), (_PAN, 5)) if _FIVE_LETTERS_DIGIT.search(text) else ()
    for pattern, letters in patterns:
        for match in pattern.finditer(text):
            start = _letters_before(text, match.start(), letters)
            if start is not None:
                spans.append((start, match.end()))
    for match in _DNI.finditer(text) if _SEVEN_DIGITS.search(text) else ():
        start = match.start()
        # An NIE's leading letter ("X1234567L", "X-1234567-L").
        if start >= 1 and text[start - 1] in _NIE_LETTERS:
            start -= 1
        elif start >= 2 and text[start - 1] in " -" and text[start - 2] in _NIE_LETTERS:
            start -= 2
        if _left_clear(text, start):
            spans.append((start, match.end()))
    return spans


def ip_spans(text: str) -> list[Span]:
    """Spans of IPv4 and IPv6 addresses (personal data when they point at a customer)."""
    # "10:30:00" has the IPv6 shape but is no address; ipaddress settles it.
    v6 = _ipv6_spans(text) if text.count(":") >= 2 else []
    return _verified(_IPV4, text, _is_ip) + v6


def _ipv6_spans(text: str) -> list[Span]:
    spans: list[Span] = []
    for match in _IPV6.finditer(text):
        start, end = match.span()
        piece = match.group()
        if piece.endswith(":") and not piece.endswith("::"):
            piece, end = piece[:-1], end - 1  # "2001:db8::1: blocked"
        if _is_ipv6(piece):
            spans.append((start, end))
    return spans


def _is_ipv6(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def contains_card_data(text: str) -> bool:
    """True when ``text`` holds a Luhn-valid payment card number."""
    return bool(card_spans(text))
