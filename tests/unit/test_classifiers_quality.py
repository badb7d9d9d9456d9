"""Sublinear TF, learned IDF weights, unit-length rows and the cross-validated model choice."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse

from classifiers.build import train_into
from classifiers.errors import ModelError
from classifiers.features import FeatureSpec, featurize, featurize_many
from classifiers.linear import LinearHead, StackedHeads, scaled_rows
from classifiers.store import MANIFEST, load_head, new_manifest, save_head, write_manifest
from classifiers.synth import generate_tickets, ticket_text
from classifiers.training import GRID, TOPIC_SPEC, Candidate, train_head

# Whole words only, in many buckets: one column per word in these tests.
WORDS = FeatureSpec(char_orders=(), words=True, bits=20, sublinear_tf=True, idf=True)


def column(word: str, spec: FeatureSpec = WORDS) -> int:
    """The bucket of one word."""
    return int(featurize([word], spec).indices[0])


def row(x: sparse.csr_matrix, i: int) -> dict[int, float]:
    """Row ``i`` as {column: value}, duplicates summed."""
    x = x.tocsr(copy=True)
    x.sum_duplicates()
    start, end = x.indptr[i], x.indptr[i + 1]
    return dict(zip(x.indices[start:end].tolist(), x.data[start:end].tolist(), strict=True))


def test_sublinear_counts_are_one_plus_log() -> None:
    x = featurize(["ab ab ab cd", "cd"], WORDS)
    assert row(x, 0) == pytest.approx({column("ab"): 1 + math.log(3), column("cd"): 1.0})
    assert row(x, 1) == {column("cd"): 1.0}
    # One entry per word and text: the duplicates are counted, not repeated.
    assert x.getnnz(axis=1).tolist() == [2, 1]


def test_sublinear_rows_with_normalise_have_unit_length() -> None:
    spec = replace(WORDS, idf=False, normalise=True)
    x = featurize(["ab ab ab cd"], spec)
    length = math.hypot(1 + math.log(3), 1.0)
    assert row(x, 0) == pytest.approx(
        {column("ab"): (1 + math.log(3)) / length, column("cd"): 1 / length}
    )


def test_counting_keeps_feature_kinds_apart_and_matches_featurize_many() -> None:
    both = FeatureSpec(char_orders=(3,), words=True, word_bigrams=True, bits=16, idf=True)
    words = replace(both, char_orders=(), word_bigrams=False)
    texts = ["refund my refund please", "", "refund"]
    many = featurize_many(texts, [both, words])
    assert (many[0] != featurize(texts, both)).nnz == 0
    assert (many[1] != featurize(texts, words)).nnz == 0
    # "refund" twice as a word, its 3-grams twice each: counts, not normalised.
    counts = row(featurize(texts, both), 0)
    assert counts[column("refund", words)] >= 2.0
    assert featurize(texts, both).getnnz(axis=1)[1] == 0


def test_scaled_rows_exact_values() -> None:
    x = sparse.csr_matrix(np.array([[1.0, 2.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 4.0]], np.float32))
    scale = np.array([3.0, 0.5, 0.0], np.float32)
    out = scaled_rows(x, scale).toarray()
    assert out[0] == pytest.approx([3 / math.sqrt(10), 1 / math.sqrt(10), 0.0])
    # An empty row, and a row whose only bucket weighs 0, stay zero.
    assert out[1].tolist() == [0.0, 0.0, 0.0] and out[2].tolist() == [0.0, 0.0, 0.0]


def test_learned_idf_weights_are_smoothed_idf_of_the_training_texts() -> None:
    texts = ["apple banana", "apple cherry", "apple", "durian"]
    head, figures = train_head(texts, ["x", "y", "x", "y"], spec=WORDS, c=1.0)
    assert figures["selection"] is not None and figures["idf"] is True
    assert head.scale is not None

    def weight(word: str) -> float:
        return float(head.scale[head.rows[column(word)]])  # type: ignore[index]

    # ln((1 + n) / (1 + df)) + 1 with n = 4 texts.
    assert weight("apple") == pytest.approx(math.log(5 / 4) + 1)
    assert weight("banana") == pytest.approx(math.log(5 / 2) + 1)
    assert head.rows[column("elderberry")] == 0 and head.scale[0] == 0.0


def test_head_scores_equal_the_scaled_unit_rows_times_the_weights() -> None:
    texts = ["apple banana banana", "apple cherry", "cherry durian", "banana"]
    head, _ = train_head(texts, ["x", "y", "y", "x"], spec=WORDS, c=1.0)
    assert head.scale is not None
    probe = ["banana banana cherry", "apple elderberry", "elderberry"]
    x = featurize(probe, WORDS)
    scale = head.scale[head.rows]
    weights = head.weights[head.rows]
    expected = scaled_rows(x, scale) @ weights + head.intercept
    assert head.scores(x) == pytest.approx(np.asarray(expected), abs=1e-5)
    # Nothing known: the scores are the intercepts.
    assert head.scores(x)[2] == pytest.approx(head.intercept)


def test_min_df_drops_buckets_seen_in_too_few_texts() -> None:
    texts = ["apple banana", "apple cherry", "apple durian", "banana"]
    keep_all, _ = train_head(texts, ["x", "y", "y", "x"], spec=WORDS, grid=[Candidate(1.0)])
    two, figures = train_head(
        texts, ["x", "y", "y", "x"], spec=WORDS, grid=[Candidate(1.0, min_df=2)]
    )
    assert figures["min_df"] == 2
    assert keep_all.rows[column("cherry")] > 0
    assert two.rows[column("cherry")] == 0 and two.rows[column("banana")] > 0


def test_stacked_heads_with_different_weights_equal_separate_heads() -> None:
    tickets = generate_tickets(240, seed=31)
    texts = [ticket_text(t) for t in tickets]
    tier, _ = train_head(texts[:120], [t["labels"]["tier"] for t in tickets[:120]], c=1.0)
    cat, _ = train_head(texts[120:], [t["labels"]["category"] for t in tickets[120:]], c=1.0)
    assert tier.scale is not None and cat.scale is not None
    stacked = StackedHeads([tier, cat])
    assert len({id(s) for s, _ in stacked.scaled}) == 2
    x = featurize(texts[:60], TOPIC_SPEC)
    for head, (best, conf) in zip((tier, cat), stacked.predict(x), strict=True):
        alone_best, alone_conf = head.predict(x)
        assert np.array_equal(best, alone_best)
        assert np.allclose(conf, alone_conf, atol=1e-5)


def test_cross_validation_picks_the_best_candidate_and_reports_every_one() -> None:
    tickets = generate_tickets(300, seed=32)
    texts, labels = [ticket_text(t) for t in tickets], [t["labels"]["category"] for t in tickets]
    # C so small that every margin is about the intercept: far worse than C=1.
    grid = [Candidate(1e-6, idf=True), Candidate(1.0, idf=True), Candidate(1.0, idf=False)]
    head, figures = train_head(texts, labels, grid=grid, folds=3)
    selection = figures["selection"]
    assert [(g["c"], g["idf"]) for g in selection["grid"]] == [
        (1e-6, True),
        (1.0, True),
        (1.0, False),
    ]
    assert selection["folds"] == 3 and selection["cv_samples"] == 300
    assert selection["grid"][0]["accuracy"] < selection["grid"][1]["accuracy"]
    best = max(selection["grid"], key=lambda g: (g["accuracy"], g["macro_f1"]))
    assert selection["chosen"] == best
    assert (figures["c"], figures["idf"]) == (best["c"], best["idf"])
    assert figures["calibration_accuracy"] == best["accuracy"]
    assert head.scale is not None


def test_a_given_c_searches_only_the_weightings() -> None:
    tickets = generate_tickets(150, seed=33)
    texts, labels = [ticket_text(t) for t in tickets], [t["labels"]["tier"] for t in tickets]
    _, figures = train_head(texts, labels, c=0.7)
    grid = figures["selection"]["grid"]
    assert [(g["c"], g["idf"]) for g in grid] == [(0.7, True), (0.7, False)]
    assert figures["c"] == 0.7


def test_cv_is_capped_and_folds_fit_the_rarest_label() -> None:
    texts = [f"refund {i}" for i in range(20)] + ["crash", "broken app"]
    labels = ["billing"] * 20 + ["technical"] * 2
    _, figures = train_head(texts, labels, grid=[Candidate(1.0)], cv_limit=12)
    assert figures["selection"]["folds"] == 2
    assert figures["selection"]["cv_samples"] == 12


def test_train_records_the_grid_choice_in_the_manifest(tmp_path: Path) -> None:
    tickets = generate_tickets(240, seed=34)
    texts, labels = [ticket_text(t) for t in tickets], [t["labels"]["category"] for t in tickets]
    out = tmp_path / "model"
    train_into(
        out,
        "category",
        texts,
        labels,
        data_sha256="0" * 64,
        data_name="t.csv",
        base=None,
        c=None,
        seed=0,
    )
    manifest = json.loads((out / MANIFEST).read_text())
    entry = manifest["heads"]["category"]
    training = entry["training"]
    assert manifest["format_version"] == 3
    assert entry["spec"]["sublinear_tf"] is True and entry["spec"]["idf"] is True
    assert [(g["c"], g["idf"]) for g in training["selection"]["grid"]] == [
        (cand.c, cand.idf) for cand in GRID
    ]
    assert training["selection"]["chosen"]["c"] == training["c"]
    assert training["selection"]["chosen"]["idf"] == training["idf"]
    stored = load_head(out, manifest, "category")
    assert stored.head.scale is not None
    assert stored.head.scale.shape == (stored.head.weights.shape[0],)


def _legacy_head() -> tuple[FeatureSpec, LinearHead]:
    spec = FeatureSpec(char_orders=(3, 5), words=True, word_bigrams=True)
    texts = ["refund my money", "app crashes", "charged twice", "login fails"]
    head, _ = train_head(texts, ["billing", "technical", "billing", "technical"], spec=spec)
    return spec, head


def test_a_format_2_head_without_the_new_settings_still_loads(tmp_path: Path) -> None:
    spec, head = _legacy_head()
    assert head.scale is None
    manifest = new_manifest("old")
    save_head(tmp_path, manifest, "category", spec, head, {})
    manifest["format_version"] = 2
    for key in ("sublinear_tf", "idf"):
        del manifest["heads"]["category"]["spec"][key]
    write_manifest(tmp_path, manifest)
    from classifiers.store import read_manifest

    stored = load_head(tmp_path, read_manifest(tmp_path), "category")
    assert stored.spec == spec and stored.head.scale is None
    x = featurize(["refund please"], spec)
    assert np.array_equal(stored.head.scores(x), head.scores(x))


def test_a_spec_with_idf_but_no_stored_weights_is_refused(tmp_path: Path) -> None:
    spec, head = _legacy_head()
    manifest = new_manifest("bad")
    save_head(tmp_path, manifest, "category", replace(spec, idf=True), head, {})
    write_manifest(tmp_path, manifest)
    with pytest.raises(ModelError, match="learns bucket weights, none stored"):
        load_head(tmp_path, manifest, "category")
