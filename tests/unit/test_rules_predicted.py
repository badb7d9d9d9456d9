"""Rules on the model's extra heads: ``match.predicted``, its checks against the model,
and every head's prediction in the assignment."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from classifiers.errors import ModelError
from classifiers.model import load_model
from classifiers.retrain import train_head_into_model
from classifiers.synth import generate_tickets, ticket_text
from classifiers.types import ClassifierInput, Prediction
from router.config.load import ConfigError, RoutingConfig, parse_config
from router.core.assignment import Assignment, for_pool
from router.core.config_types import HeadMatch
from router.core.domain import Customer, Ticket
from router.core.masking import Masker
from router.core.model_heads import check_heads, head_problems, heads_used
from router.core.policy import decide
from router.service.config_follower import ConfigFollower, candidate
from router.service.current import Current
from router.service.metrics import Metrics
from router.service.model_follower import ModelFollower
from tests.fakes import MemoryConfigStore
from tests.unit.test_classifiers_extra_heads import queue_of
from tests.unit.test_classifiers_model import tiny_model  # noqa: F401  (session fixture)

NOW = datetime(2025, 6, 4, 12, 0, tzinfo=UTC)
MASKER = Masker(b"predicted-rules-test-key-0123456")


def _pool(pool_id: str, kind: str = "in_house", access: str = "full") -> dict[str, Any]:
    return {
        "id": pool_id, "kind": kind, "vendor": "v" if kind == "outsourced" else None,
        "sourcing": "onshore", "country": "US", "timezone": "UTC",
        "schedule": {"always": True}, "languages": ["en"], "tiers": ["tier1", "tier2"],
        "capacity": 5, "cost_per_ticket": 1.0, "data_access": access,
    }  # fmt: skip


RULES: list[tuple[str, dict[str, Any]]] = [
    ("sure-refund", {"predicted": {"queue": ["refunds"], "queue_confidence_above": 0.7}}),
    ("angry-billing", {"categories": ["billing"], "predicted": {"sentiment": ["angry"]}}),
    ("unsure-queue", {"predicted": {"queue_confidence_below": 0.4}}),
    ("both", {"predicted": {"queue": ["sales", "refunds"], "sentiment": ["calm"]}}),
    ("urgent-tier2", {"tiers": ["tier2"], "predicted": {"priority": ["p1"]}}),
]


def config_of(rules: Sequence[tuple[str, dict[str, Any]]] = RULES) -> RoutingConfig:
    doc = {
        "pools": [_pool("a"), _pool("b"), _pool("vendor", "outsourced", "masked")],
        "rules": [{"id": rid, "match": match, "pools": ["a"]} for rid, match in rules],
        "default": {"pools": ["b"]},
    }
    return parse_config(doc, source="test")


def prediction(
    extra: Mapping[str, tuple[str, float]] | None = None,
    *,
    tier: str = "tier1",
    category: str = "tech",
) -> Prediction:
    return Prediction(
        "en", 0.95, tier, 0.9, category, 0.8, None, "none", "m", extra=dict(extra or {})
    )


def route(config: RoutingConfig, p: Prediction) -> str:
    ticket = Ticket("t-1", "s", "b", customer=Customer(country="US"))
    return decide(ticket, p, config, {}, NOW).rule


@pytest.fixture(scope="module")
def config() -> RoutingConfig:
    return config_of()


def test_predicted_compiles_per_head(config: RoutingConfig) -> None:
    assert [r.match.predicted for r in config.rules] == [
        (HeadMatch("queue", frozenset({"refunds"}), 0.7, None),),
        (HeadMatch("sentiment", frozenset({"angry"})),),
        (HeadMatch("queue", None, None, 0.4),),
        (
            HeadMatch("queue", frozenset({"sales", "refunds"})),
            HeadMatch("sentiment", frozenset({"calm"})),
        ),
        (HeadMatch("priority", frozenset({"p1"})),),
    ]  # fmt: skip
    assert config.default_rule.match.predicted == ()
    assert heads_used(config) == {
        "queue": ["sure-refund", "unsure-queue", "both"],
        "sentiment": ["angry-billing", "both"],
        "priority": ["urgent-tier2"],
    }
    # A config without `predicted` keeps its document (and so its content version).
    plain = config_of([("plain", {"tiers": ["tier2"]})]).to_dict()
    assert plain["rules"][0]["match"] == {"tiers": ["tier2"]}


@pytest.mark.parametrize(
    ("extra", "tier", "category", "rule"),
    [
        ({}, "tier1", "tech", "default"),
        ({"queue": ("refunds", 0.7)}, "tier1", "tech", "sure-refund"),  # above is inclusive
        ({"queue": ("refunds", 0.69)}, "tier1", "tech", "default"),
        ({"queue": ("refunds", 0.5), "sentiment": ("calm", 0.5)}, "tier1", "tech", "both"),
        ({"queue": ("sales", 0.99)}, "tier1", "tech", "default"),
        ({"queue": ("sales", 0.39)}, "tier1", "tech", "unsure-queue"),
        ({"queue": ("sales", 0.4)}, "tier1", "tech", "default"),  # below is strict
        ({"sentiment": ("angry", 0.2)}, "tier1", "billing", "angry-billing"),
        ({"sentiment": ("angry", 0.2)}, "tier1", "tech", "default"),
        ({"sentiment": ("calm", 0.9)}, "tier1", "billing", "default"),  # "both" lacks queue
        ({"priority": ("p1", 0.5)}, "tier2", "tech", "urgent-tier2"),
        ({"priority": ("p1", 0.5)}, "tier1", "tech", "default"),
        ({"priority": ("p2", 0.5)}, "tier2", "tech", "default"),
        # First match wins: sure-refund comes before both.
        ({"queue": ("refunds", 0.9), "sentiment": ("calm", 0.9)}, "tier1", "tech", "sure-refund"),
    ],
)
def test_rules_match_extra_heads(
    config: RoutingConfig,
    extra: dict[str, tuple[str, float]],
    tier: str,
    category: str,
    rule: str,
) -> None:
    assert route(config, prediction(extra, tier=tier, category=category)) == rule


def test_a_head_the_prediction_lacks_matches_no_condition_on_it() -> None:
    config = config_of([("low", {"predicted": {"queue_confidence_below": 1.0}})])
    assert route(config, prediction({"queue": ("x", 0.5)})) == "low"
    assert route(config, prediction({})) == "default"


NOT_A_LIST = "queue: must be a non-empty list of labels of head 'queue'"
NOT_A_CONFIDENCE = "must be a confidence from 0 to 1"
BAD_NAME = "must be a lowercase identifier: a letter, then letters, digits or '_', at most 32"


@pytest.mark.parametrize(
    ("predicted", "problem"),
    [
        ({"queue": 0.5}, NOT_A_LIST),
        ({"queue": []}, NOT_A_LIST),
        ({"queue": ["ok", ""]}, NOT_A_LIST),
        (
            {"queue_confidence_above": [0.5]},
            f"queue_confidence_above: {NOT_A_CONFIDENCE} (got [0.5])",
        ),
        ({"queue_confidence_above": 1.5}, f"queue_confidence_above: {NOT_A_CONFIDENCE} (got 1.5)"),
        (
            {"queue_confidence_below": True},
            f"queue_confidence_below: {NOT_A_CONFIDENCE} (got True)",
        ),
        ({"Queue": ["a"]}, f"Queue: head name 'Queue' {BAD_NAME} characters"),
        (
            {"queue_confidence": 0.5},
            "queue_confidence: head name 'queue_confidence' may not end in '_confidence' "
            "(reserved for confidences)",
        ),
        (
            {"timezone": ["UTC"]},
            "timezone: head name 'timezone' is reserved (the prediction's own 'timezone' field)",
        ),
        (
            {"tier": ["tier2"]},
            "tier: tier is a built-in head: match it with 'tiers' beside 'predicted'",
        ),
        (
            {"category_confidence_above": 0.5},
            "category_confidence_above: category is a built-in head: match it with "
            "'category_confidence_above' beside 'predicted'",
        ),
        (["queue"], "Input should be a valid dictionary"),
    ],
)
def test_predicted_is_validated(predicted: Any, problem: str) -> None:
    with pytest.raises(ConfigError) as exc:
        config_of([("ok", {"tiers": ["tier1"]}), ("bad", {"predicted": predicted})])
    assert exc.value.problems == [("rules[1].match.predicted", problem)]


class HeadsModel:
    """A classifier that describes its extra heads, as a loaded model folder does."""

    def __init__(self, heads: dict[str, tuple[str, ...]], version: str = "acme-1") -> None:
        self.extra_heads = heads
        self.version = version

    def predict(self, items: Sequence[ClassifierInput]) -> list[Prediction]:
        raise AssertionError("not called")


def test_a_config_is_checked_against_the_models_heads(config: RoutingConfig) -> None:
    model = {"queue": ("refunds", "sales"), "sentiment": ("angry", "calm")}
    assert head_problems(config, model, "acme-1") == [
        ("rules[4].match.predicted.priority",
         "rule 'urgent-tier2' matches head 'priority', which model acme-1 lacks "
         "(its extra heads: queue, sentiment)"),
    ]  # fmt: skip
    assert head_problems(config, {**model, "priority": ("p1", "p2")}, "acme-1") == []
    assert head_problems(config, {"queue": ("sales", "other"), "sentiment": ("angry",)}, "m2") == [
        ("rules[0].match.predicted.queue",
         "rule 'sure-refund' matches label(s) 'refunds' of head 'queue', which model m2 never "
         "predicts (its labels: sales, other)"),
        ("rules[3].match.predicted.queue",
         "rule 'both' matches label(s) 'refunds' of head 'queue', which model m2 never predicts "
         "(its labels: sales, other)"),
        ("rules[3].match.predicted.sentiment",
         "rule 'both' matches label(s) 'calm' of head 'sentiment', which model m2 never "
         "predicts (its labels: angry)"),
        ("rules[4].match.predicted.priority",
         "rule 'urgent-tier2' matches head 'priority', which model m2 lacks "
         "(its extra heads: queue, sentiment)"),
    ]  # fmt: skip
    with pytest.raises(ConfigError) as exc:
        check_heads(config, {}, "plain-2")
    assert str(exc.value).splitlines()[0] == (
        "test: rules[0].match.predicted.queue: rule 'sure-refund' matches head 'queue', "
        "which model plain-2 lacks (its extra heads: none)"
    )
    assert len(exc.value.problems) == 6


def test_candidate_refuses_a_rule_on_a_head_the_model_lacks() -> None:
    doc = config_of().to_dict()
    doc.pop("version")
    full = HeadsModel(
        {"queue": ("refunds", "sales"), "sentiment": ("angry", "calm"), "priority": ("p1",)}
    )
    assert candidate(doc, "PUT /v1/config", full).rules[0].id == "sure-refund"
    with pytest.raises(ConfigError) as exc:
        candidate(doc, "PUT /v1/config", HeadsModel({"queue": ("refunds", "sales")}))
    assert [path for path, _ in exc.value.problems] == [
        "rules[1].match.predicted.sentiment",
        "rules[3].match.predicted.sentiment",
        "rules[4].match.predicted.priority",
    ]
    # A classifier that does not describe heads has only the built-in ones.
    with pytest.raises(ConfigError):
        candidate(doc, "PUT /v1/config", _Plain())
    assert candidate(doc, "PUT /v1/config").version  # no model given: not checked


class _Plain:
    version = "plain-1"

    def predict(self, items: Sequence[ClassifierInput]) -> list[Prediction]:
        raise AssertionError("not called")


def test_the_assignment_lists_every_heads_prediction() -> None:
    config = config_of()
    ticket = Ticket(
        "T-1", "Refund", "call me at +44 20 7946 0958", customer=Customer(country="US"),
        raw={"id": "T-1", "subject": "Refund", "body": "call me at +44 20 7946 0958"},
    )  # fmt: skip
    p = prediction({"queue": ("refunds", 0.912345), "sentiment": ("ana@example.com", 0.5)})
    decision = decide(ticket, p, config, {}, NOW)
    record = Assignment.build(ticket, p, decision, received_at=NOW)
    doc = orjson.loads(record.encode())
    assert doc["predictions"] == {
        "language": {"label": "en", "confidence": 0.95},
        "tier": {"label": "tier1", "confidence": 0.9},
        "category": {"label": "tech", "confidence": 0.8},
        "queue": {"label": "refunds", "confidence": 0.9123},
        "sentiment": {"label": "ana@example.com", "confidence": 0.5},
    }
    assert doc["rule"] == "sure-refund"
    # Read back, the prediction has its extra heads: a re-decision matches alike.
    again = Assignment.decode(record.encode()).prediction()
    assert again.extra == {"queue": ("refunds", 0.9123), "sentiment": ("ana@example.com", 0.5)}
    assert decide(ticket, again, config, {}, NOW).rule == "sure-refund"
    # A record from before predictions were recorded reads as no extra heads.
    old = {k: v for k, v in doc.items() if k != "predictions"}
    assert Assignment.from_dict(old).prediction().extra == {}
    assert "predictions" not in Assignment.from_dict(old).to_dict()
    # A masked vendor's copy lists the predictions too, masked like every other text.
    masked = for_pool({**doc, "pool_id": "vendor", "pool_kind": "outsourced",
                       "data_access": "masked"}, MASKER)  # fmt: skip
    assert masked["predictions"]["queue"] == {"label": "refunds", "confidence": 0.9123}
    assert masked["predictions"]["sentiment"] == {"label": "[email]", "confidence": 0.5}
    assert masked["ticket"]["body"] == "call me at [phone]"
    assert "excluded" not in masked
    # A key that is not a router-made token is scanned like any text.
    odd = {**doc, "pool_kind": "outsourced", "data_access": "masked"}
    odd["predictions"] = {**doc["predictions"], "ana@example.com": {"label": "x"}}
    assert list(for_pool(odd, MASKER)["predictions"])[-1] == "[email]"


@pytest.fixture(scope="module")
def queue_models(
    tiny_model: Path,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, Path]:
    """The tiny model, and a copy of it with an extra ``queue`` head."""
    with_queue = Path(shutil.copytree(tiny_model, tmp_path_factory.mktemp("q") / "model"))
    tickets = generate_tickets(300, 4)
    train_head_into_model(
        with_queue,
        "queue",
        [ticket_text(t) for t in tickets],
        [queue_of(t["labels"]["category"]) for t in tickets],
        data_sha256="0" * 64,
        data_name="generated",
        c=None,
        seed=0,
    )
    return tiny_model, with_queue


async def test_a_hot_reload_is_refused_when_the_config_needs_a_head_it_lacks(
    queue_models: tuple[Path, Path], tmp_path: Path
) -> None:
    plain, with_queue = queue_models
    served = Path(shutil.copytree(with_queue, tmp_path / "served"))
    first = load_model(served)
    metrics = Metrics()
    model = Current[Any](first)
    config = Current(config_of([("finance", {"predicted": {"queue": ["finance"]}})]))
    follower = ModelFollower(served, model, metrics, config)
    shutil.rmtree(served)
    shutil.copytree(plain, served)

    with pytest.raises(ModelError) as exc:
        await follower.reload()
    plain_version = load_model(plain).version
    why = (
        "rules[0].match.predicted.queue: rule 'finance' matches head 'queue', which model "
        f"{plain_version} lacks (its extra heads: none)"
    )
    assert str(exc.value) == (
        f"model {plain_version} does not fit config version {config.value.version}: {why}"
    )
    assert model.value is first
    assert follower.refused == why
    assert metrics.registry.get_sample_value("router_model_refused") == 1.0

    # Once the config no longer needs the head, the same folder goes in.
    config.swap(config_of([("plain", {"tiers": ["tier2"]})]))
    assert await follower.reload() == plain_version
    assert model.value.version == plain_version
    assert follower.refused is None
    assert metrics.registry.get_sample_value("router_model_refused") == 0.0


async def test_a_version_put_in_force_elsewhere_is_applied_with_an_error_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Another replica checked the version against its model: this one follows it all
    the same (every replica runs one version), and says which rules cannot match here."""
    store = MemoryConfigStore()
    first = config_of([("plain", {"tiers": ["tier2"]})])
    config = Current(first)
    switched: list[str] = []

    async def on_switch(new: RoutingConfig) -> None:
        switched.append(new.version)

    model = Current[Any](HeadsModel({"sentiment": ("angry", "calm")}, version="here-1"))
    follower = ConfigFollower(store, config, 0, on_switch, model=model)
    doc = {k: v for k, v in config_of(RULES[:2]).to_dict().items() if k != "version"}
    stored = await store.append(
        doc, version="?.x", author="api", source="api", comment="", diff=(), expect=None
    )
    with caplog.at_level(logging.ERROR, logger="router.service.config_follower"):
        applied = await follower.apply(stored)
    assert config.value is applied and switched == [applied.version]
    assert [r.getMessage() for r in caplog.records] == [
        f"config version {applied.version}: rules[0].match.predicted.queue: rule "
        "'sure-refund' matches head 'queue', which model here-1 lacks (its extra heads: "
        "sentiment)"
    ]
