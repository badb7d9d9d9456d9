"""Finding phone numbers in free text.

Two passes. First libphonenumber (the ``phonenumbers`` package): its matcher
knows every region's numbering plan, trunk prefixes such as "+44 (0)20" and
extensions. It finds international numbers ("+..") with no help, but a national
number ("020 7946 0958") can only be read with the region it was dialled in,
which a ticket often does not say.

So a second pass catches what is left: digit groups shaped like a phone number
(7 to 15 digits, the E.164 limits, in groups joined by spaces, dots, dashes,
slashes or parentheses, an optional "x123" extension). It errs towards masking,
because an outsourced agent seeing a customer's number is a leak while a masked
reference number costs an agent a question. Three shapes are left to the next
finder (``router.core.pii.digits``, which masks them as ``[number]`` when they have seven
digits or more): dates, a single bare run of fewer than ten digits (order and
invoice numbers) and a run of 4-6 digit blocks with 13-19 digits in all (the
shape of card and account numbers; valid cards are masked before this).

The text is normalised first (``router.core.pii.normalise``): digits are ASCII digits,
dashes "-" and spaces " " by the time these patterns see them.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence

import phonenumbers

from router.core.pii.digits import is_date

Span = tuple[int, int]

MIN_DIGITS = 7
MAX_DIGITS = 15  # E.164
MIN_BARE_DIGITS = 10

# One group: an optional "+" and "(", a digit, then digits and in-number
# punctuation, ending on a digit or ")". A chunk is groups joined by one space.
_GROUP = r"\+?\(?\d(?:[\d()./-]*[\d)])?"
_CHUNK = re.compile(
    rf"(?<![\w/.@#+-]){_GROUP}(?:[ \t]{_GROUP})*"
    r"(?P<ext>[ \t]?(?:x|ext\.?|extension)[ \t]?\d{1,6})?",
    # ASCII \w: a number glued to CJK text ("電話は090-1234-5678です") is one all the same.
    re.IGNORECASE | re.ASCII,
)
_GROUP_RE = re.compile(_GROUP)
_DATE = re.compile(r"^(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.](?:\d{4}|\d{2}))$")
# One separator style throughout, and nothing glued on either side.
# (First character, then the look-behind: faster, see router.core.pii.numbers.)
# A shorter group after it ("... 0001 100") is a separate number, not more of the block.
_BLOCKS = re.compile(
    r"\d(?<![\d+(./-]\d)\d{3,5}([ -])\d{4,6}(?:\1\d{4,6}){1,3}(?![\d)./-]|[ -]\d{4})"
)
_BARE_LONG = re.compile(r"\d(?<![\d+]\d)\d{12,18}(?!\d)")
# What libphonenumber is given: digit groups joined by phone punctuation, with a
# leading "+" or "(" and a few characters around them for its own context checks.
_WINDOW = re.compile(r"[+(]?\d(?:[\d \t().\-/]{0,3}\d)*\)?")
_NOT_DIGIT = re.compile(r"\D")
_WORD = re.compile(r"\w", re.ASCII)
_LETTER = re.compile(r"[A-Za-z]")


def known_regions(candidates: Iterable[str | None]) -> tuple[str, ...]:
    """The candidates that libphonenumber knows as regions, upper-cased, in order, once each."""
    seen: list[str] = []
    for candidate in candidates:
        region = (candidate or "").strip().upper()
        if region in phonenumbers.SUPPORTED_REGIONS and region not in seen:
            seen.append(region)
    return tuple(seen)


def phone_spans(text: str, regions: Sequence[str] = ()) -> list[Span]:
    """Spans of phone numbers in ``text``: libphonenumber for each region, then by shape.

    libphonenumber reads only the windows where it adds something to the shape pass
    and the seven-digit rule (``router.core.pii.digits``) that follow it: international
    numbers ("+" and five digits or more: "+500 12345" has fewer than seven) and a
    bare run of seven to nine digits, which the shape pass leaves to the digit rule
    and the ticket's region may read as a phone number ("936252760" in Portugal).
    A shorter number without "+" is an order number or a quantity and stays readable
    (in Germany "12345" is a possible local number). Reading a few windows instead
    of the whole text keeps libphonenumber, the detector's costliest part, off most
    text (it is a third of the cost of a 2 KB body otherwise).
    """
    blocks = block_number_spans(text)
    found: list[Span] = []
    scan = text
    windows = [w for w in _WINDOW.finditer(text) if _worth_reading(w.group())]
    for region in known_regions(regions) or (None,):
        spans: list[Span] = []
        for window in windows:
            if region is None and "+" not in window.group():
                continue  # without a region libphonenumber reads "+" numbers only
            # A few characters either side: libphonenumber (and _inside_word) look at them.
            start, end = max(window.start() - 3, 0), window.end() + 3
            spans.extend(
                (start + s, start + e)
                for s, e in libphonenumber_spans(scan[start:end], region)
                if not _overlaps((start + s, start + e), blocks)
            )
        found.extend(spans)
        # Blank what is found (same length, so spans stay valid) for the next pass.
        scan = _blank(scan, spans)
    found.extend(fallback_spans(_blank(scan, blocks)))
    return found


def _worth_reading(window: str) -> bool:
    if is_date(window.strip("()")):
        return False
    digits = _digits(window)
    if window.lstrip("(").startswith("+"):
        return digits >= 5
    return MIN_DIGITS <= digits < MIN_BARE_DIGITS and window.isdigit()


def block_number_spans(text: str) -> list[Span]:
    """Card and account number shapes: plain blocks of 4-6 digits, or one unbroken run,
    13-19 digits in all. (An unbroken "0030..." would otherwise read as a dialled
    international number; people write phone numbers in groups.)"""
    spans = [m.span() for m in _BLOCKS.finditer(text) if 13 <= _digits(m.group()) <= 19]
    spans.extend(m.span() for m in _BARE_LONG.finditer(text))
    return sorted(spans)


def _blank(text: str, spans: Sequence[Span]) -> str:
    # "_" is a word character, so nothing found later starts or ends inside a blank.
    for start, end in spans:
        text = text[:start] + "_" * (end - start) + text[end:]
    return text


def _overlaps(span: Span, sorted_spans: Sequence[Span]) -> bool:
    i = bisect.bisect_left(sorted_spans, (span[1], span[1]))
    return i > 0 and sorted_spans[i - 1][1] > span[0]


def libphonenumber_spans(text: str, region: str | None) -> list[Span]:
    """Spans libphonenumber accepts as possible numbers of ``region`` (None: "+" numbers only)."""
    # POSSIBLE (right length for the region) rather than VALID (a range in
    # service): a made-up or newly issued number is personal data all the same.
    matcher = phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.POSSIBLE)
    return [
        (match.start, match.end)
        for match in matcher
        if _within_e164(match.number) and not _inside_word(text, match.start, match.end)
    ]


def _inside_word(text: str, start: int, end: int) -> bool:
    # Digits glued to letters ("t4ccfa7470bb8") are part of a code, not a dialled number;
    # seven digits or more are masked anyway (router.core.pii.digits).
    return (start > 0 and _LETTER.match(text, start - 1) is not None) or (
        end < len(text) and _LETTER.match(text, end) is not None
    )


def _within_e164(number: phonenumbers.PhoneNumber) -> bool:
    # Some plans (Germany's) call very long national numbers possible; E.164
    # caps a number at 15 digits with its country code, and beyond that a
    # digit run is an order or account number.
    national = phonenumbers.national_significant_number(number)
    return len(str(number.country_code)) + len(national) <= MAX_DIGITS


def fallback_spans(text: str) -> list[Span]:
    """Spans of phone-shaped digit groups libphonenumber could not place (see module doc)."""
    spans: list[Span] = []
    for chunk in _CHUNK.finditer(text):
        end = chunk.end()
        ext_start = chunk.start("ext") if chunk.group("ext") else end
        if _digits(text[chunk.start() : ext_start]) < MIN_DIGITS:
            continue  # "3 items", "10.30": too few digits for any window of it
        groups = [g.span() for g in _GROUP_RE.finditer(text, chunk.start(), ext_start)]
        if end < len(text) and _WORD.match(text, end) and ext_start < end:
            # An extension glued to a word ("x12abc") is no extension. Digits glued to a
            # word ("555-1234abc") are masked all the same: erring on the side of masking.
            # Checked here, not by a lookahead, so a failing chunk never backtracks.
            end = ext_start
        for start, stop in _phone_windows(text, groups):
            spans.append((start, end if groups and stop == groups[-1][1] else stop))
    return spans


def _digits(text: str) -> int:
    return len(text) - len(_NOT_DIGIT.findall(text))


def _phone_windows(text: str, groups: Sequence[Span]) -> Iterable[Span]:
    """Split the groups at dates, then take the longest phone-shaped windows left to right."""
    runs: list[list[Span]] = [[]]
    for group in groups:
        piece = text[group[0] : group[1]]
        if _DATE.match(piece):
            runs.append([])
            continue
        # "(070) ..." after a complete number starts the next number: an area code in
        # parentheses leads a number, so "458841) (070) 8597704" is two, not one.
        if piece.startswith("(") and sum(_digits(text[s:e]) for s, e in runs[-1]) >= MIN_DIGITS:
            runs.append([])
        runs[-1].append(group)
    for run in runs:
        counts = [_digits(text[s:e]) for s, e in run]
        i = 0
        while i < len(run):
            j, total = i, counts[i]
            # A one-digit group only leads a number ("+1 415 ...", "0 800 ..."):
            # inside, it is more likely a list of small numbers.
            while j + 1 < len(run) and counts[j + 1] > 1 and total + counts[j + 1] <= MAX_DIGITS:
                j += 1
                total += counts[j]
            if MIN_DIGITS <= total <= MAX_DIGITS and _phone_shaped(text, run[i : j + 1], total):
                yield run[i][0], run[j][1]
                i = j + 1
            else:
                i += 1


def _phone_shaped(text: str, window: Sequence[Span], digits: int) -> bool:
    if len(window) > 1 or digits >= MIN_BARE_DIGITS:
        return True
    first = text[window[0][0] : window[0][1]]
    # One group below ten digits: a phone only with punctuation in it ("555-1234").
    return not first.isdigit()
