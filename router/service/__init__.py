"""Use cases and their ports: routing batches, the inbound port the consumer drives,
escalation, the agents' leases, the config and model followers, settings and metrics.

``composition.open_service`` is the one composition root that builds the running
service from ``Settings``; adapters in ``queues`` implement the ports (see
docs/architecture.md).
"""
