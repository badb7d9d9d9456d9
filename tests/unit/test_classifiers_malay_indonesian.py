"""Malay against Indonesian: the marker words decide when the head hesitates between them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from classifiers.build import build_default_model
from classifiers.langid import (
    MARKERS,
    decide_malay_indonesian,
    marker_evidence,
    marker_weights,
    predict_languages,
)
from classifiers.model import load_model
from classifiers.types import ClassifierInput

CLASSES = ("en", "id", "ms")


def test_the_marker_weights_are_wordfreqs_frequency_gaps() -> None:
    assert marker_weights() == MARKERS
    assert MARKERS["kerana"] > 0 > MARKERS["karena"]
    assert all(abs(w) <= 3.0 for w in MARKERS.values())


def test_evidence_adds_the_markers_of_the_text() -> None:
    text = "Saya tidak dapat log masuk ke akaun saya kerana kata laluan salah."
    expected = MARKERS["akaun"] + MARKERS["kerana"] + MARKERS["laluan"]
    assert marker_evidence(text) == pytest.approx(expected)
    assert marker_evidence("Akun saya diblokir") == pytest.approx(
        MARKERS["akun"] + MARKERS["diblokir"]
    )
    # No marker: no evidence (shared words like sudah, terima kasih say nothing).
    assert marker_evidence("Terima kasih atas bantuan anda, masalah saya sudah selesai.") == 0
    # -iti against -itas outside the table; "teliti" is both.
    assert marker_evidence("kapasiti") == 1.0
    assert marker_evidence("kapasitas") == -1.0
    assert marker_evidence("sedang meneliti, diteliti oleh peneliti") == 0


def test_markers_swap_the_two_only_when_they_are_the_best_two() -> None:
    texts = [
        "saya mahu hantar wang",  # Malay markers, Indonesian scored first: swapped
        "saya sudah selesai",  # no marker: the head's choice stands
        "saya mahu hantar wang",  # English first: not a Malay/Indonesian question
        "saya mahu hantar wang",  # Malay first already: unchanged
        "saya mau kirim uang karena",  # Indonesian markers, Malay first: swapped
    ]
    scores = np.array(
        [
            [0.0, 5.0, 4.0],
            [0.0, 5.0, 4.0],
            [6.0, 5.0, 4.0],
            [0.0, 4.0, 5.0],
            [0.0, 4.0, 5.0],
        ],
        dtype=np.float32,
    )
    decide_malay_indonesian(texts, scores, CLASSES)
    assert scores.tolist() == [
        [0.0, 4.0, 5.0],
        [0.0, 5.0, 4.0],
        [6.0, 5.0, 4.0],
        [0.0, 4.0, 5.0],
        [0.0, 5.0, 4.0],
    ]


def test_a_head_without_malay_or_indonesian_is_left_alone() -> None:
    scores = np.array([[1.0, 2.0]], dtype=np.float32)
    decide_malay_indonesian(["saya mahu hantar wang"], scores, ("en", "es"))
    assert scores.tolist() == [[1.0, 2.0]]


@pytest.fixture(scope="module")
def ms_id_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small model whose language head knows English, Malay and Indonesian."""
    out = tmp_path_factory.mktemp("msid") / "model"
    build_default_model(out, n=300, seed=5, language_words=3000, languages=["en", "ms", "id"])
    return out


def test_the_model_decides_by_the_markers_as_predict_languages_does(ms_id_model: Path) -> None:
    model = load_model(ms_id_model)
    stored = model.heads["language"]
    texts = [
        "Saya tidak dapat log masuk ke akaun saya kerana kata laluan salah.",
        "Saya tidak bisa masuk ke akun saya karena kata sandi salah.",
        "Wang saya belum dikembalikan, tolong hantar semula invois.",
        "Uang saya belum dikembalikan, tolong kirim ulang faktur.",
        "The parcel did not arrive and nobody answers.",
    ]
    predicted = [p.language for p in model.predict([ClassifierInput(text=t) for t in texts])]
    assert predicted == ["ms", "id", "ms", "id", "en"]
    assert predicted == predict_languages(stored.head, texts, stored.spec)[0]
    # Every text the markers change was one the head put Malay and Indonesian first on.
    plain = predict_languages(stored.head, texts, stored.spec, malay_indonesian=False)[0]
    assert all(a == b or {a, b} == {"ms", "id"} for a, b in zip(predicted, plain, strict=True))
