"""A TCP proxy the test can cut and restore, to make a real server unreachable for
one client without stopping the server other tests use."""

from __future__ import annotations

import asyncio
import contextlib


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target; :meth:`cut` drops every connection and
    refuses new ones until :meth:`restore`."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._accepting = False
        self.port = 0

    async def start(self) -> int:
        """Listen (on the same port again after a cut); returns the port."""
        self._accepting = True
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def cut(self) -> None:
        """Close the listener and every forwarded connection."""
        self._accepting = False
        server, self._server = self._server, None
        if server is not None:
            server.close()  # stops listening; the open connections stay open
        # Close the connections before waiting: since Python 3.12 wait_closed() returns
        # only once every connection the server accepted is closed, so waiting first
        # hangs (3.11 returned at once).
        for writer in list(self._writers):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        self._writers.clear()
        if server is not None:
            # A connection still unhandled is closed by _handle once the loop runs it.
            async with asyncio.timeout(10):
                await server.wait_closed()

    async def restore(self) -> None:
        """Accept connections again."""
        await self.start()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self._accepting:  # accepted just before a cut
            writer.close()
            return
        self._writers.add(writer)
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.close()
            self._writers.discard(writer)
            return
        if not self._accepting:  # cut while connecting upstream
            for w in (writer, up_writer):
                w.close()
            self._writers.discard(writer)
            return
        self._writers.add(up_writer)
        pumps = [
            asyncio.create_task(self._pump(reader, up_writer)),
            asyncio.create_task(self._pump(up_reader, writer)),
        ]
        self._tasks.update(pumps)
        await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        for task in pumps:
            task.cancel()
            self._tasks.discard(task)
        for w in (writer, up_writer):
            w.close()
            self._writers.discard(w)

    @staticmethod
    async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
