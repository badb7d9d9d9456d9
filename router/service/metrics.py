"""Prometheus metrics of one service instance (its own registry, so tests can run
several instances in one process)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Publish-to-assignment latency buckets: most tickets take a few ms, a backlog seconds.
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


@dataclass
class Metrics:
    """All metrics the service exports at ``/metrics``."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.received = Counter(
            "router_tickets_received", "Tickets received", ["transport"], registry=r
        )
        self.assigned = Counter(
            "router_tickets_assigned", "Tickets assigned, per pool", ["pool"], registry=r
        )
        self.duplicates = Counter(
            "router_tickets_duplicate",
            "Re-sent or redelivered tickets not assigned again",
            registry=r,
        )
        self.dead_lettered = Counter(
            "router_tickets_dead_lettered",
            "Messages sent to the dead queue, per reason",
            ["reason"],
            registry=r,
        )
        self.rejected_http = Counter(
            "router_http_tickets_rejected",
            "HTTP tickets refused, per reason",
            ["reason"],
            registry=r,
        )
        self.latency = Histogram(
            "router_ticket_processing_seconds",
            "From receipt by the service to the confirmed assignment",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.coverage_gaps = Counter(
            "router_coverage_gap_decisions",
            "Tickets routed while no qualified pool was open, per fallback",
            ["fallback"],
            registry=r,
        )
        self.transient_errors = Counter(
            "router_transient_errors", "Failures that were retried", ["dependency"], registry=r
        )
        self.batch_size = Histogram(
            "router_batch_size",
            "Tickets per classification batch",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
            registry=r,
        )
        self.in_flight = Gauge(
            "router_tickets_in_flight", "Inbound tickets held and not yet acked", registry=r
        )
        self.config_version = Gauge(
            "router_config_info", "The routing config in force", ["version"], registry=r
        )
        self.redis_persistent = Gauge(
            "router_redis_persistent",
            "1 when Redis keeps an append-only file (writes survive its restart), else 0",
            registry=r,
        )
        self.redis_data_loss = Counter(
            "router_redis_data_loss",
            "Times this replica found Redis' data gone (its epoch key vanished)",
            registry=r,
        )
        self.consumer_attached = Gauge(
            "router_inbound_consumer_attached",
            "1 while this replica consumes the inbound queue, else 0",
            registry=r,
        )
        self.model_version = Gauge(
            "router_model_info", "The classifier model in force", ["version"], registry=r
        )
