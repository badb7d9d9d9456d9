"""KPIs: what the service records as tickets are routed and worked, and the figures it
reports from them (``GET /v1/stats``, the vendor scorecards, the pool gauges).

:class:`KpiRecorder` adds events to an in-memory :class:`~router.core.kpi.Tally` on the
hot path (no round trip) and writes it to the :class:`~router.service.ports.KpiStore`
behind it, one write at a time: what arrives while one write is on its way goes in the
next, so a burst costs one write per batch at most. Routing reports its assignments
(``TicketRouter``); :class:`KpiLeaseStore` wraps the lease store the agents' endpoints
and the sweeper use, so acceptances, completions, releases, expiries and escalations
are counted where they are stored, whoever makes them. :class:`Stats` reads the
buckets back and :class:`PoolGauges` keeps the per-pool gauges.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import csv
import io
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

from router.config.load import RoutingConfig
from router.core import kpi
from router.core.assignment import Assignment
from router.core.domain import POOL_KINDS
from router.core.errors import InvalidInput, TransientError
from router.core.kpi import CODES, COST, Event, Tally
from router.core.leases import Acted, Action, Held, Lease, PresenceStatus, Refusal
from router.service.current import Current
from router.service.escalation import iso, parse_time
from router.service.metrics import Metrics
from router.service.ports import KpiStore, LeaseStore, Presence, StoredTicket, TicketStore

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# Coarser than the stored histogram: one series per bucket and pool on every scrape.
_PROMETHEUS_EDGES = (30, 60, 120, 300, 600, 1800, 3600, 7200, 14400, 28800, 86400, 604800)
UNKNOWN = "unknown"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class KpiMetrics:
    """The KPI counters as Prometheus series, labelled by pool (never by ticket)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.events = Counter(
            "router_kpi_events", "Ticket events per pool: routed, accepted, completed, "
            "escalated (from the pool), released, expired", ["pool", "event"], registry=registry,
        )  # fmt: skip
        self.sla = Counter(
            "router_kpi_sla", "Tickets accepted before (met) or after (missed) their sla_due",
            ["pool", "outcome"], registry=registry,
        )  # fmt: skip
        self.cost = Counter(
            "router_kpi_cost", "Cost of the tickets routed (the pool's cost_per_ticket each)",
            ["pool"], registry=registry,
        )  # fmt: skip
        self.accept_seconds = Histogram(
            "router_kpi_time_to_accept_seconds", "From receipt to the agent's acceptance",
            ["pool"], buckets=_PROMETHEUS_EDGES, registry=registry,
        )  # fmt: skip
        self.complete_seconds = Histogram(
            "router_kpi_time_to_complete_seconds", "From receipt to completion",
            ["pool"], buckets=_PROMETHEUS_EDGES, registry=registry,
        )  # fmt: skip
        self.write_failures = Counter(
            "router_kpi_write_failures", "KPI writes to Redis that failed (kept and retried)",
            registry=registry,
        )  # fmt: skip


def _decode(raw: bytes | None) -> Assignment | None:
    try:
        return Assignment.decode(raw) if raw else None
    except Exception:  # a record this version cannot read: counted without its labels
        return None


class KpiRecorder:
    """Counts events in memory at once and writes them to the store behind the caller's
    back (see the module's docstring); :meth:`flush` writes what is pending now."""

    def __init__(
        self,
        store: KpiStore,
        config: Current[RoutingConfig],
        metrics: KpiMetrics,
        *,
        clock: Clock = _utc_now,
        write_every_s: float = 0.25,
    ) -> None:
        self._store = store
        self._config = config
        self._metrics = metrics
        self._clock = clock
        # Writes are at most this often: counts that arrive meanwhile go in one write
        # (a round trip and a script per batch would cost more than the counting).
        self._every = write_every_s
        self._pending = Tally()
        # Hot-path caches: a batch shares its decision time; Prometheus children by label.
        self._minutes: dict[str, int] = {}
        self._events: dict[tuple[str, str], Counter] = {}
        self._costs: dict[str, Counter] = {}
        # A write that failed, with its id: sent again as it was, so that if it did reach
        # Redis (the reply was lost) the store adds it once.
        self._retry: tuple[str, Tally] | None = None
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    @property
    def clock(self) -> Clock:
        """The clock lease events are dated by."""
        return self._clock

    def routed(self, records: Iterable[Assignment]) -> None:
        """Count assignments just recorded: routed, their cost, coverage gaps."""
        config = self._config.value
        for a in records:
            minute = self._minute_of(a.decided_at)
            dims = kpi.dimensions(a.pool_id, a.language, a.tier)
            self._pending.add(minute, dims, CODES["routed"])
            cost = config.pool(a.pool_id).cost_per_ticket if config.has_pool(a.pool_id) else 0.0
            if units := kpi.cost_units(cost):
                self._pending.add(minute, dims, COST, units)
                cost_series = self._costs.get(a.pool_id)
                if cost_series is None:
                    cost_series = self._costs[a.pool_id] = self._metrics.cost.labels(a.pool_id)
                cost_series.inc(units / kpi.COST_SCALE)
            if a.fallback is not None:
                self._pending.add(minute, dims, kpi.GAP)
            self._count(a.pool_id, "routed")
        self._kick()

    def _minute_of(self, text: str) -> int:
        minute = self._minutes.get(text)
        if minute is None:
            if len(self._minutes) > 1000:
                self._minutes.clear()
            minute = self._minutes[text] = kpi.epoch_minute(parse_time(text))
        return minute

    def _count(self, pool_id: str, event: str) -> None:
        series = self._events.get((pool_id, event))
        if series is None:
            series = self._events[(pool_id, event)] = self._metrics.events.labels(pool_id, event)
        series.inc()

    def lease_event(self, event: Event, pool_id: str, record: Assignment | None) -> None:
        """Count one event of a ticket of ``pool_id`` (its record gives the language, the
        tier, the receipt time and the SLA due time), dated now."""
        at = self._clock()
        minute = kpi.epoch_minute(at)
        language, tier = (record.language, record.tier) if record else (UNKNOWN, UNKNOWN)
        dims = kpi.dimensions(pool_id, language, tier)
        self._pending.add(minute, dims, CODES[event])
        self._count(pool_id, event)
        if record is not None and event in ("accepted", "completed"):
            seconds = max((at - parse_time(record.received_at)).total_seconds(), 0.0)
            code = kpi.ACCEPT if event == "accepted" else kpi.COMPLETE
            self._pending.add(minute, dims, code + kpi.edge_of(seconds))
            m = self._metrics
            (m.accept_seconds if event == "accepted" else m.complete_seconds).labels(
                pool_id
            ).observe(seconds)
            if event == "accepted" and record.sla_due is not None:
                met = at <= parse_time(record.sla_due)
                self._pending.add(minute, dims, kpi.SLA_MET if met else kpi.SLA_MISSED)
                self._metrics.sla.labels(pool_id, "met" if met else "missed").inc()
        self._kick()

    def _kick(self) -> None:
        if self._task is None or self._task.done():
            with contextlib.suppress(RuntimeError):  # no running loop: the next flush writes
                self._task = asyncio.get_running_loop().create_task(self._drain(), name="kpi")

    async def _drain(self) -> None:
        delay = 0.5
        while self._pending or self._retry is not None:
            await asyncio.sleep(self._every)
            try:
                await self._write_once()
                delay = 0.5
            except TransientError as exc:
                log.warning("KPI counts not written yet (kept, retrying): %s", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    async def _write_once(self) -> None:
        async with self._lock:
            if self._retry is None:
                if not self._pending:
                    return
                self._retry, self._pending = (uuid.uuid4().hex, self._pending), Tally()
            write_id, batch = self._retry
            try:
                await self._store.add(batch.plain(), write_id)
            except TransientError:
                self._metrics.write_failures.inc()
                # While Redis is away, memory stays bounded: older minutes are let go.
                oldest = kpi.epoch_minute(self._clock()) - kpi.READABLE[0]
                batch.prune(oldest)
                self._pending.prune(oldest)
                raise
            self._retry = None

    async def flush(self) -> None:
        """Write every count recorded so far; ``TransientError`` if the store is away
        (the counts are kept for the next try)."""
        while self._pending or self._retry is not None:
            await self._write_once()

    async def close(self) -> None:
        """Stop writing in the background; one last try to write what is pending."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        try:
            await asyncio.wait_for(self.flush(), 5.0)
        except (TransientError, TimeoutError) as exc:
            log.warning("KPI counts of the last moments not written: %s", exc)


class KpiLeaseStore:
    """A :class:`~router.service.ports.LeaseStore` that counts the KPI events of the
    store it wraps: acceptances (a completion straight from a lease counts as one too),
    completions, releases, expiries, and escalations out of a pool. An action's holder
    is checked first (one more script call), so a repeated accept or complete is not
    counted again."""

    def __init__(self, inner: LeaseStore, tickets: TicketStore, recorder: KpiRecorder) -> None:
        self._inner = inner
        self._tickets = tickets
        self._kpi = recorder

    async def act(
        self, action: Action, pool_id: str, ticket_id: str, lease_id: str, argument: str = ""
    ) -> Acted | Refusal:
        """The wrapped store's ``act``, counted when it changed the ticket."""
        if action not in ("accept", "complete", "release"):
            return await self._inner.act(action, pool_id, ticket_id, lease_id, argument)
        before = await self._inner.act("check", pool_id, ticket_id, lease_id)
        done = await self._inner.act(action, pool_id, ticket_id, lease_id, argument)
        if isinstance(done, Acted) and isinstance(before, Acted):
            record = _decode(before.record)
            if action == "release":
                self._kpi.lease_event("released", pool_id, record)
            elif before.state == "leased":
                self._kpi.lease_event("accepted", pool_id, record)
            if action == "complete":
                self._kpi.lease_event("completed", pool_id, record)
        return done

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
        """The wrapped store's ``move``; a ticket that leaves its pool counts as an
        escalation of that pool (with the language and tier it had there)."""
        before = None
        if to_pool != from_pool:
            with contextlib.suppress(TransientError):  # the move itself will say
                before = await self._tickets.get(ticket_id)
        refused = await self._inner.move(
            ticket_id,
            from_pool=from_pool,
            to_pool=to_pool,
            record=record,
            lease_id=lease_id,
            steps_used=steps_used,
            new_steps_used=new_steps_used,
            why=why,
        )
        if refused is None and to_pool != from_pool:
            old = _decode(before.record) if before is not None else None
            self._kpi.lease_event("escalated", from_pool, old or _decode(record))
        return refused

    async def expire(self, pool_id: str, limit: int = 200) -> builtins.list[str]:
        """The wrapped store's ``expire``, each lease returned counted as expired."""
        ids = await self._inner.expire(pool_id, limit)
        if ids:
            stored = await asyncio.gather(
                *(self._tickets.get(t) for t in ids), return_exceptions=True
            )
            for found in stored:
                raw = found.record if isinstance(found, StoredTicket) else None
                self._kpi.lease_event("expired", pool_id, _decode(raw))
        return ids

    async def pull(
        self, pool_id: str, agent: str, lease_id: str, lease_ms: int, capacity: int
    ) -> Lease | Refusal:
        """The wrapped store's ``pull``."""
        return await self._inner.pull(pool_id, agent, lease_id, lease_ms, capacity)

    async def claim(
        self, pool_id: str, ticket_id: str, agent: str, lease_id: str, lease_ms: int, capacity: int
    ) -> Lease | Refusal:
        """The wrapped store's ``claim``."""
        return await self._inner.claim(pool_id, ticket_id, agent, lease_id, lease_ms, capacity)

    async def discover(self, pool_id: str) -> int:
        """The wrapped store's ``discover``."""
        return await self._inner.discover(pool_id)

    async def due(
        self, now_ms: int, limit: int = 200
    ) -> builtins.list[tuple[str, int, bytes, str]]:
        """The wrapped store's ``due``."""
        return await self._inner.due(now_ms, limit)

    async def reschedule_many(self, items: Sequence[tuple[str, int, float]]) -> None:
        """The wrapped store's ``reschedule_many``."""
        await self._inner.reschedule_many(items)

    async def server_ms(self) -> int:
        """The wrapped store's clock."""
        return await self._inner.server_ms()

    async def counts(self, pool_id: str) -> tuple[int, int]:
        """The wrapped store's ``counts``."""
        return await self._inner.counts(pool_id)

    async def loads(self, pool_ids: Sequence[str]) -> dict[str, int]:
        """The wrapped store's ``loads``."""
        return await self._inner.loads(pool_ids)

    async def listing(
        self, pool_id: str, limit: int
    ) -> tuple[builtins.list[Held], builtins.list[Held]]:
        """The wrapped store's ``listing``."""
        return await self._inner.listing(pool_id, limit)


async def _backlog(
    store: KpiStore, leases: LeaseStore, config: RoutingConfig, now: datetime
) -> dict[str, Any]:
    """Each configured pool's queued and open counts and its longest wait, now."""
    pools = list(config.pool_ids)
    counts = await asyncio.gather(*(leases.counts(p) for p in pools))
    oldest = await store.oldest_waiting(pools)
    now_ms = now.timestamp() * 1000
    per_pool: dict[str, dict[str, Any]] = {}
    for pool_id, (queued, open_) in zip(pools, counts, strict=True):
        since = oldest.get(pool_id)
        per_pool[pool_id] = {
            "queued": queued,
            "open": open_,
            "capacity": config.pool(pool_id).capacity,
            "oldest_waiting_seconds": max(now_ms - since, 0) / 1000 if since else None,
        }
    first = min(oldest.values(), default=None)
    return {
        "queued": sum(c[0] for c in counts),
        "open": sum(c[1] for c in counts),
        "oldest_received_at": iso(datetime.fromtimestamp(first / 1000, UTC)) if first else None,
        "oldest_waiting_seconds": max(now_ms - first, 0) / 1000 if first else None,
        "pools": per_pool,
    }


class Stats:
    """The figures of ``GET /v1/stats`` and of the vendor scorecards, from the buckets
    every replica writes (so every replica answers the same)."""

    def __init__(
        self,
        store: KpiStore,
        leases: LeaseStore,
        config: Current[RoutingConfig],
        recorder: KpiRecorder | None = None,
        *,
        clock: Clock = _utc_now,
    ) -> None:
        self._store = store
        self._leases = leases
        self._config = config
        self._recorder = recorder
        self._clock = clock

    async def _now(self) -> datetime:
        # This replica's own counts first, so it reads what it just recorded.
        if self._recorder is not None:
            await self._recorder.flush()
        return self._clock()

    def vendor_pools(self, vendor: str) -> list[str]:
        """The pools of vendor ``vendor`` (its key) in the config in force."""
        config = self._config.value
        return [p for p in config.pool_ids if kpi.vendor_key(config.pool(p).vendor) == vendor]

    async def report(
        self,
        *,
        by: str = "overall",
        period: str | None = None,
        tz: str | None = None,
        start: str | None = None,
        end: str | None = None,
    ) -> dict[str, Any]:
        """The KPIs of a period (see :func:`router.core.kpi.window`) overall and grouped
        ``by`` pool, vendor, language or tier, the in-house and outsourced shares and the
        backlog now. ``InvalidInput`` for a bad parameter."""
        now = await self._now()
        first, last = kpi.window(now, period=period, tz=tz, start=start, end=end)
        if by not in kpi.GROUPINGS:
            raise InvalidInput("by", f"must be one of {', '.join(kpi.GROUPINGS)}")
        p = kpi.plan(first, last, kpi.epoch_minute(now))
        counts = await self._store.read(p.minutes, p.hours, p.days)
        config = self._config.value
        pools = sorted({*config.pool_ids, *kpi.values_of(counts, "p")})
        return {
            "from": iso(kpi.minute_start(p.start_minute)),
            "to": iso(kpi.minute_start(p.end_minute)),
            "by": by,
            "overall": kpi.summary(counts, [kpi.OVERALL]),
            "groups": {k: kpi.summary(counts, d) for k, d in _groups(counts, by, config, pools)},
            "share": _shares(counts, config, pools),
            "backlog": await _backlog(self._store, self._leases, config, now),
        }

    async def scorecard(self, vendor: str, pools: Sequence[str], weeks: int) -> dict[str, Any]:
        """Week by week (ISO weeks, UTC, oldest first) for ``pools`` of ``vendor``: volume,
        SLA attainment, cost, escalations, expiries."""
        now = await self._now()
        config = self._config.value
        codes = [*CODES.values(), COST, kpi.SLA_MET, kpi.SLA_MISSED]
        fields = [f"p:{p}|{code}" for p in pools for code in codes]
        dims = [f"p:{p}" for p in pools]
        spans = kpi.iso_weeks(now, weeks)
        plans = [kpi.plan(first, last, kpi.epoch_minute(now)) for _, first, last in spans]
        reads = await asyncio.gather(
            *(self._store.read(p.minutes, p.hours, p.days, fields) for p in plans)
        )
        rows = []
        for (label, _, _), p, counts in zip(spans, plans, reads, strict=True):
            figures = kpi.summary(counts, dims)
            rows.append(
                {
                    "week": label,
                    "from": iso(kpi.minute_start(p.start_minute)),
                    "to": iso(kpi.minute_start(p.end_minute)),
                    **{name: figures[name] for name in kpi.EVENTS},
                    "sla_met": figures["sla"]["met"],
                    "sla_missed": figures["sla"]["missed"],
                    "sla_attainment": figures["sla"]["attainment"],
                    "cost": figures["cost"],
                }
            )
        names = {config.pool(p).vendor for p in pools if config.has_pool(p)}
        return {
            "vendor": vendor,
            "name": next(iter(sorted(n for n in names if n)), kpi.IN_HOUSE),
            "pools": list(pools),
            "weeks": rows,
        }


SCORECARD_COLUMNS = (
    "week", "from", "to", *kpi.EVENTS, "sla_met", "sla_missed", "sla_attainment", "cost",
)  # fmt: skip


def scorecard_csv(card: Mapping[str, Any]) -> str:
    """A scorecard's weeks as CSV (RFC 4180, a header line; no attainment: empty)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(SCORECARD_COLUMNS)
    for row in card["weeks"]:
        writer.writerow(["" if row[c] is None else row[c] for c in SCORECARD_COLUMNS])
    return out.getvalue()


def _pool_attr(config: RoutingConfig, pool_id: str, attr: str) -> str:
    if not config.has_pool(pool_id):
        return UNKNOWN
    pool = config.pool(pool_id)
    return kpi.vendor_key(pool.vendor) if attr == "vendor" else str(pool.kind)


def _groups(
    counts: Mapping[str, int], by: str, config: RoutingConfig, pools: Sequence[str]
) -> list[tuple[str, list[str]]]:
    """(group, its dimensions) of a grouping."""
    if by == "overall":
        return []
    if by == "pool":
        return [(p, [f"p:{p}"]) for p in pools]
    if by in ("language", "tier"):
        kind = by[0]
        return [(v, [f"{kind}:{v}"]) for v in kpi.values_of(counts, kind)]
    grouped: dict[str, list[str]] = {}
    for p in pools:
        grouped.setdefault(_pool_attr(config, p, "vendor"), []).append(f"p:{p}")
    return sorted(grouped.items())


def _shares(
    counts: Mapping[str, int], config: RoutingConfig, pools: Sequence[str]
) -> dict[str, Any]:
    """Volume and cost of in-house and outsourced pools, and their shares of the whole."""
    routed_all = kpi.total(counts, [kpi.OVERALL], CODES["routed"])
    cost_all = kpi.total(counts, [kpi.OVERALL], COST)
    out: dict[str, Any] = {}
    for kind in (*POOL_KINDS, UNKNOWN):
        dims = [f"p:{p}" for p in pools if _pool_attr(config, p, "kind") == kind]
        if kind == UNKNOWN and not dims:
            continue
        routed = kpi.total(counts, dims, CODES["routed"])
        cost = kpi.total(counts, dims, COST)
        out[kind] = {
            "routed": routed,
            "cost": cost / kpi.COST_SCALE,
            "volume_share": kpi.share(routed, routed_all),
            "cost_share": kpi.share(cost, cost_all),
        }
    return out


class PoolGauges:
    """Sets the per-pool gauges (queued, open, capacity, agents online, longest wait)
    from the stores; every replica sets the same values (``max by (pool)`` in queries)."""

    def __init__(
        self,
        leases: LeaseStore,
        presence: Presence,
        store: KpiStore,
        config: Current[RoutingConfig],
        metrics: Metrics,
        *,
        clock: Clock = _utc_now,
    ) -> None:
        self._leases = leases
        self._presence = presence
        self._store = store
        self._config = config
        self._metrics = metrics
        self._clock = clock
        self._shown: set[str] = set()

    async def refresh(self) -> None:
        """Read every configured pool's figures and set its gauges; a pool that left the
        config loses its series."""
        config = self._config.value
        pools = list(config.pool_ids)
        counts = await asyncio.gather(*(self._leases.counts(p) for p in pools))
        agents = await asyncio.gather(*(self._presence.agents(p) for p in pools))
        oldest = await self._store.oldest_waiting(pools)
        now_ms = self._clock().timestamp() * 1000
        m = self._metrics
        for pool_id, (queued, open_), present in zip(pools, counts, agents, strict=True):
            online: list[str] = present.get(_ONLINE, [])
            m.pool_queued.labels(pool_id).set(queued)
            m.pool_open.labels(pool_id).set(open_)
            m.pool_capacity.labels(pool_id).set(config.pool(pool_id).capacity)
            m.pool_agents_online.labels(pool_id).set(len(online))
            since = oldest.get(pool_id)
            m.pool_oldest_seconds.labels(pool_id).set(max(now_ms - since, 0) / 1000 if since else 0)
        for gone in self._shown - set(pools):
            for gauge in m.pool_gauges():
                with contextlib.suppress(KeyError):
                    gauge.remove(gone)
        self._shown = set(pools)

    async def refresh_once(self) -> None:
        """:meth:`refresh`, a Redis outage only skipping it."""
        try:
            await self.refresh()
        except TransientError as exc:
            log.warning("pool gauges not refreshed: %s", exc)


_ONLINE: PresenceStatus = "online"
