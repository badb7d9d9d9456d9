"""Building model folders: the shipped default model and heads from user exports."""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson
from scipy import optimize

from classifiers.defaults import SYNTHETIC_DEFAULT, SYNTHETIC_HEAD
from classifiers.errors import ModelError
from classifiers.evaluation import evaluate_head
from classifiers.features import featurize
from classifiers.langid import LANGUAGE_SPEC, train_language_head
from classifiers.linear import LinearHead
from classifiers.store import (
    load_head,
    new_manifest,
    read_manifest,
    save_head,
    write_manifest,
)
from classifiers.training import TOPIC_SPEC, head_spec, train_head

#: The packages only the default model's build needs (pyproject's ``build`` extra).
BUILD_EXTRA = ("faker", "wordfreq")

Progress = Callable[[str], None]
LABEL_NOISE = 0.03
# How the default model's tier and category confidences are calibrated: one
# temperature per head, fitted on fresh synthetic tickets (their true labels) and
# on out-of-domain texts (every class equally likely), the two weighing alike.
UNKNOWN_TEXTS = 600
UNKNOWN_WEIGHT = 1.0
# Bumped when the recipe changes what the default model says: `build-default-model
# --if-needed` rebuilds a default folder of another recipe.
RECIPE = 2


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
    # Here, not at the top: the synthetic tickets need faker and the language head
    # wordfreq (the build extra), which a served model and `train` on an export do not.
    missing = [name for name in BUILD_EXTRA if importlib.util.find_spec(name) is None]
    if missing:
        raise ModelError(
            f"building the default model needs {' and '.join(missing)} (the build extra, "
            "left out of the runtime image): pip install 'ticket-router[build]'"
        )
    from classifiers.synth import generate_tickets, ticket_text
    from classifiers.synth_ood import out_of_domain_texts

    say = progress or (lambda _m: None)
    started = time.perf_counter()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.building."))
    try:
        manifest = new_manifest("default")
        manifest[SYNTHETIC_DEFAULT] = True
        manifest["recipe"] = RECIPE
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
        held = generate_tickets(max(n // 5, 50), seed + 2)
        texts = [ticket_text(t) for t in tickets]
        test_texts = [ticket_text(t) for t in test]
        data_hash = hashlib.sha256(orjson.dumps(tickets)).hexdigest()
        source = f"classifiers.synth.generate_tickets({n}, {seed}, label_noise={LABEL_NOISE})"
        say(f"calibration: {len(held)} fresh synthetic tickets, {UNKNOWN_TEXTS} unknown texts")
        held_x = featurize([ticket_text(t) for t in held], TOPIC_SPEC)
        unknown_x = featurize(out_of_domain_texts(UNKNOWN_TEXTS, seed), TOPIC_SPEC)
        for task in ("tier", "category"):
            say(f"{task}: training")
            labels = [t["labels"][task] for t in tickets]
            head, figures = train_head(texts, labels, seed=seed, progress=say)
            target = np.searchsorted(np.array(head.classes), [t["labels"][task] for t in held])
            temperature = fit_temperature_with_unknowns(
                head.scores(held_x), target, head.scores(unknown_x), UNKNOWN_WEIGHT
            )
            say(
                f"{task}: temperature {figures['temperature']:.3f} (cross-validated on "
                f"synthetic tickets) -> {temperature:.3f} (with unknown texts)"
            )
            figures["calibration"] = {
                "method": "temperature on held-out synthetic tickets and out-of-domain "
                "texts (uniform target)",
                "synthetic": f"classifiers.synth.generate_tickets({len(held)}, {seed + 2})",
                "unknown": f"classifiers.synth_ood.out_of_domain_texts({UNKNOWN_TEXTS}, {seed})",
                "unknown_weight": UNKNOWN_WEIGHT,
                "cross_validated_temperature": figures["temperature"],
            }
            figures["temperature"] = temperature
            head = with_temperature(head, temperature)
            metrics = evaluate_head(head, TOPIC_SPEC, test_texts, [t["labels"][task] for t in test])
            say(
                f"{task}: accuracy {metrics['accuracy']:.4f} macro-F1 {metrics['macro_f1']:.4f} "
                f"on {len(test)} fresh synthetic tickets"
            )
            figures["metrics"] = {
                k: metrics[k] for k in ("n", "accuracy", "macro_f1", "expected_calibration_error")
            }
            figures.update(data=source, data_sha256=data_hash)
            figures[SYNTHETIC_HEAD] = True
            save_head(work, manifest, task, TOPIC_SPEC, head, figures)
        manifest["build_seconds"] = round(time.perf_counter() - started, 1)
        write_manifest(work, manifest)
        _replace_dir(work, out)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    say(f"default model written to {out} in {time.perf_counter() - started:.1f}s")
    return manifest


def fit_temperature_with_unknowns(
    scores: npt.NDArray[np.float32],
    target: npt.NDArray[np.int64],
    unknown_scores: npt.NDArray[np.float32],
    weight: float,
) -> float:
    """The temperature minimising held-out log-loss plus ``weight`` times the
    cross-entropy of the unknown texts' probabilities against the uniform
    distribution (outlier exposure, Hendrycks et al., 2019, as a calibration).

    On its own the log-loss of synthetic tickets, which the heads separate
    almost perfectly, asks for near-certainty; the unknown texts ask for "no
    idea". One scalar keeps every argmax (so the accuracy) unchanged.
    """
    rows = np.arange(scores.shape[0])

    def loss(log_t: float) -> float:
        t = np.exp(log_t)
        z = scores / t
        z = z - z.max(axis=1, keepdims=True)
        known = (
            float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[rows, target])) if rows.size else 0.0
        )
        u = unknown_scores / t
        u = u - u.max(axis=1, keepdims=True)
        unknown = float(np.mean(np.log(np.exp(u).sum(axis=1)) - u.mean(axis=1))) if u.size else 0.0
        return known + weight * unknown

    res = optimize.minimize_scalar(loss, bounds=(-6.0, 4.0), method="bounded")
    return float(np.exp(res.x))


def with_temperature(head: LinearHead, temperature: float) -> LinearHead:
    """The same head with another temperature."""
    return LinearHead(
        head.classes, head.rows, head.weights, head.intercept, temperature, head.scale
    )


def rebuild_reason(out: Path) -> str | None:
    """Why ``build-default-model --if-needed`` must (re)build ``out``, or ``None``.

    A folder that does not load is rebuilt; so is a default model (name
    ``default``) of an older recipe. A model of another name (trained by a
    user into that folder) is left alone.
    """
    from classifiers.model import load_model

    try:
        model = load_model(out)
    except ModelError as exc:
        return str(exc)
    if model.manifest.get("name") == "default" and model.manifest.get("recipe") != RECIPE:
        return (
            f"{out} holds a default model of recipe {model.manifest.get('recipe', 1)}, "
            f"this version builds recipe {RECIPE}"
        )
    return None


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
    subjects: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Train one head and write it into ``out`` (created from ``base`` if new).

    A new folder starts as a copy of ``base``'s heads (usually the default
    model), so training only ``tier`` and ``category`` on a helpdesk export
    still gives a complete model with the language head. ``c=None`` lets
    cross-validation choose ``C`` too (see :func:`classifiers.training.train_head`);
    ``subjects`` let it try a subject block.
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
    head, figures = train_head(texts, labels, c=c, seed=seed, progress=progress, subjects=subjects)
    figures.update(data=data_name, data_sha256=data_sha256)
    save_head(out, manifest, task, head_spec(figures), head, figures)
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
