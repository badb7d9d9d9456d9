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
        (see :func:`router.core.domain.backlog_score`)."""
        return f"{self.prefix}backlog:{pool_id}"

    @property
    def recent(self) -> str:
        """List: ids of the most recently routed tickets, newest first (config preview)."""
        return f"{self.prefix}recent"

    @property
    def epoch(self) -> str:
        """String: a random value written once; if it vanishes, Redis lost its data."""
        return f"{self.prefix}epoch"

    @property
    def replication_mark(self) -> str:
        """String: written just before a ``WAIT`` for replicas, so the wait covers every
        write this process made before it, on any connection (see
        ``RedisTicketStore.replicated``)."""
        return f"{self.prefix}replication-mark"

    @property
    def pattern(self) -> str:
        """SCAN pattern matching every key of this prefix."""
        return f"{self.prefix}*"

    def leases(self, pool_id: str) -> str:
        """Sorted set: a pool's leased and accepted tickets, scored by lease expiry (ms);
        its size is the pool's open count that capacity limits."""
        return f"{self.prefix}leases:{pool_id}"

    @property
    def escalations(self) -> str:
        """Sorted set: tickets not yet accepted, scored by when their next escalation step
        is due (ms; 0 = not yet scheduled, +inf = no step left)."""
        return f"{self.prefix}escalations"

    def presence(self, pool_id: str) -> str:
        """Hash: agent id -> presence status (online, away, offline) in a pool."""
        return f"{self.prefix}presence:{pool_id}"

    def heartbeats(self, pool_id: str) -> str:
        """Sorted set: agent id -> last heartbeat (ms); a stale one reads as offline."""
        return f"{self.prefix}heartbeats:{pool_id}"

    @property
    def ticket_prefix(self) -> str:
        """What :meth:`ticket` puts before an id; Lua scripts build ticket keys from it."""
        return f"{self.prefix}t:"
