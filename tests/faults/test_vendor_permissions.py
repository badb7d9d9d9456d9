"""The RabbitMQ permissions deploy/vendor-guide.md section 8 gives an outsourcing vendor
(no configure, no write, read only its pool's queue), on the suite's own node.

The permissions are taken from the guide's ``rabbitmqctl set_permissions`` line itself,
so a change there is tested here. The topology is the service's (``declare_inbound``
and ``declare_pools``) under the production names: the guide's regex is written for
them, and this node is the suite's own (nothing else uses those names on it).

    .venv/bin/pytest tests/faults/test_vendor_permissions.py -q
"""

from __future__ import annotations

import asyncio
import re
import secrets
import shlex
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractIncomingMessage
from aiormq.exceptions import ChannelAccessRefused, ChannelNotFoundEntity

from queues.publisher import AmqpPublisher
from queues.topology import declare_inbound, declare_pools
from router.service.settings import Names, Settings
from tests.conftest import REPO
from tests.faults.scenario import wait_until
from tests.faults.servers import RabbitNode

pytestmark = [pytest.mark.integration, pytest.mark.faults]

GUIDE = REPO / "deploy" / "vendor-guide.md"
GUIDE_POOL = "pacific-night"  # the pool id the guide's example command names
OWN = "acme"  # the vendor's pool
OTHER = "zenith"  # another vendor's pool
LOOKALIKE = "acme-eu"  # starts with the vendor's pool id: only the regex's "$" keeps it out
POOLS = (OWN, OTHER, LOOKALIKE)
NAMES = Names()
SETTINGS = Settings(names=NAMES)


@dataclass(frozen=True)
class Vendor:
    """The vendor's RabbitMQ user on the suite's node."""

    user: str
    url: str
    permissions: tuple[str, str, str]  # configure, write, read


def _guide_permissions() -> tuple[str, str, str, str]:
    """(user, configure, write, read) of the guide's ``set_permissions`` line, the
    read regex re-aimed from the guide's example pool at :data:`OWN`."""
    lines = [
        line.strip()
        for line in GUIDE.read_text().splitlines()
        if line.strip().startswith("rabbitmqctl set_permissions")
    ]
    assert len(lines) == 1, f"expected one set_permissions line in {GUIDE.name}: {lines}"
    words = shlex.split(lines[0])
    assert words[2:4] == ["-p", "/"] and len(words) == 8, words
    user, configure, write, read = words[4:]
    assert GUIDE_POOL in read, f"the guide's read regex no longer names {GUIDE_POOL}: {read}"
    return user, configure, write, read.replace(GUIDE_POOL, OWN)


@pytest.fixture(scope="module")
def vendor(rabbit: RabbitNode) -> Iterator[Vendor]:
    """The vendor user, created on the suite's node exactly as the guide says."""
    rabbit.ensure_up()  # a fault test before may have left it down
    user, configure, write, read = _guide_permissions()
    password = secrets.token_urlsafe(18)
    rabbit.ctl("add_user", user, password)
    try:
        rabbit.ctl("set_permissions", "-p", "/", user, configure, write, read)
        yield Vendor(
            user, f"amqp://{user}:{password}@127.0.0.1:{rabbit.port}/", (configure, write, read)
        )
    finally:
        rabbit.ctl("delete_user", user)


@dataclass
class Topology:
    """The service's exchanges and queues with one assignment waiting on each pool."""

    channel: AbstractChannel
    publisher: AmqpPublisher

    async def ready(self, queue: str) -> int:
        """Messages ready on ``queue`` (a passive declare as the service's user)."""
        declared = await self.channel.declare_queue(queue, passive=True)
        ok = declared.declaration_result
        return int(ok.message_count or 0)

    async def assign(self, pool: str, ticket: str) -> None:
        """Publish an assignment as the service does (confirmed, mandatory)."""
        await self.publisher.publish_assignment(pool, ticket, _body(pool, ticket))


def _mine(vendor: Vendor) -> str:
    """The queue the vendor tries to declare for itself."""
    return f"{vendor.user}.mine"


def _body(pool: str, ticket: str) -> bytes:
    return f'{{"ticket_id": "{ticket}", "pool": "{pool}"}}'.encode()


@pytest.fixture
async def topology(rabbit: RabbitNode, vendor: Vendor) -> AsyncIterator[Topology]:
    """Declared as the service declares it, one assignment per pool; deleted after."""
    rabbit.ensure_up()
    connection = await aio_pika.connect(rabbit.url)
    try:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        tickets, _, _ = await declare_inbound(channel, SETTINGS)
        assignments = await declare_pools(channel, NAMES, POOLS, SETTINGS)
        publisher = AmqpPublisher(
            channel, tickets=tickets, assignments=assignments, dead_queue=NAMES.dead_queue
        )
        topo = Topology(channel, publisher)
        for pool in POOLS:
            await topo.assign(pool, f"t-{pool}-1")
        yield topo
        cleanup = await connection.channel()
        queues = [NAMES.pool_queue(p) for p in POOLS]
        # The vendor's own queue too, had a test failed because it could declare one.
        for queue in [*queues, NAMES.inbound_queue, NAMES.dead_queue, _mine(vendor)]:
            await cleanup.queue_delete(queue)
        for exchange in (NAMES.tickets_exchange, NAMES.assignments_exchange):
            await cleanup.exchange_delete(exchange)
    finally:
        await connection.close()


Attempt = Callable[[AbstractChannel], Awaitable[Any]]


async def _outcome(connection: AbstractConnection, attempt: Attempt) -> str:
    """Run ``attempt`` on a fresh channel: "refused" (403, channel closed, connection
    still open), "ok", or what else happened."""
    channel = await connection.channel()
    try:
        await attempt(channel)
    except ChannelAccessRefused as exc:
        assert "ACCESS_REFUSED" in str(exc), exc
        assert channel.is_closed, "a 403 closes the channel"
        assert not connection.is_closed, "a 403 closes the channel only, not the connection"
        return "refused"
    except Exception as exc:  # reported in the assertion's table, not hidden
        return f"{type(exc).__name__}: {exc}"
    await channel.close()
    return "ok"


def _declare(name: str, **kw: Any) -> Attempt:
    async def run(ch: AbstractChannel) -> None:
        await ch.declare_queue(name, **kw)

    return run


def _bind(queue: str, key: str) -> Attempt:
    async def run(ch: AbstractChannel) -> None:
        q = await ch.get_queue(queue, ensure=False)
        await q.bind(NAMES.assignments_exchange, routing_key=key)

    return run


def _consume(queue: str) -> Attempt:
    async def run(ch: AbstractChannel) -> None:
        q = await ch.get_queue(queue, ensure=False)
        await q.consume(_drop)

    return run


async def _drop(message: AbstractIncomingMessage) -> None:
    raise AssertionError(f"a refused consumer was sent {message.message_id}")


def _get(queue: str) -> Attempt:
    async def run(ch: AbstractChannel) -> None:
        q = await ch.get_queue(queue, ensure=False)
        await q.get(fail=False, timeout=5)

    return run


def _publish(exchange: str, key: str) -> Attempt:
    async def run(ch: AbstractChannel) -> None:
        target = await ch.get_exchange(exchange, ensure=False) if exchange else ch.default_exchange
        # Publisher confirms are on (aio-pika's default): a refused publish fails here
        # instead of closing the channel some time later.
        await target.publish(aio_pika.Message(b'{"id": "forged"}'), routing_key=key, timeout=5)

    return run


def _purge(queue: str) -> Attempt:
    async def run(ch: AbstractChannel) -> None:
        q = await ch.get_queue(queue, ensure=False)
        await q.purge(timeout=5)

    return run


def _delete(queue: str) -> Attempt:
    async def run(ch: AbstractChannel) -> None:
        await ch.queue_delete(queue, timeout=5)

    return run


def _declare_exchange(name: str) -> Attempt:
    async def run(ch: AbstractChannel) -> None:
        await ch.declare_exchange(name, aio_pika.ExchangeType.DIRECT, durable=True, timeout=5)

    return run


async def test_the_vendor_consumes_requeues_and_acks_its_own_pool(
    vendor: Vendor, topology: Topology
) -> None:
    connection = await aio_pika.connect(vendor.url)
    try:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=10)
        queue = await channel.get_queue(NAMES.pool_queue(OWN))
        got: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
        await queue.consume(got.put)
        first = await asyncio.wait_for(got.get(), 5)
        assert (first.message_id, first.type, first.routing_key) == (
            f"t-{OWN}-1",
            "assignment",
            OWN,
        )
        assert first.body == _body(OWN, f"t-{OWN}-1") and not first.redelivered
        # The guide's "keep the message, retry" (429, 503): a requeue needs no permission.
        await first.nack(requeue=True)
        again = await asyncio.wait_for(got.get(), 5)
        assert (again.message_id, again.redelivered) == (f"t-{OWN}-1", True)
        await again.ack()
    finally:
        # Closing gives back whatever is unacked: only a real ack leaves the queue empty.
        await connection.close()
    assert await topology.ready(NAMES.pool_queue(OWN)) == 0
    assert await topology.ready(NAMES.pool_queue(OTHER)) == 1


async def test_the_vendor_is_refused_everything_else(
    rabbit: RabbitNode, vendor: Vendor, topology: Topology
) -> None:
    own, other, lookalike = (NAMES.pool_queue(p) for p in POOLS)
    assert vendor.permissions[2] == rf"^{re.escape(own)}$", vendor.permissions
    attempts: dict[str, Attempt] = {
        "(a) declare a queue of its own": _declare(_mine(vendor), durable=True),
        "(a) declare a server-named exclusive queue": _declare("", exclusive=True),
        # Even its own queue, with the service's very arguments: aio-pika's declare_queue
        # (not passive) would fail, hence the guide's get_queue.
        "(a) re-declare its own queue, same arguments": _declare(
            own, durable=True, arguments={"x-queue-type": "quorum"}
        ),
        "(a) declare the assignments exchange": _declare_exchange(NAMES.assignments_exchange),
        "(b) bind its own queue to assignments for zenith": _bind(own, OTHER),
        "(b) bind zenith's queue to assignments for acme": _bind(other, OWN),
        "(c) consume zenith's queue": _consume(other),
        "(c) basic.get from zenith's queue": _get(other),
        "(c) consume acme-eu's queue (a prefix of it matches)": _consume(lookalike),
        "(c) consume the inbound tickets": _consume(NAMES.inbound_queue),
        "(c) consume the dead tickets (unmasked)": _consume(NAMES.dead_queue),
        "(d) publish to tickets": _publish(NAMES.tickets_exchange, "ticket.vendor"),
        "(d) publish to the inbound queue by the default exchange": _publish(
            "", NAMES.inbound_queue
        ),
        "(d) publish a forged assignment to its own pool": _publish(
            NAMES.assignments_exchange, OWN
        ),
        "purge zenith's queue": _purge(other),
        "delete zenith's queue": _delete(other),
        "delete its own queue": _delete(own),
    }
    before = set(await asyncio.to_thread(rabbit.queues))
    began = time.monotonic()
    connection = await aio_pika.connect(vendor.url)
    try:
        outcomes = {what: await _outcome(connection, run) for what, run in attempts.items()}
    finally:
        await connection.close()
    took = time.monotonic() - began
    assert outcomes == dict.fromkeys(attempts, "refused"), outcomes
    assert took < 10, f"{len(attempts)} refusals took {took:.1f}s"

    # Nothing the refused attempts would have done happened: no new queue, no binding
    # (a fresh zenith assignment still reaches zenith only), nothing forged or taken.
    assert set(await asyncio.to_thread(rabbit.queues)) == before
    await topology.assign(OTHER, f"t-{OTHER}-2")
    ready = {q: await topology.ready(q) for q in (own, other, lookalike, NAMES.inbound_queue)}
    assert ready == {own: 1, other: 2, lookalike: 1, NAMES.inbound_queue: 0}, ready


async def test_a_passive_declare_needs_no_permission(vendor: Vendor, topology: Topology) -> None:
    # RabbitMQ checks no permission for a passive queue.declare or exchange.declare (its
    # access-control table lists none): any user of the vhost learns whether a queue
    # exists and its ready-message and consumer counts, never a message. Permissions
    # cannot hide that; it is also what lets the guide's consumer (aio-pika's get_queue,
    # and its robust connection after a reconnect) find its queue with no configure
    # permission.
    connection = await aio_pika.connect(vendor.url)
    try:
        channel = await connection.channel()
        zenith = await channel.declare_queue(NAMES.pool_queue(OTHER), passive=True)
        ok = zenith.declaration_result
        assert (ok.message_count, ok.consumer_count) == (1, 0)
        await channel.declare_exchange(NAMES.tickets_exchange, passive=True)
        assert not channel.is_closed
        # Knowing it exists does not open it: consuming it is still refused.
        assert await _outcome(connection, _consume(NAMES.pool_queue(OTHER))) == "refused"

        # A queue that does not exist answers 404, not 403: existence is not hidden.
        absent = await connection.channel()
        with pytest.raises(ChannelNotFoundEntity, match="NOT_FOUND"):
            await absent.declare_queue(NAMES.pool_queue("nobody"), passive=True)
        assert not connection.is_closed
    finally:
        await connection.close()
    assert await topology.ready(NAMES.pool_queue(OTHER)) == 1


async def test_read_lets_the_vendor_purge_its_own_queue_only(
    vendor: Vendor, topology: Topology
) -> None:
    # Purging needs read, as consuming does: harmless, the pull API serves the same backlog.
    connection = await aio_pika.connect(vendor.url)
    try:
        assert await _outcome(connection, _purge(NAMES.pool_queue(OWN))) == "ok"
        assert await _outcome(connection, _purge(NAMES.pool_queue(OTHER))) == "refused"
    finally:
        await connection.close()
    assert await topology.ready(NAMES.pool_queue(OWN)) == 0
    assert await topology.ready(NAMES.pool_queue(OTHER)) == 1


async def test_the_guides_consumer_resumes_after_the_broker_drops_it(
    rabbit: RabbitNode, vendor: Vendor, topology: Topology
) -> None:
    # The guide's consumer: connect_robust, get_queue (a passive declare), iterator.
    # aio-pika re-consumes after a reconnect only the queues it declared (get_queue with
    # ensure=False declares nothing, and then silently stops receiving).
    connection = await aio_pika.connect_robust(vendor.url, reconnect_interval=0.5)
    reconnects: list[float] = []
    connection.reconnect_callbacks.add(lambda *_: reconnects.append(time.monotonic()))
    got: list[str] = []

    async def consume() -> None:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=10)
        queue = await channel.get_queue(NAMES.pool_queue(OWN))
        async with queue.iterator() as messages:
            async for message in messages:
                got.append(str(message.message_id))
                await message.ack()

    task = asyncio.create_task(consume())
    try:

        async def received(n: int) -> bool:
            assert not task.done(), task
            return len(got) == n

        await wait_until(lambda: received(1), 5, "the waiting assignment")
        dropped = time.monotonic()
        await asyncio.to_thread(rabbit.ctl, "close_all_user_connections", vendor.user, "test")
        await topology.assign(OWN, f"t-{OWN}-2")
        await wait_until(lambda: received(2), 10, "the assignment after the reconnect")
        resumed = time.monotonic() - dropped
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await connection.close()
    assert got == [f"t-{OWN}-1", f"t-{OWN}-2"]
    assert len(reconnects) == 1, reconnects  # the broker closed it once
    print(f"guide's consumer resumed {resumed:.1f}s after its connection was closed")
    assert await topology.ready(NAMES.pool_queue(OWN)) == 0
