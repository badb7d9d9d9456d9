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

hashed into ``2**bits`` buckets. ``max_chars`` keeps only n-grams starting
in a document's first characters.

Values. By default every occurrence is its own entry (duplicates unsummed):
rows hold counts (Naive Bayes), or, when ``normalise``, are scaled by
``1 / sqrt(number of n-grams)`` (the linear heads of format 2). With
``sublinear_tf`` a feature occurring ``n`` times in a text is one entry worth
``1 + ln(n)`` (TF-IDF's sublinear term frequency), and ``normalise`` scales
rows to unit Euclidean length. With ``idf`` rows are left unnormalised: the
head multiplies each bucket by the weight it learned at training (inverse
document frequency) and normalises after that (:mod:`classifiers.linear`).
Counting happens per feature kind, so a word and a 3-gram that share a bucket
stay two entries in both training and prediction.

Subject block. A spec with ``subject_weight > 0`` also reads the ticket's
subject on its own: the subject's features (the same kinds, hashed the same
way) go into a second feature space of ``2**bits`` columns placed after the
text's, their values multiplied by the weight. The text itself still holds
subject and body, so a weight of 0 is the plain text model, and a head can
learn that "refund" in a subject says more than in a quoted reply. Such specs
learn bucket weights (``idf``): rows are normalised by the head, after the
weights, so the subject block counts in the row length with its weight.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
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
Keys = npt.NDArray[np.signedinteger[Any]]


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
    sublinear_tf: bool = False
    idf: bool = False
    #: Weight of the subject's own feature block; 0 means no subject block.
    subject_weight: float = 0.0

    def __post_init__(self) -> None:
        if self.subject_weight < 0 or (self.subject_weight > 0 and not self.idf):
            raise ValueError(
                "a subject block needs a non-negative weight and a spec with learned "
                f"bucket weights (idf); got subject_weight={self.subject_weight}, idf={self.idf}"
            )

    @property
    def n_features(self) -> int:
        """The width of the feature matrix (twice ``2**bits`` with a subject block)."""
        return (2 if self.subject_weight > 0 else 1) << self.bits

    @property
    def text_spec(self) -> FeatureSpec:
        """This spec without its subject block: what the text part reads."""
        return replace(self, subject_weight=0.0) if self.subject_weight > 0 else self

    @property
    def counted(self) -> bool:
        """Whether duplicates are counted into one entry per feature and row."""
        return self.sublinear_tf or self.idf

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
            # Absent from format-2 manifests, whose heads read plain occurrences.
            sublinear_tf=bool(data.get("sublinear_tf", False)),
            idf=bool(data.get("idf", False)),
            # Absent from manifests written before subject blocks: none.
            subject_weight=float(data.get("subject_weight", 0.0)),
        )


@dataclass(frozen=True, slots=True)
class _Found:
    """Occurrences of one feature kind, in document order."""

    bucket: Ints
    doc: Ints
    offset: Ints | None  # start within the document, when some spec truncates


Subjects = Prepared | Sequence[str] | None


def featurize(
    texts: Prepared | Sequence[str],
    spec: FeatureSpec,
    *,
    normalise: bool | None = None,
    subjects: Subjects = None,
) -> sparse.csr_matrix:
    """The hashed feature matrix of ``texts``: one row per text, ``spec.n_features`` columns.

    ``normalise`` overrides ``spec.normalise``. Duplicate columns within a row
    are left unsummed (a counted spec has one per feature kind at most):
    products with a weight matrix do not need it. ``subjects`` (one per text,
    ``""`` for none) feed a spec's subject block; without them it is empty.
    """
    return featurize_many(texts, [spec], normalise=normalise, subjects=subjects)[0]


def featurize_many(
    texts: Prepared | Sequence[str],
    specs: Sequence[FeatureSpec],
    *,
    normalise: bool | None = None,
    subjects: Subjects = None,
) -> list[sparse.csr_matrix]:
    """One feature matrix per spec, hashing what the specs share only once.

    A spec with a subject block shares its text part with the specs equal to
    it but for the block (:attr:`FeatureSpec.text_spec`); the subjects are
    prepared and hashed only when some spec has a block.
    """
    batch = texts if isinstance(texts, Prepared) else prepare(texts)
    bases = list(dict.fromkeys(spec.text_spec for spec in specs))
    plain = dict(zip(bases, _featurize_plain(batch, bases, normalise), strict=True))
    blocks = list(dict.fromkeys(spec.text_spec for spec in specs if spec.subject_weight > 0))
    if not blocks:
        return [plain[spec] for spec in specs]
    if subjects is None:
        subjects = [""] * batch.n_docs
    sub_batch = subjects if isinstance(subjects, Prepared) else prepare(subjects)
    if sub_batch.n_docs != batch.n_docs:
        raise ValueError(f"{sub_batch.n_docs} subjects for {batch.n_docs} texts")
    sub = dict(zip(blocks, _featurize_plain(sub_batch, blocks, normalise), strict=True))
    return [
        with_subject_block(plain[s.text_spec], sub[s.text_spec], s.subject_weight)
        if s.subject_weight > 0
        else plain[s]
        for s in specs
    ]


def with_subject_block(
    text: sparse.csr_matrix, subject: sparse.csr_matrix, weight: float
) -> sparse.csr_matrix:
    """Rows of ``text`` followed by those of ``subject`` times ``weight``, in columns of
    their own after the text's: ``[text | weight * subject]``, row by row.

    Both have the same rows and width; each row keeps its text entries first.
    """
    n_rows, width = text.shape
    text_len = np.diff(text.indptr)
    sub_len = np.diff(subject.indptr)
    indptr = (text.indptr + subject.indptr).astype(np.int32)
    data = np.empty(text.nnz + subject.nnz, dtype=np.float32)
    indices = np.empty(data.size, dtype=np.int32)
    # Entry j of a row of `text` goes to j + (subject entries of earlier rows);
    # entry k of a row of `subject` to k + (text entries up to this row's end).
    text_at = np.arange(text.nnz) + np.repeat(subject.indptr[:-1], text_len)
    sub_at = np.arange(subject.nnz) + np.repeat(text.indptr[1:], sub_len)
    data[text_at] = text.data
    indices[text_at] = text.indices
    data[sub_at] = subject.data * np.float32(weight)
    indices[sub_at] = subject.indices + width
    return sparse.csr_matrix((data, indices, indptr), shape=(n_rows, 2 * width))


def _featurize_plain(
    batch: Prepared, specs: Sequence[FeatureSpec], normalise: bool | None
) -> list[sparse.csr_matrix]:
    """One feature matrix per spec without a subject block, sharing the hashing."""
    out: dict[int, sparse.csr_matrix] = {}
    groups: dict[tuple[bool, int], list[int]] = {}
    for i, spec in enumerate(specs):
        groups.setdefault((spec.digits, spec.bits), []).append(i)
    for (digits, bits), members in groups.items():
        kinds = sorted({k for i in members for k in specs[i].kinds}, reverse=True)
        cut = {k for i in members if specs[i].max_chars > 0 for k in specs[i].kinds}
        found = _occurrences(batch, digits, bits, kinds, cut)
        # Counted specs that cut alike share one sort of their features.
        counted: dict[int, list[int]] = {}
        for i in members:
            scale = specs[i].normalise if normalise is None else normalise
            if specs[i].counted:
                counted.setdefault(specs[i].max_chars, []).append(i)
            else:
                out[i] = _matrix(found, specs[i], batch.n_docs, scale)
        for max_chars, same in counted.items():
            union = tuple(sorted({k for i in same for k in specs[i].kinds}, reverse=True))
            entries = _Counted.of(found, union, max_chars, batch.n_docs, bits)
            for i in same:
                scale = specs[i].normalise if normalise is None else normalise
                out[i] = entries.matrix(specs[i], scale and not specs[i].idf)
    return [out[i] for i in range(len(specs))]


# 1 + ln(n) for n < 256 (the entry for 0 is never read).
_SUBLINEAR = (1.0 + np.log(np.arange(256).clip(1))).astype(np.float32)


@dataclass(frozen=True, slots=True)
class _Counted:
    """Distinct (document, kind, bucket) entries of a batch, sorted, with counts.

    One sort of ``doc | kind | bucket`` keys (int32 when they fit, as for a
    batch of 256) groups the duplicates and orders the rows at once.
    """

    key: Keys
    counts: npt.NDArray[np.intp]
    kinds: tuple[int, ...]
    n_docs: int
    bits: int
    tag_bits: int

    @classmethod
    def of(
        cls,
        found: dict[int, _Found],
        kinds: tuple[int, ...],
        max_chars: int,
        n_docs: int,
        bits: int,
    ) -> _Counted:
        """Count the occurrences of ``kinds`` (starting before ``max_chars``, if set)."""
        tag_bits = (len(kinds) - 1).bit_length()
        doc_shift = bits + tag_bits
        wide = doc_shift + max(n_docs - 1, 0).bit_length() > 31
        dtype: type[np.signedinteger[Any]] = np.int64 if wide else np.int32
        docs: list[Keys] = [np.zeros(0, dtype)]
        tagged: list[Keys] = [np.zeros(0, dtype)]
        for tag, kind in enumerate(kinds):
            part = found[kind]
            doc, bucket = part.doc, part.bucket
            if max_chars > 0 and part.offset is not None:
                keep = part.offset < max_chars
                doc, bucket = doc[keep], bucket[keep]
            docs.append(doc)
            tagged.append(bucket | (tag << bits) if tag else bucket)
        key: Keys = np.concatenate(docs, dtype=dtype)
        key <<= doc_shift
        key |= np.concatenate(tagged, dtype=dtype)
        key.sort()
        first = np.ones(key.size, dtype=bool)
        np.not_equal(key[1:], key[:-1], out=first[1:])
        starts = np.flatnonzero(first)
        counts = np.diff(starts, append=key.size)
        return cls(key[starts], counts, kinds, n_docs, bits, tag_bits)

    def matrix(self, spec: FeatureSpec, normalise: bool) -> sparse.csr_matrix:
        """The CSR matrix of ``spec``'s kinds (a subset of the counted ones)."""
        key, counts = self.key, self.counts
        if set(spec.kinds) != set(self.kinds):
            wanted = np.zeros(1 << self.tag_bits, dtype=bool)
            wanted[[self.kinds.index(k) for k in spec.kinds]] = True
            keep = wanted[(key >> self.bits) & ((1 << self.tag_bits) - 1)]
            key, counts = key[keep], counts[keep]
        if not spec.sublinear_tf:
            data = counts.astype(np.float32)
        elif counts.size and np.max(counts) < _SUBLINEAR.size:
            # A table: np.log is the slowest step here, and counts are small.
            data = _SUBLINEAR[counts]
        else:
            data = (np.log(counts) + 1.0).astype(np.float32)
        doc_shift = self.bits + self.tag_bits
        bounds = np.arange(self.n_docs + 1, dtype=key.dtype) << doc_shift
        indptr = np.searchsorted(key, bounds).astype(np.int32)
        if normalise:
            doc = (key >> doc_shift).astype(np.intp)
            norm = np.sqrt(np.bincount(doc, data * data, minlength=self.n_docs))
            data /= np.maximum(norm, 1e-12).astype(np.float32)[doc]
        bucket = (key & ((1 << self.bits) - 1)).astype(np.int32)
        return sparse.csr_matrix((data, bucket, indptr), shape=(self.n_docs, spec.n_features))


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
