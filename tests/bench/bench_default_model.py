"""How honest the shipped default model is: real text it never saw against its own kind.

    python tests/bench/bench_default_model.py --data DATA [--model DIR ...] [--config FILE]

``DATA`` holds ``it-tickets/topic_groups.csv`` and ``clinc150/data_full.json``
(development data, never used to train or calibrate the model). Each ``--model``
(default: the shipped one; give two to compare) is scored on:

* the synthetic test split the build scores (``generate_tickets(1200, 8)``, fresh
  tickets of the generator, every label true), and the same tickets with
  ``realistic=True`` (quoted replies, mail footers, more second requests and typos);
* 3,805 real IT helpdesk tickets (their groups mapped to our categories:
  Hardware, Storage -> technical; Access, Administrative rights -> account;
  Purchase -> billing; HR Support, Internal Project, Miscellaneous -> other);
* CLINC150's in-scope test requests (4,500) and its out-of-scope ones (1,000).

For each set: the share of tickets the config's tier-confidence rules catch
(``triage``: the first rule matching on ``tier_confidence_below``; ``low``:
``low_confidence.tier_below``, routed as its tier), the median tier and category
confidence, and the accuracy of the confident rest (tier on the synthetic split,
category on the synthetic split and the IT tickets).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np
import yaml

from classifiers.model import ModelBundle, load_model
from classifiers.paths import default_model_dir
from classifiers.synth import generate_tickets, ticket_text
from classifiers.types import ClassifierInput

REPO = Path(__file__).resolve().parents[2]
IT_GROUPS = {
    "Hardware": "technical",
    "Storage": "technical",
    "Access": "account",
    "Administrative rights": "account",
    "Purchase": "billing",
    "HR Support": "other",
    "Internal Project": "other",
    "Miscellaneous": "other",
}


def thresholds(config: Path) -> tuple[str, float, float | None]:
    """The first rule on ``tier_confidence_below`` (id, threshold) and ``low_confidence``."""
    doc = yaml.safe_load(config.read_text(encoding="utf-8"))
    rule = next(r for r in doc["rules"] if "tier_confidence_below" in r.get("match", {}))
    low = doc.get("low_confidence") or {}
    return rule["id"], float(rule["match"]["tier_confidence_below"]), low.get("tier_below")


def sets(data: Path) -> dict[str, tuple[list[str], dict[str, list[str]]]]:
    """Name -> (texts, {head: truth}) of every test set."""
    out: dict[str, tuple[list[str], dict[str, list[str]]]] = {}
    for name, realistic in (("synthetic test", False), ("synthetic realistic", True)):
        synth = generate_tickets(1200, 8, realistic=realistic)
        out[name] = (
            [ticket_text(t) for t in synth],
            {h: [t["labels"][h] for t in synth] for h in ("tier", "category")},
        )
    it_file = data / "it-tickets" / "topic_groups.csv"
    if it_file.is_file():
        with it_file.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        out["IT tickets"] = (
            [r["Document"] for r in rows],
            {"category": [IT_GROUPS[r["Topic_group"]] for r in rows]},
        )
    clinc_file = data / "clinc150" / "data_full.json"
    if clinc_file.is_file():
        clinc = json.loads(clinc_file.read_text(encoding="utf-8"))
        out["CLINC150 in-scope"] = ([t for t, _ in clinc["test"]], {})
        out["CLINC150 out-of-scope"] = ([t for t, _ in clinc["oos_test"]], {})
    return out


def score(
    model: ModelBundle,
    texts: list[str],
    truth: dict[str, list[str]],
    triage: float,
    low: float | None,
) -> dict[str, Any]:
    """The figures of one model on one set."""
    predictions = model.predict([ClassifierInput(text=t) for t in texts])
    tier_conf = np.array([p.tier_confidence for p in predictions])
    cat_conf = np.array([p.category_confidence for p in predictions])
    caught = tier_conf < triage
    out: dict[str, Any] = {
        "n": len(texts),
        "triage": float(caught.mean()),
        "low": float((tier_conf < low).mean()) if low is not None else None,
        "tier_median": float(np.median(tier_conf)),
        "category_median": float(np.median(cat_conf)),
    }
    kept = ~caught
    for head in ("tier", "category"):
        if head not in truth:
            continue
        predicted = np.array([getattr(p, head) for p in predictions])
        right = predicted == np.array(truth[head])
        out[f"{head}_accuracy"] = float(right.mean())
        out[f"{head}_accuracy_kept"] = float(right[kept].mean()) if kept.any() else None
    return out


def main() -> None:
    """Print one table per model."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--model", type=Path, action="append", default=[])
    parser.add_argument("--config", type=Path, default=REPO / "deploy" / "config.example.yaml")
    args = parser.parse_args()
    rule, triage, low = thresholds(args.config)
    print(f"config {args.config}: rule {rule!r} catches tier confidence < {triage}; ", end="")
    print(f"low_confidence.tier_below {low}")
    data = sets(args.data)
    for model_dir in args.model or [default_model_dir()]:
        model = load_model(model_dir)
        print(f"\nmodel {model_dir} ({model.version})")
        print(
            f"{'set':<22} {'n':>5} {'triage':>7} {'<low':>6} {'tier med':>8} {'cat med':>7} "
            f"{'tier acc':>8} {'kept':>6} {'cat acc':>7} {'kept':>6}"
        )
        for name, (texts, truth) in data.items():
            r = score(model, texts, truth, triage, low)

            def fig(key: str, r: dict[str, Any] = r) -> str:
                value = r.get(key)
                return "-" if value is None else f"{value:.3f}"

            print(
                f"{name:<22} {r['n']:>5} {r['triage']:>7.1%} "
                f"{'-' if r['low'] is None else format(r['low'], '.1%'):>6} "
                f"{r['tier_median']:>8.3f} {r['category_median']:>7.3f} "
                f"{fig('tier_accuracy'):>8} {fig('tier_accuracy_kept'):>6} "
                f"{fig('category_accuracy'):>7} {fig('category_accuracy_kept'):>6}"
            )


if __name__ == "__main__":
    main()
