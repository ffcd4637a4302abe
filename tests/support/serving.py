"""Servers a test starts in its own process: an ASGI app under uvicorn, a moto server."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Iterator
from typing import Any

import uvicorn

from flightdeck.gateway.config import GatewayConfig
from flightdeck.gateway.entrypoints.main import server_config


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def serve(
    app: Any, port: int, config: GatewayConfig | None = None
) -> tuple[uvicorn.Server, asyncio.Task[None]]:
    """Serve ``app`` as the gateway process would (its uvicorn settings), on ``port``."""
    server = uvicorn.Server(
        server_config(
            app, config or GatewayConfig(), host="127.0.0.1", port=port, log_level="error"
        )
    )
    server.capture_signals = _no_signals  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        await asyncio.sleep(0.01)
    return server, task


@contextlib.contextmanager
def _no_signals() -> Iterator[None]:
    yield


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """A moto server (AWS in a thread) on a free port; yields its URL."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
