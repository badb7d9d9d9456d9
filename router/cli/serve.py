"""``ticket-router serve``: run the consumer and the HTTP API until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import io
import logging
import signal

from aiohttp import web

from classifiers.errors import ModelError
from queues.topology import TopologyMismatch
from router.config.load import ConfigError
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
    """Serve until a stop signal; then stop consuming, drain in-flight tickets, close."""
    app = create_app(settings)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    try:
        await runner.setup()
    except (TopologyMismatch, ConfigError, ModelError) as exc:
        # A mistake in the deployment, not a bug: one clear line, no traceback.
        log.error("cannot start: %s", exc)
        await runner.cleanup()
        raise SystemExit(2) from None
    site = web.TCPSite(runner, settings.http_host, settings.http_port)
    await site.start()
    log.info("listening on %s:%d", settings.http_host, settings.http_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    # `kill -USR1 <pid>` logs what every task is waiting on: for a replica that hangs.
    loop.add_signal_handler(signal.SIGUSR1, dump_tasks)
    if ready is not None:
        ready.set()
    print(f"ticket-router ready on port {settings.http_port}", flush=True)
    await stop.wait()
    log.info("stop signal received: draining")
    await runner.cleanup()
    log.info("stopped cleanly")
