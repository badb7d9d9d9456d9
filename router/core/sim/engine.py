"""A discrete-event simulation of a week of tickets through the routing policy.

Each arrival is routed by :func:`router.core.policy.decide` with the compiled config,
at its own instant and with the pools' loads at that instant, exactly as the service
would. Then it waits in its pool's backlog (most urgent first, then longest waiting:
:func:`router.core.domain.backlog_score`) until one of the pool's agents takes it.

- A pool has ``capacity`` agents, working while the pool is open by its schedule (an
  agent finishes the ticket in hand after closing time, but takes no new one).
- A pool's load, which ``decide`` reads, counts its open assignments: waiting or in an
  agent's hands, as the service's load counter does.
- Handle times are drawn per ticket (exponential or fixed, a mean per tier) unless the
  arrival carries its own; one uniform number per ticket, in arrival order, so two
  configs run on the same arrivals see the same handle times.
- SLA escalation steps are carried out by an :class:`Escalations` the caller passes
  (the service's own step logic; the core cannot import it).
- A share of leases may run out (the agent walks away): after ``lease_seconds`` the
  ticket goes back to its backlog, as the lease sweeper does.

Events at one instant run in this order: agents finishing or leases running out, pools
opening, due escalation steps, arrivals. Pure: no clock, no I/O; the same input and
seed give the same run.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, Protocol

from router.core.config_types import RoutingConfig
from router.core.domain import PRIORITY_RANK, Decision, backlog_score
from router.core.policy import decide
from router.core.sim.arrivals import Arrival

# Event kinds, in the order they run at one instant.
_FINISH, _EXPIRE, _OPEN, _CHECK, _ARRIVE = range(5)
_WEEK = 7 * 86_400.0
#: The longest mean handle time a simulation takes: a week (longer is no handle time,
#: and a large enough number of minutes would be infinite once made seconds).
MAX_HANDLE_MINUTES = 7 * 24 * 60


@dataclass(frozen=True, slots=True)
class HandleTimes:
    """How long an agent works on a ticket: a mean per tier (the ticket's predicted
    tier; ``default_seconds`` for a tier not listed), exponential or fixed."""

    mean_seconds: Mapping[str, float] = field(default_factory=dict)
    default_seconds: float = 600.0
    distribution: Literal["exponential", "fixed"] = "exponential"

    def mean_for(self, tier: str) -> float:
        """The mean handle time of a ticket of ``tier``, in seconds."""
        return self.mean_seconds.get(tier, self.default_seconds)

    def draw(self, tier: str, uniform: float) -> float:
        """A handle time for ``tier`` from one uniform number in ``[0, 1)``."""
        mean = self.mean_for(tier)
        if self.distribution == "fixed":
            return mean
        return -mean * math.log1p(-uniform)


@dataclass(frozen=True, slots=True)
class SimSettings:
    """The knobs of a run (the report's targets are separate)."""

    handle: HandleTimes = field(default_factory=HandleTimes)
    seed: int = 0
    #: How long a lease lasts when the agent lets it run out.
    lease_seconds: float = 300.0
    #: The share of leases that run out instead of being worked (0 = none).
    lease_expiry_share: float = 0.0
    #: How long after the last arrival the clock runs on to drain the backlogs.
    drain_seconds: float = _WEEK

    def check(self) -> None:
        """Raise ``ValueError`` naming the first setting out of range."""
        if not 0 <= self.lease_expiry_share < 1:
            raise ValueError("lease_expiry_share must be in [0, 1)")
        if not 0 < self.lease_seconds < math.inf:
            raise ValueError("lease_seconds must be positive")
        if not 0 <= self.drain_seconds < math.inf:
            raise ValueError("drain_seconds must be >= 0")
        means = [self.handle.default_seconds, *self.handle.mean_seconds.values()]
        if any(not 0 < m < math.inf for m in means):
            raise ValueError("handle times must be positive")


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """What an escalation check did: ``step`` (1-based) carried out, or ``None`` when
    none was due; ``moved_to`` the new pool when the ticket moved (then ``sla_due`` is
    its new due time); ``next_due`` when to look again, if a step is left."""

    step: int | None
    moved_to: str | None
    sla_due: datetime | None
    next_due: datetime | None
    why: str = ""


class Escalations(Protocol):
    """The SLA escalation steps, as the service carries them out."""

    def first_due(self, arrival: Arrival, decision: Decision) -> datetime | None:
        """Remember a routed ticket; when its first step comes due (``None``: no plan)."""
        ...

    def check(self, ticket_id: str, loads: Mapping[str, int], now: datetime) -> StepOutcome:
        """Carry out the step due at ``now`` for a ticket still waiting."""
        ...


class NoEscalations:
    """Escalation steps are not carried out."""

    def first_due(self, arrival: Arrival, decision: Decision) -> datetime | None:
        """No plan is ever due."""
        return None

    def check(self, ticket_id: str, loads: Mapping[str, int], now: datetime) -> StepOutcome:
        """Never called (no step is ever due)."""
        return StepOutcome(None, None, None, None)


@dataclass(frozen=True, slots=True)
class Moved:
    """An SLA step that moved a waiting ticket to another pool."""

    at: float
    step: int
    from_pool: str
    to_pool: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one ticket. Times are epoch seconds; ``accepted_at`` is when an
    agent took it for good (``None``: still waiting when the run ended)."""

    index: int
    arrival: Arrival
    #: The first decision, and the pool loads it was made with.
    decision: Decision
    loads_seen: Mapping[str, int]
    #: The pool it ended in (the one that worked it, if any).
    pool_id: str
    accepted_at: float | None
    done_at: float | None
    handle_seconds: float
    sla_due: float
    moves: tuple[Moved, ...]
    #: Steps that came due but left the ticket where it was.
    steps_stayed: int
    #: (instant, pool) of each lease that ran out.
    expiries: tuple[tuple[float, str], ...]

    @property
    def arrived(self) -> float:
        """The arrival instant, epoch seconds."""
        return self.arrival.at.timestamp()

    @property
    def wait_seconds(self) -> float | None:
        """From arrival to acceptance (``None`` when never accepted)."""
        return None if self.accepted_at is None else self.accepted_at - self.arrived


@dataclass(frozen=True, slots=True)
class Offer:
    """A ticket entering a pool's backlog (routed or moved there), at the first instant
    the pool could serve it (its opening, if it was closed): the pool's demand."""

    pool_id: str
    at: float
    handle_mean_seconds: float


@dataclass(frozen=True, slots=True)
class SimRun:
    """A finished run: per ticket outcomes, per pool busy agent time and open hours."""

    config: RoutingConfig
    start: float
    end: float
    outcomes: tuple[Outcome, ...]
    #: Per pool: (start, end) of every stretch an agent worked a ticket or held a lease.
    busy: Mapping[str, tuple[tuple[float, float], ...]]
    #: Per pool: the open stretches (start, end) between ``start`` and ``end``.
    open_spans: Mapping[str, tuple[tuple[float, float], ...]]
    offers: tuple[Offer, ...]


class _Ticket:
    """The mutable state of one ticket during a run."""

    __slots__ = (
        "accepted_at", "arrival", "attempts", "check_at", "decision", "done_at", "expiries",
        "handle", "index", "key", "loads_seen", "moves", "planned", "pool", "sla_due", "state",
        "stayed",
    )  # fmt: skip

    def __init__(self, index: int, arrival: Arrival, handle: float) -> None:
        self.index = index
        self.arrival = arrival
        self.handle = handle
        self.key = 0.0
        self.pool = ""
        self.state = "new"  # new | queued | leased | working | done
        self.decision: Decision | None = None
        self.loads_seen: dict[str, int] = {}
        self.accepted_at: float | None = None
        self.done_at: float | None = None
        self.sla_due = 0.0
        self.moves: list[Moved] = []
        self.stayed = 0
        self.expiries: list[tuple[float, str]] = []
        self.attempts = 0
        self.planned = False
        # The one pending escalation check (the service keeps one entry per ticket).
        self.check_at: float | None = None


class _Run:
    """One run's event loop (see :func:`simulate`)."""

    def __init__(
        self,
        arrivals: Sequence[Arrival],
        config: RoutingConfig,
        settings: SimSettings,
        escalations: Escalations,
        start: float,
    ) -> None:
        self.config = config
        self.settings = settings
        self.escalations = escalations
        rng = random.Random(settings.seed)
        # Two numbers per ticket in arrival order, whatever the config does with it.
        uniforms = [(rng.random(), rng.random()) for _ in arrivals]
        self.expiry_first = [u for _, u in uniforms]
        self.tickets = [
            _Ticket(
                i,
                a,
                a.handle_seconds
                if a.handle_seconds is not None
                else settings.handle.draw(a.prediction.tier, u),
            )
            for i, (a, (u, _)) in enumerate(zip(arrivals, uniforms, strict=True))
        ]
        last = max((a.at.timestamp() for a in arrivals), default=start)
        self.start = start
        self.end = max(start, last) + settings.drain_seconds
        self.ids = config.pool_ids
        self.capacity = {p.id: p.capacity for p in config.pools}
        self.load = dict.fromkeys(self.ids, 0)
        self.busy_count = dict.fromkeys(self.ids, 0)
        self.queues: dict[str, list[tuple[float, int]]] = {p: [] for p in self.ids}
        self.busy: dict[str, list[tuple[float, float]]] = {p: [] for p in self.ids}
        self.offers: list[Offer] = []
        self.events: list[tuple[float, int, int, int]] = []
        self.seq = 0
        self.open_spans = self._open_spans()

    def _open_spans(self) -> dict[str, list[tuple[float, float]]]:
        """Each pool's open stretches in [start, end], from the config's schedule index
        (minute by minute, as ``decide`` sees it), and an event at each opening."""
        index = self.config.schedule_index
        first = math.floor(self.start / 60)
        last = math.ceil(self.end / 60)
        spans: dict[str, list[tuple[float, float]]] = {p: [] for p in self.ids}
        opened: dict[int, int] = {}
        previous = 0
        for minute in range(first, last + 1):
            mask = index.open_mask(minute) if minute < last else 0
            changed = mask ^ previous
            while changed:
                low = changed & -changed
                i = low.bit_length() - 1
                if mask & low:
                    opened[i] = minute
                    if minute > first:
                        self._push(minute * 60.0, _OPEN, i)
                else:
                    spans[self.ids[i]].append((opened.pop(i) * 60.0, minute * 60.0))
                changed ^= low
            previous = mask
        return spans

    def _push(self, at: float, kind: int, item: int) -> None:
        self.seq += 1
        heapq.heappush(self.events, (at, kind, self.seq, item))

    def _is_open(self, pool: str, at: float) -> bool:
        mask = self.config.schedule_index.open_mask(math.floor(at / 60))
        return bool(mask >> self.config.pool_index(pool) & 1)

    def _servable(self, pool: str, at: float) -> float:
        """The first instant >= ``at`` at which ``pool`` is open (``at`` if never)."""
        for a, b in self.open_spans[pool]:
            if b > at:
                return max(a, at)
        return at

    def run(self) -> SimRun:
        for t in self.tickets:
            self._push(t.arrival.at.timestamp(), _ARRIVE, t.index)
        while self.events:
            at, kind, _, item = heapq.heappop(self.events)
            if at > self.end:
                break
            if kind == _ARRIVE:
                self._arrive(self.tickets[item], at)
            elif kind == _FINISH:
                self._finish(self.tickets[item], at)
            elif kind == _EXPIRE:
                self._expire(self.tickets[item], at)
            elif kind == _OPEN:
                self._dispatch(self.ids[item], at)
            else:
                self._check(self.tickets[item], at)
        return SimRun(
            config=self.config,
            start=self.start,
            end=self.end,
            outcomes=tuple(self._outcome(t) for t in self.tickets),
            busy={p: tuple(v) for p, v in self.busy.items()},
            open_spans={p: tuple(v) for p, v in self.open_spans.items()},
            offers=tuple(self.offers),
        )

    def _outcome(self, t: _Ticket) -> Outcome:
        assert t.decision is not None, "every ticket is routed before the run ends"
        return Outcome(
            index=t.index,
            arrival=t.arrival,
            decision=t.decision,
            loads_seen=t.loads_seen,
            pool_id=t.pool,
            accepted_at=t.accepted_at,
            done_at=t.done_at,
            handle_seconds=t.handle,
            sla_due=t.sla_due,
            moves=tuple(t.moves),
            steps_stayed=t.stayed,
            expiries=tuple(t.expiries),
        )

    def _arrive(self, t: _Ticket, at: float) -> None:
        arrival = t.arrival
        t.loads_seen = dict(self.load)
        decision = decide(arrival.ticket, arrival.prediction, self.config, t.loads_seen, arrival.at)
        t.decision = decision
        t.sla_due = decision.sla_due.timestamp()
        rank = PRIORITY_RANK.get(arrival.ticket.priority, 1)
        t.key = backlog_score(rank, int(at * 1000))
        self._enqueue(t, decision.pool_id, at)
        due = self.escalations.first_due(arrival, decision)
        if due is not None:
            t.planned = True
            self._schedule_check(t, max(due.timestamp(), at))
        self._dispatch(t.pool, at)

    def _enqueue(self, t: _Ticket, pool: str, at: float) -> None:
        t.pool = pool
        t.state = "queued"
        self.load[pool] += 1
        heapq.heappush(self.queues[pool], (t.key, t.index))
        mean = self.settings.handle.mean_for(t.arrival.prediction.tier)
        if t.arrival.handle_seconds is not None:
            mean = t.arrival.handle_seconds
        self.offers.append(Offer(pool, self._servable(pool, at), mean))

    def _dispatch(self, pool: str, at: float) -> None:
        queue = self.queues[pool]
        if not queue or self.busy_count[pool] >= self.capacity[pool]:
            return
        if not self._is_open(pool, at):
            return
        while queue and self.busy_count[pool] < self.capacity[pool]:
            _, index = heapq.heappop(queue)
            t = self.tickets[index]
            if t.state != "queued" or t.pool != pool:
                continue  # moved on by an escalation step: a stale entry
            self.busy_count[pool] += 1
            if self._lease_runs_out(t):
                t.state = "leased"
                self._push(at + self.settings.lease_seconds, _EXPIRE, index)
                self.busy[pool].append((at, at + self.settings.lease_seconds))
            else:
                t.state = "working"
                t.accepted_at = at
                self._push(at + t.handle, _FINISH, index)
                self.busy[pool].append((at, at + t.handle))

    def _lease_runs_out(self, t: _Ticket) -> bool:
        share = self.settings.lease_expiry_share
        if share <= 0:
            return False
        t.attempts += 1
        if t.attempts == 1:
            uniform = self.expiry_first[t.index]
        else:
            uniform = random.Random(f"{self.settings.seed}:{t.index}:{t.attempts}").random()
        return uniform < share

    def _finish(self, t: _Ticket, at: float) -> None:
        t.state = "done"
        t.done_at = at
        self.busy_count[t.pool] -= 1
        self.load[t.pool] -= 1
        self._dispatch(t.pool, at)

    def _expire(self, t: _Ticket, at: float) -> None:
        pool = t.pool
        t.expiries.append((at, pool))
        self.busy_count[pool] -= 1
        t.state = "queued"
        heapq.heappush(self.queues[pool], (t.key, t.index))
        if t.planned:
            # Back in the backlog the sweeper looks at the plan again at once (any step
            # that came due meanwhile is carried out).
            self._schedule_check(t, at)
        self._dispatch(pool, at)

    def _schedule_check(self, t: _Ticket, at: float) -> None:
        t.check_at = at
        self._push(at, _CHECK, t.index)

    def _check(self, t: _Ticket, at: float) -> None:
        if t.check_at != at:
            return  # a check superseded by a later one
        t.check_at = None
        if t.state != "queued":
            return  # taken by an agent: accepted tickets have no steps left
        outcome = self.escalations.check(t.arrival.ticket.id, self.load, _instant(at))
        if outcome.step is not None:
            if outcome.moved_to is not None and outcome.moved_to != t.pool:
                old = t.pool
                self.load[old] -= 1
                t.moves.append(Moved(at, outcome.step, old, outcome.moved_to))
                if outcome.sla_due is not None:
                    t.sla_due = outcome.sla_due.timestamp()
                self._enqueue(t, outcome.moved_to, at)
                self._dispatch(t.pool, at)
            else:
                t.stayed += 1
        if outcome.next_due is not None:
            self._schedule_check(t, max(outcome.next_due.timestamp(), at))


def _instant(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC)


def simulate(
    arrivals: Sequence[Arrival],
    config: RoutingConfig,
    settings: SimSettings,
    escalations: Escalations | None = None,
    *,
    start: datetime | None = None,
) -> SimRun:
    """Run ``arrivals`` (in time order) through ``config``; see the module docstring.

    ``start`` (default: the first arrival) is where the open hours and busy time start
    to count; the clock runs until ``settings.drain_seconds`` after the last arrival.
    Tickets still waiting then are in the outcomes with ``accepted_at`` ``None``.
    """
    settings.check()
    times = [a.at.timestamp() for a in arrivals]
    if any(b < a for a, b in itertools.pairwise(times)):
        raise ValueError("arrivals must be in time order")
    origin = (times[0] if times else 0.0) if start is None else start.timestamp()
    if times and times[0] < origin:
        raise ValueError("an arrival comes before the start")
    return _Run(arrivals, config, settings, escalations or NoEscalations(), origin).run()
