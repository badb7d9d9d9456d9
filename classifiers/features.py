"""Hashed n-gram features for a whole batch of texts, computed with numpy.

Why not ``sklearn.feature_extraction.text.HashingVectorizer``: it tokenises and
hashes one document at a time in Python-level loops, tens of microseconds per
ticket. Here the batch is one code-point array (:mod:`classifiers.textclean`)
and each n-gram order is a few vectorised multiply-adds over it. Heads that
read different features still share one pass: :func:`featurize_many` hashes
the union of what they need once and hands each head its part.

Feature kinds (identical at training and at prediction time):

* character n-grams inside words, framed by spaces like ``char_wb``
  (``" ab"``, ``"abc"``, ``"bc "``), of the orders in ``char_orders``;
* whole words, and optionally word bigrams;

hashed into ``2**bits`` buckets. Rows are scaled by ``1 / sqrt(number of
n-grams)`` when ``normalise`` (linear models), else hold counts (Naive Bayes).
``max_chars`` keeps only n-grams starting in a document's first characters.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse

from classifiers.textclean import SEP, SPACE, Prepared, letters_only, prepare

__all__ = ["FeatureSpec", "Prepared", "featurize", "featurize_many", "prepare"]

# Odd 64-bit constants: P is the polynomial base of the rolling hash (odd, so
# it has an inverse modulo 2**64), MIX spreads hashes before the top bits are
# taken (Fibonacci hashing), the salts keep words and bigrams apart from n-grams.
P = np.uint64(0x100000001B3)
P_INV = np.uint64(pow(0x100000001B3, -1, 2**64))
MIX = np.uint64(0x9E3779B97F4A7C15)
WORD_SALT = np.uint64(0x51ED270B27A3F1C5)
BIGRAM_SALT = np.uint64(0x2545F4914F6CDD1D)
BIGRAM_MUL = np.uint64(0xD6E8FEB86659FD93)

# Feature kinds: a positive number is a character n-gram order.
WORDS = 0
BIGRAMS = -1

Ints = npt.NDArray[np.int32]


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """Which features a head reads, and into how many buckets they are hashed."""

    char_orders: tuple[int, ...] = (3, 5)
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

    @property
    def kinds(self) -> tuple[int, ...]:
        """The feature kinds this spec reads."""
        extra = ((WORDS,) if self.words else ()) + ((BIGRAMS,) if self.word_bigrams else ())
        return tuple(self.char_orders) + extra

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


@dataclass(frozen=True, slots=True)
class _Found:
    """Occurrences of one feature kind, in document order."""

    bucket: Ints
    doc: Ints
    offset: Ints | None  # start within the document, when some spec truncates


def featurize(
    texts: Prepared | Sequence[str], spec: FeatureSpec, *, normalise: bool | None = None
) -> sparse.csr_matrix:
    """The hashed feature matrix of ``texts``: one row per text, ``2**bits`` columns.

    ``normalise`` overrides ``spec.normalise``. Duplicate columns within a row
    are left unsummed: products with a weight matrix do not need it.
    """
    return featurize_many(texts, [spec], normalise=normalise)[0]


def featurize_many(
    texts: Prepared | Sequence[str],
    specs: Sequence[FeatureSpec],
    *,
    normalise: bool | None = None,
) -> list[sparse.csr_matrix]:
    """One feature matrix per spec, hashing what the specs share only once."""
    batch = texts if isinstance(texts, Prepared) else prepare(texts)
    out: dict[int, sparse.csr_matrix] = {}
    groups: dict[tuple[bool, int], list[int]] = {}
    for i, spec in enumerate(specs):
        groups.setdefault((spec.digits, spec.bits), []).append(i)
    for (digits, bits), members in groups.items():
        kinds = sorted({k for i in members for k in specs[i].kinds}, reverse=True)
        cut = {k for i in members if specs[i].max_chars > 0 for k in specs[i].kinds}
        found = _occurrences(batch, digits, bits, kinds, cut)
        for i in members:
            scale = specs[i].normalise if normalise is None else normalise
            out[i] = _matrix(found, specs[i], batch.n_docs, scale)
    return [out[i] for i in range(len(specs))]


def _matrix(
    found: dict[int, _Found], spec: FeatureSpec, n_docs: int, normalise: bool
) -> sparse.csr_matrix:
    """Assemble one spec's CSR matrix from the shared occurrences."""
    buckets: list[Ints] = []
    docs: list[Ints] = []
    for kind in spec.kinds:
        part = found[kind]
        if spec.max_chars > 0 and part.offset is not None:
            keep = part.offset < spec.max_chars
            buckets.append(part.bucket[keep])
            docs.append(part.doc[keep])
        else:
            buckets.append(part.bucket)
            docs.append(part.doc)
    doc = np.concatenate(docs) if docs else np.zeros(0, np.int32)
    # Each part is sorted by document already; a stable sort merges the runs
    # (timsort), which was quicker than every re-layout tried.
    order = np.argsort(doc, kind="stable")
    bucket = np.concatenate(buckets)[order] if buckets else np.zeros(0, np.int32)
    counts = np.bincount(doc, minlength=n_docs)
    indptr = np.concatenate(([0], np.cumsum(counts)))
    if normalise:
        scale = (1.0 / np.sqrt(np.maximum(counts, 1))).astype(np.float32)
        data = np.repeat(scale, counts)
    else:
        data = np.ones(bucket.size, dtype=np.float32)
    return sparse.csr_matrix((data, bucket, indptr), shape=(n_docs, spec.n_features))


def _occurrences(
    batch: Prepared, digits: bool, bits: int, kinds: Sequence[int], cut: set[int]
) -> dict[int, _Found]:
    """Bucket, document (and offset, for kinds in ``cut``) of every occurrence."""
    cps, _ = letters_only(batch, digits)
    c = cps.astype(np.uint64)
    is_sep = cps == SEP
    is_space = cps == SPACE
    boundary = is_space | is_sep
    # sep_cum[i]: separators before position i, i.e. the document of position i.
    sep_cum = np.concatenate(([0], np.cumsum(is_sep, dtype=np.int32)))
    bound_cum = np.concatenate(([0], np.cumsum(boundary, dtype=np.int32)))
    doc_start = np.concatenate(([0], np.flatnonzero(is_sep) + 1)).astype(np.int32)
    shift = np.uint64(64 - bits)
    found: dict[int, _Found] = {}

    def keep(kind: int, h: npt.NDArray[np.uint64], idx: npt.NDArray[np.intp]) -> None:
        doc = sep_cum[idx]
        offset = (idx - doc_start[doc]).astype(np.int32) if kind in cut else None
        found[kind] = _Found((h * MIX >> shift).astype(np.int32), doc, offset)

    orders = [k for k in kinds if k > 0]
    with np.errstate(over="ignore"):
        h = c
        for n in range(1, max(orders, default=0) + 1):
            if n > 1:
                h = h[:-1] * P + c[n - 1 :]
            if n not in orders:
                continue
            count = h.size
            # Inside one word: spaces (or a SEP) only at the first or last place.
            # Every SEP sits between two spaces, so for n >= 3 "no boundary
            # inside" also keeps n-grams from crossing documents.
            if n == 1:
                ok = ~boundary
            elif n == 2:
                ok = ~(boundary[:-1] & boundary[1:])
            else:
                ok = bound_cum[n - 1 : n - 1 + count] == bound_cum[1 : 1 + count]
            idx = np.flatnonzero(ok)
            # Different orders give different polynomials, so no salt is needed.
            keep(n, h[idx], idx)
        if WORDS in kinds or BIGRAMS in kinds:
            word_h, starts = _word_hashes(c, boundary)
            if WORDS in kinds:
                # The salt keeps a word apart from the same letters as an n-gram.
                keep(WORDS, word_h + WORD_SALT, starts)
            if BIGRAMS in kinds:
                word_doc = sep_cum[starts]
                same = np.flatnonzero(word_doc[1:] == word_doc[:-1])
                big = word_h[same] * BIGRAM_MUL + word_h[same + 1] + BIGRAM_SALT
                keep(BIGRAMS, big, starts[same])
    return found


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


def _word_hashes(
    c: npt.NDArray[np.uint64], boundary: npt.NDArray[np.bool_]
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.intp]]:
    """Polynomial hash and start position of every word, all at once.

    With ``S[j] = sum_{k<j} c[k] * P**-k`` the hash of ``c[s:e]`` is
    ``P**(e-1) * (S[e] - S[s])`` modulo 2**64: one cumulative sum serves every
    word, whatever its length.
    """
    length = c.size
    letter = ~boundary
    starts = np.flatnonzero(letter & np.concatenate(([True], boundary[:-1])))
    ends = np.flatnonzero(letter & np.concatenate((boundary[1:], [True]))) + 1
    pos, neg = _powers(1 << max(1, length.bit_length()))
    with np.errstate(over="ignore"):
        s = np.concatenate(([np.uint64(0)], np.cumsum(c * neg[:length], dtype=np.uint64)))
        hashes = pos[ends - 1] * (s[ends] - s[starts])
    return hashes, starts
