"""Our trainer against a TF-IDF + LinearSVC baseline, on CLINC150 and real IT tickets, in one run.

    python tests/bench/bench_trainer.py --data DATA
    python tests/bench/bench_trainer.py --clinc DATA/clinc150/data_full.json \\
        --it-tickets DATA/it-tickets/topic_groups.csv

``DATA`` holds ``clinc150/data_full.json`` and ``it-tickets/topic_groups.csv``;
either set can also be given alone. The baseline is the usual strong linear
text classifier: TF-IDF (sublinear TF, ``min_df=2``) of word 1-2-grams plus
``char_wb`` 2-5-grams, ``LinearSVC(C=0.5)``. Ours is
:func:`classifiers.training.train_head` as ``ticket-router train`` runs it
(C and IDF weights chosen by cross-validation inside the training data).

* CLINC150: both learn from ``train`` (15,000 requests, 150 intents) and are
  scored on the in-scope ``test`` split (4,500). Then the out-of-scope
  requests (``oos_test``, 1,000 that belong to no intent): a confidence
  threshold is chosen on ``val`` + ``oos_val``, and the report says how many
  ``oos_test`` requests fall under it and how many in-scope ``test`` requests
  stay above it. AUROC says how well confidence ranks in-scope above
  out-of-scope overall (1.0 perfect, 0.5 chance).
* IT tickets (3,805 real helpdesk tickets, 8 topic groups, long texts): a
  stratified 70/30 ``train_test_split(..., random_state=0)``. The export has
  one text column, but most tickets are a mail's subject followed by its body
  (``reset passwords for external accounts re expire days hi ask help ...``):
  the words before the first greeting (``hi``, ``hello``, ``dear``) within the
  first 15 words are taken as the subject (90 % of the tickets; the others
  have none). The row ``ours+subject`` trains and predicts with those
  subjects apart (:data:`classifiers.training.SUBJECT_WEIGHTS`); the text fed
  to every trainer is unchanged.

Training seconds are wall time and CPU time of this process (the machine may
be shared); both trainers are single-threaded.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402
import numpy.typing as npt  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

from classifiers.evaluation import report  # noqa: E402
from classifiers.features import featurize  # noqa: E402
from classifiers.linear import LinearHead  # noqa: E402
from classifiers.training import TOPIC_SPEC, head_spec, train_head  # noqa: E402

Texts = list[str]
GREETING = re.compile(r"\b(?:hi|hello|dear)\b")


@dataclass
class Split:
    """One data set: training and test texts with their labels."""

    name: str
    train_x: Texts
    train_y: Texts
    test_x: Texts
    test_y: Texts
    train_s: Texts | None = None
    test_s: Texts | None = None


@dataclass
class Result:
    """One trainer's figures on one split."""

    report: dict[str, Any]
    wall: float
    cpu: float
    per_second: float


def clinc_split(path: Path) -> tuple[Split, dict[str, Texts]]:
    """CLINC150 train -> test, plus the texts of val, oos_val and oos_test."""
    data = json.loads(path.read_text(encoding="utf-8"))

    def part(name: str) -> tuple[Texts, Texts]:
        return [row[0] for row in data[name]], [row[1] for row in data[name]]

    split = Split("CLINC150", *part("train"), *part("test"))
    extra = {name: part(name)[0] for name in ("val", "oos_val", "oos_test")}
    return split, extra


def it_split(path: Path) -> Split:
    """The IT tickets, split 70/30 stratified with random_state=0."""
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    texts = [r["Document"] for r in rows]
    labels = [r["Topic_group"] for r in rows]
    subjects = [derived_subject(t) for t in texts]
    train_x, test_x, train_y, test_y, train_s, test_s = train_test_split(
        texts, labels, subjects, test_size=0.3, stratify=labels, random_state=0
    )
    return Split("IT tickets", train_x, train_y, test_x, test_y, train_s, test_s)


def derived_subject(text: str) -> str:
    """The words before the first greeting, if it comes after 1-15 words; else ``""``."""
    match = GREETING.search(text)
    if match is None or match.start() == 0:
        return ""
    head = text[: match.start()].strip()
    return head if len(head.split()) <= 15 else ""


def baseline() -> Pipeline:
    """TF-IDF word 1-2-grams + char_wb 2-5-grams, LinearSVC(C=0.5)."""
    return make_pipeline(
        FeatureUnion(
            [
                ("word", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)),
                (
                    "char",
                    TfidfVectorizer(
                        analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2
                    ),
                ),
            ]
        ),
        LinearSVC(C=0.5),
    )


def timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """``fn()``, its wall and CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def run_baseline(split: Split) -> Result:
    """Train and score the baseline."""
    pipe = baseline()
    _, wall, cpu = timed(lambda: pipe.fit(split.train_x, split.train_y))
    predicted, pred_s, _ = timed(lambda: pipe.predict(split.test_x))
    rep = report(split.test_y, list(predicted), [1.0] * len(split.test_y))
    return Result(rep, wall, cpu, len(split.test_x) / pred_s)


def run_ours(
    split: Split, c: float | None, subjects: bool = False
) -> tuple[Result, LinearHead, dict[str, Any]]:
    """Train and score our head (with the split's subjects apart if ``subjects``);
    also returns it and its training figures."""

    def say(msg: str) -> None:
        print(f"  [ours, {split.name}] {msg}", file=sys.stderr, flush=True)

    train_s, test_s = (split.train_s, split.test_s) if subjects else (None, None)
    (head, figures), wall, cpu = timed(
        lambda: train_head(split.train_x, split.train_y, c=c, progress=say, subjects=train_s)
    )
    spec = head_spec(figures)
    (best, conf), pred_s, _ = timed(
        lambda: head.predict(featurize(split.test_x, spec, subjects=test_s))
    )
    predicted = [head.classes[i] for i in best.tolist()]
    rep = report(split.test_y, predicted, conf.tolist())
    return Result(rep, wall, cpu, len(split.test_x) / pred_s), head, figures


def best_threshold(in_conf: npt.NDArray[np.float64], oos_conf: npt.NDArray[np.float64]) -> float:
    """The confidence cut that maximises (in-scope kept + out-of-scope caught) / 2."""
    candidates = np.unique(np.concatenate([in_conf, oos_conf]))
    best, best_score = 0.0, -1.0
    for cut in candidates:
        score = (np.mean(in_conf >= cut) + np.mean(oos_conf < cut)) / 2
        if score > best_score:
            best, best_score = float(cut), float(score)
    return best


def out_of_scope(head: LinearHead, split: Split, extra: dict[str, Texts]) -> None:
    """How our confidence separates CLINC150's out-of-scope requests."""

    def confidence(texts: Sequence[str]) -> npt.NDArray[np.float64]:
        return np.asarray(head.predict(featurize(texts, TOPIC_SPEC))[1], dtype=np.float64)

    in_test, oos_test = confidence(split.test_x), confidence(extra["oos_test"])
    cut = best_threshold(confidence(extra["val"]), confidence(extra["oos_val"]))
    auroc = roc_auc_score(
        np.r_[np.ones(in_test.size), np.zeros(oos_test.size)], np.r_[in_test, oos_test]
    )
    print("\nCLINC150 out-of-scope (oos_test) vs in-scope (test), our confidence:")
    print(
        f"  median confidence: in-scope {np.median(in_test):.3f}, "
        f"out-of-scope {np.median(oos_test):.3f}; AUROC {auroc:.3f}"
    )
    print(
        f"  threshold {cut:.3f} (chosen on val/oos_val): {np.mean(oos_test < cut):.1%} of "
        f"oos_test below it, {np.mean(in_test >= cut):.1%} of test above it"
    )
    for fixed in (0.3, 0.5):
        print(
            f"  threshold {fixed}: {np.mean(oos_test < fixed):.1%} of oos_test below, "
            f"{np.mean(in_test >= fixed):.1%} of test above"
        )


def paths(args: argparse.Namespace) -> tuple[Path | None, Path | None]:
    """The CLINC150 JSON and IT tickets CSV to use (either may be absent)."""
    clinc, it = args.clinc, args.it_tickets
    if args.data is not None:
        clinc = clinc or args.data / "clinc150" / "data_full.json"
        it = it or args.data / "it-tickets" / "topic_groups.csv"
    for path in (clinc, it):
        if path is not None and not path.is_file():
            raise SystemExit(f"{path} does not exist")
    if clinc is None and it is None:
        raise SystemExit("give --data DIR, or --clinc and/or --it-tickets")
    return clinc, it


def main() -> None:
    """Train both trainers on each set; print one table, then the out-of-scope figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, help="folder with clinc150/ and it-tickets/")
    parser.add_argument("--clinc", type=Path, help="CLINC150 data_full.json")
    parser.add_argument("--it-tickets", type=Path, help="IT tickets topic_groups.csv")
    parser.add_argument(
        "--c", type=float, default=None, help="fix our trainer's C (default: cross-validated)"
    )
    args = parser.parse_args()
    clinc, it = paths(args)

    rows: list[tuple[str, str, Result, str]] = []
    clinc_head: tuple[LinearHead, Split, dict[str, Texts]] | None = None
    for split, extra in ([clinc_split(clinc)] if clinc else []) + (
        [(it_split(it), {})] if it else []
    ):
        print(
            f"{split.name}: train {len(split.train_x)}, test {len(split.test_x)}, "
            f"{len(set(split.train_y))} classes",
            flush=True,
        )
        rows.append((split.name, "baseline", run_baseline(split), "C=0.5"))
        ours, head, figures = run_ours(split, args.c)
        chosen = f"C={figures['c']:g} {'IDF' if figures['idf'] else 'no IDF'}"
        if figures["selection"] is not None:
            chosen += f" (CV accuracy {figures['selection']['chosen']['accuracy']:.4f})"
        rows.append((split.name, "ours", ours, chosen))
        if split.train_s is not None:
            with_subject, _, sub_figures = run_ours(split, args.c, subjects=True)
            tried = ", ".join(
                f"{e['subject_weight']:g}: {e['accuracy']:.4f}"
                for e in sub_figures["selection"]["grid"]
                if (e["c"], e["idf"]) == (sub_figures["c"], sub_figures["idf"])
            )
            rows.append(
                (
                    split.name,
                    "ours+subject",
                    with_subject,
                    f"C={sub_figures['c']:g}, subject weight {sub_figures['subject_weight']:g} "
                    f"(CV accuracy by weight {tried})",
                )
            )
        ece = ours.report["expected_calibration_error"]
        temperature = figures["temperature"]
        print(f"  ours: expected calibration error {ece:.3f}, temperature {temperature:.3f}")
        if extra:
            clinc_head = (head, split, extra)

    print(
        f"\n{'set':11s} {'trainer':12s} {'accuracy':>9s} {'macro_f1':>9s} {'train s':>8s} "
        f"{'CPU s':>7s} {'predict/s':>10s}  settings"
    )
    for name, trainer, res, settings in rows:
        print(
            f"{name:11s} {trainer:12s} {res.report['accuracy']:9.4f} {res.report['macro_f1']:9.4f} "
            f"{res.wall:8.1f} {res.cpu:7.1f} {res.per_second:10,.0f}  {settings}"
        )
    if clinc_head is not None:
        out_of_scope(*clinc_head)


if __name__ == "__main__":
    main()
