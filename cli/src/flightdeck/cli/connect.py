"""What CLI commands that talk to Flightdeck share: settings and an event store.

A command connects as the NATS user its work needs (ADR 0013): reading (replay,
projection rebuild) as ``cli``, writing what only an operator may (API tokens,
tenants) as ``admin``. ``FLIGHTDECK_NATS__CREDS`` names the credentials; left
unset, the CLI uses the ones ``flightdeck up`` generated in the state dir for
the embedded server.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from flightdeck.cli.output import fail
from flightdeck.events import Codec, EventStore, declare
from flightdeck.events.errors import AppendError
from flightdeck.runtime.connection import connect
from flightdeck.runtime.nats_permissions import ADMIN
from flightdeck.runtime.service import micro_name
from flightdeck.runtime.settings import ConfigError, Settings, load_settings


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        raise fail(str(exc), 2) from None


@contextlib.asynccontextmanager
async def event_store(
    settings: Settings, actor: str = "cli", *, user: str = ADMIN
) -> AsyncIterator[EventStore]:
    """A connected event store as NATS ``user``; a clear error if NATS is away or refuses.

    Operator commands write as ``admin`` (the default), which also creates or
    updates the streams, so a first command on a fresh server finds them; commands
    that only read say ``user=CLI``.
    """
    config = settings.nats_for(user)
    url = config.client_url
    refusals: list[str] = []
    try:
        nc = await connect(
            config, micro_name(actor), user=user, timeout=3, on_refused=refusals.append
        )
    except ConnectionError as exc:
        if "refused" in str(exc):
            raise fail(f"{exc}", 2) from None
        raise fail(
            f"cannot reach NATS at {url}: start Flightdeck (`./dev demo`) or set FLIGHTDECK_NATS__URL"
        ) from None
    try:
        store = EventStore(nc, Codec(f"/flightdeck/{actor}"))
        if user == ADMIN:
            # A write NATS refuses only times out: fail within seconds, saying why.
            store = EventStore(nc, Codec(f"/flightdeck/{actor}"), timeout=2.0, attempts=2)
            await store.ensure_streams(declare(settings.streams.to_stream_settings()))
        yield store
    except (AppendError, TimeoutError) as exc:
        if not refusals:
            raise
        raise fail(
            f"NATS refused the credentials in {config.creds or '(none)'}: {refusals[-1]}; "
            f"this command needs the {user} credentials (FLIGHTDECK_NATS__CREDS)"
        ) from exc
    finally:
        await nc.close()
