"""In-memory implementations of the service's ports (:mod:`router.service.ports`), for
unit tests and in-process HTTP tests. The contract tests
(``tests/integration/test_contract_*.py``) run the same assertions against these and the
Redis stores, so a fake that drifts from Redis fails there."""

from __future__ import annotations

import builtins
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import orjson

from classifiers.types import ClassifierInput, Prediction
from queues.config_store import ConfigConflict
from queues.lease_presence import DEFAULT_FORGET_MS, DEFAULT_TTL_MS, STATUSES
from router.core.audit import AuditRecord
from router.core.config_version import ConfigVersion
from router.core.errors import TransientError
from router.core.leases import Acted, Action, Held, Lease, Refusal, RefusalReason
from router.core.leases import PresenceStatus as Status
from router.core.store_health import RedisHealth
from router.core.tokens import (
    LastAdminTokenError,
    Principal,
    Scope,
    TokenFormatError,
    TokenInfo,
    hash_secret,
    new_token,
    split_token,
    verify,
)
from router.service.ports import ClaimResult, StoredTicket


def _utcnow() -> datetime:
    return datetime.now(UTC)


def wall_ms() -> int:
    """The wall clock in ms (the memory stores' default clock)."""
    return int(time.time() * 1000)


@dataclass
class MemoryTicketStore:
    """TicketStore semantics in a dict; ``fail_next`` simulates Redis outages."""

    now_ms: float | None = None  # fixed clock for tests; None = wall clock
    tickets: dict[str, dict[str, object]] = field(default_factory=dict)
    load: dict[str, int] = field(default_factory=dict)
    fail_next: int = 0
    recent: list[str] = field(default_factory=list)  # newest first
    recent_max: int = 10_000

    backlogs: dict[str, dict[str, float]] = field(default_factory=dict)  # pool -> id -> score
    #: The escalation schedule (ticket id -> next check ms), shared with the lease store.
    escalations: dict[str, float] = field(default_factory=dict)
    #: ``replicated`` calls so far, and how many of the next ones fail (a lagging replica).
    replication_waits: int = 0
    replication_fails: int = 0

    def _clock(self) -> int:
        return int(self.now_ms) if self.now_ms is not None else wall_ms()

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

    async def mark_assigned_many(
        self,
        marks: Sequence[tuple[str, str, str, float]],
        first_due_ms: Sequence[float] | None = None,
    ) -> list[bool]:
        self._maybe_fail()
        if first_due_ms is not None and len(first_due_ms) != len(marks):
            raise ValueError("one first due time per mark")
        dues: Sequence[float | None] = first_due_ms or [None] * len(marks)
        return [
            self._mark(tid, owner, pool, score, due)
            for (tid, owner, pool, score), due in zip(marks, dues, strict=True)
        ]

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

    def _mark(
        self, ticket_id: str, owner: str, pool_id: str, score: float, due: float | None
    ) -> bool:
        t = self.tickets.get(ticket_id)
        if t is None or (t["state"] == "claimed" and t["owner"] != owner):
            return False
        if t["state"] == "claimed":
            # As the Redis script: assigned, queued in the pool's backlog, counted, listed.
            del t["owner"], t["until"]
            t.update(state="assigned", pool=pool_id, score=score)
            self.backlogs.setdefault(pool_id, {})[ticket_id] = score
            if due is not None:
                self.escalations[ticket_id] = due if math.isinf(due) else int(due)
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

    async def replicated(self) -> None:
        self.replication_waits += 1
        if self.replication_fails > 0:
            self.replication_fails -= 1
            raise TransientError("redis: the writes reached 0 of 1 replicas (simulated)")


@dataclass
class MemoryPublisher:
    """Records what would be published (assignments, inbound tickets); ``fail_next``
    simulates broker outages."""

    published: list[tuple[str, str, bytes]] = field(default_factory=list)
    tickets: list[tuple[str, bytes, str | None]] = field(default_factory=list)
    fail_next: int = 0

    def _maybe_fail(self) -> None:
        if self.fail_next > 0:
            self.fail_next -= 1
            raise TransientError("broker: channel closed (simulated)")

    async def publish_assignment(self, pool_id: str, ticket_id: str, body: bytes) -> None:
        self._maybe_fail()
        self.published.append((pool_id, ticket_id, body))

    async def publish_assignments(
        self, items: Sequence[tuple[str, str, bytes]]
    ) -> list[BaseException | None]:
        out: list[BaseException | None] = []
        for pool_id, ticket_id, body in items:
            try:
                await self.publish_assignment(pool_id, ticket_id, body)
            except TransientError as exc:
                out.append(exc)
            else:
                out.append(None)
        return out

    async def publish_ticket(self, ticket_id: str, body: bytes, source: str | None) -> None:
        self._maybe_fail()
        self.tickets.append((ticket_id, body, source))


@dataclass
class MemoryConnection:
    """A broker connection's state, for readiness."""

    is_closed: bool = False


_HEALTHY = RedisHealth(reachable=True, persistence="aof", data_loss_count=0, last_data_loss_at=None)


@dataclass
class MemoryStoreHealth:
    """A store health check that finds what it is told (``last``)."""

    last: RedisHealth = _HEALTHY

    async def check(self) -> RedisHealth:
        return self.last


_NO_HASH = "0" * 64  # compared against for an unknown id, as the Redis store does


@dataclass
class MemoryTokenStore:
    """TokenStore semantics in a dict of (info, hash); ``fail_next`` simulates outages."""

    clock: Callable[[], datetime] = _utcnow
    records: dict[str, tuple[TokenInfo, str]] = field(default_factory=dict)
    fail_next: int = 0

    def _maybe_fail(self) -> None:
        if self.fail_next > 0:
            self.fail_next -= 1
            raise TransientError("redis: connection refused (simulated)")

    def now(self) -> datetime:
        return self.clock()

    async def create(
        self,
        name: str,
        scopes: Iterable[Scope],
        expires_at: datetime | None = None,
        created_by: str | None = None,
        agent: str | None = None,
    ) -> tuple[str, TokenInfo]:
        self._maybe_fail()
        name = name.strip()
        if not name or len(name) > 200:
            raise ValueError("a token needs a name of 1-200 characters")
        scope_set = frozenset(scopes)
        if not scope_set:
            raise ValueError("a token needs at least one scope")
        if expires_at is not None and expires_at.tzinfo is None:
            raise ValueError("expires_at must be time-zone aware")
        plaintext, token_id = new_token()
        if token_id in self.records:
            raise TransientError("token id collision; try again")
        info = TokenInfo(
            token_id, name, scope_set, self.clock(), expires_at, None, created_by, agent
        )
        # Stored as the Redis store reads it back: the expiry in UTC.
        utc = expires_at.astimezone(UTC) if expires_at is not None else None
        self.records[token_id] = (replace(info, expires_at=utc), hash_secret(plaintext))
        return plaintext, info

    async def authenticate(self, plaintext: str) -> Principal | None:
        try:
            token_id, _ = split_token(plaintext)
        except TokenFormatError:
            return None
        self._maybe_fail()
        info, token_hash = self.records.get(token_id, (None, _NO_HASH))
        if not verify(plaintext, token_hash) or info is None:
            return None
        return info.principal() if info.status(self.clock()) == "active" else None

    async def get(self, token_id: str) -> TokenInfo | None:
        self._maybe_fail()
        found = self.records.get(token_id)
        return found[0] if found else None

    async def list(self) -> builtins.list[TokenInfo]:
        self._maybe_fail()
        infos = [info for info, _ in self.records.values()]
        return sorted(infos, key=lambda info: (info.created_at, info.token_id))

    async def revoke(self, token_id: str) -> bool:
        self._maybe_fail()
        found = self.records.get(token_id)
        if found is None or found[0].revoked_at is not None:
            return False
        now = self.clock().astimezone(UTC)

        def active_admin(info: TokenInfo) -> bool:
            return Scope("admin") in info.scopes and info.status(now) == "active"

        info, token_hash = found
        if active_admin(info) and not any(
            active_admin(other) for tid, (other, _) in self.records.items() if tid != token_id
        ):
            raise LastAdminTokenError(f"token {token_id} is the last active admin token")
        self.records[token_id] = (replace(info, revoked_at=now), token_hash)
        return True


@dataclass
class MemoryAuditLog:
    """The audit log as a list, oldest first, trimmed to exactly ``maxlen`` records."""

    maxlen: int = 100_000
    clock: Callable[[], datetime] = _utcnow
    entries: list[AuditRecord] = field(default_factory=list)
    _last_id: tuple[int, int] = (0, 0)

    async def record(
        self, actor: str, action: str, target: str, details: Mapping[str, Any] | None = None
    ) -> AuditRecord:
        entry = AuditRecord(self.clock(), actor, action, target, details or {})
        # Stream ids as Redis makes them: <ms>-<sequence>, always increasing.
        ms, seq = self._last_id
        now = wall_ms()
        self._last_id = (now, 0) if now > ms else (ms, seq + 1)
        entry_id = "-".join(map(str, self._last_id))
        # Stored as flat fields and read back, as from the stream (details through JSON).
        self.entries.append(AuditRecord.from_fields(entry_id, entry.to_fields()))
        del self.entries[: -self.maxlen]
        return replace(entry, entry_id=entry_id)

    async def recent(self, n: int = 100) -> builtins.list[dict[str, Any]]:
        if n < 1:
            return []
        return [entry.to_dict() for entry in reversed(self.entries[-n:])]


@dataclass
class MemoryConfigStore:
    """Numbered config versions and the pointer in force; ``appended`` lists the numbers
    announced on :attr:`channel`."""

    prefix: str = "tr:"
    versions: dict[int, ConfigVersion] = field(default_factory=dict)
    number: int | None = None
    seq: int = 0
    appended: list[int] = field(default_factory=list)

    @property
    def channel(self) -> str:
        return f"{self.prefix}config:changed"

    async def current_number(self) -> int | None:
        return self.number

    async def get(self, number: int) -> ConfigVersion | None:
        return self.versions.get(number)

    async def current(self) -> ConfigVersion | None:
        return self.versions.get(self.number) if self.number is not None else None

    async def history(self, limit: int = 50) -> builtins.list[ConfigVersion]:
        if self.number is None:
            return []
        wanted = range(self.seq, max(self.seq - limit, 0), -1)
        return [self.versions[n] for n in wanted if n in self.versions]

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
        if self.number != expect:
            raise ConfigConflict(self.number or 0)
        self.seq += 1
        at = datetime.now(UTC)
        # What a reader gets back is the document through JSON, as from Redis.
        stored = orjson.loads(orjson.dumps(document))
        self.versions[self.seq] = ConfigVersion(
            self.seq, version, author, at, source, comment, tuple(diff), stored
        )
        self.number = self.seq
        self.appended.append(self.seq)
        return ConfigVersion(self.seq, version, author, at, source, comment, tuple(diff), document)


def _by_score(zset: Mapping[str, float]) -> builtins.list[str]:
    """Members of a sorted set in Redis order: by score, then by member."""
    return sorted(zset, key=lambda member: (zset[member], member))


_OPEN = ("leased", "accepted")


def _open_refusal(reason: RefusalReason, open_: int) -> Refusal:
    """``full``/``empty`` with the open count, as the Redis store reads its reply (an
    open count of 0 reads as no detail: ``0 in (None, False)`` is true)."""
    return Refusal(reason, str(open_) if open_ else None)


class MemoryLeaseStore:
    """LeaseStore semantics (``queues.lease_scripts``) on a :class:`MemoryTicketStore`'s
    tickets, backlogs, loads and clock, as the Redis stores share one Redis."""

    def __init__(self, tickets: MemoryTicketStore) -> None:
        self.store = tickets
        self.leases: dict[str, dict[str, float]] = {}  # pool -> ticket id -> lease expiry
        # ticket id -> when its next check is due; one schedule, as in the one Redis
        self.escalations: dict[str, float] = tickets.escalations

    def _backlog(self, pool_id: str) -> dict[str, float]:
        return self.store.backlogs.setdefault(pool_id, {})

    def _leases(self, pool_id: str) -> dict[str, float]:
        return self.leases.setdefault(pool_id, {})

    def _ticket(self, ticket_id: str) -> dict[str, Any]:
        return self.store.tickets.get(ticket_id) or {}

    @staticmethod
    def _locate(t: Mapping[str, Any], pool_id: str) -> tuple[str, str | None]:
        state = t.get("state")
        if state is None or state == "claimed":
            return "missing", None
        if t["pool"] != pool_id:
            seen = t.get("visited") or f",{t['pool']},"
            return ("moved", t["pool"]) if f",{pool_id}," in seen else ("missing", None)
        return str(state), pool_id

    def _holder(self, t: Mapping[str, Any], pool_id: str, lease_id: str) -> str | Refusal:
        state, at = self._locate(t, pool_id)
        if state == "missing":
            return Refusal("missing")
        if state == "moved":
            return Refusal("moved", at)
        if state not in _OPEN or t.get("lease_id") != lease_id:
            if t.get("prev_lease") == lease_id:
                return Refusal("ended", t["prev_end"])
            return Refusal("not_yours") if state in _OPEN else Refusal("state", state)
        if t["lease_until"] <= self.store._clock():
            return Refusal("expired")
        return state

    def _grant(
        self, t: dict[str, Any], pool_id: str, tid: str, agent: str, lease_id: str, ms: int
    ) -> int:
        now = self.store._clock()
        t.pop("accepted_at", None)
        t.update(state="leased", agent=agent, lease_id=lease_id, lease_until=now + ms)
        t.update(lease_ms=ms, leased_at=now)
        self._leases(pool_id)[tid] = now + ms
        self.escalations.setdefault(tid, 0)
        return now + ms

    def _end(self, t: dict[str, Any], pool_id: str, tid: str, why: str) -> None:
        if "lease_id" in t:
            t.update(prev_lease=t["lease_id"], prev_end=why)
        for name in ("agent", "lease_id", "lease_until", "lease_ms", "leased_at", "accepted_at"):
            t.pop(name, None)
        self._leases(pool_id).pop(tid, None)

    def _requeue(self, t: dict[str, Any], pool_id: str, tid: str) -> None:
        t["state"] = "assigned"
        self._backlog(pool_id)[tid] = float(t.get("score", 0))

    def _decr(self, pool_id: str) -> None:
        if self.store.load.get(pool_id, 0) > 0:
            self.store.load[pool_id] -= 1

    async def pull(
        self, pool_id: str, agent: str, lease_id: str, lease_ms: int, capacity: int
    ) -> Lease | Refusal:
        open_ = len(self._leases(pool_id))
        if open_ >= capacity:
            return _open_refusal("full", open_)
        backlog = self._backlog(pool_id)
        for _ in range(100):
            if not backlog:
                break
            tid = _by_score(backlog)[0]
            del backlog[tid]
            t = self._ticket(tid)
            if t.get("state") == "assigned" and t.get("pool") == pool_id:
                until = self._grant(t, pool_id, tid, agent, lease_id, lease_ms)
                return Lease(tid, agent, lease_id, until, t["record"])
        return _open_refusal("empty", open_)

    async def claim(
        self, pool_id: str, ticket_id: str, agent: str, lease_id: str, lease_ms: int, capacity: int
    ) -> Lease | Refusal:
        t = self._ticket(ticket_id)
        state, at = self._locate(t, pool_id)
        if state in ("missing", "moved"):
            return Refusal("moved", at) if state == "moved" else Refusal("missing")
        if state in _OPEN:
            if t["agent"] == agent and t["lease_until"] > self.store._clock():
                return Lease(ticket_id, agent, t["lease_id"], t["lease_until"], t["record"])
            return Refusal("taken")
        if state != "assigned":
            return Refusal("state", state)
        open_ = len(self._leases(pool_id))
        if open_ >= capacity:
            return _open_refusal("full", open_)
        self._backlog(pool_id).pop(ticket_id, None)
        until = self._grant(t, pool_id, ticket_id, agent, lease_id, lease_ms)
        return Lease(ticket_id, agent, lease_id, until, t["record"])

    async def act(
        self, action: Action, pool_id: str, ticket_id: str, lease_id: str, argument: str = ""
    ) -> Acted | Refusal:
        t = self._ticket(ticket_id)
        held = self._holder(t, pool_id, lease_id)
        if action == "complete" and held == Refusal("ended", "completed"):
            return Acted("completed", 0)
        if isinstance(held, Refusal):
            return held
        now, until = self.store._clock(), int(t["lease_until"])
        if action == "check":
            return Acted(held, until, t["record"], t["agent"])
        if action == "accept":
            if held == "leased":
                until = now + int(t["lease_ms"])
                t.update(state="accepted", accepted_at=now, lease_until=until)
                self._leases(pool_id)[ticket_id] = until
                self.escalations.pop(ticket_id, None)
            return Acted("accepted", until)
        if action == "extend":
            until = max(until, now + int(argument))
            t["lease_until"] = self._leases(pool_id)[ticket_id] = until
            return Acted(held, until)
        if action == "complete":
            t["completed_by"] = t["agent"]
            self._end(t, pool_id, ticket_id, "completed")
            t.update(state="completed", completed_at=now, outcome=argument)
            self.escalations.pop(ticket_id, None)
            self._decr(pool_id)
            return Acted("completed", 0)
        self._end(t, pool_id, ticket_id, "released")
        self._requeue(t, pool_id, ticket_id)
        t.update(release_reason=argument, releases=t.get("releases", 0) + 1)
        return Acted("assigned", 0)

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
        if (lease_id is None) == (steps_used is None):
            raise ValueError("give exactly one of lease_id and steps_used")
        t = self._ticket(ticket_id)
        state = t.get("state")
        if lease_id is not None:
            held = self._holder(t, from_pool, lease_id)
            if isinstance(held, Refusal):
                return held
        elif (
            state not in ("assigned", "leased")
            or t.get("pool") != from_pool
            or t.get("step", 0) != steps_used
        ):
            return Refusal("stale")
        t.update(record=record, step=new_steps_used)
        if to_pool != from_pool or lease_id is not None:
            if state in _OPEN:
                self._end(t, from_pool, ticket_id, why)
            self._backlog(from_pool).pop(ticket_id, None)
            seen = t.get("visited") or f",{from_pool},"
            t.update(pool=to_pool, visited=seen if f",{to_pool}," in seen else f"{seen}{to_pool},")
            self._requeue(t, to_pool, ticket_id)
            if to_pool != from_pool:
                self._decr(from_pool)
                self.store.load[to_pool] = self.store.load.get(to_pool, 0) + 1
        self.escalations[ticket_id] = 0
        return None

    async def expire(self, pool_id: str, limit: int = 200) -> builtins.list[str]:
        now, leases = self.store._clock(), self._leases(pool_id)
        out = []
        for tid in [t for t in _by_score(leases) if leases[t] <= now][:limit]:
            t = self._ticket(tid)
            if t.get("state") in _OPEN and t.get("pool") == pool_id:
                if t["lease_until"] <= now:
                    self._end(t, pool_id, tid, "expired")
                    self._requeue(t, pool_id, tid)
                    out.append(tid)
                else:
                    leases[tid] = t["lease_until"]
            else:
                del leases[tid]
        return out

    async def discover(self, pool_id: str) -> int:
        new = [tid for tid in self._backlog(pool_id) if tid not in self.escalations]
        self.escalations.update(dict.fromkeys(new, 0))
        return len(new)

    async def due(
        self, now_ms: int, limit: int = 200
    ) -> builtins.list[tuple[str, int, bytes, str]]:
        ids = [t for t in _by_score(self.escalations) if self.escalations[t] <= now_ms][:limit]
        rows = [(tid, self._ticket(tid)) for tid in ids]
        return [
            (tid, int(t.get("step", 0)), t.get("record", b"{}"), str(t.get("state", "")))
            for tid, t in rows
        ]

    async def reschedule_many(self, items: Sequence[tuple[str, int, float]]) -> None:
        for ticket_id, steps_used, due_ms in items:
            t = self._ticket(ticket_id)
            if t.get("state") not in ("assigned", "leased"):
                self.escalations.pop(ticket_id, None)
            elif t.get("step", 0) == steps_used:
                self.escalations[ticket_id] = due_ms if math.isinf(due_ms) else int(due_ms)

    async def server_ms(self) -> int:
        return self.store._clock()

    async def counts(self, pool_id: str) -> tuple[int, int]:
        return len(self._backlog(pool_id)), len(self._leases(pool_id))

    async def loads(self, pool_ids: Sequence[str]) -> dict[str, int]:
        return await self.store.loads(pool_ids)

    async def listing(
        self, pool_id: str, limit: int
    ) -> tuple[builtins.list[Held], builtins.list[Held]]:
        def held(tid: str) -> Held:
            t = self._ticket(tid)
            until = t.get("lease_until")
            return Held(tid, t.get("state", "missing"), t.get("agent"), until, t.get("record"))

        queued = _by_score(self._backlog(pool_id))[:limit]
        leased = _by_score(self._leases(pool_id))[:limit]
        return [held(t) for t in queued], [held(t) for t in leased]


@dataclass
class MemoryPresence:
    """Presence semantics (``queues.lease_presence``) in dicts, on ``clock`` (ms)."""

    clock: Callable[[], int] = wall_ms
    ttl_ms: int = DEFAULT_TTL_MS
    forget_ms: int = DEFAULT_FORGET_MS
    statuses: dict[str, dict[str, Status]] = field(default_factory=dict)
    heartbeats: dict[str, dict[str, int]] = field(default_factory=dict)

    async def beat(self, pool_id: str, agent: str, status: Status) -> int:
        now = self.clock()
        self.statuses.setdefault(pool_id, {})[agent] = status
        self.heartbeats.setdefault(pool_id, {})[agent] = now
        return now + self.ttl_ms

    async def agents(self, pool_id: str) -> dict[Status, builtins.list[str]]:
        now, said = self.clock(), self.statuses.get(pool_id, {})
        out: dict[Status, builtins.list[str]] = {s: [] for s in STATUSES}
        for agent, last in self.heartbeats.get(pool_id, {}).items():
            status = said.get(agent, "offline")
            out["offline" if now - last > self.ttl_ms else status].append(agent)
        return {status: sorted(names) for status, names in out.items()}

    async def prune(self, pool_id: str, now_ms: int) -> int:
        beats = self.heartbeats.get(pool_id, {})
        gone = [agent for agent, last in beats.items() if last <= now_ms - self.forget_ms]
        for agent in gone:
            del beats[agent]
            self.statuses.get(pool_id, {}).pop(agent, None)
        return len(gone)


class FixedClassifier:
    """Predicts English tier-1 billing for everything (the model is not under test)."""

    version = "fixed-1"

    def predict(self, items: Sequence[ClassifierInput]) -> list[Prediction]:
        return [
            Prediction("en", 0.99, "tier1", 0.9, "billing", 0.9, "UTC", "none", self.version)
            for _ in items
        ]


@dataclass
class MemoryKpiStore:
    """KpiStore semantics in dicts (no expiry): minute, hour and day buckets, idempotent
    writes by id, and the longest waits read from a memory ticket store's backlogs."""

    tickets: MemoryTicketStore | None = None
    minutes: dict[int, dict[str, int]] = field(default_factory=dict)
    hours: dict[int, dict[str, int]] = field(default_factory=dict)
    days: dict[int, dict[str, int]] = field(default_factory=dict)
    written: set[str] = field(default_factory=set)
    fail_next: int = 0
    writes: int = 0  # writes that added something: what batching saves

    async def add(
        self, buckets: Mapping[int, Mapping[str, int]], write_id: str | None = None
    ) -> None:
        if self.fail_next > 0:
            self.fail_next -= 1
            raise TransientError("redis: connection refused (simulated)")
        if write_id is not None and write_id in self.written:
            return
        if write_id is not None:
            self.written.add(write_id)
        self.writes += 1
        for minute, fields in buckets.items():
            for target in (
                self.minutes.setdefault(minute, {}),
                self.hours.setdefault(minute // 60, {}),
                self.days.setdefault(minute // 1440, {}),
            ):
                for name, n in fields.items():
                    target[name] = target.get(name, 0) + n

    async def read(
        self,
        minutes: Sequence[int],
        hours: Sequence[int],
        days: Sequence[int],
        fields: Sequence[str] | None = None,
    ) -> dict[str, int]:
        out: dict[str, int] = {}
        buckets = [
            *(self.minutes.get(m, {}) for m in minutes),
            *(self.hours.get(h, {}) for h in hours),
            *(self.days.get(d, {}) for d in days),
        ]
        for bucket in buckets:
            for name, n in bucket.items():
                if fields is None or name in fields:
                    out[name] = out.get(name, 0) + n
        return {k: v for k, v in out.items() if v}

    async def oldest_waiting(self, pool_ids: Sequence[str]) -> dict[str, int]:
        backlogs = self.tickets.backlogs if self.tickets is not None else {}
        out = {}
        for pool_id in pool_ids:
            scores = backlogs.get(pool_id, {}).values()
            if scores:
                out[pool_id] = min(int(s) % 10**13 for s in scores)
        return out
