"""The gateway process, started as ``flightdeck-gateway``.

It runs inside the service lifecycle (:func:`flightdeck.runtime.service.run`):
NATS, the streams and the readiness endpoint come from there, and SIGTERM
stops the lifecycle, which cancels :func:`serve_gateway`, which stops uvicorn
after closing the open streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Iterator
from typing import Any

import structlog
import uvicorn

from flightdeck.gateway import bootstrap
from flightdeck.gateway.config import GatewayConfig
from flightdeck.gateway.entrypoints.app import create_app
from flightdeck.readmodel.database import open_database
from flightdeck.runtime.service import ServiceContext, run

log = structlog.get_logger(__name__)

GC_THRESHOLDS = (50_000, 20, 100)
"""Collection thresholds once start-up objects are frozen (the default is 700, 10, 10)."""


class _Server(uvicorn.Server):
    """uvicorn without its own signal handlers: the service lifecycle owns SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _database_url(ctx: ServiceContext) -> str:
    url = getattr(ctx.settings, "read_model_url", None)
    if url:
        return str(url)
    return f"sqlite+aiosqlite:///{(ctx.settings.state_dir / 'readmodel.db').resolve()}"


def server_config(app: Any, config: GatewayConfig, **overrides: Any) -> uvicorn.Config:
    """uvicorn as the gateway runs it (the tests serve the app with the same settings).

    ``ws_max_size`` is the WebSocket message limit: uvicorn refuses a larger
    message while it arrives (close code 1009) instead of buffering it whole.
    """
    options: dict[str, Any] = {
        "host": config.host,
        "port": config.port,
        "http": "httptools",
        "ws_max_size": config.ws_max_message_bytes,
        "ws_per_message_deflate": config.ws_compression,
        "loop": "none",
        "lifespan": "off",
        "log_level": "warning",
        "log_config": None,  # keep the process's structlog set-up
        "access_log": False,
        "timeout_graceful_shutdown": 5,
    }
    return uvicorn.Config(app, **{**options, **overrides})


async def serve_gateway(ctx: ServiceContext) -> None:
    """Build the gateway, serve HTTP until cancelled, then stop everything in order."""
    config = GatewayConfig()
    database = await open_database(_database_url(ctx))
    gateway = bootstrap.build(config, ctx.store, database)
    await gateway.start()
    server = _Server(server_config(create_app(config, gateway.dependencies), config))
    serving = asyncio.create_task(server.serve(), name="uvicorn")
    try:
        while not server.started:
            if serving.done():
                serving.result()
                raise RuntimeError(f"the gateway could not listen on {config.host}:{config.port}")
            await asyncio.sleep(0.02)
        log.info("gateway listening", url=f"http://{config.host}:{config.port}")
        if config.gc_freeze:
            gc.collect()
            gc.freeze()
            # Young collections every 50,000 allocations, not 700: a replay allocates
            # ~70,000 objects that live for the whole batch, and collecting them over and
            # over was up to a third of its time (ADR 0008, "Performance").
            gc.set_threshold(*GC_THRESHOLDS)
        await serving
    finally:
        gateway.connections.close_all("gateway stopping")
        server.should_exit = True
        await asyncio.gather(serving, return_exceptions=True)
        await gateway.stop()


def main() -> None:
    run("gateway", serve_gateway)
