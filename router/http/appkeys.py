"""Typed keys for everything the aiohttp application holds.

Stores and the broker's parts are typed on their ports (:mod:`router.service.ports`), so
an application serving in-memory parts type-checks like the real one.
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from redis.asyncio import Redis

from classifiers.types import Classifier
from queues.consumer import InboundConsumer
from router.config.load import RoutingConfig
from router.service.composition import Service
from router.service.config_follower import ConfigFollower
from router.service.current import Current
from router.service.inbound import BatchRouter
from router.service.leases import AgentDesk
from router.service.metrics import Metrics
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
from router.service.settings import Settings
from router.service.startup import StartupProgress

SETTINGS = web.AppKey("settings", Settings)
METRICS = web.AppKey("metrics", Metrics)
# None when the stores are in memory (tests).
REDIS = web.AppKey[Redis | None]("redis")
# Ports are Protocols, which type[T] does not accept: the type is given as a parameter.
STORE = web.AppKey[TicketStore]("store")
MODEL = web.AppKey("model", Current[Classifier])
CONFIG = web.AppKey("config", Current[RoutingConfig])
AMQP = web.AppKey[BrokerLink]("amqp")
PUBLISHER = web.AppKey[TicketPublisher]("publisher")
ROUTER = web.AppKey[BatchRouter]("router")
TOKENS = web.AppKey[TokenStore]("tokens")
AUDIT = web.AppKey[AuditLog]("audit")
CONFIG_STORE = web.AppKey[ConfigStore]("config_store")
CONFIG_NUMBER = web.AppKey("config_number", Current[int])
CONFIG_FOLLOWER = web.AppKey("config_follower", ConfigFollower)
MODEL_FOLLOWER = web.AppKey("model_follower", ModelFollower)
REDIS_HEALTH = web.AppKey[StoreHealth]("redis_health")
CONSUMER = web.AppKey("consumer", InboundConsumer)
DESK = web.AppKey("agent_desk", AgentDesk)
SERVICE = web.AppKey("service", Service)
#: What the service does while it starts (see router.service.startup).
STARTUP = web.AppKey("startup", StartupProgress)
#: The task opening the service when the app starts in the background (serve).
OPENING = web.AppKey("opening", asyncio.Task[None])
#: Set when the service opened in the background is in place.
OPENED = web.AppKey("opened", asyncio.Event)
