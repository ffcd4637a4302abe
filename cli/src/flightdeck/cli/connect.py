"""What CLI commands that talk to Flightdeck share: settings and an event store."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from flightdeck.cli.output import fail
from flightdeck.events import Codec, EventStore, declare
from flightdeck.runtime.connection import connect
from flightdeck.runtime.service import micro_name
from flightdeck.runtime.settings import DEFAULT_NATS_PORT, ConfigError, Settings, load_settings


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        raise fail(str(exc), 2) from None


def nats_url(settings: Settings) -> str:
    """The configured NATS, or the embedded one a running ``flightdeck up`` started."""
    return settings.nats_url or f"nats://127.0.0.1:{settings.nats_port or DEFAULT_NATS_PORT}"


@contextlib.asynccontextmanager
async def event_store(settings: Settings, actor: str = "cli") -> AsyncIterator[EventStore]:
    """A connected event store with the streams in place; a clear error if NATS is away."""
    url = nats_url(settings)
    try:
        nc = await connect(url, micro_name(actor), timeout=3)
    except ConnectionError:
        raise fail(
            f"cannot reach NATS at {url}: start Flightdeck (`./dev demo`) or set FLIGHTDECK_NATS_URL"
        ) from None
    try:
        store = EventStore(nc, Codec(f"/flightdeck/{actor}"))
        await store.ensure_streams(declare(settings.streams.to_stream_settings()))
        yield store
    finally:
        await nc.close()
