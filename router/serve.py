"""``ticket-router serve``: run the consumer and the HTTP API until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from router.app import create_app
from router.settings import Settings

log = logging.getLogger(__name__)


async def serve(settings: Settings, *, ready: asyncio.Event | None = None) -> None:
    """Serve until a stop signal; then stop consuming, drain in-flight tickets, close."""
    app = create_app(settings)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.http_host, settings.http_port)
    await site.start()
    log.info("listening on %s:%d", settings.http_host, settings.http_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if ready is not None:
        ready.set()
    print(f"ticket-router ready on port {settings.http_port}", flush=True)
    await stop.wait()
    log.info("stop signal received: draining")
    await runner.cleanup()
    log.info("stopped cleanly")
