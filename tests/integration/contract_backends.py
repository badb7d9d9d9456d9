"""The two sides of every store contract test: the in-memory fake and the Redis store.

A contract test module asks for a ``backend`` fixture parametrised over :data:`KINDS`
(see :func:`backend_for`) and makes its stores through it, typed on the ports only, so
the same assertions run against both. The Redis side uses the real Redis under this
test's own key prefix; the ``redis_client`` fixture deletes those keys afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import pytest
import redis.asyncio as aioredis

from queues.audit_log import RedisAuditLog
from queues.config_store import RedisConfigStore
from queues.keys import Keys
from queues.lease_presence import RedisPresence
from queues.lease_store import RedisLeaseStore
from queues.ticket_store import RedisTicketStore
from queues.token_store import RedisTokenStore
from router.service.ports import (
    AuditLog,
    ConfigStore,
    LeaseStore,
    Presence,
    TicketStore,
    TokenStore,
)
from router.service.settings import Names
from tests.fakes import (
    MemoryAuditLog,
    MemoryConfigStore,
    MemoryLeaseStore,
    MemoryPresence,
    MemoryTicketStore,
    MemoryTokenStore,
    wall_ms,
)

KINDS = ("memory", "redis")


@dataclass
class Backend:
    """Makes one kind of every store, all on one state (one Redis prefix, or shared dicts)."""

    kind: str
    prefix: str
    client: aioredis.Redis | None  # None for the memory side

    async def now_ms(self) -> int:
        """The clock the stores judge expiry by (the Redis server's, or the wall clock)."""
        if self.client is None:
            return wall_ms()
        seconds, micros = await self.client.time()
        return int(seconds) * 1000 + int(micros) // 1000

    def tickets(self, recent_max: int = 10_000) -> TicketStore:
        """A ticket store."""
        if self.client is None:
            return MemoryTicketStore(recent_max=recent_max)
        return RedisTicketStore(self.client, Keys(self.prefix), recent_max=recent_max)

    def leases(self) -> tuple[TicketStore, LeaseStore]:
        """A ticket store and a lease store over the same tickets."""
        if self.client is None:
            tickets = MemoryTicketStore()
            return tickets, MemoryLeaseStore(tickets)
        keys = Keys(self.prefix)
        return RedisTicketStore(self.client, keys), RedisLeaseStore(self.client, keys)

    def presence(self, ttl_ms: int = 60_000, forget_ms: int = 3_600_000) -> Presence:
        """A presence store (stale after ``ttl_ms``, forgotten after ``forget_ms``)."""
        if self.client is None:
            return MemoryPresence(ttl_ms=ttl_ms, forget_ms=forget_ms)
        keys = Keys(self.prefix)
        return RedisPresence(self.client, keys, ttl_ms=ttl_ms, forget_ms=forget_ms)

    def tokens(self, clock: Callable[[], datetime]) -> TokenStore:
        """A token store on ``clock``."""
        if self.client is None:
            return MemoryTokenStore(clock=clock)
        return RedisTokenStore(self.client, self.prefix, clock=clock)

    def audit(self, maxlen: int, clock: Callable[[], datetime]) -> AuditLog:
        """An audit log keeping exactly the ``maxlen`` newest records."""
        if self.client is None:
            return MemoryAuditLog(maxlen=maxlen, clock=clock)
        return RedisAuditLog(self.client, self.prefix, maxlen, approximate=False, clock=clock)

    def configs(self) -> ConfigStore:
        """A config version store."""
        if self.client is None:
            return MemoryConfigStore(prefix=self.prefix)
        return RedisConfigStore(self.client, self.prefix)


def backend_for(request: pytest.FixtureRequest, names: Names) -> Backend:
    """The backend of ``request.param`` (one of :data:`KINDS`) under this test's names."""
    if request.param == "memory":
        return Backend("memory", names.redis_prefix, None)
    client: aioredis.Redis = request.getfixturevalue("redis_client")
    return Backend("redis", names.redis_prefix, client)
