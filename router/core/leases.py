"""Values of the agents' side that stores return and use cases read: leases, lease
actions done or refused, backlog listings, and an agent's presence status."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Action = Literal["check", "accept", "extend", "complete", "release"]
RefusalReason = Literal[
    "missing", "moved", "ended", "not_yours", "state", "expired", "taken", "full", "empty", "stale"
]


@dataclass(frozen=True, slots=True)
class Lease:
    """A lease granted (or held) on a ticket, with the stored, unmasked assignment."""

    ticket_id: str
    agent: str
    lease_id: str
    expires_ms: int
    record: bytes


@dataclass(frozen=True, slots=True)
class Acted:
    """A lease action done: the ticket's state after it and the lease's expiry (0 when
    the lease ended); ``record`` and ``agent`` (the holder) only for ``check``."""

    state: str
    expires_ms: int
    record: bytes | None = None
    agent: str | None = None


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why an operation was not done. ``detail``: the pool a ticket moved to
    (``moved``), how the caller's lease ended (``ended``), the ticket's state
    (``state``) or the open count (``full``/``empty``)."""

    reason: RefusalReason
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class Held:
    """A ticket of a pool's backlog or leases, as a supervisor's listing shows it."""

    ticket_id: str
    state: str
    agent: str | None
    expires_ms: int | None
    record: bytes | None


PresenceStatus = Literal["online", "away", "offline"]
