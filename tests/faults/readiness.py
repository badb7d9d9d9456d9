"""Watches a replica's ``/readyz`` against what the broker says: a replica may call
itself ready only while the inbound queue has a consumer."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field

from tests.faults.router_proc import RouterProcess
from tests.faults.scenario import Flow


@dataclass
class ReadinessWatch:
    """Samples (readyz, consumers, readyz) in a loop while a fault is injected.

    With one replica, "ready" on both sides of a sample whose consumer count is 0 means
    the replica said ready while nothing consumed the queue: a violation.
    """

    flow: Flow
    router: RouterProcess
    samples: list[tuple[float, int, int | None, int]] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None

    def start(self) -> ReadinessWatch:
        """Sample in the background until :meth:`stop`."""
        self._task = asyncio.create_task(self._run(), name="readiness-watch")
        return self

    async def stop(self) -> None:
        """Stop sampling."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            before, _ = await self.router.readyz()
            consumers = await self.flow.inbound_consumers()
            after, _ = await self.router.readyz()
            self.samples.append((time.monotonic(), before, consumers, after))
            await asyncio.sleep(0.05)

    @property
    def ready_without_consumer(self) -> int:
        """Samples where the replica said ready while the queue had no consumer."""
        return sum(1 for _, b, c, a in self.samples if b == 200 and a == 200 and c == 0)

    @property
    def not_ready(self) -> int:
        """Samples where ``/readyz`` answered 503 (or did not answer) at least once."""
        return sum(1 for _, b, _, a in self.samples if b != 200 or a != 200)

    def summary(self) -> str:
        """A one-line account for the figures."""
        return (
            f"readiness: {len(self.samples)} samples, {self.not_ready} not ready, "
            f"{self.ready_without_consumer} ready while the inbound queue had 0 consumers"
        )
