"""``ticket-router serve``: run the consumer and the HTTP API until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import gc
import io
import logging
import signal

from aiohttp import web

from classifiers.defaults import model_info
from classifiers.errors import ModelError
from queues.topology import TopologyMismatch
from router.config.load import ConfigError
from router.http import appkeys as K
from router.http.app import create_app
from router.service.settings import Settings

log = logging.getLogger(__name__)


def dump_tasks() -> None:
    """Log the stack of every asyncio task of this process."""
    for task in asyncio.all_tasks():
        out = io.StringIO()
        task.print_stack(file=out)
        log.warning("task %s:\n%s", task.get_name(), out.getvalue())


async def serve(settings: Settings, *, ready: asyncio.Event | None = None) -> None:
    """Serve until a stop signal; then stop consuming, drain in-flight tickets, close.

    The HTTP server is up first (``/healthz`` answers at once, ``/readyz`` says what
    the start waits for); the service opens behind it. A stop signal at any moment,
    during start-up too, ends in a clean stop and exit code 0."""
    app = create_app(settings, background=True)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    # `kill -USR1 <pid>` logs what every task is waiting on: for a replica that hangs.
    loop.add_signal_handler(signal.SIGUSR1, dump_tasks)
    site = web.TCPSite(runner, settings.http_host, settings.http_port)
    await site.start()
    log.info("listening on %s:%d", settings.http_host, settings.http_port)
    opening = app[K.OPENING]
    stopping = asyncio.create_task(stop.wait(), name="stop-signal")
    opened = asyncio.create_task(app[K.OPENED].wait(), name="service-opened")
    await asyncio.wait({stopping, opening, opened}, return_when="FIRST_COMPLETED")
    opened.cancel()
    if opening.done() and not opening.cancelled() and opening.exception() is not None:
        await _failed_start(runner, opening.exception())
    if K.SERVICE in app and not stopping.done():
        warn_if_synthetic(app[K.MODEL].value)
        settle_heap()
        if ready is not None:
            ready.set()
        print(f"ticket-router ready on port {settings.http_port}", flush=True)
        await asyncio.wait({stopping, opening}, return_when="FIRST_COMPLETED")
        if opening.done() and not opening.cancelled() and opening.exception() is not None:
            await _failed_start(runner, opening.exception())
    log.info("stop signal received: draining" if stopping.done() else "service ended")
    stopping.cancel()
    await runner.cleanup()
    log.info("stopped cleanly")


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
    await runner.cleanup()
    if isinstance(exc, TopologyMismatch | ConfigError | ModelError):
        # A mistake in the deployment, not a bug: one clear line, no traceback.
        log.error("cannot start: %s", exc)
        raise SystemExit(2) from None
    assert exc is not None
    raise exc
