"""``ticket-router simulate`` end to end: generated and traced arrivals, the JSON
report, the SVG and HTML charts, two configs compared, and refused input."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from classifiers.types import ClassifierInput, Prediction
from router.cli.main import main
from router.cli.simulate_input import LABELS_MODEL, needs_model, predict, read_trace
from tests.conftest import EXAMPLE_CONFIG

GENERATE = ["simulate", "--generate", "--volume", "400", "--week", "2026-03-04", "--seed", "2"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def lean_config(tmp_path: Path) -> Path:
    """The example config with one agent a pool and no 70/30 vendor split."""
    doc: dict[str, Any] = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    for pool in doc["pools"]:
        pool["capacity"] = 1
    doc["rules"] = [r for r in doc["rules"] if r["id"] != "tier1-split"]
    path = tmp_path / "lean.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def test_generate_writes_the_json_report_and_an_svg_chart(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    chart = tmp_path / "week.svg"
    report = tmp_path / "week.json"
    code, out, err = run(
        capsys, *GENERATE, "--config", str(EXAMPLE_CONFIG), "--json", str(report),
        "--chart", str(chart),
    )  # fmt: skip
    assert (code, err) == (0, "")
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["arrivals"] == 400 and data["source"]["kind"] == "generate"
    assert data["week"] == {
        "start": "2026-03-02T00:00:00+00:00",
        "end": "2026-03-09T00:00:00+00:00",
        "zone": "UTC",
        "hours": 168,
    }
    (only,) = data["runs"]
    assert [p["id"] for p in only["pools"]] == [
        "hq-tier2", "hq-tier1", "eu-dublin", "andes-bpo", "pacific-night",
    ]  # fmt: skip
    assert all(len(p["hours"]) == 168 for p in only["pools"])
    assert sum(p["totals"]["tickets"] for p in only["pools"]) == 400
    assert only["totals"]["tickets"] == 400
    # Cost: each pool's tickets x its cost_per_ticket in the config.
    cost = {"hq-tier2": 14.0, "hq-tier1": 9.0, "eu-dublin": 11.0, "andes-bpo": 7.5,
            "pacific-night": 4.5}  # fmt: skip
    for p in only["pools"]:
        assert p["totals"]["cost"] == p["totals"]["tickets"] * cost[p["id"]]
    assert "difference" not in data
    # The text summary still goes to stdout when the JSON goes to a file.
    assert "andes-bpo" in out and "staffing short of Erlang C" in out
    root = ET.fromstring(chart.read_text(encoding="utf-8"))  # well-formed XML
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    text = chart.read_text(encoding="utf-8")
    assert "Service level by pool and hour" in text and "Erlang C" in text
    assert "pacific-night" in text


def test_the_same_seed_gives_the_same_report(
    capsys: pytest.CaptureFixture[str],
) -> None:
    first = run(capsys, *GENERATE, "--json")
    second = run(capsys, *GENERATE, "--json")
    assert first[0] == 0 and first == second
    other = run(capsys, *GENERATE[:-1], "3", "--json")
    assert json.loads(other[1])["runs"] != json.loads(first[1])["runs"]


def test_compare_shows_what_changes(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    lean = lean_config(tmp_path)
    chart = tmp_path / "compare.html"
    code, out, err = run(capsys, *GENERATE, "--compare", str(lean), "--json", "--chart", str(chart))
    assert (code, err) == (0, "")
    data = json.loads(out)
    a, b = data["runs"]
    assert (a["label"], b["label"]) == ("a", "b")
    diff = data["difference"]
    assert diff["routing_changed"] > 0
    assert diff["totals"]["cost"] == round(b["totals"]["cost"] - a["totals"]["cost"], 4)
    assert diff["totals"]["service_level"] == round(
        b["totals"]["service_level"] - a["totals"]["service_level"], 4
    )
    assert len(diff["hours"]) == 168
    # One agent a pool falls short of Erlang C somewhere; the full config does not.
    assert b["staffing"]["short"] and not a["staffing"]["short"]
    worst = b["staffing"]["short"][0]
    assert worst["recommended"] - worst["configured"] == worst["gap"] > 0
    html = chart.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and "<svg" in html
    assert "a against b" in html and worst["pool"] in html
    # Without --json: the text summary, with the difference.
    code, text, _ = run(capsys, *GENERATE, "--compare", str(lean))
    assert code == 0 and "b minus a: service level" in text
    assert f"{diff['routing_changed']} tickets routed to another pool first" in text


def test_a_jsonl_trace_with_labels(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    trace = tmp_path / "trace.jsonl"
    lines = [
        {"id": "a1", "subject": "refund", "created_at": "2026-03-03T14:00:00Z",
         "customer": {"country": "US"}, "handle_seconds": 600,
         "labels": {"language": "en", "tier": "tier1", "category": "billing"}},
        {"id": "a2", "subject": "refund", "created_at": "2026-03-03T14:01:00Z",
         "customer": {"country": "DE"},
         "labels": {"language": "es", "tier": "tier2", "category": "billing"}},
        {"id": "a1", "subject": "again", "created_at": "2026-03-03T14:02:00Z",
         "labels": {"language": "en", "tier": "tier1", "category": "billing"}},
        {"id": "a3", "subject": "late", "created_at": "2026-03-10T09:00:00Z",
         "labels": {"language": "en", "tier": "tier1", "category": "billing"}},
        {"id": "a4", "subject": "no time",
         "labels": {"language": "en", "tier": "tier1", "category": "billing"}},
    ]  # fmt: skip
    trace.write_text("\n".join(json.dumps(x) for x in lines) + "\nnot json\n", encoding="utf-8")
    code, out, err = run(capsys, "simulate", "--trace", str(trace), "--json")
    assert code == 0
    data = json.loads(out)
    # a1 twice: the second dropped as a duplicate; a4 has no created_at; "not json";
    # a3 is in the next week (the week is the first arrival's).
    assert data["arrivals"] == 2
    assert data["source"] == {
        "kind": "trace", "file": str(trace), "refused": 3, "outside_week": 1, "classified": 0,
    }  # fmt: skip
    assert data["week"]["start"] == "2026-03-02T00:00:00+00:00"
    assert err.count("refused") == 3
    first = data["runs"][0]["totals"]["routed_first"]
    # a1 (US, tier 1) goes by the 70/30 split to a vendor; a2 (DE, EU data) to Dublin.
    assert first.get("eu-dublin") == 1 and sum(first.values()) == 2


def test_a_csv_trace(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    trace = tmp_path / "trace.csv"
    trace.write_text(
        "id,created_at,subject,priority,customer.country,customer_plan,language,tier,"
        "category,tier_confidence,handle_seconds\n"
        "c1,2026-03-04T10:00:00Z,card,high,GB,enterprise,en,tier2,billing,0.9,300\n"
        "c2,2026-03-04T10:00:30Z,login,normal,US,free,en,tier1,account,,\n"
        "c3,2026-03-04T10:01:00Z,login,sometimes,US,free,en,tier1,account,,\n",
        encoding="utf-8",
    )
    code, out, err = run(
        capsys, "simulate", "--trace", str(trace), "--json", "--tz", "Europe/London"
    )
    assert code == 0
    data = json.loads(out)
    assert data["arrivals"] == 2 and data["source"]["refused"] == 1
    assert "line 4: priority" in err
    assert data["week"]["zone"] == "Europe/London"
    runs = data["runs"][0]
    # c1: GB enterprise, high priority -> the enterprise-urgent rule, a senior team.
    assert runs["totals"]["tickets"] == 2 and runs["totals"]["service_level"] == 1.0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--tz", "Nowhere/City"], "--tz: unknown IANA time zone"),
        (["--config", "missing.yaml"], "missing.yaml: cannot read file"),
        (["--countries", "XX=1"], "--generate: countries: 'XX'"),
        (["--volume", "0"], "no arrivals to replay"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, *GENERATE, *argv)
    assert code == 2 and out == ""
    assert err.startswith("ticket-router simulate: ") and message in err
    assert len(err.splitlines()) == 1


class FakeModel:
    """A classifier that says French tier 2 'other' for everything, and counts calls."""

    version = "fake-1"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def predict(self, items: Sequence[ClassifierInput]) -> list[Prediction]:
        self.seen += [item.text for item in items]
        return [
            Prediction("fr", 0.7, "tier2", 0.6, "other", 0.5, None, "none", self.version)
            for _ in items
        ]


def test_labels_win_over_the_model_and_complete_labels_skip_it(tmp_path: Path) -> None:
    trace = tmp_path / "t.jsonl"
    rows = [
        {"id": "full", "subject": "a", "created_at": "2026-03-03T10:00:00Z",
         "labels": {"language": "en", "tier": "tier1", "category": "billing",
                    "tier_confidence": 0.45}},
        {"id": "part", "subject": "b", "created_at": "2026-03-03T10:01:00Z",
         "labels": {"tier": "tier1"}},
        {"id": "none", "subject": "c", "created_at": "2026-03-03T10:02:00Z"},
    ]  # fmt: skip
    trace.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    read, refused = read_trace(trace)
    assert refused == [] and needs_model(read)
    model = FakeModel()
    loaded = predict(read, model)
    assert loaded.classified == 2 and model.seen == ["b", "c"]  # "full" never classified
    by_id = {a.ticket.id: a.prediction for a in loaded.arrivals}
    assert (by_id["full"].language, by_id["full"].tier, by_id["full"].tier_confidence) == (
        "en", "tier1", 0.45,
    )  # fmt: skip
    assert by_id["full"].model_version == LABELS_MODEL
    # The label given replaces the model's tier (confidence 1); the rest is the model's.
    assert (by_id["part"].language, by_id["part"].tier, by_id["part"].tier_confidence) == (
        "fr", "tier1", 1.0,
    )  # fmt: skip
    assert by_id["none"] == Prediction(
        "fr", 0.7, "tier2", 0.6, "other", 0.5, None, "none", "fake-1"
    )
    with pytest.raises(ValueError, match="no model"):
        predict(read, None)


def test_a_week_without_arrivals_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    trace = tmp_path / "t.jsonl"
    trace.write_text(
        json.dumps({"id": "x", "subject": "hi", "created_at": "2026-03-03T10:00:00Z",
                    "labels": {"language": "en", "tier": "tier1", "category": "other"}}),
        encoding="utf-8",
    )  # fmt: skip
    code, out, err = run(capsys, "simulate", "--trace", str(trace), "--week", "2030-01-01")
    assert (code, out) == (2, "")
    assert err == (
        "ticket-router simulate: no arrivals in the week from 2029-12-31T00:00:00+00:00\n"
    )
