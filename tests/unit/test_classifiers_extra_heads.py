"""Extra heads: their names, training one into a model folder, predicting it with the rest."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from classifiers.heads import head_name_problem, is_extra_head_name
from classifiers.model import load_model
from classifiers.store import MANIFEST, sha256_file
from classifiers.synth import generate_tickets, ticket_text
from classifiers.types import ClassifierInput, Prediction, extra_heads_of
from tests.classifier_cli import run
from tests.unit.test_classifiers_model import tiny_model  # noqa: F401  (session fixture)

QUEUES = {"billing": "finance", "shipping": "logistics"}


def queue_of(category: str) -> str:
    """The label of the generated ``queue`` head: billing and shipping have a queue of
    their own, the other categories share ``general``."""
    return QUEUES.get(category, "general")


def write_queue_export(path: Path, n: int, seed: int) -> Path:
    """A CSV export of ``n`` generated tickets with a ``queue`` column."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "queue"])
        for t in generate_tickets(n, seed):
            writer.writerow([ticket_text(t), queue_of(t["labels"]["category"])])
    return path


def train_queue(model_dir: Path, data: Path, *extra: str) -> int:
    return run(
        "train", "--task", "queue", "--data", str(data), "--text-column", "text",
        "--label-column", "queue", "--model-dir", str(model_dir), *extra,
    )  # fmt: skip


@pytest.mark.parametrize(
    "name", ["queue", "priority", "sentiment", "q", "queue2", "billing_queue", "a" * 32]
)
def test_valid_head_names(name: str) -> None:
    assert head_name_problem(name) is None
    assert is_extra_head_name(name)


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("Queue", "must be a lowercase identifier"),
        ("2queue", "must be a lowercase identifier"),
        ("my-head", "must be a lowercase identifier"),
        ("_queue", "must be a lowercase identifier"),
        ("", "must be a lowercase identifier"),
        ("a" * 33, "must be a lowercase identifier"),
        ("queue_confidence", "may not end in '_confidence'"),
        ("queue_confidence_above", "may not end in '_confidence_above'"),
        ("queue_confidence_below", "may not end in '_confidence_below'"),
        ("timezone", "is reserved"),
        ("timezone_source", "is reserved"),
        ("model_version", "is reserved"),
    ],
)
def test_refused_head_names(name: str, why: str) -> None:
    problem = head_name_problem(name)
    assert problem is not None and why in problem and repr(name) in problem
    assert not is_extra_head_name(name)


@pytest.mark.parametrize("name", ["language", "tier", "category"])
def test_built_in_names_are_head_names_but_not_extra_ones(name: str) -> None:
    assert head_name_problem(name) is None
    assert not is_extra_head_name(name)


def test_train_adds_an_extra_head_keeping_the_others(
    tiny_model: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = Path(shutil.copytree(tiny_model, tmp_path / "model"))
    before = json.loads((folder / MANIFEST).read_text())
    files = {name: sha256_file(folder / f"{name}.npz") for name in before["heads"]}
    old_version = load_model(folder).version
    data = write_queue_export(tmp_path / "queues.csv", 600, seed=5)

    assert train_queue(folder, data) == 0

    err = capsys.readouterr().err
    counts = {"finance": 0, "general": 0, "logistics": 0}
    for t in generate_tickets(600, 5):
        counts[queue_of(t["labels"]["category"])] += 1
    listed = ", ".join(f"{label} ({n})" for label, n in counts.items())
    assert f"head 'queue' (extra head): 3 labels: {listed}" in err
    assert "-fold cross-validation on 600 texts: out-of-fold accuracy 0." in err
    after = json.loads((folder / MANIFEST).read_text())
    assert sorted(after["heads"]) == sorted([*before["heads"], "queue"])
    # The other heads are untouched: their entries and their files.
    for name in before["heads"]:
        assert after["heads"][name] == before["heads"][name]
        assert sha256_file(folder / f"{name}.npz") == files[name]
    assert after["format_version"] == 3
    assert after["heads"]["queue"]["classes"] == ["finance", "general", "logistics"]
    assert after["heads"]["queue"]["training"]["data"] == "queues.csv"
    assert after["heads"]["queue"]["training"]["selection"]["cv_samples"] == 600
    # No temporary folder is left beside it.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model", "queues.csv"]

    model = load_model(folder)
    assert model.version != old_version
    assert f"written to {folder}: model {model.version}, heads language, tier, category, queue" in (
        err
    )
    assert extra_heads_of(model) == {"queue": ("finance", "general", "logistics")}
    tickets = generate_tickets(300, seed=77)
    items = [ClassifierInput(text=ticket_text(t)) for t in tickets]
    preds = model.predict(items)
    assert all(set(p.extra) == {"queue"} for p in preds)
    right = sum(
        p.extra["queue"][0] == queue_of(t["labels"]["category"])
        for p, t in zip(preds, tickets, strict=True)
    )
    assert right / len(tickets) > 0.9
    assert all(0.0 < p.extra["queue"][1] <= 1.0 for p in preds)
    # The built-in heads predict exactly what they did without the extra head.
    plain = load_model(tiny_model).predict(items)
    for with_extra, without in zip(preds, plain, strict=True):
        assert (with_extra.language, with_extra.tier, with_extra.category) == (
            without.language, without.tier, without.category
        )  # fmt: skip
        assert with_extra.category_confidence == pytest.approx(without.category_confidence, 1e-5)
    # A batch gives exactly what single calls give.
    assert [model.predict([i])[0] for i in items[:20]] == preds[:20]
    # The classify output names the head and its confidence after the built-in ones.
    shape = list(preds[0].as_dict())
    assert shape[6:8] == ["queue", "queue_confidence"]
    assert shape[-2:] == ["timezone", "timezone_source"]


def test_train_replaces_an_extra_head_and_evaluate_scores_it(
    tiny_model: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = Path(shutil.copytree(tiny_model, tmp_path / "model"))
    # A folder that says format 2 (its heads read as before) moves to 3 with the new head.
    manifest = json.loads((folder / MANIFEST).read_text())
    (folder / MANIFEST).write_text(json.dumps({**manifest, "format_version": 2}))
    assert train_queue(folder, write_queue_export(tmp_path / "a.csv", 400, seed=6)) == 0
    assert json.loads((folder / MANIFEST).read_text())["format_version"] == 3
    # Again, with two labels only: the head is replaced, not added twice.
    two = tmp_path / "b.csv"
    with two.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "queue"])
        for t in generate_tickets(400, 8):
            cat = t["labels"]["category"]
            writer.writerow([ticket_text(t), "money" if cat == "billing" else "rest"])
    assert train_queue(folder, two) == 0
    manifest = json.loads((folder / MANIFEST).read_text())
    assert sorted(manifest["heads"]) == ["category", "language", "queue", "tier"]
    assert extra_heads_of(load_model(folder)) == {"queue": ("money", "rest")}
    capsys.readouterr()

    held = write_queue_export(tmp_path / "held.csv", 200, seed=9)
    code = run(
        "evaluate", "--task", "queue", "--data", str(held), "--text-column", "text",
        "--label-column", "queue", "--model", str(folder),
    )  # fmt: skip
    # The held-out labels are the three-queue ones, which the head no longer predicts.
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["task"] == "queue" and result["n"] == 200
    assert set(result["per_class"]) == {"finance", "general", "logistics", "money", "rest"}


def test_train_into_a_model_refuses_bad_names_and_folders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_queue_export(tmp_path / "q.csv", 50, seed=1)
    with pytest.raises(SystemExit) as exc:
        run(
            "train", "--task", "queue_confidence_above", "--data", str(data),
            "--text-column", "text", "--label-column", "queue", "--model-dir", str(tmp_path),
        )  # fmt: skip
    assert exc.value.code == 2
    assert (
        "argument --task: head name 'queue_confidence_above' may not end in "
        "'_confidence_above' (reserved for confidences)\n"
    ) in capsys.readouterr().err
    assert train_queue(tmp_path / "missing", data) == 2
    assert f"model folder {tmp_path / 'missing'} does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run(
            "train", "--task", "queue", "--data", str(data), "--text-column", "text",
            "--label-column", "queue", "--model-dir", str(tmp_path), "--out", str(tmp_path),
        )  # fmt: skip
    assert "not allowed with argument" in capsys.readouterr().err


def test_a_head_named_as_before_is_kept_but_not_predicted(
    tiny_model: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Older versions stored heads under names like ``my-head``; such a folder still
    loads, and only heads a rule could name are predicted."""
    folder = Path(shutil.copytree(tiny_model, tmp_path / "model"))
    manifest = json.loads((folder / MANIFEST).read_text())
    for name in ("my-head", "urgency"):
        manifest["heads"][name] = {**manifest["heads"]["tier"], "file": "tier.npz"}
    (folder / MANIFEST).write_text(json.dumps(manifest))
    model = load_model(folder)
    assert extra_heads_of(model) == {"urgency": ("tier1", "tier2")}
    [p] = model.predict([ClassifierInput(text="The server is down since the update")])
    assert list(p.extra) == ["urgency"]
    assert p.extra["urgency"][0] == p.tier
    assert p.extra["urgency"][1] == pytest.approx(p.tier_confidence, 1e-6)


def test_a_prediction_without_extra_heads() -> None:
    p = Prediction("en", 0.9, "tier1", 0.8, "billing", 0.7, None, "none", "m")
    assert p.extra == {}
    assert p.label("tier") == ("tier1", 0.8)
    assert p.label("queue") is None
    assert list(p.as_dict()) == [
        "language", "language_confidence", "tier", "tier_confidence", "category",
        "category_confidence", "timezone", "timezone_source",
    ]  # fmt: skip
    assert hash(p) == hash(Prediction("en", 0.9, "tier1", 0.8, "billing", 0.7, None, "none", "m"))
