"""More gateways on the same event store, each with its own read model and settings."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from flightdeck.events import EventStore
from flightdeck.gateway import bootstrap
from flightdeck.gateway.bootstrap import Deps
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
) -> AsyncIterator[tuple[str, Deps]]:
    """A gateway served over HTTP on a free port; yields its URL and what it was built from."""
    db = await open_database(f"sqlite+aiosqlite:///{database}")
    deps = bootstrap.build(config, store, db, secrets, aws or AwsSettings())
    await deps.start()
    server, task = await serve(create_app(deps), free_port())
    try:
        yield f"http://127.0.0.1:{server.config.port}", deps
    finally:
        deps.connections.close_all("tests done")
        server.should_exit = True
        await asyncio.gather(task, return_exceptions=True)
        await deps.stop()
