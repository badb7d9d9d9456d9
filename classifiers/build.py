"""Building model folders: the shipped default model and heads from user exports."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson

from classifiers.errors import ModelError
from classifiers.evaluation import evaluate_head
from classifiers.langid import LANGUAGE_SPEC, train_language_head
from classifiers.store import (
    load_head,
    new_manifest,
    read_manifest,
    save_head,
    write_manifest,
)
from classifiers.synth import generate_tickets, ticket_text
from classifiers.training import TOPIC_SPEC, train_head

Progress = Callable[[str], None]
LABEL_NOISE = 0.03


def build_default_model(
    out: Path,
    *,
    n: int = 6000,
    seed: int = 7,
    language_words: int = 30000,
    languages: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Train the language head from ``wordfreq`` and tier/category from synthetic tickets.

    ``language_words`` (most frequent words per language) and ``languages``
    trade accuracy for build time: tests build tiny models with them.

    The folder is assembled next to ``out`` and renamed into place, so a
    service reading ``out`` sees the old model or the new one, never a mix.
    Returns the manifest.
    """
    say = progress or (lambda _m: None)
    started = time.perf_counter()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.building."))
    try:
        manifest = new_manifest("default")
        say("language: computing n-gram statistics from wordfreq")
        lang_head, lang_figures = train_language_head(
            languages=languages, n_words=language_words, seed=seed, progress=say
        )
        save_head(
            work,
            manifest,
            "language",
            LANGUAGE_SPEC,
            lang_head,
            {"data": "wordfreq 'best' word lists", "metrics": lang_figures},
        )
        say(f"generating {n} synthetic tickets (seed {seed})")
        # A few wrong labels, as in any real export, so the fitted temperature
        # does not claim certainty; the check set keeps every label true.
        tickets = generate_tickets(n, seed, label_noise=LABEL_NOISE)
        test = generate_tickets(max(n // 5, 50), seed + 1)
        texts = [ticket_text(t) for t in tickets]
        test_texts = [ticket_text(t) for t in test]
        data_hash = hashlib.sha256(orjson.dumps(tickets)).hexdigest()
        source = f"classifiers.synth.generate_tickets({n}, {seed}, label_noise={LABEL_NOISE})"
        for task in ("tier", "category"):
            say(f"{task}: training")
            labels = [t["labels"][task] for t in tickets]
            head, figures = train_head(texts, labels, seed=seed, progress=say)
            metrics = evaluate_head(head, TOPIC_SPEC, test_texts, [t["labels"][task] for t in test])
            say(
                f"{task}: accuracy {metrics['accuracy']:.4f} macro-F1 {metrics['macro_f1']:.4f} "
                f"on {len(test)} fresh synthetic tickets"
            )
            figures["metrics"] = {
                k: metrics[k] for k in ("n", "accuracy", "macro_f1", "expected_calibration_error")
            }
            figures.update(data=source, data_sha256=data_hash)
            save_head(work, manifest, task, TOPIC_SPEC, head, figures)
        manifest["build_seconds"] = round(time.perf_counter() - started, 1)
        write_manifest(work, manifest)
        _replace_dir(work, out)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    say(f"default model written to {out} in {time.perf_counter() - started:.1f}s")
    return manifest


def train_into(
    out: Path,
    task: str,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    data_sha256: str,
    data_name: str,
    base: Path | None,
    c: float | None,
    seed: int,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Train one head and write it into ``out`` (created from ``base`` if new).

    A new folder starts as a copy of ``base``'s heads (usually the default
    model), so training only ``tier`` and ``category`` on a helpdesk export
    still gives a complete model with the language head. ``c=None`` lets
    cross-validation choose ``C`` too (see :func:`classifiers.training.train_head`).
    """
    out = Path(out)
    if (out / "manifest.json").exists():
        manifest = read_manifest(out)
    else:
        manifest = new_manifest(out.name or "model")
        if base is not None and (base / "manifest.json").exists():
            base_manifest = read_manifest(base)
            for name in base_manifest["heads"]:
                if name == task:
                    continue
                stored = load_head(base, base_manifest, name)
                save_head(
                    out, manifest, name, stored.spec, stored.head, dict(stored.info["training"])
                )
    head, figures = train_head(texts, labels, c=c, seed=seed, progress=progress)
    figures.update(data=data_name, data_sha256=data_sha256)
    save_head(out, manifest, task, TOPIC_SPEC, head, figures)
    write_manifest(out, manifest)
    return manifest


def _replace_dir(new: Path, target: Path) -> None:
    """Put ``new`` at ``target``, moving any old folder aside first."""
    if target.exists():
        if not target.is_dir():
            raise ModelError(f"{target} exists and is not a folder")
        old = target.with_name(f".{target.name}.old.{int(time.time() * 1000)}")
        target.rename(old)
        new.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        new.rename(target)
