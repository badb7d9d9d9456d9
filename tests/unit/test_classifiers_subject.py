"""The subject as a feature block of its own: exact features, selection, model folders."""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from classifiers.build import build_default_model, train_into
from classifiers.datasets import input_from_json
from classifiers.features import MIX, WORD_SALT, FeatureSpec, P, featurize
from classifiers.model import load_model
from classifiers.store import MANIFEST
from classifiers.training import TOPIC_SPEC, head_spec, train_head
from classifiers.types import ClassifierInput
from router.core.ticket_schema import ticket_from_object
from router.service.routing import classifier_input
from tests.classifier_cli import run

WORDS = FeatureSpec(char_orders=(), words=True, bits=10, sublinear_tf=True, idf=True)
WITH_SUBJECT = replace(WORDS, subject_weight=2.0)
M64 = (1 << 64) - 1


def word_bucket(word: str, bits: int) -> int:
    """The bucket of a whole word, computed here from the hash's definition."""
    h = 0
    for ch in word:
        h = (h * int(P) + ord(ch)) & M64
    return (((h + int(WORD_SALT)) & M64) * int(MIX) & M64) >> (64 - bits)


def entries(x: object, row: int) -> dict[int, float]:
    """Column -> value of one row (duplicates summed)."""
    m = x.tocsr()  # type: ignore[attr-defined]
    m.sum_duplicates()
    start, end = m.indptr[row], m.indptr[row + 1]
    return {int(j): float(v) for j, v in zip(m.indices[start:end], m.data[start:end], strict=True)}


def test_the_subject_block_holds_the_subjects_words_after_the_text_columns() -> None:
    x = featurize(["ab cd ab", "zz"], WITH_SUBJECT, subjects=["ab ab", ""])
    assert x.shape == (2, 2 * 1024) and WITH_SUBJECT.n_features == 2048
    ab, cd, zz = (word_bucket(w, 10) for w in ("ab", "cd", "zz"))
    # Text: "ab" twice counts 1 + ln 2, "cd" once 1; subject block: "ab" twice, times 2.
    assert entries(x, 0) == pytest.approx(
        {ab: 1 + np.log(2), cd: 1.0, 1024 + ab: 2 * (1 + np.log(2))}
    )
    # No subject, no block; the text part is the plain spec's.
    assert entries(x, 1) == {zz: 1.0}
    plain = featurize(["ab cd ab", "zz"], WORDS)
    assert entries(plain, 0) == pytest.approx({ab: 1 + np.log(2), cd: 1.0})


def test_without_subjects_the_block_is_empty_and_a_mismatch_is_an_error() -> None:
    x = featurize(["ab cd"], WITH_SUBJECT)
    assert x.shape == (1, 2048)
    assert entries(x, 0) == entries(featurize(["ab cd"], WORDS), 0)
    with pytest.raises(ValueError, match="2 subjects for 1 texts"):
        featurize(["ab cd"], WITH_SUBJECT, subjects=["a", "b"])


def test_a_subject_block_needs_learned_weights() -> None:
    with pytest.raises(ValueError, match="subject block"):
        FeatureSpec(subject_weight=1.0, idf=False)
    with pytest.raises(ValueError, match="subject block"):
        replace(TOPIC_SPEC, subject_weight=-1.0)


def test_the_spec_round_trips_through_json_and_older_manifests_have_no_block() -> None:
    data = json.loads(json.dumps(WITH_SUBJECT.to_json()))
    assert data["subject_weight"] == 2.0
    assert FeatureSpec.from_json(data) == WITH_SUBJECT
    del data["subject_weight"]
    assert FeatureSpec.from_json(data) == WORDS
    assert WITH_SUBJECT.text_spec == WORDS


def _mail(n: int, seed: int) -> tuple[list[str], list[str], list[str]]:
    """Texts whose label only the subject tells: the body names both topics as often.

    The subject holds the label's word; the body the other topic half of the
    time (a quoted earlier mail), so a text with both words is ambiguous
    without knowing which part each came from.
    """
    rng = np.random.default_rng(seed)
    word = {"billing": "refund", "access": "password"}
    other = {"billing": "password", "access": "refund"}
    fillers = ["please", "help", "thanks", "team", "today", "hello", "again", "now"]
    texts, subjects, labels = [], [], []
    for k in range(n):
        label = ("billing", "access")[k % 2]
        # Random neighbours on both sides: no word bigram tells the subject's word apart.
        a, b, *body = rng.choice(fillers, size=7).tolist()
        if rng.random() < 0.5:
            body.insert(int(rng.integers(1, len(body))), other[label])
        subject = f"{a} {word[label]} {b}"
        subjects.append(subject)
        texts.append(f"{subject}\n{' '.join(body)}")
        labels.append(label)
    return texts, subjects, labels


def test_cross_validation_picks_a_subject_weight_when_the_subject_tells() -> None:
    texts, subjects, labels = _mail(240, 0)
    head, figures = train_head(texts, labels, subjects=subjects)
    assert figures["subject_weight"] in (0.5, 1.0, 2.0)
    selection = figures["selection"]
    assert selection["subject_weights"] == [0.0, 0.5, 1.0, 2.0]
    weights = [e["subject_weight"] for e in selection["grid"]]
    assert weights == [0.0] * 6 + [0.5, 1.0, 2.0]
    assert selection["chosen"]["subject_weight"] == figures["subject_weight"]
    plain_best = max(e["accuracy"] for e in selection["grid"][:6])
    assert selection["chosen"]["accuracy"] == 1.0 > plain_best
    spec = head_spec(figures)
    assert spec.subject_weight == figures["subject_weight"]
    assert head.n_features == spec.n_features == 2 * TOPIC_SPEC.n_features
    test_texts, test_subjects, test_labels = _mail(100, 1)
    best, _ = head.predict(featurize(test_texts, spec, subjects=test_subjects))
    assert [head.classes[i] for i in best.tolist()] == test_labels


def test_without_subjects_nothing_changes() -> None:
    texts, _, labels = _mail(120, 2)
    head, figures = train_head(texts, labels)
    same, again = train_head(texts, labels, subjects=[""] * len(texts))
    assert figures["subject_weight"] == again["subject_weight"] == 0.0
    assert "subject_weights" not in figures["selection"]
    assert head_spec(figures) == TOPIC_SPEC
    assert np.array_equal(head.weights, same.weights)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small default model (no subject blocks): two languages, 300 tickets."""
    out = tmp_path_factory.mktemp("subject") / "tiny"
    build_default_model(out, n=300, seed=5, language_words=2000, languages=["en", "es"])
    return out


def test_a_model_with_a_subject_head_writes_loads_and_serves_it(tiny: Path, tmp_path: Path) -> None:
    texts, subjects, labels = _mail(240, 0)
    out = tmp_path / "acme"
    train_into(
        out,
        "queue",
        texts,
        labels,
        data_sha256="0" * 64,
        data_name="mail.csv",
        base=tiny,
        c=None,
        seed=0,
        subjects=subjects,
    )
    manifest = json.loads((out / MANIFEST).read_text())
    weight = manifest["heads"]["queue"]["spec"]["subject_weight"]
    assert weight == manifest["heads"]["queue"]["training"]["subject_weight"] > 0
    assert manifest["heads"]["tier"]["spec"]["subject_weight"] == 0.0
    model = load_model(out)
    assert model.heads["queue"].spec == replace(TOPIC_SPEC, subject_weight=weight)
    # Both topic words in the text: only the subject, read apart, tells them apart.
    both = "team refund now\nplease help password today"
    items = [
        ClassifierInput(text=both, subject="team refund now"),
        ClassifierInput(
            text="help password again\nthanks refund team", subject="help password again"
        ),
    ]
    predicted = model.predict(items)
    assert [p.extra["queue"][0] for p in predicted] == ["billing", "access"]
    # The bundle reads the block at weight 1 with the weight folded into the head:
    # the same confidences as the stored head on its own features.
    stored = model.heads["queue"]
    features = featurize(
        [i.text for i in items], stored.spec, subjects=[i.subject or "" for i in items]
    )
    _, direct = stored.head.predict(features)
    assert [p.extra["queue"][1] for p in predicted] == pytest.approx(direct.tolist(), rel=1e-5)
    # The other heads read the text as before: the subject changes none of them.
    plain = model.predict([ClassifierInput(text=both)])[0]
    with_subject = model.predict(items[:1])[0]
    assert (plain.tier, plain.tier_confidence, plain.language) == (
        with_subject.tier,
        with_subject.tier_confidence,
        with_subject.language,
    )


def test_an_older_folder_without_subject_settings_loads_and_predicts_as_before(
    tiny: Path, tmp_path: Path
) -> None:
    items = [
        ClassifierInput(text="I was charged twice\nplease refund", subject="I was charged twice"),
        ClassifierInput(text="No puedo entrar en mi cuenta"),
    ]
    before = load_model(tiny).predict(items)
    old = Path(shutil.copytree(tiny, tmp_path / "old"))
    manifest = json.loads((old / MANIFEST).read_text())
    for info in manifest["heads"].values():
        # What a version before subject blocks wrote.
        del info["spec"]["subject_weight"]
    (old / MANIFEST).write_text(json.dumps(manifest))
    model = load_model(old)
    assert all(h.spec.subject_weight == 0.0 for h in model.heads.values())
    after = model.predict(items)
    assert [p.as_dict() for p in after] == [p.as_dict() for p in before]
    # A subject given to heads without a block is ignored.
    no_subject = model.predict([replace(items[0], subject=None)])[0]
    assert no_subject.as_dict() == after[0].as_dict()


def test_the_router_and_the_classify_command_pass_the_subject_apart() -> None:
    ticket = ticket_from_object({"id": "t1", "subject": "Refund", "body": "charged twice"})
    got = classifier_input(ticket)
    assert (got.text, got.subject) == ("Refund\ncharged twice", "Refund")
    body_only = classifier_input(ticket_from_object({"id": "t2", "body": "charged twice"}))
    assert (body_only.text, body_only.subject) == ("charged twice", None)
    parsed = input_from_json({"subject": "Refund", "body": "charged twice"})
    assert (parsed.text, parsed.subject) == ("Refund\ncharged twice", "Refund")
    assert input_from_json({"text": "Refund\ncharged twice"}).subject is None


def _write_mail_csv(path: Path, n: int, seed: int) -> Path:
    texts, subjects, labels = _mail(n, seed)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["Subject", "Body", "Queue"])
        for text, subject, label in zip(texts, subjects, labels, strict=True):
            writer.writerow([subject, text.split("\n", 1)[1], label])
    return path


def test_train_and_evaluate_with_a_subject_column(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _write_mail_csv(tmp_path / "mail.csv", 240, 0)
    columns = ["--subject-column", "Subject", "--body-column", "Body", "--label-column", "Queue"]
    out = tmp_path / "acme"
    code = run("train", "--data", str(data), *columns, "--task", "queue", "--out", str(out),
               "--base", str(tiny))  # fmt: skip
    assert code == 0
    err = capsys.readouterr().err
    assert "subject block, weight 0.5:" in err and ", subject weight " in err
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["heads"]["queue"]["spec"]["subject_weight"] > 0
    held = _write_mail_csv(tmp_path / "held.csv", 100, 1)
    code = run("evaluate", "--data", str(held), *columns, "--task", "queue", "--model", str(out))
    assert code == 0
    assert json.loads(capsys.readouterr().out)["accuracy"] == 1.0
    # The same texts joined by --text-column: no subjects apart, so the ambiguous ones fail.
    joined = ["--text-column", "Subject", "--text-column", "Body", "--label-column", "Queue"]
    code = run("evaluate", "--data", str(held), *joined, "--task", "queue", "--model", str(out))
    assert code == 0
    assert json.loads(capsys.readouterr().out)["accuracy"] < 1.0
