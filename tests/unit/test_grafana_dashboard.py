"""The Grafana dashboard (deploy/grafana/ticket-router.json) loads and every panel's
expression names series the service exports, with labels they carry."""

from __future__ import annotations

import json
import re
from typing import Any

from router.service.leases import LeaseMetrics
from router.service.metrics import Metrics
from router.service.stats import KpiMetrics
from tests.conftest import REPO

DASHBOARD = REPO / "deploy" / "grafana" / "ticket-router.json"
_NAME = re.compile(r"\b((?:router|process|python)_[a-z0-9_]+)\b")
_BY = re.compile(r"\bby \(([^)]*)\)")
# Added by Prometheus or the scrape, not by the service.
_TARGET_LABELS = {"le", "pod", "instance", "job", "namespace"}


def _exported() -> dict[str, set[str]]:
    """Every sample name the service's registry exports (``_total``, ``_bucket`` ...
    included), with the labels of its metric."""
    metrics = Metrics()
    LeaseMetrics(metrics.registry)
    KpiMetrics(metrics.registry)
    # The registry's own index of sample names (prometheus_client has no public one).
    index = metrics.registry._names_to_collectors
    out = {name: set(getattr(c, "_labelnames", ())) for name, c in index.items()}
    # The process and platform collectors describe nothing: their samples, as scraped.
    for family in metrics.registry.collect():
        for sample in family.samples:
            out.setdefault(sample.name, set(sample.labels))
    return out


def _expressions() -> list[tuple[str, str]]:
    doc: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return [
        (panel["title"], target["expr"])
        for panel in doc["panels"]
        for target in panel.get("targets", [])
    ]


def test_the_dashboard_is_grafana_json_with_panels_on_a_prometheus_variable() -> None:
    doc = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert doc["uid"] == "ticket-router" and doc["templating"]["list"][0]["type"] == "datasource"
    ids = [panel["id"] for panel in doc["panels"]]
    assert len(ids) == len(set(ids))
    assert len(_expressions()) >= 20


def test_every_expression_names_series_the_service_exports() -> None:
    exported = _exported()
    for title, expr in _expressions():
        names = _NAME.findall(expr)
        assert names, f"{title}: names no metric"
        for name in names:
            assert name in exported, f"{title}: {name} is not exported"
        labels = set(exported[names[0]]) | _TARGET_LABELS
        for group in _BY.findall(expr):
            used = {label.strip() for label in group.split(",")}
            assert used <= labels, f"{title}: {used - labels} not labels of {names[0]}"


def test_the_kpi_pool_and_http_series_have_panels() -> None:
    named = {name for _, expr in _expressions() for name in _NAME.findall(expr)}
    for name in (
        "router_kpi_events_total",
        "router_kpi_sla_total",
        "router_kpi_cost_total",
        "router_kpi_time_to_accept_seconds_bucket",
        "router_pool_queued",
        "router_pool_oldest_waiting_seconds",
        "router_http_requests_total",
        "router_http_request_duration_seconds_bucket",
        "router_tickets_received_total",
        "process_cpu_seconds_total",
    ):
        assert name in named, name
