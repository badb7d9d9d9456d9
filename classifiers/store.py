"""Model folders on disk: plain numpy arrays plus a JSON manifest.

A model folder holds one ``<task>.npz`` per head (loaded with
``allow_pickle=False``, so a file can hold numbers only, never code) and
``manifest.json`` describing every head: classes, feature spec, temperature,
SHA-256 of its array file, training data hash, metrics, the model selection
(grid, cross-validated figures, choice) and date, plus the library versions
that wrote it. Files are written to a temporary name and
renamed, so a reader never sees half a model.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.errors import ModelError
from classifiers.features import FeatureSpec
from classifiers.linear import LinearHead

MANIFEST = "manifest.json"
FORMAT = "ticket-router-model"
# 2: n-gram hashing without per-order salts, shared feature pass.
# 3: specs may count features (sublinear TF) and heads carry learned bucket
#    weights (IDF, the optional "scale" array). Format 2 folders still load:
#    their specs lack the new settings, which default to off.
FORMAT_VERSION = 3
READABLE_VERSIONS = (2, 3)
LIBRARIES = ("numpy", "scipy", "scikit-learn", "wordfreq", "faker")


@dataclass(frozen=True, slots=True, eq=False)
class StoredHead:
    """A head with the feature spec it reads and what its manifest entry says."""

    task: str
    spec: FeatureSpec
    head: LinearHead
    info: dict[str, Any]


def library_versions() -> dict[str, str]:
    """Versions of the libraries whose behaviour shapes the model files."""
    out = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(model_dir: Path) -> dict[str, Any]:
    """The manifest of a model folder, checked for format and version."""
    path = model_dir / MANIFEST
    if not model_dir.is_dir():
        raise ModelError(f"model folder {model_dir} does not exist")
    if not path.is_file():
        raise ModelError(f"{path} is missing: not a model folder")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ModelError(f"{path} is not a ticket-router model manifest")
    if data.get("format_version") not in READABLE_VERSIONS:
        readable = " and ".join(str(v) for v in READABLE_VERSIONS)
        raise ModelError(
            f"{path} has format version {data.get('format_version')!r}; "
            f"this version reads {readable}: rebuild or retrain the model"
        )
    if not isinstance(data.get("heads"), dict):
        raise ModelError(f"{path} lists no heads")
    return data


def new_manifest(name: str) -> dict[str, Any]:
    """An empty manifest for a new model folder."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": name,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "libraries": library_versions(),
        "heads": {},
    }


def write_manifest(model_dir: Path, manifest: dict[str, Any]) -> None:
    """Write the manifest atomically (temporary file, then rename)."""
    manifest["updated_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    _atomic_write(model_dir / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True).encode())


def save_head(
    model_dir: Path,
    manifest: dict[str, Any],
    task: str,
    spec: FeatureSpec,
    head: LinearHead,
    training: dict[str, Any],
) -> None:
    """Write one head's arrays and record it in ``manifest`` (not yet written)."""
    if not task.replace("-", "").replace("_", "").isalnum():
        raise ModelError(f"task name {task!r} must be letters, digits, '-' or '_'")
    model_dir.mkdir(parents=True, exist_ok=True)
    file_name = f"{task}.npz"
    fd, tmp = tempfile.mkstemp(dir=model_dir, prefix=f".{task}.", suffix=".npz")
    with os.fdopen(fd, "wb") as fh:
        np.savez_compressed(fh, allow_pickle=False, **head.arrays())
    os.replace(tmp, model_dir / file_name)
    manifest["heads"][task] = {
        "file": file_name,
        "sha256": sha256_file(model_dir / file_name),
        "classes": list(head.classes),
        "temperature": head.temperature,
        "spec": spec.to_json(),
        "training": training,
        "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "libraries": library_versions(),
    }


def load_head(model_dir: Path, manifest: dict[str, Any], task: str) -> StoredHead:
    """Load and check one head named in the manifest."""
    info = manifest["heads"].get(task)
    if not isinstance(info, dict):
        raise ModelError(
            f"model {model_dir} has no {task!r} head (has: {sorted(manifest['heads'])})"
        )
    try:
        path = model_dir / str(info["file"])
        classes = tuple(str(c) for c in info["classes"])
        spec = FeatureSpec.from_json(info["spec"])
        temperature = float(info["temperature"])
        expected = str(info["sha256"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"manifest entry of head {task!r} is incomplete: {exc}") from exc
    if path.parent != model_dir or not path.is_file():
        raise ModelError(f"file of head {task!r} ({path}) is missing")
    if sha256_file(path) != expected:
        raise ModelError(f"{path} does not match its manifest checksum: corrupt or replaced")
    try:
        with np.load(path, allow_pickle=False) as arrays:
            rows = arrays["rows"]
            weights = arrays["weights"]
            intercept = arrays["intercept"]
            scale = arrays["scale"] if "scale" in arrays.files else None
    except (OSError, KeyError, ValueError, EOFError) as exc:
        raise ModelError(f"{path} cannot be read: {exc}") from exc
    _check_shapes(path, spec, classes, rows, weights, intercept, temperature)
    _check_scale(path, spec, weights, scale)
    head = LinearHead(classes, rows, weights, intercept, temperature, scale)
    return StoredHead(task=task, spec=spec, head=head, info=info)


def _check_shapes(
    path: Path,
    spec: FeatureSpec,
    classes: tuple[str, ...],
    rows: np.ndarray[Any, Any],
    weights: np.ndarray[Any, Any],
    intercept: np.ndarray[Any, Any],
    temperature: float,
) -> None:
    """Refuse arrays that would crash or mislead at prediction time."""
    k = len(classes)
    problems = []
    if rows.dtype != np.int32 or rows.shape != (spec.n_features,):
        problems.append(f"rows {rows.dtype}{rows.shape} for {spec.n_features} features")
    if weights.dtype != np.float32 or weights.ndim != 2 or weights.shape[1] != k:
        problems.append(f"weights {weights.dtype}{weights.shape} for {k} classes")
    if intercept.dtype != np.float32 or intercept.shape != (k,):
        problems.append(f"intercept {intercept.dtype}{intercept.shape}")
    if not problems and rows.size and (rows.min() < 0 or rows.max() >= weights.shape[0]):
        problems.append("rows point outside the weight matrix")
    if not problems and not (np.all(np.isfinite(weights)) and np.all(np.isfinite(intercept))):
        problems.append("weights are not finite")
    if k < 2 or not temperature > 0:
        problems.append(f"{k} classes, temperature {temperature}")
    if problems:
        raise ModelError(f"{path} is inconsistent: " + "; ".join(problems))


def _check_scale(
    path: Path,
    spec: FeatureSpec,
    weights: np.ndarray[Any, Any],
    scale: np.ndarray[Any, Any] | None,
) -> None:
    """A spec with ``idf`` needs one finite, non-negative weight per weight row; others none."""
    if scale is None:
        if spec.idf:
            raise ModelError(f"{path} is inconsistent: its spec learns bucket weights, none stored")
        return
    if not spec.idf:
        raise ModelError(f"{path} is inconsistent: bucket weights stored for a spec without idf")
    if scale.dtype != np.float32 or scale.shape != (weights.shape[0],):
        raise ModelError(
            f"{path} is inconsistent: scale {scale.dtype}{scale.shape} "
            f"for {weights.shape[0]} weight rows"
        )
    if not (np.all(np.isfinite(scale)) and np.all(scale >= 0)):
        raise ModelError(f"{path} is inconsistent: bucket weights are not finite and >= 0")


def _atomic_write(path: Path, payload: bytes) -> None:
    """Write ``payload`` to ``path`` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as fh:
        fh.write(payload)
    os.replace(tmp, path)
