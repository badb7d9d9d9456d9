"""The shipped default model says what it is: manifest flag, start-up warning, /readyz.

And its confidence calibration: held-out synthetic tickets plus unknown texts.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
from aiohttp.test_utils import TestClient, TestServer

from classifiers.build import (
    RECIPE,
    fit_temperature_with_unknowns,
    rebuild_reason,
)
from classifiers.defaults import TRAIN_HINT, model_info, synthetic_heads
from classifiers.linear import fit_temperature
from classifiers.model import load_model
from classifiers.store import MANIFEST, read_manifest
from classifiers.synth_ood import out_of_domain_texts
from router.cli.serve import warn_if_synthetic
from router.http.app import build_app
from tests.fakes import FixedClassifier
from tests.unit.test_classifiers_model import tiny_model  # noqa: F401  (session fixture)
from tests.unit.test_http_inprocess import Fakes, memory_service


def test_the_default_manifest_marks_the_model_and_its_heads_synthetic(
    tiny_model: Path,  # noqa: F811
) -> None:
    manifest = read_manifest(tiny_model)
    assert manifest["synthetic_default"] is True
    assert manifest["recipe"] == RECIPE
    assert synthetic_heads(manifest) == ["tier", "category"]
    assert "synthetic" not in manifest["heads"]["language"]["training"]
    for task in ("tier", "category"):
        training = manifest["heads"][task]["training"]
        calibration = training["calibration"]
        assert calibration["unknown_weight"] == 1.0
        # The fitted temperature is what the head uses, and it is higher (less sure)
        # than the one fitted on synthetic tickets alone.
        assert manifest["heads"][task]["temperature"] == training["temperature"]
        assert training["temperature"] > calibration["cross_validated_temperature"]


def test_model_info_of_the_default_and_of_a_model_without_a_manifest(
    tiny_model: Path,  # noqa: F811
) -> None:
    model = load_model(tiny_model)
    info = model_info(model)
    assert info["version"] == model.version
    assert (info["synthetic_default"], info["synthetic_heads"]) == (True, ["tier", "category"])
    assert info["note"].startswith("routing on the synthetic default model (tier, category)")
    assert info["note"].endswith(TRAIN_HINT)
    assert model_info(FixedClassifier()) == {"version": "fixed-1"}


def test_a_trained_head_is_no_longer_synthetic(tiny_model: Path, tmp_path: Path) -> None:  # noqa: F811
    mine = Path(shutil.copytree(tiny_model, tmp_path / "mine"))
    manifest = json.loads((mine / MANIFEST).read_text())
    manifest["name"] = "mine"
    del manifest["synthetic_default"]
    del manifest["heads"]["tier"]["training"]["synthetic"]
    (mine / MANIFEST).write_text(json.dumps(manifest))
    info = model_info(load_model(mine))
    assert (info["synthetic_default"], info["synthetic_heads"]) == (False, ["category"])
    assert info["note"].startswith("routing on heads trained on synthetic tickets (category)")
    del manifest["heads"]["category"]["training"]["synthetic"]
    (mine / MANIFEST).write_text(json.dumps(manifest))
    assert model_info(load_model(mine)) == {
        "version": load_model(mine).version,
        "synthetic_default": False,
    }


def test_serve_warns_once_about_the_synthetic_default(
    tiny_model: Path,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="router.cli.serve"):
        warn_if_synthetic(load_model(tiny_model))
        warn_if_synthetic(FixedClassifier())
    records = [r for r in caplog.records if r.name == "router.cli.serve"]
    assert [r.levelname for r in records] == ["WARNING"]
    message = records[0].getMessage()
    assert message.startswith("routing on the synthetic default model (tier, category)")
    assert "ticket-router train --data export.csv" in message
    assert "ROUTER_MODEL_DIR=models/mine" in message


async def test_readyz_names_the_model_and_says_when_it_is_the_synthetic_default(
    tiny_model: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    service = await memory_service(Fakes(), tmp_path)
    try:
        async with TestClient(TestServer(build_app(service))) as client:
            async with client.get("/readyz") as response:
                assert response.status == 200
                assert (await response.json())["model"] == {"version": "fixed-1"}
            model = load_model(tiny_model)
            service.model.swap(model)
            async with client.get("/readyz") as response:
                body = await response.json()
    finally:
        await service.desk.watch.close()
    assert body["status"] == "ready"
    assert body["model"] == {
        "version": model.version,
        "synthetic_default": True,
        "synthetic_heads": ["tier", "category"],
        "note": model_info(model)["note"],
    }


def test_unknown_texts_raise_the_temperature_and_weight_zero_ignores_them() -> None:
    rng = np.random.default_rng(0)
    target = rng.integers(0, 2, size=200)
    # Known texts: a wide margin for the right class; unknown ones: as wide, random side.
    scores = np.where(np.eye(2)[target] > 0, 4.0, -4.0).astype(np.float32)
    scores += rng.normal(0, 1, size=scores.shape).astype(np.float32)
    unknown = np.where(np.eye(2)[rng.integers(0, 2, size=100)] > 0, 4.0, -4.0)
    unknown = unknown.astype(np.float32)
    alone = fit_temperature(scores, target)
    assert fit_temperature_with_unknowns(scores, target, unknown, 0.0) == pytest.approx(
        alone, rel=1e-4
    )
    with_unknowns = fit_temperature_with_unknowns(scores, target, unknown, 1.0)
    stronger = fit_temperature_with_unknowns(scores, target, unknown, 4.0)
    assert alone < with_unknowns < stronger


def test_unknown_texts_are_reproducible_and_of_three_kinds() -> None:
    first = out_of_domain_texts(30, seed=5)
    assert first == out_of_domain_texts(30, seed=5)
    assert first != out_of_domain_texts(30, seed=6)
    assert len(first) == 30 and all(text.strip() for text in first)


def test_if_needed_rebuilds_a_default_model_of_another_recipe(
    tiny_model: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    assert rebuild_reason(tiny_model) is None
    old = Path(shutil.copytree(tiny_model, tmp_path / "old"))
    manifest = json.loads((old / MANIFEST).read_text())
    del manifest["recipe"]
    (old / MANIFEST).write_text(json.dumps(manifest))
    assert rebuild_reason(old) == (
        f"{old} holds a default model of recipe 1, this version builds recipe {RECIPE}"
    )
    manifest["name"] = "acme"  # a user's model in that folder is left alone
    (old / MANIFEST).write_text(json.dumps(manifest))
    assert rebuild_reason(old) is None
    assert "does not exist" in str(rebuild_reason(tmp_path / "none"))


# Real-looking tickets of a kind the generator never writes (an internal IT helpdesk).
UNFAMILIAR = [
    "printer on the third floor is not printing since monday, please check the toner",
    "need access to the shared drive for a new hire who starts next week",
    "laptop battery drains in an hour after the last windows update",
    "vpn disconnects every few minutes when I work from home",
]


def test_unfamiliar_tickets_go_to_triage_and_the_generators_do_not(
    tiny_model: Path,  # noqa: F811
) -> None:
    from classifiers.synth import generate_tickets, ticket_text
    from classifiers.types import ClassifierInput
    from router.config.load import load_config
    from router.core.domain import Customer, Ticket
    from router.core.policy import decide
    from tests.conftest import EXAMPLE_CONFIG
    from tests.unit.test_policy import EVENING

    config = load_config(EXAMPLE_CONFIG)
    rule = next(r for r in config.rules if r.id == "low-confidence-triage")
    # Two tiers: a tier confidence is at least 0.5, so the rule must sit above it.
    assert rule.match.tier_confidence_below is not None
    assert rule.match.tier_confidence_below > 0.5
    model = load_model(tiny_model)

    def rules(texts: list[str]) -> list[str]:
        predictions = model.predict([ClassifierInput(text=t) for t in texts])
        return [
            decide(
                Ticket(f"t-{k}", "", t, customer=Customer(country="US")), p, config, {}, EVENING
            ).rule
            for k, (t, p) in enumerate(zip(texts, predictions, strict=True))
        ]

    assert rules(UNFAMILIAR) == ["low-confidence-triage"] * len(UNFAMILIAR)
    synthetic = rules([ticket_text(t) for t in generate_tickets(200, 77)])
    assert synthetic.count("low-confidence-triage") <= 20  # 9 of 200 measured
