"""ticket-router: routes support tickets to in-house and outsourced agent pools.

Layers, top to bottom: ``router.cli``, ``router.http``, ``router.service``,
``router.config``, ``router.core``; the adapters are in ``queues`` and the models in
``classifiers`` (see docs/architecture.md).
"""

__version__ = "0.1.0"
