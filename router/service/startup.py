"""What the service is doing while it starts: the step it is on and what it waits for.

The composition root writes it while it opens the service (the HTTP server is already
up by then), ``/readyz`` reads it, so an operator sees "waiting for redis: connection
refused" instead of a port that does not answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class StartupProgress:
    """The start-up step and, per dependency, why it is not reachable yet."""

    step: str = "starting"
    waiting: dict[str, str] = field(default_factory=dict)

    def wait(self, dependency: str, why: str) -> None:
        """``dependency`` ("redis", "broker") did not answer: ``why``."""
        self.waiting[dependency] = why

    def reached(self, dependency: str) -> None:
        """``dependency`` answered."""
        self.waiting.pop(dependency, None)
