"""Interfaces the routing service needs from the outside world.

The shell passes in the Redis and RabbitMQ implementations from ``queues/``;
unit tests pass in-memory ones.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from router.core.audit import AuditRecord
from router.core.config_version import ConfigVersion
from router.core.leases import Acted, Held, Lease, PresenceStatus, Refusal
from router.core.leases import Action as LeaseAction
from router.core.sessions import Session
from router.core.store_health import RedisHealth
from router.core.tokens import Principal, Scope, TokenInfo

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

    async def mark_assigned_many(
        self,
        marks: Sequence[tuple[str, str, str, float]],
        first_due_ms: Sequence[float] | None = None,
    ) -> list[bool]:
        """Record published assignments ``(ticket_id, owner, pool_id, backlog_score)``
        and queue each in its pool's backlog; per mark, False if ``owner`` had lost
        the claim.

        ``first_due_ms`` (one per mark: epoch ms, ``math.inf`` for no step) puts each
        newly assigned ticket on the escalation schedule in the same write, so the
        lease sweeper need not read it back to find when to look at it; without it the
        sweeper's discovery schedules them (due at once)."""
        ...

    async def renew_many(self, claims: Sequence[tuple[str, str]], ttl_ms: int) -> list[bool]:
        """Extend live claims ``(ticket_id, owner)`` by ``ttl_ms`` while their work goes
        on; per claim, False when it is no longer the owner's."""
        ...

    async def get(self, ticket_id: str) -> StoredTicket | None:
        """The stored state and record, or None."""
        ...

    async def recent_ids(self, n: int) -> list[str]:
        """Ids of the ``n`` most recently assigned tickets, newest first (each once: a
        repeated mark of an assigned ticket does not list it again)."""
        ...

    async def loads(self, pool_ids: Sequence[str]) -> dict[str, int]:
        """Open assignments per pool."""
        ...

    async def ping(self) -> bool:
        """True when the store answers."""
        ...

    async def replicated(self) -> None:
        """Return once every write made so far is on as many replicas as the store is
        configured to wait for (at once when none); :class:`TransientError` when they
        did not all confirm in time. Called before tickets are acked, so that a failover
        cannot lose the record of an acked ticket."""
        ...


class TokenStore(Protocol):
    """Where bearer tokens are kept (hashes only); the HTTP layer and the CLI use this."""

    def now(self) -> datetime:
        """The store's clock: what expiry is judged against."""
        ...

    async def create(
        self,
        name: str,
        scopes: Iterable[Scope],
        expires_at: datetime | None = None,
        created_by: str | None = None,
        agent: str | None = None,
    ) -> tuple[str, TokenInfo]:
        """Store a new token; return its plaintext (shown once) and its info.

        ``ValueError`` for an empty or over-long name, no scope or a naive expiry."""
        ...

    async def authenticate(self, plaintext: str) -> Principal | None:
        """The principal of a valid token; None for unknown, wrong, revoked or expired ones."""
        ...

    async def get(self, token_id: str) -> TokenInfo | None:
        """One token's info, or None."""
        ...

    async def list(self) -> builtins.list[TokenInfo]:
        """Every token's info (revoked and expired ones too), oldest first."""
        ...

    async def revoke(self, token_id: str) -> bool:
        """Revoke a token; True if it existed and was not revoked yet;
        :class:`LastAdminTokenError` (nothing changed) if it is the last active admin token."""
        ...


class AuditLog(Protocol):
    """The append-only, capped audit log, read newest first."""

    async def record(
        self, actor: str, action: str, target: str, details: Mapping[str, Any] | None = None
    ) -> AuditRecord:
        """Append one record; return it with its entry id."""
        ...

    async def recent(self, n: int = 100) -> builtins.list[dict[str, Any]]:
        """The ``n`` newest records, newest first, as JSON-ready dicts (none for n < 1)."""
        ...


class ConfigStore(Protocol):
    """Numbered versions of the routing config and the pointer to the one in force."""

    @property
    def channel(self) -> str:
        """Where a change is announced (Redis pub/sub channel name)."""
        ...

    async def current_number(self) -> int | None:
        """The number of the version in force, or None when none was stored yet."""
        ...

    async def get(self, number: int) -> ConfigVersion | None:
        """One version, or None."""
        ...

    async def current(self) -> ConfigVersion | None:
        """The version in force, or None."""
        ...

    async def history(self, limit: int = 50) -> builtins.list[ConfigVersion]:
        """The newest ``limit`` versions, newest first."""
        ...

    async def append(
        self,
        document: Mapping[str, Any],
        *,
        version: str,
        author: str,
        source: str,
        comment: str,
        diff: Sequence[str],
        expect: int | None,
    ) -> ConfigVersion:
        """Store ``document`` as the new version in force (numbered one past the last), if
        ``expect`` is still the number in force (None: none yet); else ``ConfigConflict``."""
        ...


class StoreHealth(Protocol):
    """Whether the store keeps what it is given: persistence and vanished data."""

    @property
    def last(self) -> RedisHealth:
        """What the last check found."""
        ...

    async def check(self) -> RedisHealth:
        """Check now (never raises: an unreachable store is a result)."""
        ...


class LeaseStore(Protocol):
    """Leases on the tickets of pools' backlogs: what agents pull, claim and work.

    Every operation is a check-and-set (see ``queues.lease_scripts``)."""

    async def pull(
        self, pool_id: str, agent: str, lease_id: str, lease_ms: int, capacity: int
    ) -> Lease | Refusal:
        """Lease the pool's most urgent queued ticket if the pool is under ``capacity``;
        ``Refusal('full' | 'empty', open count)`` otherwise."""
        ...

    async def claim(
        self, pool_id: str, ticket_id: str, agent: str, lease_id: str, lease_ms: int, capacity: int
    ) -> Lease | Refusal:
        """Lease one named queued ticket; the same agent again gets the lease it holds."""
        ...

    async def act(
        self, action: LeaseAction, pool_id: str, ticket_id: str, lease_id: str, argument: str = ""
    ) -> Acted | Refusal:
        """``check``, ``accept``, ``extend``, ``complete`` or ``release`` for the holder of
        ``lease_id``."""
        ...

    async def move(
        self,
        ticket_id: str,
        *,
        from_pool: str,
        to_pool: str,
        record: bytes,
        lease_id: str | None = None,
        steps_used: int | None = None,
        new_steps_used: int,
        why: str,
    ) -> Refusal | None:
        """Store ``record`` and queue the ticket in ``to_pool`` (check-and-set by lease or
        by escalation steps used); None when done."""
        ...

    async def expire(self, pool_id: str, limit: int = 200) -> builtins.list[str]:
        """Return the pool's expired leases to its backlog; the ids returned."""
        ...

    async def discover(self, pool_id: str) -> int:
        """Schedule the pool's queued tickets the escalation schedule lacks (due now):
        those recorded without ``first_due_ms`` (an older version) and those released
        after they were accepted."""
        ...

    async def due(
        self, now_ms: int, limit: int = 200
    ) -> builtins.list[tuple[str, int, bytes, str]]:
        """Tickets whose escalation check is due: (id, steps used, record, state)."""
        ...

    async def reschedule_many(self, items: Sequence[tuple[str, int, float]]) -> None:
        """Look at each ``(ticket id, steps used, due ms)`` again then, unless it moved on."""
        ...

    async def server_ms(self) -> int:
        """The store's clock in ms, the clock every lease is judged by."""
        ...

    async def counts(self, pool_id: str) -> tuple[int, int]:
        """(queued, open) of a pool."""
        ...

    async def loads(self, pool_ids: Sequence[str]) -> dict[str, int]:
        """Open assignments per pool, as the routing decision counts them."""
        ...

    async def listing(
        self, pool_id: str, limit: int
    ) -> tuple[builtins.list[Held], builtins.list[Held]]:
        """The pool's first ``limit`` queued tickets and its leased and accepted ones."""
        ...


class Presence(Protocol):
    """Agents' presence per pool: a status and a heartbeat that goes stale."""

    async def beat(self, pool_id: str, agent: str, status: PresenceStatus) -> int:
        """Record ``agent``'s status; when it reads as offline unless heard again (ms)."""
        ...

    async def agents(self, pool_id: str) -> dict[PresenceStatus, builtins.list[str]]:
        """The pool's known agents by status, each list sorted; stale ones are offline."""
        ...

    async def prune(self, pool_id: str, now_ms: int) -> int:
        """Forget agents silent for longer than the retention; how many went."""
        ...


class KpiStore(Protocol):
    """KPI counts in per-minute buckets, each also added to its hour's and its day's
    bucket (see :mod:`router.core.kpi` for the fields); buckets expire, so memory stays
    bounded."""

    async def add(
        self, buckets: Mapping[int, Mapping[str, int]], write_id: str | None = None
    ) -> None:
        """Add ``epoch minute -> field -> n`` to those minutes', hours' and days' buckets,
        in one round trip, all or nothing; the same ``write_id`` again (a retry) adds
        nothing. ``TransientError`` when the store is away."""
        ...

    async def read(
        self,
        minutes: Sequence[int],
        hours: Sequence[int],
        days: Sequence[int],
        fields: Sequence[str] | None = None,
    ) -> dict[str, int]:
        """The sum of the given minute, hour and day buckets (only ``fields``, if given;
        epoch minutes, hours and days)."""
        ...

    async def oldest_waiting(self, pool_ids: Sequence[str]) -> dict[str, int]:
        """For each pool with a queued ticket: when its longest-waiting one was received
        (epoch ms, from the backlog's order)."""
        ...


class TicketPublisher(Protocol):
    """Hands inbound tickets (the HTTP ingestion path) to the broker, with confirm."""

    async def publish_ticket(self, ticket_id: str, body: bytes, source: str | None) -> None:
        """Publish ``body`` to the tickets exchange; ``TransientError`` when the broker is away."""
        ...


class BrokerLink(Protocol):
    """What readiness asks of the broker connection."""

    @property
    def is_closed(self) -> bool:
        """True when the connection is closed (a robust one reconnecting counts as closed)."""
        ...


class AssignmentPublisher(Protocol):
    """Delivers assignments to pool queues; returns only once the broker confirmed."""

    async def publish_assignment(self, pool_id: str, ticket_id: str, body: bytes) -> None:
        """Publish ``body`` to the pool's queue, persistent, with publisher confirm."""
        ...

    async def publish_assignments(
        self, items: Sequence[tuple[str, str, bytes]]
    ) -> list[BaseException | None]:
        """Publish each ``(pool_id, ticket_id, body)`` as :meth:`publish_assignment`
        does, all at once; per item ``None`` once confirmed, or what went wrong
        (``TransientError`` for the broker's trouble). One item failing fails no other."""
        ...


class SessionStore(Protocol):
    """Browser sessions, kept under the SHA-256 of their id (never the id itself) and
    gone by themselves when they expire."""

    async def put(self, session_id: str, session: Session) -> None:
        """Store ``session`` under ``session_id`` until its ``expires_at``."""
        ...

    async def get(self, session_id: str) -> Session | None:
        """The session of ``session_id``; None when unknown, ended or unreadable."""
        ...

    async def delete(self, session_id: str) -> bool:
        """End a session; True if there was one."""
        ...
