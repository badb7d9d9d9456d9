"""The classify, train, evaluate and build-default-model subcommands."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from classifiers.commands import classify_stream
from classifiers.model import load_model
from classifiers.synth import generate_tickets, ticket_text
from tests.classifier_cli import run
from tests.unit.test_classifiers_model import tiny_model  # noqa: F401  (session fixture)

FIELDS = ["language", "language_confidence", "tier", "tier_confidence", "category",
          "category_confidence", "timezone", "timezone_source"]  # fmt: skip


def test_classify_generated_tickets(tiny_model: Path) -> None:  # noqa: F811
    tickets = generate_tickets(300, seed=31)
    lines = [json.dumps({k: v for k, v in t.items() if k != "labels"}) for t in tickets]
    out, err = io.BytesIO(), io.StringIO()
    code = classify_stream(load_model(tiny_model), io.BytesIO("\n".join(lines).encode()), out, err)
    assert code == 0 and err.getvalue() == ""
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(rows) == 300
    assert all(list(row) == FIELDS for row in rows)
    right = sum(
        r["category"] == t["labels"]["category"] for r, t in zip(rows, tickets, strict=True)
    )
    assert right > 270
    with_zone = [
        (r, t) for r, t in zip(rows, tickets, strict=True) if t["customer"].get("timezone")
    ]
    assert with_zone and all(
        r["timezone"] == t["customer"]["timezone"] and r["timezone_source"] == "customer"
        for r, t in with_zone
    )


def test_classify_reports_bad_lines_and_carries_on(tiny_model: Path) -> None:  # noqa: F811
    stdin = "\n".join(
        [
            '{"text": "Where is my order? It has not arrived."}',
            "not json",
            "[1, 2]",
            "",
            '{"subject": "", "body": ""}',
            '{"subject": "Refund", "body": "I was charged twice", "customer": {"country": "FR"}}',
            '{"text": 42}',
        ]
    ).encode()
    out, err = io.BytesIO(), io.StringIO()
    code = classify_stream(load_model(tiny_model), io.BytesIO(stdin), out, err)
    assert code == 1
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["category"] for r in rows] == ["shipping", "billing"]
    assert rows[1]["timezone"] == "Europe/Paris" and rows[1]["timezone_source"] == "country"
    messages = err.getvalue().splitlines()
    assert [m.split(":")[0] for m in messages[:4]] == ["line 2", "line 3", "line 5", "line 7"]
    assert "expected a JSON object" in messages[1]
    assert "no text" in messages[2]
    assert messages[-1] == "4 bad line(s) skipped"


def write_export(tmp_path: Path, kind: str, n: int, seed: int) -> Path:
    tickets = generate_tickets(n, seed=seed)
    path = tmp_path / f"export.{kind}"
    if kind == "csv":
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["subject", "body", "queue", "level"])
            for t in tickets:
                writer.writerow(
                    [t["subject"], t["body"], t["labels"]["category"], t["labels"]["tier"]]
                )
    else:
        path.write_text("\n".join(json.dumps(t) for t in tickets) + "\n", encoding="utf-8")
    return path


def test_train_from_csv_then_evaluate(
    tiny_model: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = write_export(tmp_path, "csv", 500, seed=41)
    out = tmp_path / "mine"
    assert (
        run(
            "train",
            "--data",
            str(data),
            "--text-column",
            "subject",
            "--text-column",
            "body",
            "--label-column",
            "queue",
            "--task",
            "category",
            "--out",
            str(out),
            "--base",
            str(tiny_model),
        )
        == 0
    )
    err = capsys.readouterr().err
    assert "read 500 examples, 6 labels" in err and "trained in" in err
    # The new folder got the language and tier heads from the base: it loads.
    model = load_model(out)
    assert model.version != load_model(tiny_model).version
    (tmp_path / "held").mkdir()
    test = write_export(tmp_path / "held", "csv", 200, seed=42)
    assert (
        run(
            "evaluate",
            "--data",
            str(test),
            "--text-column",
            "subject",
            "--text-column",
            "body",
            "--label-column",
            "queue",
            "--task",
            "category",
            "--model",
            str(out),
        )
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert result["n"] == 200 and result["accuracy"] > 0.9
    assert set(result) >= {"accuracy", "macro_f1", "per_class", "confusion_matrix"}
    assert set(result["per_class"]["billing"]) == {"precision", "recall", "f1", "support"}


def test_evaluate_with_cross_validation_and_holdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_export(tmp_path, "jsonl", 300, seed=43)
    common = [
        "--data",
        str(data),
        "--text-column",
        "subject",
        "--text-column",
        "body",
        "--label-column",
        "labels.tier",
        "--task",
        "tier",
    ]
    assert run("evaluate", *common, "--cv", "3") == 0
    cv = json.loads(capsys.readouterr().out)
    assert cv["n"] == 300 and cv["mode"] == "3-fold cross-validation"
    assert run("evaluate", *common, "--holdout", "0.25") == 0
    held = json.loads(capsys.readouterr().out)
    assert held["n"] == 75 and held["accuracy"] > 0.8


def test_train_reports_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "bad.jsonl"
    data.write_text('{"text": "a", "label": "x"}\n{"text": "b"}\n')
    assert (
        run(
            "train",
            "--data",
            str(data),
            "--text-column",
            "text",
            "--label-column",
            "label",
            "--task",
            "tier",
            "--out",
            str(tmp_path / "m"),
        )
        == 2
    )
    assert "bad.jsonl:2: no value in label column 'label'" in capsys.readouterr().err
    assert (
        run(
            "train",
            "--data",
            str(tmp_path / "none.csv"),
            "--text-column",
            "t",
            "--label-column",
            "l",
            "--task",
            "tier",
            "--out",
            str(tmp_path / "m"),
        )
        == 2
    )
    assert "does not exist" in capsys.readouterr().err


def test_build_default_model_if_needed(
    tiny_model: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run("build-default-model", "--out", str(tiny_model), "--if-needed") == 0
    assert "nothing to do" in capsys.readouterr().err
    out = tmp_path / "fresh"
    assert (
        run(
            "build-default-model",
            "--out",
            str(out),
            "--n",
            "200",
            "--language-words",
            "500",
            "--if-needed",
        )
        == 0
    )
    assert "default model written" in capsys.readouterr().err
    assert load_model(out).predict([]) == []


def test_ticket_text_joins_subject_and_body() -> None:
    assert ticket_text({"subject": "Hi", "body": "there"}) == "Hi\nthere"
    assert ticket_text({"subject": "", "body": "there"}) == "there"
