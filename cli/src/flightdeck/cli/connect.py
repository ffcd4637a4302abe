"""What CLI commands that talk to Flightdeck share: settings, an event store, KV buckets.

A command connects as the NATS user its work needs (ADR 0013): reading (replay,
projection rebuild) as ``cli``, writing what only an operator may (API tokens,
tenants) as ``admin``. ``FLIGHTDECK_NATS__CREDS`` names the credentials; left
unset, the CLI uses the ones ``flightdeck up`` generated in the state dir for
the embedded server.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import structlog

from flightdeck.cli.output import fail
from flightdeck.events import Codec, declare
from flightdeck.events.errors import AppendError, EventDecodeError
from flightdeck.eventstore import Buckets, EventStore
from flightdeck.eventstore.jetstream import JetStreamEventStore
from flightdeck.eventstore.jetstream.buckets import JetStreamBuckets
from flightdeck.runtime.connection import connect, micro_name
from flightdeck.runtime.nats_permissions import ADMIN
from flightdeck.runtime.settings import ConfigError, Settings, load_settings

log = structlog.get_logger(__name__)


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        raise fail(str(exc), 2) from None


def _skip_quietly(error: EventDecodeError) -> None:
    log.debug("skipping undecodable event", error=str(error))


def _log_undecodable(error: EventDecodeError) -> None:
    log.warning("skipping undecodable event", error=str(error))


@contextlib.asynccontextmanager
async def event_store(
    settings: Settings,
    actor: str = "cli",
    *,
    user: str = ADMIN,
    report_undecodable: bool = False,
) -> AsyncIterator[EventStore]:
    """A connected event store as NATS ``user`` (see :func:`connected`)."""
    async with connected(settings, actor, user=user, report_undecodable=report_undecodable) as (
        store,
        _,
    ):
        yield store


@contextlib.asynccontextmanager
async def connected(
    settings: Settings,
    actor: str = "cli",
    *,
    user: str = ADMIN,
    report_undecodable: bool = False,
) -> AsyncIterator[tuple[EventStore, Buckets]]:
    """The event store and the KV buckets as NATS ``user``; a clear error if NATS is
    away or refuses.

    Operator commands write as ``admin`` (the default), which also creates or
    updates the streams, so a first command on a fresh server finds them; commands
    that only read say ``user=CLI``. Undecodable messages met on the way are
    warned about only where they matter to the reader (``report_undecodable``:
    replay, projections); a key or tenant command skips them quietly, so its own
    answer stays one line.
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
        codec = Codec(f"/flightdeck/{actor}")
        skipped = _log_undecodable if report_undecodable else _skip_quietly
        store = JetStreamEventStore(nc, codec, on_undecodable=skipped)
        if user == ADMIN:
            # A write NATS refuses only times out: fail within seconds, saying why.
            store = JetStreamEventStore(nc, codec, timeout=2.0, attempts=2, on_undecodable=skipped)
            await store.ensure_streams(declare(settings.streams.to_stream_settings()))
        yield store, JetStreamBuckets(nc)
    except (AppendError, TimeoutError) as exc:
        if not refusals:
            raise
        raise fail(
            f"NATS refused the credentials in {config.creds or '(none)'}: {refusals[-1]}; "
            f"this command needs the {user} credentials (FLIGHTDECK_NATS__CREDS)"
        ) from exc
    finally:
        await nc.close()
