"""The ecr-poller process, started as ``flightdeck-ecr-poller``."""

from __future__ import annotations

from flightdeck.ecr_poller.bootstrap import SERVICE, build
from flightdeck.runtime.consumers import Consumers
from flightdeck.runtime.service import ServiceContext, run


async def serve(ctx: ServiceContext) -> None:
    """Take image watches from the shared durable consumer and answer them."""
    poller = build(ctx.store)
    try:
        await Consumers(ctx.store, SERVICE, ctx.nc).run([poller.consumer])
    finally:
        await poller.close()


def main() -> None:
    run(SERVICE, serve)
