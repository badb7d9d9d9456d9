"""The trainer, the evaluation report and the synthetic ticket generator."""

from __future__ import annotations

import numpy as np
import pytest

from classifiers.evaluation import cross_validate, evaluate_head, report
from classifiers.features import featurize
from classifiers.langid import pseudo_sentences, train_language_head
from classifiers.linear import LinearHead, StackedHeads, fit_temperature, softmax
from classifiers.synth import CATEGORIES, LANGUAGE_WEIGHTS, generate_tickets, ticket_text
from classifiers.training import TOPIC_SPEC, train_head


@pytest.fixture(scope="module")
def tickets() -> list[dict[str, object]]:
    return generate_tickets(700, seed=21)


def texts_labels(tickets: list[dict], task: str) -> tuple[list[str], list[str]]:  # type: ignore[type-arg]
    return [ticket_text(t) for t in tickets], [t["labels"][task] for t in tickets]


def test_category_head_learns_and_generalises(tickets: list[dict]) -> None:  # type: ignore[type-arg]
    texts, labels = texts_labels(tickets, "category")
    head, figures = train_head(texts, labels)
    assert head.classes == tuple(sorted(CATEGORIES))
    assert figures["n_samples"] == 700
    assert sum(figures["class_counts"].values()) == 700
    assert figures["temperature"] > 0
    fresh = generate_tickets(300, seed=22)
    result = evaluate_head(head, TOPIC_SPEC, *texts_labels(fresh, "category"))
    assert result["accuracy"] > 0.9
    assert result["n"] == 300


def test_binary_head_has_two_columns_matching_a_sigmoid(tickets: list[dict]) -> None:  # type: ignore[type-arg]
    texts, labels = texts_labels(tickets, "tier")
    head, _ = train_head(texts, labels)
    assert head.classes == ("tier1", "tier2")
    assert head.weights.shape[1] == 2
    prob = head.proba(featurize(texts[:50], TOPIC_SPEC))
    assert np.allclose(prob.sum(axis=1), 1.0, atol=1e-5)
    # Columns are +-w/2: their difference is the margin, so the softmax is its sigmoid.
    assert np.allclose(head.weights[:, 0], -head.weights[:, 1])


def test_training_refuses_unusable_data() -> None:
    with pytest.raises(ValueError, match="two labels"):
        train_head(["a", "b"], ["x", "x"])
    with pytest.raises(ValueError, match="2 texts but 1 labels"):
        train_head(["a", "b"], ["x"])


def test_tiny_data_trains_without_calibration() -> None:
    head, figures = train_head(["refund my money", "app crashes"], ["billing", "technical"])
    assert figures["calibration_accuracy"] is None and figures["temperature"] == 1.0
    best, _ = head.predict(featurize(["refund please"], TOPIC_SPEC))
    assert head.classes[int(best[0])] == "billing"


def test_report_figures_are_exact() -> None:
    result = report(["a", "a", "b", "b"], ["a", "b", "b", "b"], [0.9, 0.6, 0.8, 0.7])
    assert result["accuracy"] == 0.75
    assert result["per_class"]["a"] == {"precision": 1.0, "recall": 0.5, "f1": 0.6667, "support": 2}
    assert result["per_class"]["b"]["precision"] == pytest.approx(0.6667, abs=1e-4)
    assert result["macro_f1"] == pytest.approx((2 / 3 + 0.8) / 2)
    assert result["confusion_matrix"]["labels"] == ["a", "b"]
    assert result["confusion_matrix"]["matrix"] == [[1, 1], [0, 2]]
    # Bins: 0.9 right, 0.6 wrong, 0.8 right, 0.7 right -> |0.9-1|+|0.6-0|+|0.8-1|+|0.7-1| over 4.
    assert result["expected_calibration_error"] == pytest.approx((0.1 + 0.6 + 0.2 + 0.3) / 4)


def test_cross_validation_predicts_every_example_once(tickets: list[dict]) -> None:  # type: ignore[type-arg]
    texts, labels = texts_labels(tickets[:300], "category")
    result = cross_validate(texts, labels, folds=3)
    assert result["n"] == 300 and result["folds"] == 3
    assert sum(map(sum, result["confusion_matrix"]["matrix"])) == 300
    assert result["accuracy"] > 0.8


def test_temperature_recovers_a_known_scale() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(4000, 5)).astype(np.float32) * 3
    true = np.array([rng.choice(5, p=p) for p in softmax(logits.copy())])
    # Scores twice as large as the true logits need a temperature of about 2.
    assert fit_temperature(2 * logits, true) == pytest.approx(2.0, rel=0.1)


def test_stacked_heads_equal_separate_heads(tickets: list[dict]) -> None:  # type: ignore[type-arg]
    texts = [ticket_text(t) for t in tickets]
    tier, _ = train_head(texts, [t["labels"]["tier"] for t in tickets])
    cat, _ = train_head(texts, [t["labels"]["category"] for t in tickets])
    x = featurize(texts[:100], TOPIC_SPEC)
    stacked = StackedHeads([tier, cat]).predict(x)
    for head, (best, conf) in zip((tier, cat), stacked, strict=True):
        alone_best, alone_conf = head.predict(x)
        assert np.array_equal(best, alone_best)
        assert np.allclose(conf, alone_conf, atol=1e-6)


def test_language_head_on_a_few_languages() -> None:
    head, figures = train_language_head(
        languages=["en", "es", "de", "ja"], n_words=3000, calibration_texts=40
    )
    assert set(head.classes) == {"en", "es", "de", "ja"}
    assert figures["pseudo_sentence_accuracy"] > 0.9
    from classifiers.langid import LANGUAGE_SPEC

    texts = [
        "the parcel has not arrived yet",
        "el paquete todavía no ha llegado",
        "das Paket ist noch nicht angekommen",
        "荷物がまだ届いていません",
    ]
    best, conf = head.predict(featurize(texts, LANGUAGE_SPEC))
    assert [head.classes[i] for i in best] == ["en", "es", "de", "ja"]
    assert np.all(conf > 0.5)
    with pytest.raises(ValueError, match="no word statistics"):
        train_language_head(languages=["xx"])


def test_pseudo_sentences_follow_word_frequencies() -> None:
    rng = np.random.default_rng(1)
    texts = pseudo_sentences(["a", "b"], np.array([0.9, 0.1]), 500, rng, 1, 1)
    assert len(texts) == 500
    assert 400 < texts.count("a") < 500


def test_generator_is_deterministic_and_well_formed() -> None:
    first = generate_tickets(200, seed=5)
    assert first == generate_tickets(200, seed=5)
    assert first != generate_tickets(200, seed=6)
    assert len({t["id"] for t in first}) == 200
    for t in first:
        assert t["subject"] or t["body"]
        assert t["labels"]["language"] in LANGUAGE_WEIGHTS
        assert t["labels"]["category"] in CATEGORIES
        assert t["labels"]["tier"] in ("tier1", "tier2")
        assert t["channel"] in ("email", "chat", "phone", "web", "social")
        assert t["priority"] in ("low", "normal", "high", "urgent")
        assert "@" in t["customer"]["email"]
    assert len({t["labels"]["language"] for t in first}) == 6


def test_label_noise_changes_about_that_share_of_labels() -> None:
    clean = generate_tickets(2000, seed=8)
    noisy = generate_tickets(2000, seed=8, label_noise=0.1)
    changed = sum(c["labels"] != n["labels"] for c, n in zip(clean, noisy, strict=True))
    # A relabel draws the same label again 1/2 (tier) or 1/6 (category) of the time.
    assert 100 < changed < 200
    assert [c["body"] for c in clean] == [n["body"] for n in noisy]


def test_linear_head_from_dense_drops_zero_rows() -> None:
    coef = np.zeros((16, 2), np.float32)
    coef[3] = [1, -1]
    head = LinearHead.from_dense(["a", "b"], coef, np.zeros(2))
    assert head.weights.shape == (2, 2)
    assert head.rows[3] == 1 and head.rows.sum() == 1


def test_chinese_characters_without_kana_are_not_japanese() -> None:
    from classifiers.langid import RULED_OUT, script_bias
    from classifiers.textclean import prepare

    classes = ("en", "ja", "zh")
    bias = script_bias(prepare(["東京大学", "東京の大学", "hello", "", "注文 ok"]), classes)
    assert bias[:, 1].tolist() == [RULED_OUT, 0.0, 0.0, 0.0, RULED_OUT]
    assert not bias[:, [0, 2]].any()
    assert not script_bias(prepare(["東京大学"]), ("en", "ja")).any()
