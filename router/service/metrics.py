"""Prometheus metrics of one service instance (its own registry, so tests can run
several instances in one process)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)

# Publish-to-assignment latency buckets: most tickets take a few ms, a backlog seconds.
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
# HTTP request latency: most answers take ms; a long poll waits up to 30 s.
_HTTP_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


@dataclass
class Metrics:
    """All metrics the service exports at ``/metrics``."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.received = Counter(
            "router_tickets_received",
            "Tickets received, once each where they enter: http (POST /v1/tickets, re-sends "
            "too) or amqp (published by a platform; not the copies the HTTP path publishes, "
            "nor broker redeliveries)",
            ["transport"],
            registry=r,
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
        self.model_refused = Gauge(
            "router_model_refused",
            "1 while the model folder holds a model refused because the config in force "
            "matches an extra head or label it lacks (the old model serves), else 0",
            registry=r,
        )
        # The process (CPU, memory, open files) and the interpreter, as for any service.
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        # Labels are bounded: a route's template (never its path), a known method, a
        # status class.
        self.http_requests = Counter(
            "router_http_requests",
            "HTTP requests answered, per route template, method and status class",
            ["route", "method", "status"],
            registry=r,
        )
        self.http_seconds = Histogram(
            "router_http_request_duration_seconds",
            "Time to answer an HTTP request, per route template and method",
            ["route", "method"],
            buckets=_HTTP_BUCKETS,
            registry=r,
        )
        self.pool_queued = Gauge(
            "router_pool_queued", "Tickets waiting in the pool's backlog", ["pool"], registry=r
        )
        self.pool_open = Gauge(
            "router_pool_open", "Tickets leased or accepted in the pool", ["pool"], registry=r
        )
        self.pool_capacity = Gauge(
            "router_pool_capacity", "The pool's capacity in the config in force", ["pool"],
            registry=r,
        )  # fmt: skip
        self.pool_agents_online = Gauge(
            "router_pool_agents_online", "Agents of the pool online now", ["pool"], registry=r
        )
        self.pool_oldest_seconds = Gauge(
            "router_pool_oldest_waiting_seconds",
            "How long the pool's longest-waiting queued ticket has waited (0: none queued)",
            ["pool"],
            registry=r,
        )

    def pool_gauges(self) -> tuple[Gauge, ...]:
        """The per-pool gauges (a pool that leaves the config leaves each of them)."""
        return (
            self.pool_queued,
            self.pool_open,
            self.pool_capacity,
            self.pool_agents_online,
            self.pool_oldest_seconds,
        )
