"""The orchestrator process, started as ``flightdeck-orchestrator``."""

from __future__ import annotations

import asyncio

import structlog

from flightdeck.orchestrator.bootstrap import SERVICE, build
from flightdeck.runtime.consumers import Consumers
from flightdeck.runtime.service import ServiceContext, run

log = structlog.get_logger(__name__)


async def serve(ctx: ServiceContext) -> None:
    """Consume, resume open deployments, and scan them now and then: orphaned ones are
    picked up and overdue deadlines fire from their stored events (ADR 0014)."""
    orchestrator = await build(ctx.store)
    pipeline, settings = orchestrator.pipeline, orchestrator.settings
    ready = asyncio.Event()
    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(Consumers(ctx.store, SERVICE).run(orchestrator.consumers, ready))
            await ready.wait()
            resumed = await pipeline.scan(requests=True)
            log.info("orchestrator running", open_deployments=resumed)
            while True:
                await asyncio.sleep(settings.scan_interval_s)
                await pipeline.scan()
    finally:
        await orchestrator.close()


def main() -> None:
    run(SERVICE, serve)
