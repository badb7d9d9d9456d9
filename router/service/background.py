"""Background loops that stop when asked, even if a client library swallows a
cancellation (redis-py can, when one lands mid-command): the loop watches an Event,
and cancelling is only the fallback."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class Loop:
    """Runs ``step`` every ``interval_s`` seconds in a task until :meth:`stop`."""

    def __init__(self, name: str, step: Callable[[], Awaitable[object]], interval_s: float) -> None:
        self.name = name
        self._step = step
        self._interval = interval_s
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the loop's task."""
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                await self._step()
            except Exception:  # the next pass tries again; a loop must not die quietly
                log.exception("%s: pass failed", self.name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._interval)

    async def stop(self, timeout_s: float = 5.0) -> None:
        """Ask the loop to end after its current pass; cancel it if that takes too long."""
        self._stop.set()
        task, self._task = self._task, None
        if task is None:
            return
        done, _ = await asyncio.wait({task}, timeout=timeout_s)
        if not done:
            log.warning("%s did not stop in %.0fs; cancelling it", self.name, timeout_s)
            task.cancel()
            await asyncio.wait({task}, timeout=timeout_s)
