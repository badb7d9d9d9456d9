"""One fault scenario: routers, a platform publishing, the pool systems collecting, and
the figures every scenario reports (published / assigned / lost / doubled / dead /
seconds to recover)."""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import orjson
import redis
from aiormq.exceptions import AMQPError, ChannelInvalidStateError

from queues.keys import Keys
from router.config.load import load_config
from router.service.settings import Names
from tests.conftest import EXAMPLE_CONFIG
from tests.faults.amqp_clients import Link, Platform, PoolCollector, Received
from tests.faults.router_proc import RouterProcess
from tests.faults.servers import RabbitNode, RedisServer
from tests.tickets import make_tickets

POOL_IDS = load_config(EXAMPLE_CONFIG).pool_ids
# States of a ticket that has been assigned (and maybe handed to an agent since).
DONE_STATES = frozenset({"assigned", "leased", "accepted", "completed"})


@dataclass(frozen=True, slots=True)
class Scale:
    """How big a run is: the short form runs in CI, the long form on demand."""

    name: str
    tickets: int
    rate: float  # tickets/s the platform publishes
    freeze_s: float  # how long a replica stays SIGSTOPped
    deadline_s: float  # the longest a recovery may take before the test fails
    # Router timeouts for the replica scenarios; None keeps the product's defaults.
    heartbeat_s: int | None
    claim_ttl_s: float | None

    @classmethod
    def from_env(cls) -> Scale:
        """``ROUTER_FAULTS=long`` selects the long form; anything else the short one."""
        if os.environ.get("ROUTER_FAULTS") == "long":
            return cls("long", 2400, 200.0, 40.0, 90.0, None, None)
        return cls("short", 300, 75.0, 12.0, 30.0, 2, 2.0)


SCALE = Scale.from_env()


@dataclass
class Figures:
    """What one scenario measured."""

    scenario: str
    published: int  # distinct tickets
    sent: int  # messages the platform published (copies and retries included)
    assigned: int  # distinct tickets that reached a pool queue
    lost: int  # published, but neither assigned, dead-lettered nor still queued
    stuck: int  # still in the inbound queue when the deadline passed
    # Tickets in more than one pool's backlog, plus pool load counted beyond the
    # assigned records (one ticket counted twice).
    doubled_redis: int
    doubled_pools: int  # assignment copies beyond the first on the pool queues
    doubled_identical: int  # of those, copies equal to the first (pool, message id, body)
    dead: int  # tickets dead-lettered
    redis_missing: int  # assigned on a pool queue, but Redis has no assigned record
    # From the end of the fault until routing is back: the first assignment after it,
    # and every ticket confirmed before it assigned (the flow goes on meanwhile; later
    # tickets do not wait on the fault). None: not every ticket was routed.
    recover_s: float | None
    last_s: float  # from the end of the fault to the last assignment of all
    stall_s: float  # longest time no assignment arrived after the fault began
    max_wait_s: float  # longest a ticket waited from its confirm to its assignment
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        """One human-readable line."""
        return (
            f"{self.scenario}: published {self.published} (sent {self.sent}) / assigned "
            f"{self.assigned} / lost {self.lost} / stuck in the inbound queue {self.stuck} / "
            f"doubled in Redis {self.doubled_redis} / "
            f"doubled on pool queues {self.doubled_pools} ({self.doubled_identical} "
            f"identical) / dead-lettered {self.dead} / "
            f"Redis records missing {self.redis_missing} / "
            + (
                "NOT recovered"
                if self.recover_s is None
                else f"recovered {self.recover_s:.1f} s after the fault"
            )
            + f" (last assignment +{self.last_s:.1f} s)"
            + f" (stall {self.stall_s:.1f} s, max wait {self.max_wait_s:.1f} s)"
            + ("".join(f"; {n}" for n in self.notes))
        )


RESULTS: list[Figures] = []  # printed in the terminal summary (see conftest)


async def wait_until(
    condition: Callable[[], Awaitable[bool]], timeout: float, what: str, poll: float = 0.1
) -> None:
    """Poll ``condition`` until true; AssertionError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        await asyncio.sleep(poll)


class RedisLike(Protocol):
    """What a scenario needs of its Redis: the service's URL and a client for counting."""

    url: str

    def client(self) -> redis.Redis:
        """A synchronous client of the server holding the data now."""
        ...


class Flow:
    """Routers, platform and pool collector of one scenario, on the suite's servers."""

    def __init__(
        self,
        rabbit: RabbitNode,
        redis: RedisServer,
        model_dir: Path,
        tmp: Path,
        suffix: str,
        *,
        store: RedisLike | None = None,
    ) -> None:
        self.rabbit = rabbit
        self.redis = redis
        # Where the service's data lives: the Redis server, or a Sentinel group's primary.
        self.store: RedisLike = store or redis
        self.tmp = tmp
        self.names = Names.with_suffix(suffix)
        self.keys = Keys(self.names.redis_prefix)
        self.env = {
            **os.environ,
            "ROUTER_AMQP_URL": rabbit.url,
            "ROUTER_REDIS_URL": self.store.url,
            "ROUTER_NAME_SUFFIX": suffix,
            "ROUTER_MODEL_DIR": str(model_dir),
            "ROUTER_CONFIG": str(EXAMPLE_CONFIG),
            "ROUTER_LOG_LEVEL": "INFO",
        }
        self.routers: list[RouterProcess] = []
        self.platform = Platform(rabbit.url, self.names.tickets_exchange)
        self.collector = PoolCollector(
            rabbit.url, [self.names.pool_queue(p) for p in POOL_IDS], self.names.dead_queue
        )
        self._probe = Link(rabbit.url)

    async def start_router(
        self, env: dict[str, str] | None = None, *, wait_ready: bool = True
    ) -> RouterProcess:
        """Start one more replica (same names) and wait until it is ready (or, with
        ``wait_ready=False``, until ``/readyz`` answers at all)."""
        router = RouterProcess(
            {**self.env, **(env or {})}, self.tmp / f"router-{len(self.routers)}.log"
        )
        self.routers.append(router)
        await router.start(wait_ready=wait_ready)
        if len(self.routers) == 1:
            self.collector.start()  # the pool queues exist now
        return router

    def tickets(self, seed: int, n: int | None = None) -> list[tuple[str, bytes]]:
        """(id, body) of ``n`` realistic tickets (default: the scale's count)."""
        return [(str(t["id"]), orjson.dumps(t)) for t in make_tickets(n or SCALE.tickets, seed)]

    async def publish(self, tickets: Sequence[tuple[str, bytes]], rate: float = SCALE.rate) -> None:
        """Publish like the platform (retrying until confirmed)."""
        await self.platform.publish(tickets, rate)

    def publish_in_background(
        self, tickets: Sequence[tuple[str, bytes]], rate: float = SCALE.rate
    ) -> asyncio.Task[None]:
        """:meth:`publish` as a task (the flow goes on while the test injects a fault)."""
        return asyncio.create_task(self.publish(tickets, rate), name="platform")

    async def inbound_consumers(self) -> int | None:
        """Consumers of the inbound queue (passive declare), None while unreachable."""
        try:
            channel = await asyncio.wait_for(self._probe.channel(), 2)
            ok = await channel.queue_declare(self.names.inbound_queue, passive=True, timeout=2)
            return int(ok.consumer_count or 0)
        except (AMQPError, ChannelInvalidStateError, OSError, TimeoutError, ConnectionError):
            await self._probe.reset()
            return None

    async def wait_mid_flow(self, ids: Sequence[str]) -> None:
        """Wait until a third of ``ids`` are assigned: the fault then hits mid-flow."""

        async def third() -> bool:
            return self.collector.received.assigned >= len(ids) // 3

        await wait_until(third, SCALE.deadline_s, "a third of the tickets assigned")

    def claimed(self, ids: Sequence[str]) -> list[str]:
        """The ids Redis has claimed (a replica is routing them) but not yet assigned."""
        client = self.store.client()
        try:
            pipe = client.pipeline(transaction=False)
            for tid in ids:
                pipe.hget(self.keys.ticket(tid), "state")
            states = pipe.execute()
        finally:
            client.close()
        return [tid for tid, st in zip(ids, states, strict=True) if st == b"claimed"]

    def unrouted(self, ids: Sequence[str]) -> list[str]:
        """The ids that reached neither a pool queue nor the dead queue yet."""
        got = self.collector.received
        return sorted(set(ids) - got.pools.keys() - got.dead.keys())

    async def wait_routed(self, ids: Sequence[str], timeout: float = SCALE.deadline_s) -> None:
        """Wait until every id reached a pool queue or the dead queue."""

        async def routed() -> bool:
            return not self.unrouted(ids)

        try:
            await wait_until(routed, timeout, "every ticket routed")
        except AssertionError as exc:
            gone = self.unrouted(ids)
            raise AssertionError(f"{exc}: {len(gone)} not routed, e.g. {gone[:3]}") from None

    async def wait_settled(self, timeout: float = SCALE.deadline_s) -> None:
        """Wait until every running replica is ready and consumes the inbound queue, and
        the broker holds no ticket any more (nothing in flight that could still be
        published twice)."""
        live = [r for r in self.routers if r.running]

        async def ready() -> bool:
            return [(await r.readyz())[0] for r in live] == [200] * len(live)

        await wait_until(ready, timeout, "every running replica ready (/readyz 200)")

        async def consumed() -> bool:
            return await self.inbound_consumers() == len(live)

        await wait_until(consumed, timeout, f"{len(live)} consumer(s) on the inbound queue")
        names = {self.names.inbound_queue, *(self.names.pool_queue(p) for p in POOL_IDS)}

        async def drained() -> bool:
            queues = await asyncio.to_thread(self.rabbit.queues)
            return all(queues.get(q, {}).get("messages", 0) == 0 for q in names)

        await wait_until(drained, timeout, "inbound and pool queues empty", poll=0.5)

    def figures(
        self,
        scenario: str,
        ids: Sequence[str],
        *,
        fault_began: float,
        fault_ended: float,
        queued: int = 0,
    ) -> Figures:
        """Count what happened to ``ids`` (pool queues as received, and Redis);
        ``queued`` is how many messages the inbound queue still holds."""
        got = self.collector.received
        routed = got.pools.keys() | got.dead.keys()
        arrivals = sorted(t for tid, t in got.first_at.items() if tid in set(ids))
        after = [fault_began, *(t for t in arrivals if t >= fault_began)]
        if set(ids) - routed:
            after.append(time.monotonic())  # still waiting: the stall goes on
        stall = max((b - a for a, b in itertools.pairwise(after)), default=0.0)
        confirmed = self.platform.confirmed_at
        waits = [got.first_at[t] - confirmed[t] for t in ids if t in got.first_at]
        doubled_redis, missing = self._redis_counts(ids, got.pools.keys())
        figures = Figures(
            scenario=scenario,
            published=len(set(ids)),
            sent=self.platform.sent,
            assigned=len(set(ids) & got.pools.keys()),
            lost=len(set(ids) - routed) - min(queued, len(set(ids) - routed)),
            stuck=min(queued, len(set(ids) - routed)),
            doubled_redis=doubled_redis,
            doubled_pools=got.doubled,
            doubled_identical=got.doubled_identical,
            dead=len(got.dead),
            redis_missing=missing,
            recover_s=None if set(ids) - routed else self._recovered(ids, fault_ended),
            last_s=max(0.0, (arrivals[-1] if arrivals else fault_ended) - fault_ended),
            stall_s=stall,
            max_wait_s=max(waits, default=0.0),
        )
        if got.doubled:
            figures.notes.append("doubled: " + "; ".join(got.doubled_story(fault_began)[:5]))
        RESULTS.append(figures)
        return figures

    def _recovered(self, ids: Sequence[str], instant: float) -> float:
        """Seconds after ``instant`` until an assignment arrived again and every ticket
        confirmed before ``instant`` had arrived."""
        got = self.collector.received.first_at
        confirmed = self.platform.confirmed_at
        waiting = [got[t] for t in ids if confirmed.get(t, instant) < instant and t in got]
        first_after = min((got[t] for t in ids if got.get(t, 0.0) >= instant), default=instant)
        return max(0.0, max(waiting, default=instant) - instant, first_after - instant)

    async def outcome(
        self,
        scenario: str,
        ids: Sequence[str],
        *,
        fault_began: float,
        fault_ended: float,
        timeout: float = SCALE.deadline_s,
    ) -> Figures:
        """Wait for recovery (every ticket routed, replicas ready and consuming, queues
        empty) within ``timeout``, then count; a recovery that did not come is noted in
        the figures (and fails :func:`assert_clean`) rather than raised, so the counts
        of a broken run are reported too."""
        error = None
        try:
            await self.wait_routed(ids, timeout)
            await self.wait_settled(timeout)
        except AssertionError as exc:
            error = str(exc)
        queued = 0
        if error is not None:
            queues = await asyncio.to_thread(self.rabbit.queues)
            queued = queues.get(self.names.inbound_queue, {}).get("messages", 0)
        figures = self.figures(
            scenario, ids, fault_began=fault_began, fault_ended=fault_ended, queued=queued
        )
        if error is not None:
            figures.notes.append(f"NOT RECOVERED: {error}")
        return figures

    def _redis_counts(self, ids: Sequence[str], on_pools: AbstractSet[str]) -> tuple[int, int]:
        client = self.store.client()
        try:
            pipe = client.pipeline(transaction=False)
            for tid in ids:
                pipe.hget(self.keys.ticket(tid), "state")
                for pool in POOL_IDS:
                    pipe.zscore(self.keys.backlog(pool), tid)
            raw = pipe.execute()
            loads = client.mget([self.keys.load(p) for p in POOL_IDS])
        finally:
            client.close()
        per = 1 + len(POOL_IDS)
        doubled = missing = done = 0
        for i, tid in enumerate(ids):
            state, *scores = raw[i * per : (i + 1) * per]
            if sum(s is not None for s in scores) > 1:
                doubled += 1
            done += state is not None and state.decode() in DONE_STATES
            if tid in on_pools and (state is None or state.decode() not in DONE_STATES):
                missing += 1
        # A pool's load counted more often than it holds assigned tickets: doubled too.
        counted = sum(int(v) for v in loads if v is not None)
        return doubled + max(0, counted - done), missing

    async def close(self) -> None:
        """Stop every replica by PID, and the clients."""
        for router in self.routers:
            await asyncio.to_thread(router.stop)
        await self.collector.stop()
        await self.platform.close()
        await self._probe.reset()


def assert_clean(
    figures: Figures,
    survivors: Sequence[RouterProcess],
    *,
    received: Received | None = None,
    may_double: AbstractSet[str] = frozenset(),
) -> None:
    """Nothing lost, nothing doubled, nothing dead-lettered, every Redis record there,
    and recovered by itself: the surviving replicas are the processes started before
    the fault (no restart) and still run. Prints the figures first.

    ``may_double``: tickets whose assignment publish was in flight when its publisher
    or the broker died: a replica killed or frozen holding their claims (it may have
    published and not yet recorded), or a broker that stored the message and crashed
    before confirming it. Nothing can tell whether that publish landed, so the stored
    decision is published again. Each of those (and only those) may arrive once more on
    its pool queue, byte-identical (same pool, message id and body). ``received`` must
    be given with it.
    """
    print(figures.line())
    # On failure: the figures and the end of every replica's log.
    why = figures.line() + "".join(
        f"\n--- replica {r.pid} log ---\n{r.tail(1500)}" for r in survivors
    )
    assert all(r.running for r in survivors), "a replica exited: " + why
    assert not any(n.startswith("NOT RECOVERED") for n in figures.notes), why
    allowed = 0
    if may_double:
        assert received is not None
        doubled = {t: c for t, c in received.copies.items() if len(c) > 1}
        assert doubled.keys() <= may_double, f"doubled beyond the held claims: {doubled}"
        assert all(len(c) == 2 and c[0] == c[1] for c in doubled.values()), doubled
        allowed = len(doubled)
    counts = (
        figures.lost + figures.stuck,
        figures.doubled_redis,
        figures.doubled_pools - allowed,
        figures.dead,
        figures.redis_missing,
    )
    assert counts == (0, 0, 0, 0, 0), why
    assert figures.assigned == figures.published, why
