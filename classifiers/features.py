"""Hashed n-gram features for a whole batch of texts, computed with numpy.

Why not ``sklearn.feature_extraction.text.HashingVectorizer``: it tokenises and
hashes one document at a time in Python-level loops, which costs tens of
microseconds per ticket. Here the whole batch is joined into one string, cleaned
with one regex pass, turned into a code-point array, and every n-gram hash is a
handful of vectorised multiply-adds over that array, so one call serves a batch
of 256 tickets in about the time sklearn spends on a few.

The features (identical at training and at prediction time):

* character n-grams inside words, framed by spaces like ``char_wb``
  (``" ab"``, ``"abc"``, ``"bc "``),
* whole words, and optionally word bigrams,

hashed into ``2**bits`` buckets, each document scaled to unit length by
``1 / sqrt(number of n-grams)`` (or raw counts for Naive Bayes training).
Text is lower-cased; URLs, e-mail addresses, quoted reply lines and signatures
are removed and every non-letter becomes a space, so contact details and order
numbers do not sway the predictions.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse

SEP = 0
SPACE = 32
DIGIT = ord("0")
# Code points above this are emoji, historic scripts and rare CJK extensions:
# treated as spaces, which keeps the lookup tables small.
TABLE_SIZE = 0x30000

# Odd 64-bit constants: P is the polynomial base of the rolling hash (odd, so
# it has an inverse modulo 2**64), MIX spreads hashes before the top bits are
# taken (Fibonacci hashing), the salts keep feature kinds apart.
P = np.uint64(0x100000001B3)
P_INV = np.uint64(pow(0x100000001B3, -1, 2**64))
MIX = np.uint64(0x9E3779B97F4A7C15)
WORD_SALT = np.uint64(0x51ED270B27A3F1C5)
BIGRAM_SALT = np.uint64(0x2545F4914F6CDD1D)
BIGRAM_MUL = np.uint64(0xD6E8FEB86659FD93)
ORDER_SALT = np.uint64(0x7FB5D329728EA185)

# One pass removes what says nothing about language or topic: links, addresses,
# @handles, quoted reply lines and everything after a signature delimiter.
NOISE = re.compile(
    r"""
      (?:https?://|www\.)[^\s\x00]+            # URLs
    | [\w.+-]+@[\w-]+(?:\.[\w-]+)+             # e-mail addresses
    | (?<!\w)@\w+                              # handles
    | (?m:^[ \t]*>[^\n\x00]*)                  # quoted reply lines
    | \n[ \t]*--[ \t]*\n[^\x00]*               # signature block (RFC 3676 "-- ")
    """,
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """Which features to hash, and into how many buckets."""

    char_orders: tuple[int, ...] = (1, 2, 3, 4)
    words: bool = True
    word_bigrams: bool = False
    digits: bool = False
    bits: int = 18
    max_chars: int = 0
    normalise: bool = True

    @property
    def n_features(self) -> int:
        """The width of the feature matrix."""
        return 1 << self.bits

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (for the model manifest)."""
        data = asdict(self)
        data["char_orders"] = list(self.char_orders)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FeatureSpec:
        """Inverse of :meth:`to_json`."""
        return cls(
            char_orders=tuple(int(n) for n in data["char_orders"]),
            words=bool(data["words"]),
            word_bigrams=bool(data["word_bigrams"]),
            digits=bool(data["digits"]),
            bits=int(data["bits"]),
            max_chars=int(data["max_chars"]),
            normalise=bool(data["normalise"]),
        )


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


@functools.cache
def _powers(length: int) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    """``P**k`` and ``P**-k`` modulo 2**64 for k < length (length a power of two)."""
    with np.errstate(over="ignore"):
        pos = np.cumprod(np.full(length, P, dtype=np.uint64))
        neg = np.cumprod(np.full(length, P_INV, dtype=np.uint64))
    one = np.ones(1, dtype=np.uint64)
    pos_k: npt.NDArray[np.uint64] = np.concatenate((one, pos[:-1]))
    neg_k: npt.NDArray[np.uint64] = np.concatenate((one, neg[:-1]))
    return pos_k, neg_k


def clean(texts: Sequence[str], spec: FeatureSpec) -> tuple[npt.NDArray[np.uint32], int]:
    """The batch as one code-point array: ``SEP " doc " SEP " doc " ...``.

    Returns the array and the number of documents. Non-letters become single
    spaces, so every document is framed by one space on each side.
    """
    joined = " \x00 ".join(texts)
    if joined.count("\x00") != len(texts) - 1:
        # A NUL inside a ticket would split it in two: drop them first.
        joined = " \x00 ".join(t.replace("\x00", " ") for t in texts)
    joined = NOISE.sub(" ", joined).lower()
    raw = np.frombuffer((" " + joined + " ").encode("utf-32-le"), dtype=np.uint32)
    cls = _char_classes()[np.minimum(raw, TABLE_SIZE - 1)]
    cps = np.where(cls == 1, raw, np.uint32(SPACE))
    if spec.digits:
        cps[cls == 2] = DIGIT
    cps[raw == SEP] = SEP
    is_space = cps == SPACE
    keep = ~(is_space & np.concatenate(([False], is_space[:-1])))
    cps = cps[keep]
    if spec.max_chars > 0:
        cps = _truncate(cps, spec.max_chars)
    return cps, len(texts)


def _truncate(cps: npt.NDArray[np.uint32], max_chars: int) -> npt.NDArray[np.uint32]:
    """Keep the first ``max_chars`` characters of each document (plus its frame)."""
    is_sep = cps == SEP
    starts = np.concatenate(([0], np.flatnonzero(is_sep) + 1))
    doc = np.cumsum(is_sep)
    pos = np.arange(cps.size) - starts[doc]
    keep = is_sep | (pos < max_chars)
    out: npt.NDArray[np.uint32] = cps[keep]
    # Re-frame documents that were cut: the character before each SEP and the
    # last one must be a space so the last word ends like any other.
    ends = np.concatenate((np.flatnonzero(out == SEP) - 1, [out.size - 1]))
    ends = ends[ends >= 0]
    out[ends] = np.where(out[ends] == SEP, SEP, SPACE)
    return out


def hashed_ngrams(
    texts: Sequence[str], spec: FeatureSpec
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], int]:
    """Document index and bucket of every n-gram occurrence in ``texts``."""
    cps, n_docs = clean(texts, spec)
    length = cps.size
    c = cps.astype(np.uint64)
    is_sep = cps == SEP
    is_space = cps == SPACE
    sep_cum = np.concatenate(([0], np.cumsum(is_sep)))
    space_cum = np.concatenate(([0], np.cumsum(is_space)))
    shift = np.uint64(64 - spec.bits)
    docs: list[npt.NDArray[np.int64]] = []
    buckets: list[npt.NDArray[np.int64]] = []
    with np.errstate(over="ignore"):
        h = c.copy()
        max_order = max(spec.char_orders, default=0)
        for n in range(1, max_order + 1):
            if n > 1:
                h = h[:-1] * P + c[n - 1 :]
            if n not in spec.char_orders:
                continue
            count = length - n + 1
            if count <= 0:
                break
            start = np.arange(count)
            # Inside one document, no space except at the first or last place.
            valid = sep_cum[start + n] == sep_cum[start]
            if n > 2:
                valid &= space_cum[start + n - 1] == space_cum[start + 1]
            if n == 1:
                valid &= ~is_space[:count]
            idx = np.flatnonzero(valid)
            salt = ORDER_SALT * np.uint64(n)
            buckets.append(((h[idx] + salt) * MIX >> shift).astype(np.int64))
            docs.append(sep_cum[idx])
        if spec.words or spec.word_bigrams:
            word_h, word_doc = _word_hashes(c, is_sep, is_space, sep_cum)
            if spec.words:
                buckets.append(((word_h + WORD_SALT) * MIX >> shift).astype(np.int64))
                docs.append(word_doc)
            if spec.word_bigrams and word_h.size > 1:
                same = np.flatnonzero(word_doc[1:] == word_doc[:-1])
                big = word_h[same] * BIGRAM_MUL + word_h[same + 1] + BIGRAM_SALT
                buckets.append((big * MIX >> shift).astype(np.int64))
                docs.append(word_doc[same])
    if not docs:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), n_docs
    return np.concatenate(docs), np.concatenate(buckets), n_docs


def _word_hashes(
    c: npt.NDArray[np.uint64],
    is_sep: npt.NDArray[np.bool_],
    is_space: npt.NDArray[np.bool_],
    sep_cum: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64]]:
    """Polynomial hash and document of every word, all at once.

    With ``S[j] = sum_{k<j} c[k] * P**-k`` the hash of ``c[s:e]`` is
    ``P**(e-1) * (S[e] - S[s])`` modulo 2**64: one cumulative sum serves every
    word, whatever its length.
    """
    length = c.size
    boundary = is_sep | is_space
    letter = ~boundary
    prev_b = np.concatenate(([True], boundary[:-1]))
    next_b = np.concatenate((boundary[1:], [True]))
    starts = np.flatnonzero(letter & prev_b)
    ends = np.flatnonzero(letter & next_b) + 1
    size = 1 << max(1, length.bit_length())
    pos, neg = _powers(size)
    with np.errstate(over="ignore"):
        s = np.concatenate(([np.uint64(0)], np.cumsum(c * neg[:length], dtype=np.uint64)))
        hashes = pos[ends - 1] * (s[ends] - s[starts])
    return hashes, sep_cum[starts]


def featurize(
    texts: Sequence[str], spec: FeatureSpec, *, normalise: bool | None = None
) -> sparse.csr_matrix:
    """The hashed feature matrix of ``texts``: one row per text, ``2**bits`` columns.

    Rows are scaled to ``1 / sqrt(n-grams in the row)`` when ``spec.normalise``
    (or ``normalise``, which overrides it); otherwise they hold raw counts, which
    is what a Naive Bayes head needs. Duplicate column entries within a
    row are left unsummed: products with a weight matrix do not need it.
    """
    doc, bucket, n_docs = hashed_ngrams(texts, spec)
    order = np.argsort(doc, kind="stable")
    counts = np.bincount(doc, minlength=n_docs)
    indptr = np.concatenate(([0], np.cumsum(counts)))
    if spec.normalise if normalise is None else normalise:
        scale = (1.0 / np.sqrt(np.maximum(counts, 1))).astype(np.float32)
        data = np.repeat(scale, counts)
    else:
        data = np.ones(doc.size, dtype=np.float32)
    return sparse.csr_matrix(
        (data, bucket[order].astype(np.int32), indptr), shape=(n_docs, spec.n_features)
    )
