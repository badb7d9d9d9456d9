"""One planted piece of personal data (:class:`Item`) and the Unicode pieces the
formats of ``tests.pii_plants`` are written with."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

DIGIT_WINDOW = 7
ZWSP = "\u200b"
NBSP = "\u00a0"
THIN = "\u2009"
NNBSP = "\u202f"
LRM = "\u200e"
SOFT_HYPHEN = "\u00ad"
JSON_SAFE_INT = 2**53
# Decimal digits of other scripts and Unicode blocks: the zero of each.
SCRIPT_ZEROS = {"fullwidth": 0xFF10, "arabic-indic": 0x0660, "devanagari": 0x0966,
                "math-bold": 0x1D7CE}  # fmt: skip


def ascii_digits(text: str) -> str:
    """The decimal digits of ``text`` (any script) as ASCII digits."""
    return "".join(str(unicodedata.decimal(c)) for c in text if c.isdecimal())


def in_script(text: str, script: str) -> str:
    """``text`` with its ASCII digits written in ``script`` (a key of SCRIPT_ZEROS)."""
    zero = SCRIPT_ZEROS[script]
    return "".join(chr(zero + int(c)) if c.isascii() and c.isdigit() else c for c in text)


@dataclass(frozen=True, slots=True)
class Item:
    """One planted piece of personal data and what of it must not survive."""

    kind: str
    fmt: str
    written: str
    secrets: tuple[str, ...]
    digits: tuple[str, ...] = ()
    compact: tuple[str, ...] = ()
    number: int | None = None  # the item as a JSON number, when it is one
