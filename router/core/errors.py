"""The error hierarchy that steers control flow at the edges.

``InvalidInput`` -> the message is dead-lettered (or HTTP 4xx) with the reason;
``TransientError`` -> the work is retried and the message is never dead-lettered.
"""

from __future__ import annotations


class RouterError(Exception):
    """Base of every error the service raises on purpose."""


class InvalidInput(RouterError):
    """The input can never be processed as sent; ``field`` names what is wrong."""

    def __init__(
        self, field: str, problem: str, *, status: int = 400, reason: str | None = None
    ) -> None:
        self.field = field
        self.problem = problem
        self.status = status
        self._reason = reason
        super().__init__(f"{field}: {problem}" if field else problem)

    @property
    def reason(self) -> str:
        """A short, stable label for metrics (bounded set; no ticket data in it)."""
        if self._reason:
            return self._reason
        return "invalid_" + (self.field.split("[")[0].split(".")[0] or "body")


class TransientError(RouterError):
    """A dependency (Redis, the broker) failed; the same work may succeed later."""


class SettingsError(RouterError, ValueError):
    """Environment variables with values outside what they allow: one line each,
    ``VARIABLE: problem``; the command line says it and exits 2."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("\n".join(f"{variable}: {problem}" for variable, problem in problems))
