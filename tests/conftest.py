"""Servers shared by the whole test run: started once, stopped at the end."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nats.aio.client import Client as NATS

from flightdeck.events import Codec, EventStore, declare
from flightdeck.runtime.connection import connect
from flightdeck.runtime.nats_server import NatsServer


@pytest.fixture(scope="session")
async def nats_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[NatsServer]:
    """The run's own nats-server (never the system one on 4222), on a free port."""
    store = Path(tmp_path_factory.mktemp("nats-store"))
    server = NatsServer(store)
    await server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
async def nc(nats_server: NatsServer) -> AsyncIterator[NATS]:
    client = await connect(nats_server.url, "flightdeck-tests")
    yield client
    await client.close()


@pytest.fixture(scope="session")
async def store(nc: NATS) -> EventStore:
    event_store = EventStore(nc, Codec("/flightdeck/tests"))
    await event_store.ensure_streams(declare())
    return event_store
