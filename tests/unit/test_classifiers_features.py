"""Hashed features and text cleaning: exact counts, batch independence, noise removal."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classifiers.features import FeatureSpec, featurize, featurize_many
from classifiers.textclean import letters_only, prepare, strip_noise

COUNTS = FeatureSpec(char_orders=(1, 2, 3), words=True, word_bigrams=True, bits=20, normalise=False)


def dense(texts: list[str], spec: FeatureSpec = COUNTS) -> np.ndarray:
    x = featurize(texts, spec)
    x.sum_duplicates()
    return np.asarray(x.toarray())


def test_counts_every_kind_of_feature() -> None:
    # " ab cd ": 1-grams a b c d; 2-grams " a" ab "b " " c" cd "d "; 3-grams " ab"
    # "ab " " cd" "cd " (not "b c": a space inside); words ab cd; one bigram.
    assert dense(["ab cd"]).sum() == 4 + 6 + 4 + 2 + 1
    assert dense(["abc"]).sum() == 3 + 4 + 3 + 1 + 0


def test_empty_and_letterless_texts_have_no_features() -> None:
    x = dense(["", "  12 34 !!", "a"])
    assert x.shape == (3, COUNTS.n_features)
    assert x[0].sum() == 0 and x[1].sum() == 0
    assert x[2].sum() == 1 + 2 + 1 + 1


def test_rows_do_not_depend_on_the_rest_of_the_batch() -> None:
    texts = ["Where is my order?", "Mi pedido no llegó", "注文が届きません", ""]
    together = dense(texts)
    for i, text in enumerate(texts):
        assert np.array_equal(together[i], dense([text])[0])


def test_a_nul_inside_a_text_does_not_split_it() -> None:
    x = dense(["ab\x00cd", "ef"])
    assert x.shape[0] == 2
    assert np.array_equal(x[0], dense(["ab cd"])[0])


def test_case_punctuation_and_digits_do_not_matter() -> None:
    assert np.array_equal(dense(["Hello, WORLD!!"]), dense(["hello world"]))
    assert np.array_equal(dense(["order 12345 late"]), dense(["order late"]))


def test_contact_details_links_and_signatures_are_ignored() -> None:
    plain = dense(["my parcel is late"])
    noisy = dense(
        [
            "my https://track.example.com/x?id=1 parcel jane.doe+1@mail.example.org "
            "is @janedoe late"
            "\n> old quoted reply line\n-- \nJane Doe\nACME Corp, Main Street"
        ]
    )
    assert np.array_equal(plain, noisy)


def test_strip_noise_keeps_ordinary_at_signs_and_words() -> None:
    assert strip_noise("meet @ 5 at the cafe") == "meet @ 5 at the cafe"
    assert strip_noise("a@b") == "a@b"
    assert strip_noise("mail x.y@example.com now") == "mail   now"


def test_max_chars_keeps_only_the_start_of_each_text() -> None:
    spec = FeatureSpec(char_orders=(1,), words=False, bits=16, max_chars=3, normalise=False)
    # " abcdef ": offsets 0..7; 1-grams starting before offset 3 are a and b.
    x = featurize(["abcdef", "xy"], spec)
    assert x.getnnz(axis=1).tolist() == [2, 2]


def test_normalised_rows_have_unit_length_before_duplicates() -> None:
    spec = FeatureSpec(char_orders=(3,), words=True, bits=18, normalise=True)
    x = featurize(["the quick brown fox", "jumps"], spec)
    for row in range(2):
        data = x.data[x.indptr[row] : x.indptr[row + 1]]
        assert np.isclose(np.sum(data**2), 1.0)


def test_featurize_many_equals_one_spec_at_a_time() -> None:
    specs = [
        FeatureSpec(char_orders=(1, 3, 5), words=True, max_chars=20, normalise=False),
        FeatureSpec(char_orders=(3, 5), words=True, word_bigrams=True),
        FeatureSpec(char_orders=(2,), words=False, digits=True, bits=12),
    ]
    texts = ["Refund for order 42 please, it never came", "Conta bloqueada há 3 dias"]
    batch = prepare(texts)
    for spec, many in zip(specs, featurize_many(batch, specs), strict=True):
        one = featurize(texts, spec)
        assert (many != one).nnz == 0


def test_letters_only_frames_documents_with_single_spaces() -> None:
    cps, n = letters_only(["Hi,  you!", "x"])
    assert n == 2
    assert "".join(chr(c) if c else "|" for c in cps) == " hi you | x "


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=40), min_size=1, max_size=6))
def test_any_text_gives_one_row_each_and_stable_buckets(texts: list[str]) -> None:
    spec = FeatureSpec(char_orders=(1, 3), words=True, word_bigrams=True, bits=16)
    x = featurize(texts, spec)
    assert x.shape == (len(texts), spec.n_features)
    assert x.indices.size == 0 or (x.indices.min() >= 0 and x.indices.max() < spec.n_features)
    assert np.array_equal(featurize(texts, spec).indices, x.indices)


@pytest.mark.parametrize("bits", [10, 18, 20])
def test_buckets_fit_the_width(bits: int) -> None:
    spec = FeatureSpec(char_orders=(1, 3, 5), words=True, word_bigrams=True, bits=bits)
    x = featurize(["Das Paket ist beschädigt angekommen", "配送が遅れています"], spec)
    assert x.indices.max() < 1 << bits
