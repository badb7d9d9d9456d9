"""Speed of every head together, with and without extra heads, in the same run.

    python tests/bench/bench_extra_heads.py [--model DIR] [--tickets 25600] [--rounds 7]
        [--extra 1]

Copies ``--model`` into a temporary folder and trains ``--extra`` extra heads into
the copy (``queue``, ``queue2``, ... on generated tickets, as ``ticket-router train
--task NAME --model-dir`` does), then times ``ModelBundle.predict`` of both models
in batches of 256 on the same tickets (260-340 characters, as
``bench_classify_speed.py``), alternating the two models batch by batch so that a
busy machine slows both alike. Reports, per model, tickets/s from each batch's
fastest of ``--rounds`` runs and from the CPU time of all runs, and the ratio.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

# One thread everywhere: the figure asked for is per core.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from classifiers.model import ModelBundle, load_model  # noqa: E402
from classifiers.paths import default_model_dir  # noqa: E402
from classifiers.retrain import train_head_into_model  # noqa: E402
from classifiers.synth import generate_tickets, ticket_text  # noqa: E402
from classifiers.types import ClassifierInput  # noqa: E402
from tests.bench.bench_classify_speed import BATCH, tickets_of_length  # noqa: E402

QUEUES = {"billing": "finance", "shipping": "logistics", "account": "identity"}


def with_extra_heads(model_dir: Path, out: Path, count: int) -> ModelBundle:
    """A copy of ``model_dir`` at ``out`` with ``count`` extra heads trained into it."""
    shutil.copytree(model_dir, out)
    tickets = generate_tickets(3000, 5)
    texts = [ticket_text(t) for t in tickets]
    labels = [QUEUES.get(t["labels"]["category"], "general") for t in tickets]
    for k in range(count):
        name = "queue" if k == 0 else f"queue{k + 1}"
        train_head_into_model(
            out, name, texts, labels, data_sha256="0" * 64, data_name="generated", c=None, seed=k
        )
    return load_model(out)


def measure(
    models: dict[str, ModelBundle], items: list[ClassifierInput], rounds: int
) -> dict[str, tuple[float, float]]:
    """Per model: (seconds of the batches' fastest runs, CPU seconds of all runs)."""
    batches = [items[k : k + BATCH] for k in range(0, len(items), BATCH)]
    for model in models.values():
        model.predict(batches[0])  # warm: first-call allocations
    fastest = {name: [float("inf")] * len(batches) for name in models}
    cpu = dict.fromkeys(models, 0.0)
    for _ in range(rounds):
        for b, batch in enumerate(batches):
            for name, model in models.items():
                c0, t0 = time.process_time(), time.perf_counter()
                model.predict(batch)
                wall = time.perf_counter() - t0
                cpu[name] += time.process_time() - c0
                fastest[name][b] = min(fastest[name][b], wall)
    return {name: (sum(fastest[name]), cpu[name] / rounds) for name in models}


def main() -> None:
    """Parse the arguments, build the copy, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=default_model_dir())
    parser.add_argument("--tickets", type=int, default=25600)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--extra", type=int, default=1, help="extra heads to add (1 or more)")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    items, _ = tickets_of_length(args.tickets, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        base = load_model(args.model)
        extra = with_extra_heads(args.model, Path(tmp) / "model", args.extra)
        heads = ", ".join(extra.extra_heads)
        models = {"built-in heads": base, f"+ {args.extra} extra ({heads})": extra}
        figures = measure(models, items, args.rounds)
    n = len(items)
    print(f"{n} tickets of 260-340 characters, batches of {BATCH}, {args.rounds} rounds")
    for name, (fastest, cpu) in figures.items():
        print(
            f"{name:>28}: {n / fastest:,.0f} tickets/s (each batch's fastest run, "
            f"{fastest / n * 1e6:.1f} us/ticket); {n / cpu:,.0f} tickets/s of CPU time"
        )
    (a_fast, a_cpu), (b_fast, b_cpu) = figures.values()
    print(
        f"with the extra head(s) / without: {a_fast / b_fast:.3f} by fastest runs, "
        f"{a_cpu / b_cpu:.3f} by CPU time"
    )


if __name__ == "__main__":
    main()
