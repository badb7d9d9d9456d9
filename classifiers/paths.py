"""Where model files live by default."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def default_model_dir() -> Path:
    """The shipped model: ``<classifiers package>/models/default``.

    The folder is git-ignored; ``ticket-router build-default-model`` builds it on
    each machine, so the files always match the installed library versions.
    """
    return PACKAGE_DIR / "models" / "default"
