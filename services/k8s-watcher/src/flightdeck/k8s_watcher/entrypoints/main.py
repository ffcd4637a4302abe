"""The k8s-watcher process, started as ``flightdeck-k8s-watcher``."""

from __future__ import annotations

from flightdeck.k8s_watcher.bootstrap import SERVICE, build
from flightdeck.runtime.service import ServiceContext, run


async def serve(ctx: ServiceContext) -> None:
    """Watch the configured namespaces while this replica holds the lease."""
    watcher = await build(ctx.store, ctx.buckets)
    try:
        await watcher.run()
    finally:
        await watcher.close()


def main() -> None:
    run(SERVICE, serve)
