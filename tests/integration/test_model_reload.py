"""A rebuilt model is picked up by a running replica without a restart."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from classifiers.build import build_default_model
from router.http import appkeys as K
from tests.integration.conftest import ServiceFactory, wait_for

pytestmark = pytest.mark.integration


async def test_new_model_in_the_folder_is_served_without_restart(
    start_service: ServiceFactory, model_dir: Path, tmp_path: Path
) -> None:
    served = tmp_path / "model"
    shutil.copytree(model_dir, served)
    service = await start_service(model_dir=served)
    old = service.app[K.MODEL].value.version

    # A different model, written elsewhere and renamed into place as an operator would.
    build_default_model(tmp_path / "new", n=400, seed=99, language_words=3000)
    os.rename(served, tmp_path / "old")
    os.rename(tmp_path / "new", served)

    async def switched() -> bool:
        return service.app[K.MODEL].value.version != old

    await wait_for(switched, timeout=30, what="the new model in force")
    text = service.metric("router_model_info", {"version": service.app[K.MODEL].value.version})
    assert text == 1.0
    assert service.metric("router_model_info", {"version": old}) == 0.0
