"""Servers shared by the whole test run: started once, stopped at the end."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from nats.aio.client import Client as NATS
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from flightdeck.events import Codec, declare
from flightdeck.eventstore.jetstream import JetStreamEventStore
from flightdeck.readmodel.database import Database, open_database
from flightdeck.runtime.connection import connect
from flightdeck.runtime.nats_server import NatsServer
from tests.support.processes import processes_mentioning
from tests.support.runs import fail_if_nothing_passed, refuse_servers_in_unit_tests

pytest_plugins = ["pytester"]  # tests/unit/test_run_rules.py runs pytest itself

RUN_MARKER = "FLIGHTDECK_TEST_RUN"


@pytest.fixture(scope="session", autouse=True)
def no_process_left_behind() -> Iterator[None]:
    """Every process this run starts inherits a marker; none may outlive the run."""
    marker = uuid.uuid4().hex
    os.environ[RUN_MARKER] = marker
    yield
    deadline = time.monotonic() + 15
    while (left := [p for p in processes_mentioning(marker) if p != os.getpid()]) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.2)
    assert not left, f"processes left behind by the tests: {_describe(left)}"


def _describe(pids: list[int]) -> str:
    out = []
    for pid in pids:
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        out.append(f"{pid}: {command.decode(errors='replace')}")
    return "; ".join(out)


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
async def store(nc: NATS) -> JetStreamEventStore:
    event_store = JetStreamEventStore(nc, Codec("/flightdeck/tests"))
    await event_store.ensure_streams(declare())
    return event_store


# ----------------------------------------------------------------- read model

POSTGRES_ENV = "FLIGHTDECK_TEST_POSTGRES_URL"  # e.g. postgresql+asyncpg://postgres@127.0.0.1/test


def _backends() -> list[str]:
    return ["sqlite", "postgresql"] if os.environ.get(POSTGRES_ENV) else ["sqlite"]


@pytest.fixture(scope="session")
async def postgres_database() -> AsyncIterator[str | None]:
    """A database of this run's own on the PostgreSQL server (dropped at the end)."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        yield None
        return
    name = f"fd_test_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(base, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield str(make_url(base).set(database=name).render_as_string(hide_password=False))
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


@pytest.fixture(params=_backends())
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_database: str | None
) -> str:
    """A read-model URL on each back end: SQLite always, PostgreSQL when configured."""
    if request.param == "postgresql":
        assert postgres_database is not None
        return postgres_database
    return f"sqlite+aiosqlite:///{tmp_path / 'readmodel.db'}"


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """A fresh, migrated, empty read model."""
    db = await open_database(database_url)
    await db.reset()
    yield db
    await db.close()


# ----------------------------------------------------------------- run rules


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    refuse_servers_in_unit_tests(items)


def pytest_sessionfinish(session: pytest.Session) -> None:
    fail_if_nothing_passed(session)
