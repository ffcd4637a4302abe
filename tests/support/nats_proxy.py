"""A TCP proxy in front of nats-server that can lose replies, as a flaky network would.

Client-to-server bytes pass through untouched. Server-to-client bytes are
parsed just enough (NATS protocol framing) to drop the next reply message on
an ``_INBOX`` subject when asked: the publish is stored, but its
acknowledgement never arrives. It can also cut every client off (a network
partition: connections closed, new ones refused) and let them back in.
"""

from __future__ import annotations

import asyncio
import contextlib


class LossyNatsProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self._upstream = (upstream_host, upstream_port)
        self._server: asyncio.Server | None = None
        self.port = 0
        self.replies_to_drop = 0
        self.dropped = 0
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    async def start(self) -> LossyNatsProxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def cut(self) -> None:
        """Close every connection and refuse new ones until :meth:`restore`."""
        await self.stop()
        self._server = None
        self._tasks.clear()

    async def restore(self) -> None:
        """Accept connections again, on the same port."""
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection(*self._upstream)
        up = asyncio.create_task(self._copy(client_r, server_w))
        down = asyncio.create_task(self._filter(server_r, client_w))
        self._tasks |= {up, down}
        await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
        for task in (up, down):
            task.cancel()
        for writer in (client_w, server_w):
            with contextlib.suppress(Exception):
                writer.close()

    async def _copy(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()

    async def _filter(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while line := await reader.readline():
            frame = line
            parts = line.split()
            if parts and parts[0] in (b"MSG", b"HMSG"):
                size = int(parts[-1])
                frame += await reader.readexactly(size + 2)
                if self.replies_to_drop and parts[1].startswith(b"_INBOX."):
                    self.replies_to_drop -= 1
                    self.dropped += 1
                    continue
            writer.write(frame)
            await writer.drain()
