"""The log-relay process, started as ``flightdeck-log-relay``."""

from __future__ import annotations

import asyncio

from flightdeck.log_relay.bootstrap import SERVICE, build
from flightdeck.runtime.consumers import Consumers
from flightdeck.runtime.service import ServiceContext, run


async def serve(ctx: ServiceContext) -> None:
    """Follow this replica's share of the pods' logs, and take follow commands."""
    relay = await build(ctx.store, ctx.buckets)
    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(relay.relay.run(), name="relay")
            group.create_task(
                Consumers(ctx.store, SERVICE, ctx.nc).run([relay.commands]), name="commands"
            )
    finally:
        await relay.close()


def main() -> None:
    run(SERVICE, serve)
