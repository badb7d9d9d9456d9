"""``ticket-router serve``: run the consumer and the HTTP API until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import gc
import io
import logging
import signal
from collections.abc import Callable

from aiohttp import web

from classifiers.defaults import model_info
from router.http.util import error_body, json_response
from router.service.settings import Settings
from router.service.startup import StartupProgress

log = logging.getLogger(__name__)


def dump_tasks() -> None:
    """Log the stack of every asyncio task of this process."""
    for task in asyncio.all_tasks():
        out = io.StringIO()
        task.print_stack(file=out)
        log.warning("task %s:\n%s", task.get_name(), out.getvalue())


async def serve(settings: Settings, *, ready: asyncio.Event | None = None) -> None:
    """Serve until a stop signal; then stop consuming, drain in-flight tickets, close.

    The HTTP port opens first, before the HTTP layer and the libraries under it are
    imported (a second or more on a busy machine): until the application is built,
    ``/healthz`` answers 200, ``/readyz`` 503 "starting" and every other path 503, as the
    application itself answers until the service is open. Then the application takes
    the port's new connections (``/readyz`` says what the start waits for) and the
    service opens behind it. A stop signal at any moment, during start-up too, ends in a
    clean stop and exit code 0."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    # `kill -USR1 <pid>` logs what every task is waiting on: for a replica that hangs.
    loop.add_signal_handler(signal.SIGUSR1, dump_tasks)
    starting = web.Server(answer_starting, access_log=None)
    port = Handover(starting)
    listener = await loop.create_server(port, settings.http_host, settings.http_port, backlog=128)
    log.info("listening on %s:%d", settings.http_host, settings.http_port)
    stopping = asyncio.create_task(stop.wait(), name="stop-signal")
    # In a thread: the event loop answers the start-up server's requests meanwhile.
    importing = asyncio.ensure_future(asyncio.to_thread(_import_create_app))
    await asyncio.wait({stopping, importing}, return_when="FIRST_COMPLETED")
    if stopping.done():
        listener.close()
        await starting.shutdown(1.0)
        log.info("stop signal received while starting")
        log.info("stopped cleanly")
        return
    from router.http import appkeys as K

    app = importing.result()(settings, background=True)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    assert runner.server is not None
    port.server = runner.server  # new connections: the application
    await starting.shutdown(1.0)  # and the start-up server's end
    opening = app[K.OPENING]
    opened = asyncio.create_task(app[K.OPENED].wait(), name="service-opened")
    await asyncio.wait({stopping, opening, opened}, return_when="FIRST_COMPLETED")
    opened.cancel()
    if opening.done() and not opening.cancelled() and opening.exception() is not None:
        listener.close()
        await _failed_start(runner, opening.exception())
    if K.SERVICE in app and not stopping.done():
        warn_if_synthetic(app[K.MODEL].value)
        settle_heap()
        if ready is not None:
            ready.set()
        print(f"ticket-router ready on port {settings.http_port}", flush=True)
        await asyncio.wait({stopping, opening}, return_when="FIRST_COMPLETED")
        if opening.done() and not opening.cancelled() and opening.exception() is not None:
            listener.close()
            await _failed_start(runner, opening.exception())
    log.info("stop signal received: draining" if stopping.done() else "service ended")
    stopping.cancel()
    listener.close()  # no new connection; the open ones finish (runner.cleanup)
    await runner.cleanup()
    log.info("stopped cleanly")


class Handover:
    """The listening port's protocol factory: each new connection goes to ``server``,
    the start-up server first and the application's once it is built."""

    def __init__(self, server: web.Server) -> None:
        self.server = server

    def __call__(self) -> asyncio.BaseProtocol:
        """A protocol for one new connection."""
        return self.server()


#: What the application answers while the service opens (router.http.auth's
#: starting_middleware, router.http.health's readyz), before any step has begun.
STARTING_MESSAGE = "the service is starting; GET /readyz says what it waits for"


async def answer_starting(request: web.BaseRequest) -> web.StreamResponse:
    """The start-up server's answers, the same as the application's before the service
    opening has begun."""
    if request.method in ("GET", "HEAD") and request.path == "/healthz":
        return json_response({"status": "ok"})
    if request.method in ("GET", "HEAD") and request.path == "/readyz":
        progress = StartupProgress()
        body = {"status": "starting", "step": progress.step}
        body.update({dependency: "not waiting" for dependency in ("redis", "broker")})
        return json_response(body, status=503)
    response = json_response(error_body(503, None, STARTING_MESSAGE), status=503)
    response.headers["Retry-After"] = "1"
    return response


def _import_create_app() -> Callable[..., web.Application]:
    """``router.http.app.create_app``, imported once the port is open: the HTTP layer
    and the use cases and tables under it (the service's own libraries, NumPy,
    scikit-learn, the clients, come later still, when the service opens)."""
    from router.http.app import create_app as create

    return create


def warn_if_synthetic(model: object) -> None:
    """Say once, at WARNING, when the routed heads were trained on synthetic tickets
    (the shipped default), and how to train a model on real ones."""
    note = model_info(model).get("note")
    if note is not None:
        log.warning("%s", note)


def settle_heap() -> None:
    """Move what start-up built (libraries, the model, the config) out of the
    garbage collector's reach. A full collection otherwise walks those ~100,000
    objects every time, a 50-150 ms pause of every thread, health checks included,
    whenever a large config preview or apply allocates enough to trigger one."""
    gc.collect()
    gc.freeze()


async def _failed_start(runner: web.AppRunner, exc: BaseException | None) -> None:
    """The service could not open (or failed): one clear line for a deployment mistake
    (exit 2), the exception itself for anything else."""
    # Imported here: serve opens its port before the libraries under them are imported.
    from classifiers.errors import ModelError
    from queues.topology import TopologyMismatch
    from router.config.load import ConfigError

    await runner.cleanup()
    if isinstance(exc, TopologyMismatch | ConfigError | ModelError):
        # A mistake in the deployment, not a bug: one clear line, no traceback.
        log.error("cannot start: %s", exc)
        raise SystemExit(2) from None
    assert exc is not None
    raise exc
