"""The pure domain: tickets, the routing decision, schedules, coverage, residency,
masking and PII detection, tokens, errors and the assignment document.

Data in, data out: no aiohttp, aio_pika, redis or ``queues`` here, and nothing from
``router.config``, ``router.service``, ``router.http`` or ``router.cli`` (checked by
``lint-imports``; see docs/architecture.md).
"""
