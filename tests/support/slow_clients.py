"""A client that asks for a stream and then reads nothing, and what the gateway says of it."""

from __future__ import annotations

import asyncio
import socket
from typing import Any


def silent_get(url: str, path: str, token: str) -> socket.socket:
    """Send ``GET path`` to ``url`` and never read, with a tiny receive window."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    sock.sendall(
        f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
    )
    return sock


async def read_to_close(sock: socket.socket) -> bytes:
    """Read until the server closes (it must, having cut the client off)."""
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    out = b""
    while True:
        chunk = await asyncio.wait_for(loop.sock_recv(sock, 1 << 20), 30)
        if not chunk:
            return out
        out += chunk


def slow_consumer_cuts(metrics: Any) -> float:
    """How many clients the gateway has cut off as too slow (``SLOW_CONSUMER``)."""
    return float(metrics.errors.labels(code="SLOW_CONSUMER")._value.get())
