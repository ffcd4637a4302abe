"""Connecting to NATS the way every Flightdeck process should: patiently.

The first connection is retried until ``timeout`` (NATS may still be starting);
after that nats-py reconnects forever, because a service must outlive a NATS
restart.
"""

from __future__ import annotations

import asyncio
import time

import nats.errors
import structlog

from flightdeck.events import wire
from flightdeck.events.wire import Client as NATS

log = structlog.get_logger(__name__)


async def connect(url: str, name: str, *, timeout: float = 30.0) -> NATS:
    """A connected client to ``url`` named ``name``; raises after ``timeout`` seconds."""

    client: NATS | None = None

    async def disconnected() -> None:
        if client is not None and not (client.is_closed or client.is_draining):
            log.warning("nats disconnected", url=url)

    async def reconnected() -> None:
        log.info("nats reconnected", url=url)

    async def error(exc: Exception) -> None:
        log.debug("nats error", error=repr(exc))

    deadline = time.monotonic() + timeout
    while True:
        try:
            client = await wire.connect(
                url,
                name=name,
                connect_timeout=2,
                allow_reconnect=True,
                max_reconnect_attempts=-1,
                reconnect_time_wait=0.25,
                disconnected_cb=disconnected,
                reconnected_cb=reconnected,
                error_cb=error,
            )
            return client
        except (TimeoutError, OSError, nats.errors.Error) as exc:
            if time.monotonic() > deadline:
                raise ConnectionError(f"cannot reach NATS at {url}: {exc!r}") from exc
            await asyncio.sleep(0.25)
