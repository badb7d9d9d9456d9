"""The HTTP application: routes, middlewares and the service behind them.

``create_app`` runs the service built by the composition root
(:func:`router.service.composition.open_service`) for the application's lifetime;
``build_app`` serves an already built :class:`Service` (tests pass one made of
in-memory parts). Either way handlers find the service's parts under the typed keys
of :mod:`router.http.appkeys`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from router.http import appkeys as K
from router.http.admin import admin_routes
from router.http.agents import agent_routes
from router.http.auth import auth_middleware
from router.http.config_api import config_routes
from router.http.errors import error_middleware
from router.http.health import health_routes
from router.http.request_metrics import request_metrics_middleware
from router.http.stats import stats_routes
from router.http.tickets import ticket_routes
from router.service.composition import Service, open_service
from router.service.metrics import Metrics
from router.service.settings import Settings


def create_app(settings: Settings, *, consume: bool = True) -> web.Application:
    """Build the service: HTTP API plus (when ``consume``) the inbound consumer."""
    app = _routes(settings)
    app[K.METRICS] = Metrics()

    async def service_ctx(app: web.Application) -> AsyncIterator[None]:
        async with open_service(settings, app[K.METRICS], consume=consume) as service:
            install(app, service)
            yield

    app.cleanup_ctx.append(service_ctx)
    app.on_shutdown.append(_drain)
    return app


def build_app(service: Service) -> web.Application:
    """An application serving ``service`` as it is (opened and closed by the caller)."""
    app = _routes(service.settings)
    install(app, service)
    app.on_shutdown.append(_drain)
    return app


def _routes(settings: Settings) -> web.Application:
    app = web.Application(
        client_max_size=settings.max_ticket_bytes + 1024,
        middlewares=[request_metrics_middleware, error_middleware, auth_middleware],
    )
    app[K.SETTINGS] = settings
    app.add_routes(health_routes())
    app.add_routes(ticket_routes())
    app.add_routes(admin_routes())
    app.add_routes(config_routes())
    app.add_routes(agent_routes())
    app.add_routes(stats_routes())
    return app


def install(app: web.Application, service: Service) -> None:
    """Expose the service's parts to the handlers under their keys."""
    app[K.SERVICE] = service
    app[K.METRICS] = service.metrics
    app[K.REDIS] = service.stores.redis
    app[K.STORE] = service.stores.tickets
    app[K.TOKENS] = service.stores.tokens
    app[K.AUDIT] = service.stores.audit
    app[K.REDIS_HEALTH] = service.stores.health
    app[K.MODEL] = service.model
    app[K.MODEL_FOLLOWER] = service.model_follower
    app[K.CONFIG_STORE] = service.config_store
    app[K.CONFIG] = service.config
    app[K.CONFIG_NUMBER] = service.config_number
    app[K.CONFIG_FOLLOWER] = service.config_follower
    app[K.AMQP] = service.broker.connection
    app[K.PUBLISHER] = service.broker.publisher
    app[K.ROUTER] = service.broker.router
    app[K.DESK] = service.desk
    if service.consumer is not None:
        app[K.CONSUMER] = service.consumer


async def _drain(app: web.Application) -> None:
    # on_shutdown runs before the HTTP server waits for its connections to close:
    # waiting pulls answer 204 and the consumer stops taking tickets at once.
    service = app.get(K.SERVICE)
    if service is not None:
        await service.drain()
