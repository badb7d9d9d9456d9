"""What an inbound transport (the AMQP consumer, a test) hands to routing and gets
back: the port the consumer drives, and the two values that cross it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from router.core.domain import Ticket

OutcomeStatus = Literal["assigned", "duplicate", "retry", "wait", "failed"]


@dataclass(frozen=True, slots=True)
class Pending:
    """A ticket waiting to be routed, with the identity of its delivery.

    ``owner`` is unique per delivery attempt and kept across retries of that
    attempt, so a retry resumes its own claim while a concurrent duplicate waits.
    """

    ticket: Ticket
    owner: str
    received_at: datetime
    received_mono: float


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one ticket of a batch.

    ``retry``: a transient failure (Redis or the broker away), try the same
    :class:`Pending` again soon; ``wait``: another consumer holds a live claim on
    the id, try again after ``retry_after_s`` without holding up other tickets;
    ``failed``: routing this ticket raised (a bug this ticket triggers): dead-letter
    it with ``error`` and carry on.
    """

    ticket_id: str
    status: OutcomeStatus
    pool_id: str | None = None
    error: str | None = None
    retry_after_s: float = 0.0


class BatchRouter(Protocol):
    """Routes batches of validated tickets (implemented by ``TicketRouter``)."""

    async def route_batch(self, batch: Sequence[Pending]) -> list[Outcome]:
        """One outcome per ticket of ``batch``, in order."""
        ...

    def forget(self, owner: str) -> None:
        """Drop what is remembered of a delivery that will not be retried."""
        ...
