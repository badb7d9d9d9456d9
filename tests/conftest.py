"""Shared fixtures: a trained model for the whole run, and unique names per test."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

# In CI the property tests replay the same examples every run (a red build is then
# always reproducible); on a developer's machine they explore new ones each run.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

AMQP_URL = os.environ.get("ROUTER_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
REDIS_URL = os.environ.get("ROUTER_REDIS_URL", "redis://127.0.0.1:6379/0")
REPO = Path(__file__).resolve().parent.parent
EXAMPLE_CONFIG = REPO / "deploy" / "config.example.yaml"


@pytest.fixture(autouse=True)
def _root_logging_restored() -> Iterator[None]:
    """Put the root logger back after each test. A test that runs a CLI command in
    this process installs the CLI's stderr handler, and stderr is then pytest's
    capture file, closed after the test: every later log line would fail to write."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model directory to serve from: the shipped default when it has been built,
    else a small one trained here from the synthetic generator."""
    from classifiers.build import build_default_model
    from classifiers.errors import ModelError
    from classifiers.model import load_model
    from classifiers.paths import default_model_dir

    default = default_model_dir()
    try:
        load_model(default)
        return default
    except ModelError:
        pass  # not built, or built by an older version: train a small one here

    out = tmp_path_factory.mktemp("model")
    build_default_model(out, n=3000, seed=7)
    return out
