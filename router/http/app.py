"""The HTTP application: routes, middlewares and the service behind them.

``create_app`` runs the service built by the composition root
(:func:`router.service.composition.open_service`) for the application's lifetime;
``build_app`` serves an already built :class:`Service` (tests pass one made of
in-memory parts). Either way handlers find the service's parts under the typed keys
of :mod:`router.http.appkeys`.
"""

from __future__ import annotations

import asyncio
import contextlib
import warnings
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from aiohttp import web

from router.http import appkeys as K
from router.http.admin import admin_routes
from router.http.agents import agent_routes
from router.http.auth import SESSION_STORE, auth_middleware, starting_middleware
from router.http.config_api import config_routes
from router.http.dashboard import dashboard_routes
from router.http.errors import error_middleware
from router.http.health import health_routes
from router.http.request_metrics import request_metrics_middleware
from router.http.session import session_routes
from router.http.stats import stats_routes
from router.http.tickets import ticket_routes
from router.service.metrics import Metrics
from router.service.settings import Settings
from router.service.startup import StartupProgress

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractAsyncContextManager

    from router.service.composition import Service

    OpenService = Callable[..., AbstractAsyncContextManager[Service]]


def _import_open_service() -> OpenService:
    """The composition root's ``open_service``, imported when the service opens: the
    composition root imports the model's libraries (NumPy, SciPy, scikit-learn) and the
    Redis and AMQP clients, a second or more of start-up that ``serve`` spends after its
    HTTP port is open rather than before."""
    from router.service.composition import open_service

    return open_service


def create_app(
    settings: Settings, *, consume: bool = True, background: bool = False
) -> web.Application:
    """Build the service: HTTP API plus (when ``consume``) the inbound consumer.

    ``background``: the application starts at once and opens the service in a task
    (``app[K.OPENING]``), so ``/healthz`` answers while Redis or the broker are not up
    yet; ``/readyz`` says what it waits for and the rest of the API answers 503 until
    the service is in place. Otherwise start-up waits until the service is open."""
    app = _routes(settings)
    app[K.METRICS] = Metrics()
    app[K.STARTUP] = StartupProgress()
    app[K.OPENED] = asyncio.Event()  # set once the service is in place

    async def service_ctx(app: web.Application) -> AsyncIterator[None]:
        open_service = _import_open_service()
        async with open_service(
            settings, app[K.METRICS], consume=consume, progress=app[K.STARTUP]
        ) as service:
            install(app, service)
            yield

    async def background_ctx(app: web.Application) -> AsyncIterator[None]:
        closing = asyncio.Event()

        async def run() -> None:
            # In a thread: the event loop answers /healthz while it imports.
            open_service = await asyncio.to_thread(_import_open_service)
            async with open_service(
                settings, app[K.METRICS], consume=consume, progress=app[K.STARTUP]
            ) as service:
                with warnings.catch_warnings():
                    # The app is running by now; aiohttp warns that setting its keys
                    # then is deprecated. These keys are set once, here, before any
                    # handler but the public ones may read them (starting_middleware).
                    warnings.filterwarnings(
                        "ignore", "Changing state of started", DeprecationWarning
                    )
                    install(app, service)
                app[K.OPENED].set()
                await closing.wait()

        task = asyncio.create_task(run(), name="open-service")
        app[K.OPENING] = task
        yield
        if K.SERVICE in app:
            closing.set()  # the service closes in reverse order, in its own task
        else:
            task.cancel()  # stopped while starting: what was opened is closed
        with contextlib.suppress(asyncio.CancelledError):
            await task

    app.cleanup_ctx.append(background_ctx if background else service_ctx)
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
        middlewares=[
            request_metrics_middleware,
            error_middleware,
            starting_middleware,
            auth_middleware,
        ],
    )
    app[K.SETTINGS] = settings
    app.add_routes(health_routes())
    app.add_routes(ticket_routes())
    app.add_routes(admin_routes())
    app.add_routes(config_routes())
    app.add_routes(agent_routes())
    app.add_routes(stats_routes())
    app.add_routes(session_routes())
    app.add_routes(dashboard_routes())
    return app


def install(app: web.Application, service: Service) -> None:
    """Expose the service's parts to the handlers under their keys."""
    app[K.SERVICE] = service
    app[K.METRICS] = service.metrics
    app[K.REDIS] = service.stores.redis
    app[K.STORE] = service.stores.tickets
    app[K.TOKENS] = service.stores.tokens
    app[K.AUDIT] = service.stores.audit
    if service.stores.sessions is not None:
        app[SESSION_STORE] = service.stores.sessions
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
