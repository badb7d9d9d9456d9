"""The routing config: loading, validation errors with paths, round trip, schema."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from router.config.load import ConfigError, diff_configs, load_config, parse_config
from router.config.schema import json_schema, render_json_schema, schema_path

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "config.example.yaml"


@pytest.fixture(scope="module")
def example_doc() -> dict[str, Any]:
    data = yaml.safe_load(EXAMPLE.read_text())
    assert isinstance(data, dict)
    return data


def errors_of(doc: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as caught:
        parse_config(doc, source="test.yaml")
    return caught.value.problems


def test_example_config_loads() -> None:
    config = load_config(EXAMPLE)
    assert config.pool_ids == ("hq-tier2", "hq-tier1", "eu-dublin", "andes-bpo", "pacific-night")
    assert [r.id for r in config.rules] == [
        "card-data",
        "low-confidence-triage",
        "enterprise-urgent",
        "tier1-split",
    ]
    pool = config.pool("pacific-night")
    assert (pool.kind, pool.data_access, pool.sourcing) == ("outsourced", "masked", "offshore")
    assert pool.vendor == "Pacific Support Services Inc."
    assert len({p.cost_per_ticket for p in config.pools}) == 5
    assert config.default_rule.strategy == "cheapest"
    assert len(config.version) == 12


def test_round_trip_through_to_dict() -> None:
    config = load_config(EXAMPLE)
    again = parse_config(config.to_dict(), source="copy")
    assert again.to_dict() == config.to_dict()
    assert again == config
    assert again.version == config.version


def test_version_is_a_content_hash_unless_set(example_doc: dict[str, Any]) -> None:
    doc = copy.deepcopy(example_doc)
    first = parse_config(doc, source="a").version
    doc["pools"][0]["capacity"] += 1
    second = parse_config(doc, source="a").version
    assert first != second
    doc["version"] = "2025-06-01.1"
    assert parse_config(doc, source="a").version == "2025-06-01.1"


def test_bad_window_names_file_path_and_problem(example_doc: dict[str, Any]) -> None:
    doc = copy.deepcopy(example_doc)
    doc["pools"][3]["schedule"] = {"mon": ["09:00-17:00", "25:00-26:00"]}
    with pytest.raises(ConfigError) as caught:
        parse_config(doc, source="pools.yaml")
    assert str(caught.value) == (
        "pools.yaml: pools[3].schedule.mon[1]: window '25:00-26:00' has a time out of range"
    )
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("mutate", "path", "problem"),
    [
        (lambda d: d["pools"][1].update(shift="night"), "pools[1].shift", "unknown key"),
        (lambda d: d.update(extra=1), "extra", "unknown key"),
        (lambda d: d["pools"][0].update(id="HQ tier 2"), "pools[0].id", "should match pattern"),
        (lambda d: d["pools"][2].update(timezone="Europe/Dublinn"), "pools[2].timezone",
         "unknown IANA time zone 'Europe/Dublinn'"),
        (lambda d: d["pools"][2].update(kind="vendor"), "pools[2].kind", "Input should be"),
        (lambda d: d["pools"][0].update(capacity=0), "pools[0].capacity", "greater than 0"),
        (lambda d: d["pools"][3].pop("vendor"), "pools[3]", "an outsourced pool needs a vendor"),
        (lambda d: d["pools"][0]["schedule"].update(weekdays=["9-17"]),
         "pools[0].schedule.weekdays[0]", "window '9-17' is not HH:MM-HH:MM"),
        (lambda d: d["pools"][0]["schedule"].update(weekdays=["08:00-08:00"]),
         "pools[0].schedule.weekdays[0]", "window '08:00-08:00' is empty"),
        (lambda d: d["pools"][0]["closures"].append({"start": "2025-05-02", "end": "2025-05-01"}),
         "pools[0].closures[2]", "closure ends before it starts"),
        (lambda d: d["pools"][1].update(id="hq-tier2"), "pools[1].id", "duplicate id 'hq-tier2'"),
        (lambda d: d["rules"][2]["pools"].append("hq-tier3"), "rules[2].pools[4]",
         "unknown pool 'hq-tier3'"),
        (lambda d: d["rules"][2]["escalation"][1].update(pools=["andes"]),
         "rules[2].escalation[1].pools[0]", "unknown pool 'andes'"),
        (lambda d: d["rules"][3]["weights"].update({"hq-tier2": 5}), "rules[3].weights.hq-tier2",
         "weight for a pool the rule does not target"),
        (lambda d: d["rules"][1].update(id="card-data"), "rules[1].id", "duplicate id"),
        (lambda d: d["rules"][0]["match"].update(regions=["EMEA"]), "rules[0].match.regions[0]",
         "unknown region 'EMEA'"),
        (lambda d: d["pools"][4].update(regions=["APAC"]), "pools[4].regions[0]",
         "unknown region 'APAC'"),
        (lambda d: d.update(catch_all="triage"), "catch_all", "unknown pool 'triage'"),
        (lambda d: d["low_confidence"].update(treat_as="tier3"), "low_confidence.treat_as",
         "no pool serves tier 'tier3'"),
        (lambda d: d["rules"][1]["match"].update(tier_confidence_below=1.5),
         "rules[1].match.tier_confidence_below", "less than or equal to 1"),
        (lambda d: [p.update(regions=["UK", "ROW", "UNKNOWN"]) for p in d["pools"]], "pools",
         "no pool accepts customers from region EU"),
        (lambda d: [p.update(regions=["EU", "ROW"]) for p in d["pools"][:3]], "pools",
         "no in-house pool accepts customers from region UNKNOWN"),
    ],
)  # fmt: skip
def test_errors_name_path_and_problem(
    example_doc: dict[str, Any], mutate: Any, path: str, problem: str
) -> None:
    doc = copy.deepcopy(example_doc)
    mutate(doc)
    problems = errors_of(doc)
    assert any(p == path and problem in text for p, text in problems), problems


def test_every_problem_is_reported(example_doc: dict[str, Any]) -> None:
    doc = copy.deepcopy(example_doc)
    doc["rules"][0]["pools"][0] = "nope"
    doc["rules"][3]["pools"][1] = "nada"
    assert errors_of(doc) == [
        ("rules[0].pools[0]", "unknown pool 'nope'"),
        ("rules[3].pools[1]", "unknown pool 'nada'"),
        ("rules[3].weights.pacific-night", "weight for a pool the rule does not target"),
    ]


def test_load_config_reports_yaml_position(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("pools:\n  - id: a\n    kind: [in_house\n")
    with pytest.raises(ConfigError) as caught:
        load_config(bad)
    message = str(caught.value)
    assert message.startswith(f"{bad}: line 4, column 1: invalid YAML")


def test_load_config_missing_file_and_non_mapping(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read file"):
        load_config(tmp_path / "absent.yaml")
    listing = tmp_path / "list.yaml"
    listing.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_config(listing)


def test_committed_schema_is_up_to_date() -> None:
    assert schema_path().read_text() == render_json_schema(), (
        "regenerate router/config/config.schema.json with render_json_schema()"
    )


def test_schema_accepts_example_and_rejects_unknown_keys(example_doc: dict[str, Any]) -> None:
    schema = json_schema()
    doc = json.loads(json.dumps(example_doc, default=str))
    jsonschema.validate(doc, schema)
    doc["pools"][0]["bogus"] = True
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, schema)


def test_diff_configs_lists_changes(example_doc: dict[str, Any]) -> None:
    old = parse_config(example_doc, source="old")
    doc = copy.deepcopy(example_doc)
    doc["pools"][0]["capacity"] = 45
    doc["pools"] = [p for p in doc["pools"] if p["id"] != "hq-tier1"]
    doc["rules"][0]["pools"].remove("hq-tier1")
    doc["rules"][3]["pools"].remove("hq-tier1")
    del doc["rules"][3]["weights"]["hq-tier1"]
    doc["rules"] = [doc["rules"][1], doc["rules"][0], doc["rules"][3]]
    doc["catch_all"] = "eu-dublin"
    new = parse_config(doc, source="new")
    assert diff_configs(old, new) == [
        "pool hq-tier1 removed",
        "pool hq-tier2: capacity 40 -> 45",
        "rule card-data changed",
        "rule tier1-split changed",
        "rule enterprise-urgent removed",
        "rule order card-data, low-confidence-triage, tier1-split -> "
        "low-confidence-triage, card-data, tier1-split",
        "catch_all: None -> 'eu-dublin'",
    ]
    assert diff_configs(old, old) == []
