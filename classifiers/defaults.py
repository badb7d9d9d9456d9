"""Training defaults the command line shows in its help, and what marks the shipped model.

They live apart from :mod:`classifiers.training` so that building the parser, the HTTP
layer and ``serve`` do not import scikit-learn, SciPy and NumPy (seconds on a small
machine).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# Inverse regularisation strength of the linear SVM (see classifiers/training.py):
# None lets cross-validation inside the training data choose it.
DEFAULT_C: float | None = None

# The manifest field that marks the shipped model built from synthetic tickets
# (classifiers/build.py), and the per-head training field of heads trained on them.
SYNTHETIC_DEFAULT = "synthetic_default"
SYNTHETIC_HEAD = "synthetic"
ROUTED_HEADS = ("tier", "category")

TRAIN_HINT = (
    "train tier and category on your own helpdesk export, e.g. `ticket-router train "
    "--data export.csv --text-column subject --text-column body --label-column tier "
    "--task tier --out models/mine` (then --label-column queue --task category), and "
    "serve it with ROUTER_MODEL_DIR=models/mine"
)


def synthetic_heads(manifest: Mapping[str, Any]) -> list[str]:
    """The routed heads (tier, category) of a manifest that were trained on synthetic tickets."""
    heads = manifest.get("heads")
    if not isinstance(heads, Mapping):
        return []
    out = []
    for task in ROUTED_HEADS:
        info = heads.get(task)
        training = info.get("training") if isinstance(info, Mapping) else None
        if isinstance(training, Mapping) and training.get(SYNTHETIC_HEAD) is True:
            out.append(task)
    return out


def model_info(model: object) -> dict[str, Any]:
    """What a service tells about the model it routes on (``/readyz``).

    ``version``; ``synthetic_default`` when the folder is the shipped default;
    ``synthetic_heads`` (the routed heads still trained on synthetic tickets) and
    ``note`` (what that means and how to train a real model) when there are any.
    A classifier without a manifest (a test double) reports its version alone.
    """
    manifest = getattr(model, "manifest", None)
    info: dict[str, Any] = {"version": str(getattr(model, "version", "unknown"))}
    if not isinstance(manifest, Mapping):
        return info
    info["synthetic_default"] = manifest.get(SYNTHETIC_DEFAULT) is True
    synthetic = synthetic_heads(manifest)
    if synthetic:
        info["synthetic_heads"] = synthetic
        info["note"] = synthetic_notice(synthetic, info["synthetic_default"])
    return info


def synthetic_notice(heads: Sequence[str], default: bool) -> str:
    """One line: which heads know synthetic tickets only, and how to train real ones."""
    which = "the synthetic default model" if default else "heads trained on synthetic tickets"
    return (
        f"routing on {which} ({', '.join(heads)}): it knows the generator's phrasing, not "
        f"your customers', and says so with low confidence on real tickets; {TRAIN_HINT}"
    )
