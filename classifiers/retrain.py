"""Adding or replacing one head in an existing model folder (``train --model-dir``).

The folder is copied beside itself, the head is written into the copy with the
manifest, the copy is loaded as a check, and then renamed into place: a service
following the folder sees the old model or the new one, never a mix, and every
other head's files and manifest entry stay byte for byte as they were.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from classifiers.build import _replace_dir
from classifiers.errors import ModelError
from classifiers.heads import BUILTIN_HEADS, head_name_problem
from classifiers.model import load_model
from classifiers.store import FORMAT_VERSION, read_manifest, save_head, write_manifest
from classifiers.training import head_spec, train_head

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Trained:
    """What :func:`train_head_into_model` wrote: the head's figures and the new model."""

    task: str
    figures: dict[str, Any]
    model_dir: Path
    model_version: str
    heads: tuple[str, ...]

    def summary(self) -> list[str]:
        """The lines ``train`` prints: labels, the cross-validated choice, accuracy."""
        f = self.figures
        kind = "built-in head" if self.task in BUILTIN_HEADS else "extra head"
        counts = ", ".join(f"{label} ({n})" for label, n in f["class_counts"].items())
        lines = [f"head {self.task!r} ({kind}): {len(f['class_counts'])} labels: {counts}"]
        selection = f.get("selection")
        weighting = "idf" if f["idf"] else "no idf"
        if selection:
            chosen = selection["chosen"]
            if "subject_weights" in selection:
                weighting += f", subject weight {f['subject_weight']:g}"
            lines.append(
                f"  chose C={f['c']:g} {weighting} by {selection['folds']}-fold "
                f"cross-validation on {selection['cv_samples']} texts: out-of-fold accuracy "
                f"{chosen['accuracy']:.4f}, macro-F1 {chosen['macro_f1']:.4f}, "
                f"temperature {f['temperature']:.3f}"
            )
        else:
            lines.append(
                f"  C={f['c']:g} {weighting}: too few texts per label to cross-validate "
                "(no accuracy estimate, confidences uncalibrated)"
            )
        lines.append(
            f"  written to {self.model_dir}: model {self.model_version}, "
            f"heads {', '.join(self.heads)}"
        )
        return lines


def train_head_into_model(
    model_dir: Path,
    task: str,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    data_sha256: str,
    data_name: str,
    c: float | None,
    seed: int,
    progress: Progress | None = None,
    subjects: Sequence[str] | None = None,
) -> Trained:
    """Train head ``task`` and add it to (or replace it in) the model at ``model_dir``.

    The folder must hold a model that loads; ``task`` must be a valid head name
    (:func:`classifiers.heads.head_name_problem`). The folder moves to the current
    format version (older heads read as before). Raises ``ModelError`` or
    ``ValueError`` (bad data) and leaves the folder untouched then. ``subjects``
    (one per text) let cross-validation try a subject block.
    """
    problem = head_name_problem(task)
    if problem is not None:
        raise ModelError(problem)
    model_dir = Path(model_dir)
    load_model(model_dir)  # complete and readable before any training time is spent
    head, figures = train_head(texts, labels, c=c, seed=seed, progress=progress, subjects=subjects)
    figures.update(data=data_name, data_sha256=data_sha256)
    work = Path(tempfile.mkdtemp(dir=model_dir.parent, prefix=f".{model_dir.name}.training."))
    try:
        for path in model_dir.iterdir():
            # Everything the folder holds but temporary files goes along unchanged.
            if path.is_file() and not path.name.startswith("."):
                shutil.copy2(path, work / path.name)
        manifest = read_manifest(work)
        manifest["format_version"] = FORMAT_VERSION
        save_head(work, manifest, task, head_spec(figures), head, figures)
        write_manifest(work, manifest)
        model = load_model(work)
        _replace_dir(work, model_dir)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return Trained(task, figures, model_dir, model.version, tuple(model.heads))
