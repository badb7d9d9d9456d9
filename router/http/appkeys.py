"""Typed keys for everything the aiohttp application holds."""

from __future__ import annotations

from aio_pika.abc import AbstractRobustConnection
from aiohttp import web
from redis.asyncio import Redis

from classifiers.types import Classifier
from queues.audit_log import RedisAuditLog
from queues.config_store import RedisConfigStore
from queues.consumer import InboundConsumer
from queues.publisher import AmqpPublisher
from queues.redis_health import RedisHealthCheck
from queues.ticket_store import RedisTicketStore
from queues.token_store import RedisTokenStore
from router.config.load import RoutingConfig
from router.service.composition import Service
from router.service.config_follower import ConfigFollower
from router.service.current import Current
from router.service.leases import AgentDesk
from router.service.metrics import Metrics
from router.service.model_follower import ModelFollower
from router.service.routing import TicketRouter
from router.service.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
METRICS = web.AppKey("metrics", Metrics)
REDIS = web.AppKey("redis", Redis)
STORE = web.AppKey("store", RedisTicketStore)
MODEL = web.AppKey("model", Current[Classifier])
CONFIG = web.AppKey("config", Current[RoutingConfig])
AMQP = web.AppKey("amqp", AbstractRobustConnection)
PUBLISHER = web.AppKey("publisher", AmqpPublisher)
ROUTER = web.AppKey("router", TicketRouter)
TOKENS = web.AppKey("tokens", RedisTokenStore)
AUDIT = web.AppKey("audit", RedisAuditLog)
CONFIG_STORE = web.AppKey("config_store", RedisConfigStore)
CONFIG_NUMBER = web.AppKey("config_number", Current[int])
CONFIG_FOLLOWER = web.AppKey("config_follower", ConfigFollower)
MODEL_FOLLOWER = web.AppKey("model_follower", ModelFollower)
REDIS_HEALTH = web.AppKey("redis_health", RedisHealthCheck)
CONSUMER = web.AppKey("consumer", InboundConsumer)
DESK = web.AppKey("agent_desk", AgentDesk)
SERVICE = web.AppKey("service", Service)
