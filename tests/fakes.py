"""In-memory implementations of the service's ports, for unit tests of the pure-ish
routing step. The same contract tests run against these and the Redis store."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from router.core.errors import TransientError
from router.service.ports import ClaimResult, StoredTicket


@dataclass
class MemoryTicketStore:
    """TicketStore semantics in a dict; ``fail_next`` simulates Redis outages."""

    now_ms: float | None = None  # fixed clock for tests; None = wall clock
    tickets: dict[str, dict[str, object]] = field(default_factory=dict)
    load: dict[str, int] = field(default_factory=dict)
    fail_next: int = 0
    recent: list[str] = field(default_factory=list)  # newest first
    recent_max: int = 10_000

    def _clock(self) -> int:
        return int(self.now_ms if self.now_ms is not None else time.time() * 1000)

    def _maybe_fail(self) -> None:
        if self.fail_next > 0:
            self.fail_next -= 1
            raise TransientError("redis: connection refused (simulated)")

    async def states(self, ticket_ids: Sequence[str]) -> list[str | None]:
        self._maybe_fail()
        return [str(self.tickets[t]["state"]) if t in self.tickets else None for t in ticket_ids]

    async def claim_many(
        self, claims: Sequence[tuple[str, str, bytes]], ttl_ms: int
    ) -> list[ClaimResult]:
        self._maybe_fail()
        return [self._claim(tid, owner, record, ttl_ms) for tid, owner, record in claims]

    async def mark_assigned_many(self, marks: Sequence[tuple[str, str, str, float]]) -> list[bool]:
        self._maybe_fail()
        return [self._mark(tid, owner, pool) for tid, owner, pool, _ in marks]

    async def renew_many(self, claims: Sequence[tuple[str, str]], ttl_ms: int) -> list[bool]:
        self._maybe_fail()
        out = []
        for tid, owner in claims:
            t = self.tickets.get(tid)
            ours = t is not None and t["state"] == "claimed" and t["owner"] == owner
            if ours and t is not None:
                t["until"] = self._clock() + ttl_ms
            out.append(ours)
        return out

    def _claim(self, ticket_id: str, owner: str, record: bytes, ttl_ms: int) -> ClaimResult:
        now = self._clock()
        t = self.tickets.get(ticket_id)
        if t is None:
            self.tickets[ticket_id] = {
                "state": "claimed",
                "owner": owner,
                "until": now + ttl_ms,
                "record": record,
            }
            return ClaimResult("claimed", record)
        if t["state"] != "claimed":
            return ClaimResult("done", t["record"])  # type: ignore[arg-type]
        if int(t["until"]) < now or t["owner"] == owner:  # type: ignore[call-overload]
            t["owner"], t["until"] = owner, now + ttl_ms
            return ClaimResult("takeover", t["record"])  # type: ignore[arg-type]
        return ClaimResult("busy", None, int(t["until"]))  # type: ignore[call-overload]

    def _mark(self, ticket_id: str, owner: str, pool_id: str) -> bool:
        t = self.tickets.get(ticket_id)
        if t is None or (t["state"] == "claimed" and t["owner"] != owner):
            return False
        if t["state"] == "claimed":
            t["state"] = "assigned"
            self.load[pool_id] = self.load.get(pool_id, 0) + 1
            self.recent = [ticket_id, *self.recent][: self.recent_max]
        return True

    async def get(self, ticket_id: str) -> StoredTicket | None:
        t = self.tickets.get(ticket_id)
        return StoredTicket(str(t["state"]), t["record"]) if t else None  # type: ignore[arg-type]

    async def loads(self, pool_ids: Sequence[str]) -> dict[str, int]:
        return {p: self.load.get(p, 0) for p in pool_ids}

    async def recent_ids(self, n: int) -> list[str]:
        return self.recent[: max(n, 0)]

    async def ping(self) -> bool:
        return True


@dataclass
class MemoryPublisher:
    """Records what would be published; ``fail_next`` simulates broker outages."""

    published: list[tuple[str, str, bytes]] = field(default_factory=list)
    fail_next: int = 0

    async def publish_assignment(self, pool_id: str, ticket_id: str, body: bytes) -> None:
        if self.fail_next > 0:
            self.fail_next -= 1
            raise TransientError("broker: channel closed (simulated)")
        self.published.append((pool_id, ticket_id, body))
