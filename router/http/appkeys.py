"""Typed keys for everything the aiohttp application holds.

Stores and the broker's parts are typed on their ports (:mod:`router.service.ports`), so
an application serving in-memory parts type-checks like the real one. The types are
named for the type checker only: importing this module (every handler does) must not
import the service's libraries, which ``serve`` imports only once its port is open.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from aiohttp import web

from router.service.metrics import Metrics
from router.service.settings import Settings
from router.service.startup import StartupProgress

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from classifiers.types import Classifier
    from queues.consumer import InboundConsumer
    from router.config.load import RoutingConfig
    from router.service.composition import Service
    from router.service.config_follower import ConfigFollower
    from router.service.current import Current
    from router.service.inbound import BatchRouter
    from router.service.leases import AgentDesk
    from router.service.model_follower import ModelFollower
    from router.service.ports import (
        AuditLog,
        BrokerLink,
        ConfigStore,
        StoreHealth,
        TicketPublisher,
        TicketStore,
        TokenStore,
    )

SETTINGS = web.AppKey("settings", Settings)
METRICS = web.AppKey("metrics", Metrics)
# None when the stores are in memory (tests).
REDIS: web.AppKey[Redis | None] = web.AppKey("redis")
# Ports are Protocols, which type[T] does not accept, and the other types are imported
# for the type checker only: the type is given by the annotation.
STORE: web.AppKey[TicketStore] = web.AppKey("store")
MODEL: web.AppKey[Current[Classifier]] = web.AppKey("model")
CONFIG: web.AppKey[Current[RoutingConfig]] = web.AppKey("config")
AMQP: web.AppKey[BrokerLink] = web.AppKey("amqp")
PUBLISHER: web.AppKey[TicketPublisher] = web.AppKey("publisher")
ROUTER: web.AppKey[BatchRouter] = web.AppKey("router")
TOKENS: web.AppKey[TokenStore] = web.AppKey("tokens")
AUDIT: web.AppKey[AuditLog] = web.AppKey("audit")
CONFIG_STORE: web.AppKey[ConfigStore] = web.AppKey("config_store")
CONFIG_NUMBER: web.AppKey[Current[int]] = web.AppKey("config_number")
CONFIG_FOLLOWER: web.AppKey[ConfigFollower] = web.AppKey("config_follower")
MODEL_FOLLOWER: web.AppKey[ModelFollower] = web.AppKey("model_follower")
REDIS_HEALTH: web.AppKey[StoreHealth] = web.AppKey("redis_health")
CONSUMER: web.AppKey[InboundConsumer] = web.AppKey("consumer")
DESK: web.AppKey[AgentDesk] = web.AppKey("agent_desk")
SERVICE: web.AppKey[Service] = web.AppKey("service")
#: What the service does while it starts (see router.service.startup).
STARTUP = web.AppKey("startup", StartupProgress)
#: The task opening the service when the app starts in the background (serve).
OPENING = web.AppKey("opening", asyncio.Task[None])
#: Set when the service opened in the background is in place.
OPENED = web.AppKey("opened", asyncio.Event)
