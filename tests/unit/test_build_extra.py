"""Building the default model without the build extra: one clear error, not a traceback."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from classifiers import build
from classifiers.errors import ModelError
from router.cli.main import main

MESSAGE = (
    "building the default model needs faker (the build extra, left out of the runtime "
    "image): pip install 'ticket-router[build]'"
)


@pytest.fixture
def without_faker(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in the runtime image: faker is not installed."""
    real = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> object:
        return None if name == "faker" else real(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


@pytest.mark.usefixtures("without_faker")
def test_a_missing_build_package_is_named_with_the_install_command(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as caught:
        build.build_default_model(tmp_path / "model")
    assert str(caught.value) == MESSAGE
    assert not (tmp_path / "model").exists()


@pytest.mark.usefixtures("without_faker")
def test_the_command_says_so_in_one_line_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["build-default-model", "--out", str(tmp_path / "model")]) == 2
    assert capsys.readouterr().err == f"error: {MESSAGE}\n"
