"""The composition root: the one place that builds the running service from Settings.

``open_service`` opens every resource in dependency order -- Redis and its stores, the
model, the config in force, the broker with the routing use case, the followers, the
agents' desk, the inbound consumer -- and closes them in reverse (the consumer drains
before the broker closes). ``serve`` (through the HTTP app) and the CLI
(``open_token_stores``) both build what they use here, so there is one wiring.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Protocol, TypeVar

import aio_pika
import redis.asyncio as aioredis
from aio_pika.abc import AbstractRobustConnection
from redis.exceptions import RedisError

from classifiers.model import load_model
from classifiers.paths import default_model_dir
from classifiers.types import Classifier
from queues.audit_log import RedisAuditLog
from queues.config_store import RedisConfigStore
from queues.consumer import ConsumerWatchdog, InboundConsumer
from queues.keys import Keys
from queues.kpi_store import RedisKpiStore
from queues.lease_presence import RedisPresence
from queues.lease_store import RedisLeaseStore
from queues.publisher import AmqpPublisher
from queues.redis_health import RedisHealthCheck
from queues.session_store import RedisSessionStore
from queues.ticket_store import RedisTicketStore
from queues.token_store import RedisTokenStore
from queues.topology import declare_inbound, declare_pools, inbound_arguments
from router.config.load import RoutingConfig
from router.core.errors import TransientError
from router.core.masking import masker_for
from router.service.background import Loop
from router.service.config_follower import ConfigFollower, bootstrap, fit_model
from router.service.current import Current
from router.service.inbound import BatchRouter
from router.service.leases import (
    AgentDesk,
    BacklogWatch,
    LeaseMetrics,
    LeaseSweeper,
    TicketMover,
)
from router.service.metrics import Metrics
from router.service.model_follower import ModelFollower
from router.service.ports import (
    AuditLog,
    BrokerLink,
    ConfigStore,
    LeaseStore,
    SessionStore,
    StoreHealth,
    TicketPublisher,
    TicketStore,
    TokenStore,
)
from router.service.redis_wiring import open_redis
from router.service.routing import TicketRouter
from router.service.settings import Settings
from router.service.startup import StartupProgress
from router.service.stats import KpiLeaseStore, KpiMetrics, KpiRecorder, PoolGauges, Stats

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Stores:
    """The stores the service keeps its state in, and the Redis client behind them."""

    redis: aioredis.Redis | None  # None: the stores are not Redis ones (in memory, in tests)
    tickets: TicketStore
    tokens: TokenStore
    audit: AuditLog
    health: StoreHealth
    sessions: SessionStore | None = None  # None: no dashboard sign-in (in-memory stores)


@dataclass(frozen=True, slots=True)
class Broker:
    """The broker connection, the publisher and the routing use case on top of it."""

    connection: AbstractRobustConnection
    publisher: AmqpPublisher
    router: TicketRouter


class BrokerParts(Protocol):
    """What the service exposes of the broker (a :class:`Broker`, or in-memory parts)."""

    @property
    def connection(self) -> BrokerLink:
        """The connection, for readiness."""
        ...

    @property
    def publisher(self) -> TicketPublisher:
        """Publishes inbound tickets (the HTTP ingestion path)."""
        ...

    @property
    def router(self) -> BatchRouter:
        """The routing use case."""
        ...


@dataclass(slots=True)
class Service:
    """Everything the running service holds; the HTTP layer exposes it to handlers."""

    settings: Settings
    metrics: Metrics
    stores: Stores
    model: Current[Classifier]
    model_follower: ModelFollower
    config_store: ConfigStore
    config: Current[RoutingConfig]
    config_number: Current[int]
    broker: BrokerParts
    config_follower: ConfigFollower
    desk: AgentDesk
    consumer: InboundConsumer | None = None
    _drain: Callable[[], Awaitable[None]] | None = None
    #: The KPI figures (None in services built without them) and, unless ROUTER_KPI
    #: is off, the recorder routing and leases report to.
    stats: Stats | None = None
    kpi: KpiRecorder | None = None

    async def drain(self) -> None:
        """Stop taking work now (waiting pulls answer, the consumer stops and drains its
        in-flight tickets) -- before the HTTP server waits for its connections."""
        self.desk.watch.shut()
        if self._drain is not None:
            await self._drain()


@asynccontextmanager
async def open_service(
    settings: Settings,
    metrics: Metrics,
    *,
    consume: bool = True,
    progress: StartupProgress | None = None,
) -> AsyncIterator[Service]:
    """The running service, opened in dependency order and closed in reverse.

    ``progress`` is told each step and what the service waits for (Redis and the
    broker are tried at the same time, so both are named while both are away)."""
    progress = progress or StartupProgress()
    async with AsyncExitStack() as stack:
        progress.step = "connecting to redis and the broker"
        connecting = asyncio.create_task(
            _connect(settings.amqp_url, settings.amqp_heartbeat_s, progress), name="amqp-connect"
        )
        stack.push_async_callback(_unused_connection, connecting)
        redis = await stack.enter_async_context(open_redis(settings))
        stores = await stack.enter_async_context(open_stores(settings, metrics, redis))
        progress.step = "loading the model"
        model, model_follower = await _model(settings, metrics)
        progress.step = "reading the config in force from redis"
        config_store = RedisConfigStore(redis, settings.names.redis_prefix)
        config, number = await _retry_redis(
            lambda: bootstrap(config_store, settings.config_path), progress
        )
        # A rule matching an extra head this model lacks would never match: refuse to start.
        fit_model(config, model.value)
        metrics.config_version.labels(config.version).set(1)
        log.info("config version %s (from %s)", config.version, settings.config_path)
        current = Current(config)
        model_follower.follow_config(current)
        kpi_store = RedisKpiStore(redis, Keys(settings.names.redis_prefix))
        kpi = None
        if settings.kpi:
            kpi = KpiRecorder(kpi_store, current, KpiMetrics(metrics.registry))
            # Closed after the consumer and the desk, the last to count, have stopped.
            stack.push_async_callback(kpi.close)
        progress.step = "connecting to the broker"
        broker = await stack.enter_async_context(
            open_broker(settings, metrics, stores.tickets, model, current, kpi, connecting)
        )
        follower = await stack.enter_async_context(
            _followers(settings, metrics, redis, config_store, current, number, broker, model)
        )
        follower_loop = Loop("model-follower", model_follower.check, 5.0)
        follower_loop.start()
        stack.push_async_callback(follower_loop.stop)
        desk = await stack.enter_async_context(
            open_desk(settings, metrics, redis, broker.publisher, current, kpi, stores.tickets)
        )
        gauges = PoolGauges(desk.store, desk.presence, kpi_store, current, metrics)
        gauges_loop = Loop("pool-gauges", gauges.refresh_once, 15.0)
        gauges_loop.start()
        stack.push_async_callback(gauges_loop.stop)
        service = Service(
            settings=settings,
            metrics=metrics,
            stores=stores,
            model=model,
            model_follower=model_follower,
            config_store=config_store,
            config=current,
            config_number=Current(number),
            broker=broker,
            config_follower=follower,
            desk=desk,
            stats=Stats(kpi_store, desk.store, current, kpi),
            kpi=kpi,
        )
        if consume:
            progress.step = "attaching the inbound consumer"
            service.consumer, service._drain = await stack.enter_async_context(
                open_consumer(settings, metrics, broker)
            )
        progress.step = "ready"
        yield service


@asynccontextmanager
async def open_stores(
    settings: Settings, metrics: Metrics, client: aioredis.Redis
) -> AsyncIterator[Stores]:
    """The stores on ``client`` and the loop that checks Redis keeps their data."""
    prefix = settings.names.redis_prefix
    keys = Keys(prefix)
    stores = Stores(
        redis=client,
        tickets=RedisTicketStore(
            client,
            keys,
            recent_max=settings.recent_tickets,
            wait_replicas=settings.redis_wait_replicas,
            wait_timeout_ms=max(1, round(settings.redis_wait_timeout_s * 1000)),
        ),
        tokens=RedisTokenStore(client, prefix),
        audit=RedisAuditLog(client, prefix),
        health=RedisHealthCheck(client, keys.epoch),
        sessions=RedisSessionStore(client, prefix),
    )
    check = _health_check(settings, metrics, stores.health)
    await check()
    loop = Loop("redis-health", check, settings.redis_check_interval_s)
    loop.start()
    try:
        yield stores
    finally:
        await loop.stop()


@asynccontextmanager
async def open_token_stores(
    settings: Settings,
) -> AsyncIterator[tuple[TokenStore, AuditLog]]:
    """The token store and audit log alone, for the CLI's token commands."""
    client = aioredis.Redis.from_url(settings.redis_url, decode_responses=False)
    prefix = settings.names.redis_prefix
    try:
        yield RedisTokenStore(client, prefix), RedisAuditLog(client, prefix)
    finally:
        await client.aclose()


def _health_check(
    settings: Settings, metrics: Metrics, health: StoreHealth
) -> Callable[[], Awaitable[None]]:
    warned: list[str] = []
    counted = [0]  # data losses already counted in the metric

    async def check() -> None:
        found = await health.check()
        metrics.redis_persistent.set(1 if found.persistent else 0)
        if found.data_loss_count > counted[0]:
            metrics.redis_data_loss.inc(found.data_loss_count - counted[0])
            counted[0] = found.data_loss_count
        problems = found.problems() if found.reachable else []
        if problems != warned:  # log a problem when it appears, not every pass
            for line in problems:
                (log.error if settings.require_persistent_redis else log.warning)("%s", line)
            warned[:] = problems

    return check


async def _model(settings: Settings, metrics: Metrics) -> tuple[Current[Classifier], ModelFollower]:
    model_dir = settings.model_dir or default_model_dir()
    model = await asyncio.to_thread(load_model, model_dir)
    current = Current[Classifier](model)
    metrics.model_version.labels(model.version).set(1)
    log.info("model %s from %s", model.version, model_dir)
    return current, ModelFollower(model_dir, current, metrics)


@asynccontextmanager
async def open_broker(
    settings: Settings,
    metrics: Metrics,
    tickets: TicketStore,
    model: Current[Classifier],
    config: Current[RoutingConfig],
    kpi: KpiRecorder | None = None,
    connecting: asyncio.Task[AbstractRobustConnection] | None = None,
) -> AsyncIterator[Broker]:
    """The broker connection (``connecting``, when already on its way), the topology,
    the publisher and the routing use case."""
    connection = await (connecting or _connect(settings.amqp_url, settings.amqp_heartbeat_s))
    try:
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        inbound, _, _ = await declare_inbound(channel, settings)
        assignments = await declare_pools(channel, settings.names, config.value.pool_ids, settings)
        publisher = AmqpPublisher(
            channel,
            tickets=inbound,
            assignments=assignments,
            dead_queue=settings.names.dead_queue,
            timeout=settings.publish_timeout_s,
        )
        router = TicketRouter(
            store=tickets,
            publisher=publisher,
            model=model,
            config=config,
            metrics=metrics,
            mask=masker_for(settings.pseudonym_key),
            claim_ttl_ms=int(settings.claim_ttl_s * 1000),
            kpi=kpi,
        )
        renewal = Loop("claim-renewal", router.renew_claims, settings.claim_ttl_s / 3)
        renewal.start()
        try:
            yield Broker(connection, publisher, router)
        finally:
            await renewal.stop()
    finally:
        await connection.close()


@asynccontextmanager
async def _followers(
    settings: Settings,
    metrics: Metrics,
    redis: aioredis.Redis,
    config_store: RedisConfigStore,
    config: Current[RoutingConfig],
    number: int,
    broker: Broker,
    model: Current[Classifier] | None = None,
) -> AsyncIterator[ConfigFollower]:
    channel = await broker.connection.channel()

    async def on_switch(new: RoutingConfig) -> None:
        # Pool queues of new pools must exist before the first assignment is published.
        await declare_pools(channel, settings.names, new.pool_ids, settings)
        metrics.config_version.remove(config.value.version)
        metrics.config_version.labels(new.version).set(1)

    follower = ConfigFollower(config_store, config, number, on_switch, model=model)
    await _retry_redis(lambda: follower.subscribe(redis))
    loop = Loop("config-follower", follower.follow_once, 0.0)
    loop.start()
    try:
        yield follower
    finally:
        await loop.stop()
        await follower.close()
        await channel.close()


@asynccontextmanager
async def open_desk(
    settings: Settings,
    metrics: Metrics,
    redis: aioredis.Redis,
    publisher: AmqpPublisher,
    config: Current[RoutingConfig],
    kpi: KpiRecorder | None = None,
    tickets: TicketStore | None = None,
) -> AsyncIterator[AgentDesk]:
    """The agents' side: lease store (counting KPI events when ``kpi`` is given),
    presence, mover and the lease sweeper loop."""
    keys = Keys(settings.names.redis_prefix)
    store: LeaseStore = RedisLeaseStore(redis, keys)
    if kpi is not None and tickets is not None:
        store = KpiLeaseStore(store, tickets, kpi)
    presence = RedisPresence(redis, keys)
    lease_metrics = LeaseMetrics(metrics.registry)

    async def pullable(pool_id: str) -> bool:
        current = config.value
        if not current.has_pool(pool_id):
            return False
        queued, open_ = await store.counts(pool_id)
        return queued > 0 and open_ < current.pool(pool_id).capacity

    watch = BacklogWatch(pullable)
    mover = TicketMover(
        store, publisher, config, lease_metrics, watch, masker_for(settings.pseudonym_key)
    )
    sweeper = LeaseSweeper(store, presence, mover, config, lease_metrics, watch)
    loop = Loop("lease-sweeper", sweeper.sweep_once, sweeper.interval_s)
    loop.start()
    try:
        yield AgentDesk(store, presence, mover, watch, lease_metrics)
    finally:
        await loop.stop()
        await watch.close()


@asynccontextmanager
async def open_consumer(
    settings: Settings, metrics: Metrics, broker: Broker
) -> AsyncIterator[tuple[InboundConsumer, Callable[[], Awaitable[None]]]]:
    """The inbound consumer and its watchdog; yields it with its drain function."""
    channel = await broker.connection.channel()
    await channel.set_qos(prefetch_count=settings.prefetch)
    # Declared through the robust channel (not fetched with get_queue), so that after
    # any reconnect -- a broker restart, a node kill, a lost channel -- aio-pika declares
    # it again; the consumer then consumes again from the channel's reopen callback.
    queue = await channel.declare_queue(
        settings.names.inbound_queue, durable=True, arguments=inbound_arguments(settings)
    )
    consumer = InboundConsumer(
        queue,
        channel,
        broker.router,
        broker.publisher,
        metrics,
        batch_size=settings.batch_size,
        batch_wait_s=settings.batch_wait_ms / 1000,
        max_bytes=settings.max_ticket_bytes,
    )
    await consumer.start()
    log.info("consuming %s (prefetch %d)", settings.names.inbound_queue, settings.prefetch)
    watchdog = ConsumerWatchdog(consumer, broker.connection, metrics)
    loop = Loop("consumer-watchdog", watchdog.check, 1.0)
    loop.start()

    async def drain() -> None:
        log.info("draining in-flight tickets")
        await loop.stop()
        await consumer.stop(settings.shutdown_grace_s)

    try:
        yield consumer, drain
    finally:
        await loop.stop()
        await consumer.stop(settings.shutdown_grace_s)  # no-op when drain() ran
        await channel.close()


async def _retry_redis(
    make: Callable[[], Awaitable[T]], progress: StartupProgress | None = None
) -> T:
    # Redis may come up after us (compose, Kubernetes): wait for it rather than crash.
    delay = 0.5
    while True:
        try:
            found = await make()
        except (TransientError, RedisError, OSError) as exc:
            log.warning("redis not reachable (%s); retrying in %.1fs", exc, delay)
            if progress is not None:
                progress.wait("redis", str(exc))
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)
        else:
            if progress is not None:
                progress.reached("redis")
            return found


async def _unused_connection(connecting: asyncio.Task[AbstractRobustConnection]) -> None:
    """Stop a broker connection started at the beginning that the broker step did not
    take over (start-up failed or was stopped before it)."""
    if not connecting.done():
        connecting.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        connection = await connecting
        if not connection.is_closed:  # the broker step closes the one it took
            await connection.close()


async def _connect(
    url: str, heartbeat_s: int, progress: StartupProgress | None = None
) -> AbstractRobustConnection:
    # The broker may start after us (compose, Kubernetes): wait for it rather than crash.
    delay = 0.5
    while True:
        try:
            connection = await aio_pika.connect_robust(
                url,
                client_properties={"connection_name": "ticket-router"},
                # A short heartbeat: the broker gives a frozen replica's unacked tickets
                # to the others after about this long (unless the URL sets its own).
                heartbeat=heartbeat_s,
            )
        except (ConnectionError, OSError, aio_pika.exceptions.AMQPError) as exc:
            log.warning("broker not reachable (%s); retrying in %.1fs", exc, delay)
            if progress is not None:
                progress.wait("broker", str(exc) or type(exc).__name__)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)
        else:
            if progress is not None:
                progress.reached("broker")
            return connection
