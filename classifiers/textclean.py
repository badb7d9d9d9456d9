"""Cleaning text before features: what says nothing about language or topic goes.

Links, e-mail addresses, @handles, quoted reply lines (``> ...``) and
everything after an RFC 3676 signature delimiter (``-- ``) are replaced by a
space. Each pass runs only when a cheap substring test says it can match: a
single alternation regex tried at every character cost more than all the
numeric feature work together. Then the whole batch becomes one array of
lower-cased code points in which everything but letters is a space.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

SEP = 0
SPACE = 32
DIGIT = ord("0")
# Code points above this are emoji, historic scripts and rare CJK extensions:
# treated as spaces, which keeps the lookup table small.
TABLE_SIZE = 0x30000

URL = re.compile(r"(?:https?://|www\.)[^\s\x00]+")
QUOTED_LINE = re.compile(r"(?m)^[ \t]*>[^\n\x00]*")
# Up to the end of the text, or of this ticket when texts are joined by NULs.
SIGNATURE = re.compile(r"\n[ \t]*--[ \t]*\n[^\x00]*")
EMAIL_DOMAIN = re.compile(r"[\w-]+(?:\.[\w-]+)+")
HANDLE = re.compile(r"\w+")
LOCAL_PART_EXTRA = frozenset("._+-")


def strip_noise(text: str) -> str:
    """``text`` without links, addresses, handles, quoted lines and signatures."""
    if "://" in text or "www." in text:
        text = URL.sub(" ", text)
    if "@" in text:
        text = _strip_at(text)
    if ">" in text:
        text = QUOTED_LINE.sub(" ", text)
    if "--" in text:
        text = SIGNATURE.sub(" ", text)
    return text


def _strip_at(text: str) -> str:
    """Replace ``local@domain.tld`` and ``@handle`` by a space.

    Searching from each ``@`` outwards keeps the cost proportional to the
    number of ``@`` signs; a regex starting with ``[\\w.+-]+@`` re-scans every
    word of the text from every one of its letters.
    """
    out: list[str] = []
    done = 0
    at = text.find("@")
    while at != -1:
        left = at
        while left > done and (text[left - 1].isalnum() or text[left - 1] in LOCAL_PART_EXTRA):
            left -= 1
        match = (EMAIL_DOMAIN if left < at else HANDLE).match(text, at + 1)
        if match is not None:
            out.append(text[done:left])
            out.append(" ")
            done = match.end()
            at = text.find("@", done)
        else:
            at = text.find("@", at + 1)
    out.append(text[done:])
    return "".join(out)


@functools.cache
def _char_classes() -> npt.NDArray[np.uint8]:
    """Per code point: 1 letter or mark, 2 digit, 0 anything else (built once)."""
    table = np.zeros(TABLE_SIZE, dtype=np.uint8)
    for cp in range(TABLE_SIZE):
        cat = unicodedata.category(chr(cp))
        if cat[0] in "LM":
            table[cp] = 1
        elif cat == "Nd":
            table[cp] = 2
    return table


@dataclass(frozen=True, slots=True, eq=False)
class Prepared:
    """A batch cleaned once, shared by every head.

    ``cps`` holds the lower-cased code points of ``" doc SEP doc SEP ..."``
    with noise removed; ``kind`` is 1 for letters and marks, 2 for digits,
    0 for anything else (SEP included).
    """

    cps: npt.NDArray[np.uint32]
    kind: npt.NDArray[np.uint8]
    n_docs: int


def prepare(texts: Sequence[str]) -> Prepared:
    """Join, strip noise from and lower-case a batch, as code points."""
    joined = " \x00 ".join(texts)
    if joined.count("\x00") != len(texts) - 1:
        # A NUL inside a ticket would split it in two: drop them first.
        joined = " \x00 ".join(t.replace("\x00", " ") for t in texts)
    joined = strip_noise(joined).lower()
    cps = np.frombuffer((" " + joined + " ").encode("utf-32-le"), dtype=np.uint32)
    kind = _char_classes()[np.minimum(cps, TABLE_SIZE - 1)]
    return Prepared(cps, kind, len(texts))


def letters_only(
    batch: Prepared | Sequence[str], digits: bool = False
) -> tuple[npt.NDArray[np.uint32], int]:
    """The batch as one code-point array ``" doc " SEP " doc " ...`` and its size.

    Everything but letters becomes a space (digits become ``0`` when
    ``digits``), runs of spaces collapse to one, so every document is framed
    by one space on each side and words are separated by exactly one.
    """
    prepared = batch if isinstance(batch, Prepared) else prepare(batch)
    raw, kind = prepared.cps, prepared.kind
    cps = np.where(kind == 1, raw, np.uint32(SPACE))
    if digits:
        cps[kind == 2] = DIGIT
    cps[raw == SEP] = SEP
    is_space = cps == SPACE
    keep = ~(is_space & np.concatenate(([False], is_space[:-1])))
    out: npt.NDArray[np.uint32] = cps[keep]
    return out, prepared.n_docs
