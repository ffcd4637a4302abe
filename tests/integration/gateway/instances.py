"""More gateways on the same event store, each with its own read model and settings."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from flightdeck.eventstore import EventStore
from flightdeck.gateway import bootstrap
from flightdeck.gateway.config import GatewayConfig
from flightdeck.gateway.entrypoints.app import create_app
from flightdeck.readmodel.database import open_database
from flightdeck.runtime.aws import AwsSettings
from flightdeck.runtime.sealing import SecretsSettings
from tests.support.serving import free_port, serve


@contextlib.asynccontextmanager
async def another_gateway(
    store: EventStore,
    database: Path,
    config: GatewayConfig,
    secrets: SecretsSettings,
    aws: AwsSettings | None = None,
) -> AsyncIterator[tuple[str, bootstrap.Gateway]]:
    """A gateway served over HTTP on a free port; yields its URL and what it was built from."""
    db = await open_database(f"sqlite+aiosqlite:///{database}")
    built = bootstrap.build(config, store, db, secrets, aws or AwsSettings())
    await built.start()
    server, task = await serve(create_app(config, built.dependencies), free_port())
    try:
        yield f"http://127.0.0.1:{server.config.port}", built
    finally:
        built.connections.close_all("tests done")
        server.should_exit = True
        await asyncio.gather(task, return_exceptions=True)
        await built.stop()
