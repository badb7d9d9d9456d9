"""Every Redis key the service writes, in one place.

All keys start with the configured prefix (default ``tr:``) so several
deployments or test runs can share one Redis without touching each other.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Keys:
    """Key builders for one prefix."""

    prefix: str = "tr:"

    def ticket(self, ticket_id: str) -> str:
        """Hash: state, owner, claim expiry and the assignment record of one ticket."""
        return f"{self.prefix}t:{ticket_id}"

    def load(self, pool_id: str) -> str:
        """Counter: open assignments of a pool."""
        return f"{self.prefix}load:{pool_id}"

    def backlog(self, pool_id: str) -> str:
        """Sorted set: a pool's tickets waiting for an agent; lowest score is served first
        (see :func:`router.domain.backlog_score`)."""
        return f"{self.prefix}backlog:{pool_id}"

    @property
    def recent(self) -> str:
        """List: ids of the most recently routed tickets, newest first (config preview)."""
        return f"{self.prefix}recent"

    @property
    def pattern(self) -> str:
        """SCAN pattern matching every key of this prefix."""
        return f"{self.prefix}*"

