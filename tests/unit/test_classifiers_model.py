"""Model folders: building, loading, refusing broken ones, predicting in order."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from classifiers.build import build_default_model
from classifiers.model import ModelError, load_model
from classifiers.store import MANIFEST, sha256_file
from classifiers.synth import generate_tickets, ticket_text
from classifiers.types import ClassifierInput

TINY_LANGUAGES = ["en", "es", "pt", "fr", "de", "it", "ja", "ru"]


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small but complete model: 8 languages, 800 synthetic tickets (a few seconds)."""
    out = tmp_path_factory.mktemp("classifiers") / "tiny"
    build_default_model(out, n=800, seed=3, language_words=4000, languages=TINY_LANGUAGES)
    return out


@pytest.fixture
def model_copy(tiny_model: Path, tmp_path: Path) -> Path:
    """A private copy to damage."""
    return Path(shutil.copytree(tiny_model, tmp_path / "copy"))


def test_predicts_one_per_input_in_order(tiny_model: Path) -> None:
    model = load_model(tiny_model)
    items = [
        ClassifierInput(text="Hola, quiero saber dónde está mi pedido, el seguimiento no cambia"),
        ClassifierInput(text="I was charged twice for my order, please refund the duplicate"),
        ClassifierInput(text="Ich habe mein Passwort vergessen, der Link kommt nicht an"),
    ]
    preds = model.predict(items)
    assert [p.language for p in preds] == ["es", "en", "de"]
    assert [p.category for p in preds] == ["shipping", "billing", "account"]
    assert all(p.model_version == model.version for p in preds)
    assert all(0.0 < p.language_confidence <= 1.0 for p in preds)
    assert model.predict([]) == []
    # A batch gives exactly what single calls give.
    assert [model.predict([i])[0] for i in items] == preds


def test_generated_tickets_are_classified_well(tiny_model: Path) -> None:
    model = load_model(tiny_model)
    tickets = generate_tickets(300, seed=99)
    preds = model.predict([ClassifierInput(text=ticket_text(t)) for t in tickets])
    for task in ("language", "category", "tier"):
        right = sum(
            getattr(p, task) == t["labels"][task] for p, t in zip(preds, tickets, strict=True)
        )
        assert right / len(tickets) > 0.9, task


def test_confidence_is_lower_for_text_unlike_any_ticket(tiny_model: Path) -> None:
    model = load_model(tiny_model)
    clear, odd = model.predict(
        [
            ClassifierInput(
                text="Where is my order? The tracking page has not changed for two days."
            ),
            ClassifierInput(text="zebra quantum violin"),
        ]
    )
    assert odd.category_confidence < clear.category_confidence


def test_version_changes_with_the_files_and_not_otherwise(
    model_copy: Path, tiny_model: Path
) -> None:
    first, again = load_model(tiny_model), load_model(model_copy)
    assert first.version == again.version and first.version.startswith("default-")
    manifest = json.loads((model_copy / MANIFEST).read_text())
    rebuilt = model_copy.parent / "rebuilt"
    build_default_model(rebuilt, n=300, seed=4, language_words=2000, languages=["en", "es"])
    assert load_model(rebuilt).version != first.version
    assert manifest["heads"]["tier"]["training"]["data_sha256"]


def test_manifest_records_provenance(tiny_model: Path) -> None:
    manifest = json.loads((tiny_model / MANIFEST).read_text())
    assert set(manifest["heads"]) == {"language", "tier", "category"}
    assert manifest["libraries"]["scikit-learn"]
    category = manifest["heads"]["category"]
    assert sorted(category["classes"]) == [
        "account", "billing", "feedback", "other", "shipping", "technical"]  # fmt: skip
    assert 0.0 <= category["training"]["metrics"]["accuracy"] <= 1.0
    assert category["sha256"] == sha256_file(tiny_model / category["file"])


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        load_model(tmp_path / "nowhere")


def test_folder_without_manifest(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="missing"):
        load_model(tmp_path)


def test_manifest_that_is_not_json(model_copy: Path) -> None:
    (model_copy / MANIFEST).write_text("{not json")
    with pytest.raises(ModelError, match="not valid JSON"):
        load_model(model_copy)


def test_manifest_of_another_format_version(model_copy: Path) -> None:
    manifest = json.loads((model_copy / MANIFEST).read_text())
    manifest["format_version"] = 999
    (model_copy / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="format version 999"):
        load_model(model_copy)


def test_missing_head(model_copy: Path) -> None:
    manifest = json.loads((model_copy / MANIFEST).read_text())
    del manifest["heads"]["tier"]
    (model_copy / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="lacks the tier head"):
        load_model(model_copy)


def test_missing_head_file(model_copy: Path) -> None:
    (model_copy / "category.npz").unlink()
    with pytest.raises(ModelError, match="missing"):
        load_model(model_copy)


def test_corrupt_head_file(model_copy: Path) -> None:
    path = model_copy / "language.npz"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="checksum"):
        load_model(model_copy)


def test_head_file_with_a_pickle_is_refused(model_copy: Path) -> None:
    path = model_copy / "tier.npz"
    np.savez(
        path, rows=np.array([object()], dtype=object), weights=np.zeros(1), intercept=np.zeros(1)
    )
    _fix_checksum(model_copy, "tier")
    with pytest.raises(ModelError, match="cannot be read"):
        load_model(model_copy)


def test_head_file_with_inconsistent_shapes(model_copy: Path) -> None:
    with np.load(model_copy / "tier.npz") as arrays:
        rows, weights = arrays["rows"], arrays["weights"]
    np.savez(
        model_copy / "tier.npz",
        rows=rows,
        weights=weights[:, :1].copy(),
        intercept=np.zeros(2, np.float32),
    )
    _fix_checksum(model_copy, "tier")
    with pytest.raises(ModelError, match="inconsistent"):
        load_model(model_copy)


def test_old_bundle_keeps_working_while_a_new_folder_replaces_it(
    tiny_model: Path, tmp_path: Path
) -> None:
    live = Path(shutil.copytree(tiny_model, tmp_path / "live"))
    old = load_model(live)
    build_default_model(live, n=300, seed=5, language_words=2000, languages=["en", "es"])
    new = load_model(live)
    assert new.version != old.version
    # The old bundle holds its arrays in memory: it still serves after the swap.
    assert (
        old.predict([ClassifierInput(text="Mi pedido no ha llegado todavía")])[0].language == "es"
    )
    assert not [p for p in live.parent.iterdir() if p.name.startswith(".live")]


def _fix_checksum(model_dir: Path, task: str) -> None:
    manifest = json.loads((model_dir / MANIFEST).read_text())
    manifest["heads"][task]["sha256"] = sha256_file(model_dir / f"{task}.npz")
    (model_dir / MANIFEST).write_text(json.dumps(manifest))
