"""The prober process, started as ``flightdeck-prober``."""

from __future__ import annotations

from flightdeck.prober.bootstrap import SERVICE, build
from flightdeck.runtime.consumers import Consumers
from flightdeck.runtime.service import ServiceContext, run


async def serve(ctx: ServiceContext) -> None:
    """Take verification requests from the shared durable consumer and run them."""
    prober = build(ctx.store)
    try:
        await Consumers(ctx.store, SERVICE, ctx.nc).run([prober.consumer])
    finally:
        await prober.close()


def main() -> None:
    run(SERVICE, serve)
