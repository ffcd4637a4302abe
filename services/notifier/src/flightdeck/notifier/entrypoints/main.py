"""The notifier process, started as ``flightdeck-notifier``."""

from __future__ import annotations

from flightdeck.notifier.bootstrap import SERVICE, build
from flightdeck.runtime.consumers import Consumers
from flightdeck.runtime.service import ServiceContext, run


async def serve(ctx: ServiceContext) -> None:
    """Take incident events from the notifier's durable consumer and notify."""
    service = build(ctx.store)
    try:
        await Consumers(ctx.store, SERVICE, ctx.nc).run([service.consumer])
    finally:
        await service.close()


def main() -> None:
    run(SERVICE, serve)
