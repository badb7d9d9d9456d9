"""What keeps assignments moving when agents do not: expired leases go back to their
pool's backlog, tickets not accepted in time move on along their escalation steps.

Every replica runs a :class:`LeaseSweeper`; each change it makes is a Lua
check-and-set, so N sweepers at once do each move once. :class:`TicketMover`
(shared with the agents' escalate endpoint) re-decides, stores and announces a
move; :class:`BacklogWatch` wakes the long-polling pulls of this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter

from router.config.load import RoutingConfig
from router.core.assignment import Assignment, MaskFn
from router.core.errors import TransientError
from router.core.leases import Refusal
from router.core.masking import mask_ticket
from router.service.current import Current
from router.service.escalation import Move, Record, agent_move, due_step, sla_move, typed
from router.service.ports import AssignmentPublisher, LeaseStore, Presence

log = logging.getLogger(__name__)


class LeaseMetrics:
    """Counters of the agents' side, on the service's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.granted = Counter(
            "router_leases_granted", "Leases granted, per pool and how", ["pool", "via"],
            registry=registry,
        )  # fmt: skip
        self.expired = Counter(
            "router_leases_expired", "Leases that ran out and went back to the backlog",
            ["pool"], registry=registry,
        )  # fmt: skip
        self.actions = Counter(
            "router_lease_actions", "Lease actions done, per pool and action",
            ["pool", "action"], registry=registry,
        )  # fmt: skip
        self.refused = Counter(
            "router_lease_refusals", "Lease requests refused, per reason", ["reason"],
            registry=registry,
        )  # fmt: skip
        self.escalations = Counter(
            "router_escalations", "Tickets moved to another pool, per kind (agent, sla)",
            ["kind", "from_pool", "to_pool"], registry=registry,
        )  # fmt: skip


class BacklogWatch:
    """Wakes this process's pulls waiting on a pool when it may have work for them.

    One poller per pool with waiters asks Redis whether the pool has queued tickets
    and free capacity, so the cost does not grow with the number of waiting agents;
    :meth:`notify` wakes them at once when this process queues something itself.
    """

    def __init__(self, probe: Callable[[str], Awaitable[bool]], interval_s: float = 0.05):
        self._probe = probe
        self._interval = interval_s
        self._events: dict[str, asyncio.Event] = {}
        self._waiters: dict[str, int] = {}
        self._pollers: dict[str, asyncio.Task[None]] = {}
        #: Set when the service stops: waiting pulls answer 204 at once.
        self.closing = False

    async def wait(self, pool_id: str, timeout: float) -> None:
        """Return when the pool may have work, or after ``timeout`` seconds."""
        if self.closing:
            return
        event = self._events.setdefault(pool_id, asyncio.Event())
        self._waiters[pool_id] = self._waiters.get(pool_id, 0) + 1
        if pool_id not in self._pollers:
            self._pollers[pool_id] = asyncio.create_task(self._poll(pool_id))
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout)
        finally:
            self._waiters[pool_id] -= 1

    def notify(self, pool_id: str) -> None:
        """Wake every pull waiting on ``pool_id``."""
        event = self._events.pop(pool_id, None)
        if event is not None:
            event.set()

    async def _poll(self, pool_id: str) -> None:
        try:
            while self._waiters.get(pool_id, 0) > 0:
                try:
                    if await self._probe(pool_id):
                        self.notify(pool_id)
                except TransientError:
                    pass  # the waiters time out into a 204; Redis may be back by then
                await asyncio.sleep(self._interval)
        finally:
            self._pollers.pop(pool_id, None)

    def shut(self) -> None:
        """Wake every waiting pull for good (the service is stopping)."""
        self.closing = True
        for pool_id in list(self._events):
            self.notify(pool_id)

    async def close(self) -> None:
        """Stop every poller."""
        tasks = list(self._pollers.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _now() -> datetime:
    return datetime.now(UTC)


class TicketMover:
    """Re-decides a ticket, stores the move (check-and-set) and publishes the new
    assignment to its pool's queue."""

    def __init__(
        self,
        store: LeaseStore,
        publisher: AssignmentPublisher,
        config: Current[RoutingConfig],
        metrics: LeaseMetrics,
        watch: BacklogWatch,
        mask: MaskFn = mask_ticket,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._config = config
        self._metrics = metrics
        self._watch = watch
        self._mask = mask
        self._clock = clock

    async def by_agent(
        self, pool_id: str, ticket_id: str, lease_id: str, reason: str
    ) -> Move | Refusal:
        """The lease holder escalates to tier 2; the refusal if it does not hold it."""
        checked = await self._store.act("check", pool_id, ticket_id, lease_id)
        if isinstance(checked, Refusal):
            return checked
        record = Assignment.decode(checked.record or b"{}")
        config = self._config.value
        loads = await self._store.loads(config.pool_ids)
        move = agent_move(record, checked.agent or "?", reason, config, loads, self._clock())
        encoded = move.assignment.encode()
        refused = await self._store.move(
            ticket_id,
            from_pool=pool_id,
            to_pool=move.pool_id,
            record=encoded,
            lease_id=lease_id,
            new_steps_used=0,
            why="escalated",
        )
        if refused is not None:
            return refused
        await self._announce(ticket_id, pool_id, move, "agent", encoded)
        return move

    async def by_sla(
        self,
        ticket_id: str,
        record: Record,
        used: int,
        index: int,
        now: datetime,
        loads: dict[str, int],
    ) -> bool:
        """Carry out step ``index`` of the ticket's escalation plan; False if another
        replica (or an agent) changed the ticket first."""  # fmt: skip
        config = self._config.value
        move = sla_move(record, index, config, loads, now)
        from_pool = typed(record).pool_id
        encoded = move.assignment.encode()
        refused = await self._store.move(
            ticket_id,
            from_pool=from_pool,
            to_pool=move.pool_id,
            record=encoded,
            steps_used=used,
            new_steps_used=index + 1,
            why="escalated",
        )
        if refused is not None:
            return False
        log.info("ticket %s: %s", ticket_id, move.why)
        if move.moved:
            loads[from_pool] = max(loads.get(from_pool, 0) - 1, 0)
            loads[move.pool_id] = loads.get(move.pool_id, 0) + 1
            await self._announce(ticket_id, from_pool, move, "sla", encoded)
        return True

    async def _announce(
        self, ticket_id: str, from_pool: str, move: Move, kind: str, encoded: bytes
    ) -> None:
        self._watch.notify(move.pool_id)
        if not move.moved:
            return
        self._metrics.escalations.labels(kind, from_pool, move.pool_id).inc()
        body = move.assignment.for_pool(self._mask, encoded)
        # The move is stored: the new pool's pulls see it already. The message tells
        # the pool's queue consumers; retry a broker hiccup rather than lose it.
        for attempt in range(3):
            try:
                await self._publisher.publish_assignment(move.pool_id, ticket_id, body)
                return
            except TransientError as exc:
                log.warning("ticket %s: publish to %s failed: %s", ticket_id, move.pool_id, exc)
                await asyncio.sleep(0.2 * 2**attempt)
        log.error("ticket %s moved to %s but its queue was not told", ticket_id, move.pool_id)


class LeaseSweeper:
    """Returns expired leases and carries out due escalation steps, every ``interval_s``."""

    def __init__(
        self,
        store: LeaseStore,
        presence: Presence,
        mover: TicketMover,
        config: Current[RoutingConfig],
        metrics: LeaseMetrics,
        watch: BacklogWatch,
        *,
        interval_s: float = 1.0,
        batch: int = 200,
    ) -> None:
        self._store = store
        self._presence = presence
        self._mover = mover
        self._config = config
        self._metrics = metrics
        self._watch = watch
        self._interval = interval_s
        self._batch = batch
        self._passes = 0

    async def sweep_once(self) -> None:
        """One pass; Redis being away only skips it (the next pass tries again)."""
        try:
            await self.sweep()
        except TransientError as exc:
            log.warning("lease sweep skipped: %s", exc)

    @property
    def interval_s(self) -> float:
        """Seconds between passes."""
        return self._interval

    async def sweep(self) -> tuple[int, int]:
        """One pass over every pool: (leases expired, escalation steps carried out)."""
        config = self._config.value
        now_ms = await self._store.server_ms()
        expired = 0
        for pool_id in config.pool_ids:
            while True:
                ids = await self._store.expire(pool_id, self._batch)
                if ids:
                    expired += len(ids)
                    self._metrics.expired.labels(pool_id).inc(len(ids))
                    self._watch.notify(pool_id)
                    log.info("pool %s: %d expired lease(s) back in the backlog", pool_id, len(ids))
                if len(ids) < self._batch:
                    break
            await self._store.discover(pool_id)
            if self._passes % 600 == 0:
                await self._presence.prune(pool_id, now_ms)
        self._passes += 1
        return expired, await self._escalate(now_ms)

    async def _escalate(self, now_ms: int) -> int:
        due = await self._store.due(now_ms, self._batch)
        if not due:
            return 0
        now = datetime.fromtimestamp(now_ms / 1000, UTC)
        loads = await self._store.loads(self._config.value.pool_ids)
        done = 0
        later: list[tuple[str, int, float]] = []  # rescheduled together, one round trip
        for ticket_id, used, raw, state in due:
            try:
                if state not in ("assigned", "leased"):
                    later.append((ticket_id, used, math.inf))  # drops it
                    continue
                record = Assignment.decode(raw)
                step = due_step(record, used, now)
                if step.index is None:
                    at = step.next_due.timestamp() * 1000 if step.next_due else math.inf
                    later.append((ticket_id, used, at))
                elif await self._mover.by_sla(ticket_id, record, used, step.index, now, loads):
                    done += 1
            except TransientError:
                raise
            except Exception:
                # A record that cannot be re-decided must not stall the others: look
                # again in a minute.
                log.exception("ticket %s: escalation check failed", ticket_id)
                later.append((ticket_id, used, now_ms + 60_000))
        await self._store.reschedule_many(later)
        return done


@dataclass(frozen=True, slots=True)
class AgentDesk:
    """Everything the agents' endpoints use, opened once per application."""

    store: LeaseStore
    presence: Presence
    mover: TicketMover
    watch: BacklogWatch
    metrics: LeaseMetrics
