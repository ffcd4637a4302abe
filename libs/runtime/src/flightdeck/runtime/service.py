"""The life of a service process: start, connect, say ready, stop cleanly.

A service's entry point hands :func:`run` its name and an async ``main``. This
module does what every service needs around it: logs, settings, the NATS
connection (as its own NATS user, ADR 0013), the event store and KV buckets on
it (the ports a service's ``main`` gets), a NATS micro-service endpoint
(``$SRV.PING.<name>``) that supervisors use as the readiness check, and a clean
stop on SIGTERM or SIGINT. Services never create streams: that takes the admin
credentials (``flightdeck up`` or ``flightdeck nats provision`` does it first).
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import structlog

from flightdeck.events import Codec
from flightdeck.eventstore import Buckets, EventStore
from flightdeck.eventstore.jetstream import Client as NATS
from flightdeck.eventstore.jetstream import JetStreamEventStore
from flightdeck.eventstore.jetstream.buckets import JetStreamBuckets
from flightdeck.runtime import eventloop
from flightdeck.runtime.connection import announce, close, connect, micro_name
from flightdeck.runtime.logconfig import configure_logging
from flightdeck.runtime.settings import ConfigError, Settings, load_settings

log = structlog.get_logger(__name__)

VERSION = "0.1.0"


@dataclass(frozen=True)
class ServiceContext:
    """What a service's ``main`` gets: its settings, its ports, and the connection
    (only for the durable consumers, :mod:`flightdeck.runtime.consumers`)."""

    name: str
    settings: Settings
    nc: NATS
    store: EventStore
    buckets: Buckets


ServiceMain = Callable[[ServiceContext], Coroutine[Any, Any, None]]


async def idle(ctx: ServiceContext) -> None:
    """A ``main`` that does nothing until stopped (a service with no work yet)."""
    await asyncio.Event().wait()


async def serve(name: str, main: ServiceMain, settings: Settings) -> int:
    """Run ``main`` until SIGTERM/SIGINT or until it fails; return the exit code."""
    nats_config = settings.nats_for(name)
    if not nats_config.url:
        raise ConfigError("FLIGHTDECK_NATS__URL: must be set for a service (nats://host:port)")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    nc = await connect(nats_config, micro_name(name), user=name)
    store = JetStreamEventStore(nc, Codec(f"/flightdeck/{name}"))
    endpoint = await announce(nc, name, VERSION)
    context = ServiceContext(name, settings, nc, store, JetStreamBuckets(nc))
    work = asyncio.create_task(main(context), name=name)
    stopping = asyncio.create_task(stop.wait())
    log.info("ready", nats=nats_config.url)
    done, _ = await asyncio.wait({work, stopping}, return_when=asyncio.FIRST_COMPLETED)
    code = 0
    failure = work.exception() if work in done and not work.cancelled() else None
    if isinstance(failure, ConfigError):
        log.error(str(failure))  # one line naming the setting, no traceback
        code = 2
    elif failure is not None:
        log.error("service failed", exc_info=failure)
        code = 1
    log.info("stopping")
    for task in (work, stopping):
        task.cancel()
    await asyncio.gather(work, stopping, return_exceptions=True)
    await close(nc, endpoint)  # a stop must never hang, even with NATS gone
    log.info("stopped", code=code)
    return code


def run(name: str, main: ServiceMain = idle) -> None:
    """A service's entry point: settings, logs, then :func:`serve`; exits with its code."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"flightdeck-{name}: {exc}", file=sys.stderr)
        sys.exit(2)
    configure_logging(name, settings.log_level, settings.log_format)
    try:
        code = eventloop.run(serve(name, main, settings))
    except (ConfigError, ConnectionError) as exc:
        log.error(str(exc))
        code = 2
    sys.exit(code)
