"""Noticing that the NATS connection came back, so the watcher can resync.

nats-py reconnects by itself and counts it (``Client.stats["reconnects"]``);
it offers no way to add a callback after connecting, so the count is polled:
twice a second costs nothing, and a resync a fraction of a second late loses
nothing (it compares with the stream).
"""

from __future__ import annotations

import asyncio

from nats.aio.client import Client as NATS


class Reconnects:
    """The connection's reconnect count, and a wait for the next reconnect."""

    def __init__(self, nc: NATS, poll_s: float = 0.5) -> None:
        self._nc = nc
        self._poll_s = poll_s

    def count(self) -> int:
        return int(self._nc.stats["reconnects"])

    async def after(self, count: int) -> int:
        """Return (the new count) once the connection has reconnected since ``count``."""
        while (now := self.count()) <= count:  # noqa: ASYNC110 (no callback to wait on)
            await asyncio.sleep(self._poll_s)
        return now
