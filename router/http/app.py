"""The application factory: one ``cleanup_ctx`` per resource, opened in dependency
order and closed in reverse (the consumer drains before the broker closes)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import aio_pika
import redis.asyncio as aioredis
from aio_pika.abc import AbstractRobustConnection
from aiohttp import web
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from classifiers.model import load_model
from classifiers.paths import default_model_dir
from classifiers.types import Classifier
from queues.audit_log import RedisAuditLog
from queues.config_store import RedisConfigStore
from queues.consumer import ConsumerWatchdog, InboundConsumer
from queues.keys import Keys
from queues.publisher import AmqpPublisher
from queues.redis_health import RedisHealthCheck
from queues.ticket_store import RedisTicketStore
from queues.token_store import RedisTokenStore
from queues.topology import declare_inbound, declare_pools, inbound_arguments
from router.config.load import RoutingConfig
from router.core.errors import TransientError
from router.core.masking import masker_for
from router.http import appkeys as K
from router.http.admin import admin_routes
from router.http.agents import agent_routes
from router.http.auth import auth_middleware
from router.http.config_api import config_routes
from router.http.errors import error_middleware
from router.http.health import health_routes
from router.http.tickets import ticket_routes
from router.service.background import Loop
from router.service.config_follower import ConfigFollower, bootstrap
from router.service.current import Current
from router.service.leases import leases_ctx, stop_long_polls
from router.service.metrics import Metrics
from router.service.model_follower import ModelFollower
from router.service.routing import TicketRouter
from router.service.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")


def create_app(settings: Settings, *, consume: bool = True) -> web.Application:
    """Build the service: HTTP API plus (when ``consume``) the inbound consumer."""
    app = web.Application(
        client_max_size=settings.max_ticket_bytes + 1024,
        middlewares=[error_middleware, auth_middleware],
    )
    app[K.SETTINGS] = settings
    app[K.METRICS] = Metrics()
    app.add_routes(health_routes())
    app.add_routes(ticket_routes())
    app.add_routes(admin_routes())
    app.add_routes(config_routes())
    app.add_routes(agent_routes())
    app.cleanup_ctx.append(_redis)
    app.cleanup_ctx.append(_model)
    app.cleanup_ctx.append(_config)
    app.cleanup_ctx.append(_amqp)
    app.cleanup_ctx.append(_followers)
    app.cleanup_ctx.append(leases_ctx)
    # Waiting long-polls answer 204 at once when the replica stops.
    app.on_shutdown.append(stop_long_polls)
    if consume:
        app.cleanup_ctx.append(_consumer)
    return app


async def _model(app: web.Application) -> AsyncIterator[None]:
    settings = app[K.SETTINGS]
    model_dir = settings.model_dir or default_model_dir()
    model = await asyncio.to_thread(load_model, model_dir)
    app[K.MODEL] = Current[Classifier](model)
    app[K.MODEL_FOLLOWER] = ModelFollower(model_dir, app[K.MODEL], app[K.METRICS])
    app[K.METRICS].model_version.labels(model.version).set(1)
    log.info("model %s from %s", model.version, model_dir)
    yield


async def _config(app: web.Application) -> AsyncIterator[None]:
    settings = app[K.SETTINGS]
    store = RedisConfigStore(app[K.REDIS], settings.names.redis_prefix)
    config, number = await _retry_redis(lambda: bootstrap(store, settings.config_path))
    app[K.CONFIG_STORE] = store
    app[K.CONFIG] = Current(config)
    app[K.METRICS].config_version.labels(config.version).set(1)
    log.info("config version %s (from %s)", config.version, settings.config_path)
    app[K.CONFIG_NUMBER] = Current(number)
    yield


async def _redis(app: web.Application) -> AsyncIterator[None]:
    settings = app[K.SETTINGS]
    # A blocking pool: a burst waits for a free connection instead of failing.
    pool = aioredis.BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=64,
        timeout=10,
        socket_timeout=5,
        socket_connect_timeout=5,
        health_check_interval=15,
        # A pooled connection that went stale when Redis restarted fails once and is
        # replaced: retry on a fresh one instead of failing the batch (every command
        # the service sends is safe to repeat; the Lua scripts check their owner).
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), 3),
        retry_on_error=[RedisConnectionError, RedisTimeoutError, ConnectionError],
    )
    client = aioredis.Redis(connection_pool=pool)
    app[K.REDIS] = client
    app[K.TOKENS] = RedisTokenStore(client, settings.names.redis_prefix)
    app[K.AUDIT] = RedisAuditLog(client, settings.names.redis_prefix)
    keys = Keys(settings.names.redis_prefix)
    app[K.STORE] = RedisTicketStore(client, keys, recent_max=settings.recent_tickets)
    health = RedisHealthCheck(client, keys.epoch)
    app[K.REDIS_HEALTH] = health
    metrics = app[K.METRICS]
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

    await check()
    loop = Loop("redis-health", check, settings.redis_check_interval_s)
    loop.start()
    yield
    await loop.stop()
    await client.aclose()


async def _amqp(app: web.Application) -> AsyncIterator[None]:
    settings = app[K.SETTINGS]
    connection = await _connect(settings.amqp_url, settings.amqp_heartbeat_s)
    app[K.AMQP] = connection
    channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
    tickets, _, _ = await declare_inbound(channel, settings)
    assignments = await declare_pools(
        channel, settings.names, app[K.CONFIG].value.pool_ids, settings
    )
    publisher = AmqpPublisher(
        channel,
        tickets=tickets,
        assignments=assignments,
        dead_queue=settings.names.dead_queue,
        timeout=settings.publish_timeout_s,
    )
    app[K.PUBLISHER] = publisher
    app[K.ROUTER] = TicketRouter(
        store=app[K.STORE],
        publisher=publisher,
        model=app[K.MODEL],
        config=app[K.CONFIG],
        metrics=app[K.METRICS],
        mask=masker_for(settings.pseudonym_key),
        claim_ttl_ms=int(settings.claim_ttl_s * 1000),
    )
    renewal = Loop("claim-renewal", app[K.ROUTER].renew_claims, settings.claim_ttl_s / 3)
    renewal.start()
    yield
    await renewal.stop()
    await connection.close()


async def _followers(app: web.Application) -> AsyncIterator[None]:
    settings = app[K.SETTINGS]
    channel = await app[K.AMQP].channel()
    metrics = app[K.METRICS]

    async def on_switch(new: RoutingConfig) -> None:
        # Pool queues of new pools must exist before the first assignment is published.
        await declare_pools(channel, settings.names, new.pool_ids, settings)
        old = app[K.CONFIG].value
        metrics.config_version.remove(old.version)
        metrics.config_version.labels(new.version).set(1)

    follower = ConfigFollower(
        app[K.CONFIG_STORE], app[K.CONFIG], app[K.CONFIG_NUMBER].value, on_switch
    )
    app[K.CONFIG_FOLLOWER] = follower
    await _retry_redis(lambda: follower.subscribe(app[K.REDIS]))
    loops = [
        Loop("config-follower", follower.follow_once, 0.0),
        Loop("model-follower", app[K.MODEL_FOLLOWER].check, 5.0),
    ]
    for loop in loops:
        loop.start()
    yield
    for loop in loops:
        await loop.stop()
    await follower.close()
    await channel.close()


async def _retry_redis(make: Callable[[], Awaitable[T]]) -> T:
    # Redis may come up after us (compose, Kubernetes): wait for it rather than crash.
    delay = 0.5
    while True:
        try:
            return await make()
        except (TransientError, RedisError, OSError) as exc:
            log.warning("redis not reachable (%s); retrying in %.1fs", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)


async def _connect(url: str, heartbeat_s: int) -> AbstractRobustConnection:
    # The broker may start after us (compose, Kubernetes): wait for it rather than crash.
    delay = 0.5
    while True:
        try:
            return await aio_pika.connect_robust(
                url,
                client_properties={"connection_name": "ticket-router"},
                # A short heartbeat: the broker gives a frozen replica's unacked tickets
                # to the others after about this long (unless the URL sets its own).
                heartbeat=heartbeat_s,
            )
        except (ConnectionError, OSError, aio_pika.exceptions.AMQPError) as exc:
            log.warning("broker not reachable (%s); retrying in %.1fs", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)


async def _consumer(app: web.Application) -> AsyncIterator[None]:
    settings = app[K.SETTINGS]
    channel = await app[K.AMQP].channel()
    await channel.set_qos(prefetch_count=settings.prefetch)
    # Declared through the robust channel (not fetched with get_queue), so that after
    # any reconnect -- a broker restart, a node kill, a lost channel -- aio-pika declares
    # it again and restores the consumer by itself.
    queue = await channel.declare_queue(
        settings.names.inbound_queue, durable=True, arguments=inbound_arguments(settings)
    )
    consumer = InboundConsumer(
        queue,
        channel,
        app[K.ROUTER],
        app[K.PUBLISHER],
        app[K.METRICS],
        batch_size=settings.batch_size,
        batch_wait_s=settings.batch_wait_ms / 1000,
        max_bytes=settings.max_ticket_bytes,
    )
    await consumer.start()
    app[K.CONSUMER] = consumer
    log.info("consuming %s (prefetch %d)", settings.names.inbound_queue, settings.prefetch)
    watchdog = ConsumerWatchdog(consumer, app[K.AMQP], app[K.METRICS])
    loop = Loop("consumer-watchdog", watchdog.check, 1.0)
    loop.start()

    async def stop_consuming(_: web.Application) -> None:
        # on_shutdown runs before the HTTP server waits for its connections to close:
        # stop taking tickets at once, rather than after that wait.
        log.info("draining in-flight tickets")
        await loop.stop()
        await consumer.stop(settings.shutdown_grace_s)

    app.on_shutdown.append(stop_consuming)
    yield
    await loop.stop()
    await consumer.stop(settings.shutdown_grace_s)  # no-op when on_shutdown drained it
    await channel.close()
