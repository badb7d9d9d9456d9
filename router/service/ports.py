"""Interfaces the routing service needs from the outside world.

The shell passes in the Redis and RabbitMQ implementations from ``queues/``;
unit tests pass in-memory ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

ClaimStatus = Literal["claimed", "takeover", "done", "busy"]


@dataclass(frozen=True, slots=True)
class ClaimResult:
    """What a claim on a ticket id found.

    ``claimed``: first time seen, the record given was stored, we own it;
    ``takeover``: a record existed whose owner's claim expired (a killed replica),
    we own it now and must deliver the *stored* record; ``done``: already
    assigned; ``busy``: another consumer owns a live claim until ``until_ms``.
    """

    status: ClaimStatus
    record: bytes | None
    until_ms: int = 0


@dataclass(frozen=True, slots=True)
class StoredTicket:
    """A ticket's state and its assignment record as kept in Redis."""

    state: str
    record: bytes


class TicketStore(Protocol):
    """Durable ticket state: idempotency, the decision record and pool load."""

    async def states(self, ticket_ids: Sequence[str]) -> list[str | None]:
        """Current state of each id (``None`` when never seen), in order."""
        ...

    async def claim_many(
        self, claims: Sequence[tuple[str, str, bytes]], ttl_ms: int
    ) -> list[ClaimResult]:
        """Atomically, per ticket, take ownership of routing it.

        ``claims`` are ``(ticket_id, owner, record)``; one result per claim, in
        order (see :class:`ClaimResult`). One round trip for the whole batch.
        """
        ...

    async def mark_assigned_many(self, marks: Sequence[tuple[str, str, str, float]]) -> list[bool]:
        """Record published assignments ``(ticket_id, owner, pool_id, backlog_score)``
        and queue each in its pool's backlog; per mark, False if ``owner`` had lost
        the claim."""
        ...

    async def renew_many(self, claims: Sequence[tuple[str, str]], ttl_ms: int) -> list[bool]:
        """Extend live claims ``(ticket_id, owner)`` by ``ttl_ms`` while their work goes
        on; per claim, False when it is no longer the owner's."""
        ...

    async def get(self, ticket_id: str) -> StoredTicket | None:
        """The stored state and record, or None."""
        ...

    async def loads(self, pool_ids: Sequence[str]) -> dict[str, int]:
        """Open assignments per pool."""
        ...

    async def ping(self) -> bool:
        """True when the store answers."""
        ...


class AssignmentPublisher(Protocol):
    """Delivers assignments to pool queues; returns only once the broker confirmed."""

    async def publish_assignment(self, pool_id: str, ticket_id: str, body: bytes) -> None:
        """Publish ``body`` to the pool's queue, persistent, with publisher confirm."""
        ...
