"""The last finder: every longer run of digits that nothing else explained.

By the time this runs, the checked finders (cards, IBANs, national ids, IP and
phone numbers) have had their say. What is left and has seven digits or more, in
groups joined by spaces or punctuation, is masked as ``[number]``: it may be a
bank account, a local phone number without a region, a passport or tax number, or
a card number with a typo. Masking an order number costs an agent a question;
leaking an account number is a breach. Three shapes stay readable, because agents
need them and they are not personal numbers on their own:

- dates ("2024-03-05", "05/03/2024", "5.3.2024") and times (":" is no separator);
- amounts: a currency sign or code next to the number, or thousands groups with a
  decimal part ("$1,299.00", "1.234.567,89 €", "EUR 12 500");
- runs of fewer than seven digits (short order numbers, quantities, years).

Commas do not join groups, so "sizes 38, 40, 42, 44" stays as it is.
"""

from __future__ import annotations

import re

Span = tuple[int, int]

MIN_DIGITS = 7

# Digits joined by at most two separator characters ("4111 1111", "011-3079424) 091",
# "4111 - 1111", one group per line), with an optional leading "+". The repetition is
# possessive: each step eats a digit, so a failing run never backtracks.
_RUN = re.compile(r"\+?\d(?:[\s./()_*~|+-]{0,2}\d)*+")
_GROUPS = re.compile(r"\S+")
_DIGIT = re.compile(r"\d")
_DATE = re.compile(
    r"\(?(?:(?P<y>\d{4})(?P<s1>[-/.])(?P<m1>\d{1,2})(?P=s1)(?P<d1>\d{1,2})"
    r"|(?P<a>\d{1,2})(?P<s2>[-/.])(?P<b>\d{1,2})(?P=s2)(?:\d{4}|\d{2}))\)?[.]?"
)
_SYMBOLS = "$€£¥₹₽₩₺₪฿"
_CODES = (
    *("USD", "EUR", "GBP", "CHF", "JPY", "CNY", "INR", "BRL"),
    *("CAD", "AUD", "MXN", "SEK", "NOK", "DKK", "PLN"),
)
_CURRENCY = rf"(?:[{_SYMBOLS}]|R\$|(?:{'|'.join(_CODES)})(?![A-Za-z]))"
# A number as amounts are written: thousands groups or up to nine bare digits, and
# an optional decimal part of one or two digits.
_NUMBER = r"(?:\d{1,3}(?:[.,' ]\d{3})+|\d{1,9})(?:[.,]\d{1,2})?(?![\d.,]\d)"
# A currency next to such a number (only looked for when the text names a currency).
_WITH_CURRENCY = re.compile(
    rf"{_CURRENCY}\s?{_NUMBER}"
    # The number first: it starts with a digit, then looks behind (see _GROUPED).
    rf"|\d(?<![\d.,]\d)(?:\d{{0,2}}(?:[.,' ]\d{{3}})+|\d{{0,8}})(?:[.,]\d{{1,2}})?(?![\d.,]\d)"
    rf"\s?{_CURRENCY}"
)
# Thousands groups with decimals and no currency ("12,345,678.90"). It starts with a
# digit, then looks behind: Python's re then skips ahead to digits.
_GROUPED = re.compile(r"\d(?<![\d.,]\d)\d{0,2}(?:([,.' ])\d{3})+(?!\1\d)[.,]\d{2}(?![\d.,]\d)")


def amount_spans(text: str) -> list[Span]:
    """Spans of money amounts (see the module doc); these are not masked."""
    if not _DIGIT.search(text):
        return []
    spans = [m.span() for m in _GROUPED.finditer(text)]
    if any(c in text for c in _SYMBOLS) or any(code in text for code in _CODES):
        spans.extend(m.span() for m in _WITH_CURRENCY.finditer(text))
    return sorted(spans)


def is_date(group: str) -> bool:
    """True for a date as people write them ("2024-03-05", "05/03/2024", "5.3.24")."""
    match = _DATE.fullmatch(group)
    if match is None:
        return False
    if match.group("y"):
        month, day = int(match.group("m1")), int(match.group("d1"))
        return 1 <= month <= 12 and 1 <= day <= 31
    a, b = int(match.group("a")), int(match.group("b"))
    # Day-month or month-day order: either reading must be a calendar date.
    return 1 <= min(a, b) <= 12 and max(a, b) <= 31


def long_number_spans(text: str) -> list[Span]:
    """Spans of digit runs with at least seven digits that are not dates."""
    spans: list[Span] = []
    for run in _RUN.finditer(text):
        piece = run.group()
        if len(piece) < MIN_DIGITS:
            continue
        base = run.start()
        start: int | None = None
        end = digits = 0
        # Whitespace-separated groups; a date group splits the run.
        for group in _GROUPS.finditer(piece):
            if is_date(group.group()):
                if start is not None and digits >= MIN_DIGITS:
                    spans.append((base + start, base + end))
                start, digits = None, 0
                continue
            if start is None:
                start = group.start()
            end = group.end()
            digits += len(_DIGIT.findall(group.group()))
        if start is not None and digits >= MIN_DIGITS:
            spans.append((base + start, base + end))
    return spans
