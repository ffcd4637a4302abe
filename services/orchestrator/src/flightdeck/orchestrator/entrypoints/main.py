"""The orchestrator process, started as ``flightdeck-orchestrator``."""

from __future__ import annotations

import asyncio

import structlog

from flightdeck.events import EventStoreError
from flightdeck.orchestrator.bootstrap import SERVICE, build
from flightdeck.runtime.consumers import Consumers
from flightdeck.runtime.service import ServiceContext, run

log = structlog.get_logger(__name__)

# NATS away (restarting): a scan that cannot read is tried again at the next interval.
_NATS_AWAY = (TimeoutError, OSError, EventStoreError)


async def serve(ctx: ServiceContext) -> None:
    """Consume, resume open deployments, and scan them now and then: orphaned ones are
    picked up and overdue deadlines fire from their stored events (ADR 0014).

    A scan that fails because NATS is away (restarting) is tried again at the next
    interval rather than ending the process: the first one, which also re-sends
    requests a crash may have lost, until it has gone through once.
    """
    orchestrator = await build(ctx.store)
    pipeline, settings = orchestrator.pipeline, orchestrator.settings
    ready = asyncio.Event()
    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(
                Consumers(ctx.store, SERVICE, ctx.nc).run(orchestrator.consumers, ready)
            )
            await ready.wait()
            first = True
            while True:
                try:
                    resumed = await pipeline.scan(requests=first)
                except _NATS_AWAY as exc:
                    log.warning("scan failed; trying again", error=repr(exc), first=first)
                else:
                    if first:
                        log.info("orchestrator running", open_deployments=resumed)
                    first = False
                await asyncio.sleep(settings.scan_interval_s)
    finally:
        await orchestrator.close()


def main() -> None:
    run(SERVICE, serve)
