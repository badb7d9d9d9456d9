"""Our trainer against a plain TF-IDF + LinearSVC baseline, on CLINC150, in one run.

    python tests/bench/bench_trainer.py --data DATA/clinc150/data_full.json

Both learn from ``train`` (15,000 requests, 150 intents) and are scored on the
in-scope ``test`` split (4,500). The baseline is the usual strong linear text
classifier: TF-IDF of word 1-2-grams plus ``char_wb`` 2-5-grams, LinearSVC.

Then the out-of-scope requests (``oos_test``, 1,000 that belong to no intent):
a confidence threshold is chosen on ``val`` + ``oos_val`` (the one that best
separates them), and the report says how many ``oos_test`` requests fall under
it and how many in-scope ``test`` requests stay above it. AUROC says how well
confidence ranks in-scope above out-of-scope overall (1.0 perfect, 0.5 chance).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.svm import LinearSVC

from classifiers.evaluation import report
from classifiers.features import featurize
from classifiers.training import DEFAULT_C, TOPIC_SPEC, train_head


def split(data: dict[str, list[list[str]]], name: str) -> tuple[list[str], list[str]]:
    """Texts and labels of one split."""
    return [row[0] for row in data[name]], [row[1] for row in data[name]]


def best_threshold(in_conf: np.ndarray, oos_conf: np.ndarray) -> float:
    """The confidence cut that maximises (in-scope kept + out-of-scope caught) / 2."""
    candidates = np.unique(np.concatenate([in_conf, oos_conf]))
    best, best_score = 0.0, -1.0
    for cut in candidates:
        score = (np.mean(in_conf >= cut) + np.mean(oos_conf < cut)) / 2
        if score > best_score:
            best, best_score = float(cut), float(score)
    return best


def main() -> None:
    """Train both, print accuracy, macro-F1, times and the out-of-scope figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--c", type=float, default=DEFAULT_C, help="our trainer's C")
    args = parser.parse_args()
    data = json.loads(args.data.read_text(encoding="utf-8"))
    train_x, train_y = split(data, "train")
    test_x, test_y = split(data, "test")
    val_x, _ = split(data, "val")
    oos_val_x, _ = split(data, "oos_val")
    oos_test_x, _ = split(data, "oos_test")
    print(
        f"train {len(train_x)}, test {len(test_x)}, {len(set(train_y))} intents; "
        f"oos_test {len(oos_test_x)}"
    )

    started = time.perf_counter()
    baseline = make_pipeline(
        FeatureUnion(
            [
                ("word", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
                (
                    "char",
                    TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
                ),
            ]
        ),
        LinearSVC(C=1.0),
    )
    baseline.fit(train_x, train_y)
    base_train = time.perf_counter() - started
    started = time.perf_counter()
    base_pred = baseline.predict(test_x)
    base_predict = time.perf_counter() - started
    base = report(test_y, list(base_pred), [1.0] * len(test_y))

    started = time.perf_counter()
    head, figures = train_head(
        train_x, train_y, c=args.c, progress=lambda m: print(f"  [ours] {m}", file=sys.stderr)
    )
    ours_train = time.perf_counter() - started
    started = time.perf_counter()
    best, conf = head.predict(featurize(test_x, TOPIC_SPEC))
    ours_predict = time.perf_counter() - started
    ours = report(test_y, [head.classes[i] for i in best], conf.tolist())

    print(f"\n{'':10s} {'accuracy':>9s} {'macro_f1':>9s} {'train s':>8s} {'predict/s':>10s}")
    for name, rep, t_train, t_pred in (
        ("baseline", base, base_train, base_predict),
        ("ours", ours, ours_train, ours_predict),
    ):
        print(
            f"{name:10s} {rep['accuracy']:9.4f} {rep['macro_f1']:9.4f} {t_train:8.1f} "
            f"{len(test_x) / t_pred:10,.0f}"
        )
    print(
        f"ours: mean confidence {ours['mean_confidence']:.3f}, expected calibration error "
        f"{ours['expected_calibration_error']:.3f}, temperature {figures['temperature']:.3f}"
    )

    def confidence(texts: list[str]) -> np.ndarray:
        return np.asarray(head.predict(featurize(texts, TOPIC_SPEC))[1], dtype=np.float64)

    in_test, oos_test = conf.astype(np.float64), confidence(oos_test_x)
    cut = best_threshold(confidence(val_x), confidence(oos_val_x))
    auroc = roc_auc_score(
        np.r_[np.ones(in_test.size), np.zeros(oos_test.size)], np.r_[in_test, oos_test]
    )
    print("\nout-of-scope (oos_test) vs in-scope (test), our confidence:")
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


if __name__ == "__main__":
    main()
