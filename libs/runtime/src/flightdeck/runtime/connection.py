"""Connecting to NATS the way every Flightdeck process should: patiently.

The first connection may take up to ``timeout`` (NATS may still be starting);
after that nats-py reconnects forever, because a service must outlive a NATS
restart.
"""

from __future__ import annotations

import asyncio

import nats.errors
import structlog

from flightdeck.events import wire
from flightdeck.events.wire import Client as NATS

log = structlog.get_logger(__name__)


async def connect(url: str, name: str, *, timeout: float = 30.0) -> NATS:
    """A connected client to ``url`` named ``name``; raises after ``timeout`` seconds."""

    async def disconnected() -> None:
        if not (client.is_closed or client.is_draining):
            log.warning("nats disconnected", url=url)

    async def reconnected() -> None:
        log.info("nats reconnected", url=url)

    async def error(exc: Exception) -> None:
        log.debug("nats error", error=repr(exc))

    # nats-py retries a failed first connection forever when reconnecting is allowed,
    # so the time limit is enforced around it.
    client = wire.Client()
    try:
        await asyncio.wait_for(
            client.connect(
                url,
                name=name,
                connect_timeout=2,
                allow_reconnect=True,
                max_reconnect_attempts=-1,
                reconnect_time_wait=0.25,  # type: ignore[arg-type]  # seconds; nats-py's hint says int
                disconnected_cb=disconnected,
                reconnected_cb=reconnected,
                error_cb=error,
            ),
            timeout,
        )
    except (TimeoutError, OSError, nats.errors.Error) as exc:
        await client.close()
        raise ConnectionError(f"cannot reach NATS at {url}: {exc!r}") from exc
    return client
