"""An extra classifier head end to end: trained into the served model folder, hot
reloaded, matched by a rule of a config put through the API, listed in assignments;
and a model without the head refused while that config is in force."""

from __future__ import annotations

import asyncio
import csv
import shutil
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis.asyncio as aioredis
import yaml
from aio_pika.abc import AbstractRobustConnection
from aiohttp import ClientSession

from classifiers.model import load_model
from classifiers.synth import generate_tickets, ticket_text
from router.config.load import ConfigError
from router.core.ticket_schema import ticket_from_object
from router.http import appkeys as K
from router.service.composition import open_service
from router.service.metrics import Metrics
from router.service.routing import classifier_input
from router.service.settings import Names, Settings
from tests.integration.conftest import ServiceFactory, drain_pools, wait_for
from tests.tickets import make_tickets

pytestmark = pytest.mark.integration

QUEUES = {"billing": "finance", "shipping": "logistics"}
POOLS = ("finance-desk", "general-desk")
THRESHOLD = 0.6


def _pool(pool_id: str, languages: list[str]) -> dict[str, Any]:
    return {
        "id": pool_id, "kind": "in_house", "sourcing": "onshore", "country": "US",
        "timezone": "UTC", "schedule": {"always": True}, "languages": languages,
        "tiers": ["tier1", "tier2"], "capacity": 100_000, "cost_per_ticket": 1.0,
        "data_access": "full",
    }  # fmt: skip


def config_doc(languages: list[str], *, with_queue_rule: bool) -> dict[str, Any]:
    rules = [
        {
            "id": "finance-queue",
            "match": {"predicted": {"queue": ["finance"], "queue_confidence_above": THRESHOLD}},
            "pools": ["finance-desk"],
        }
    ]
    return {
        "pools": [_pool(p, languages) for p in POOLS],
        "rules": rules if with_queue_rule else [],
        "default": {"pools": ["general-desk"]},
    }


def write_queue_export(path: Path, n: int, seed: int) -> None:
    """Generated tickets with a ``queue`` label: finance, logistics or general."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "queue"])
        for t in generate_tickets(n, seed):
            writer.writerow([ticket_text(t), QUEUES.get(t["labels"]["category"], "general")])


async def train_queue_head(model_dir: Path, data: Path) -> str:
    """``ticket-router train --task queue --model-dir`` as an operator runs it; its stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "router", "train", "--task", "queue", "--data", str(data),
        "--text-column", "text", "--label-column", "queue", "--model-dir", str(model_dir),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return err.decode()


async def test_an_extra_head_routes_tickets_after_a_hot_reload(
    start_service: ServiceFactory,
    model_dir: Path,
    tmp_path: Path,
    names: Names,
    amqp: AbstractRobustConnection,
    extra_pools: list[str],
    http: ClientSession,
    admin_http: ClientSession,
) -> None:
    extra_pools.extend(POOLS)
    # A copy of its own: the model folder the session serves may be rebuilt meanwhile.
    plain = Path(shutil.copytree(model_dir, tmp_path / "plain"))
    served = Path(shutil.copytree(plain, tmp_path / "served"))
    original = load_model(served)
    languages = list(original.heads["language"].head.classes)
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(config_doc(languages, with_queue_rule=False)))
    service = await start_service(model_dir=served, config_path=config_path)
    with_rule = orjson.dumps(config_doc(languages, with_queue_rule=True))

    # The model in force has no queue head: the config is refused, naming rule and head.
    async with admin_http.put(f"{service.url}/v1/config", data=with_rule) as response:
        assert response.status == 400
        error = (await response.json())["error"]
    assert error["field"] == "rules[0].match.predicted.queue"
    assert error["message"] == (
        f"rule 'finance-queue' matches head 'queue', which model {original.version} lacks "
        "(its extra heads: none)"
    )

    # Train the head into the served folder; the service picks the new model up.
    write_queue_export(tmp_path / "queues.csv", 800, seed=12)
    err = await train_queue_head(served, tmp_path / "queues.csv")
    assert "head 'queue' (extra head): 3 labels: finance (" in err
    trained = load_model(served)
    assert trained.extra_heads == {"queue": ("finance", "general", "logistics")}

    async def reloaded() -> bool:
        return service.app[K.MODEL].value.version == trained.version

    await wait_for(reloaded, timeout=30, what="the model with the queue head in force")
    async with admin_http.put(f"{service.url}/v1/config", data=with_rule) as response:
        assert response.status == 200, await response.text()

    # Tickets: the rule takes exactly those the head calls finance with enough confidence.
    tickets = make_tickets(60, seed=31)
    expected = {}
    for ticket, p in zip(
        tickets,
        trained.predict([classifier_input(ticket_from_object(t)) for t in tickets]),
        strict=True,
    ):
        label, confidence = p.extra["queue"]
        expected[ticket["id"]] = (label, confidence)
    finance = [
        i for i, (label, conf) in expected.items() if label == "finance" and conf >= THRESHOLD
    ]
    assert 5 <= len(finance) < len(tickets)  # both rules are exercised
    for ticket in tickets:
        async with http.post(f"{service.url}/v1/tickets", json=ticket) as response:
            assert response.status == 202
    records: dict[str, dict[str, Any]] = {}

    async def all_assigned() -> bool:
        for ticket in tickets:
            if ticket["id"] in records:
                continue
            async with http.get(f"{service.url}/v1/tickets/{ticket['id']}") as response:
                body = await response.json() if response.status == 200 else {}
            if body.get("state") == "assigned":
                records[ticket["id"]] = body["assignment"]
        return len(records) == len(tickets)

    await wait_for(all_assigned, timeout=60, what="every ticket assigned")
    for ticket_id, record in records.items():
        label, confidence = expected[ticket_id]
        routed = (record["rule"], record["pool_id"])
        if ticket_id in finance:
            assert routed == ("finance-queue", "finance-desk"), ticket_id
        else:
            assert routed == ("default", "general-desk"), ticket_id
        assert record["model_version"] == trained.version
        assert set(record["predictions"]) == {"language", "tier", "category", "queue"}
        assert record["predictions"]["queue"] == {
            "label": label,
            "confidence": round(confidence, 4),
        }
        assert record["predictions"]["tier"] == {
            "label": record["tier"],
            "confidence": record["confidence"]["tier"],
        }
    # The pools' queues carry the same predictions.
    channel = await amqp.channel()
    delivered = await drain_pools(channel, names, POOLS)
    assert sorted(a["ticket_id"] for a in delivered["finance-desk"]) == sorted(finance)
    assert len(delivered["general-desk"]) == len(tickets) - len(finance)
    for assignment in (*delivered["finance-desk"], *delivered["general-desk"]):
        assert assignment["predictions"] == records[assignment["ticket_id"]]["predictions"]

    # A model without the head is refused while the config uses it: the old one serves.
    # Put in place as an operator would: renamed into place.
    await asyncio.to_thread(served.rename, tmp_path / "trained")
    await asyncio.to_thread(plain.rename, served)
    follower = service.app[K.MODEL_FOLLOWER]

    async def refused() -> bool:
        return service.metric("router_model_refused") == 1.0

    await wait_for(refused, timeout=30, what="the model without the queue head refused")
    assert service.app[K.MODEL].value.version == trained.version
    assert follower.refused == (
        "rules[0].match.predicted.queue: rule 'finance-queue' matches head 'queue', which "
        f"model {original.version} lacks (its extra heads: none)"
    )


async def test_a_replica_does_not_start_on_a_config_naming_a_head_its_model_lacks(
    settings: Settings,
    model_dir: Path,
    tmp_path: Path,
    redis_client: aioredis.Redis,
    amqp: AbstractRobustConnection,
) -> None:
    plain = Path(shutil.copytree(model_dir, tmp_path / "plain"))
    model = load_model(plain)
    languages = list(model.heads["language"].head.classes)
    config_path = tmp_path / "config.yaml"
    config_path.write_text(yaml.safe_dump(config_doc(languages, with_queue_rule=True)))
    with pytest.raises(ConfigError) as exc:
        async with open_service(
            replace(settings, model_dir=plain, config_path=config_path), Metrics(), consume=False
        ):
            raise AssertionError("the service opened")
    assert exc.value.problems == [
        (
            "rules[0].match.predicted.queue",
            f"rule 'finance-queue' matches head 'queue', which model {model.version} lacks "
            "(its extra heads: none)",
        )
    ]
