"""The projector as its own process: SIGKILLed mid-catch-up, restarted, same rows."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from flightdeck.events import Cause, Codec, declare, new_id, streams, subjects
from flightdeck.eventstore.jetstream import JetStreamEventStore
from flightdeck.readmodel import sqlrows
from flightdeck.readmodel.database import Database
from flightdeck.readmodel.projector import NAME, rebuild
from flightdeck.runtime.connection import connect
from flightdeck.runtime.nats_server import NatsServer
from tests.integration.readmodel.support import snapshot
from tests.support.samples import progressed, requested
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


async def _position(db: Database) -> int:
    async with db.connect() as conn:
        return (await sqlrows.read_checkpoint(conn, NAME, streams.DEPLOYMENTS))[0]


async def _projector_process(nats_url: str, database_url: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "FLIGHTDECK_NATS__URL": nats_url, "FLIGHTDECK_DATABASE_URL": database_url}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "flightdeck.cli",
        "projection",
        "run",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def test_sigkill_mid_catch_up_then_restart_gives_the_same_rows(
    tmp_path: Path, database: Database, database_url: str
) -> None:
    server = await NatsServer(tmp_path / "nats").start()  # its own: this test fills a stream
    nc = await connect(server.url, "sigkill-test")
    try:
        store = JetStreamEventStore(nc, Codec("/flightdeck/tests"))
        await store.ensure_streams(declare())
        cause = Cause.root("user:ada")

        async def one(n: int) -> None:
            dep = f"{new_id()[:8]}-{n}"
            subject = subjects.deployment(dep)
            position = (
                await store.append(subject, [requested(dep)], cause=cause, expected=0)
            ).last_position
            for start in range(0, 600, 200):
                batch = [progressed(i) for i in range(start, start + 200)]
                position = (
                    await store.append(subject, batch, cause=cause, expected=position)
                ).last_position

        await asyncio.gather(*(one(n) for n in range(40)))  # 24,040 events
        last = await store.stream_last_position(streams.DEPLOYMENTS)

        proc = await _projector_process(server.url, database_url)
        await eventually(lambda: _mid_way(database, last), within=60, what="catch-up to begin")
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
        killed_at = await _position(database)
        assert 0 < killed_at < last, "the kill must land mid-catch-up"

        proc = await _projector_process(server.url, database_url)
        try:
            await eventually(
                lambda: _at(database, last), within=120, what="the restarted projector"
            )
        finally:
            proc.send_signal(signal.SIGTERM)
            assert await proc.wait() == 0
        after_restart = await snapshot(database)

        await rebuild(store, database)  # the uninterrupted run
        assert await snapshot(database) == after_restart
        assert sum(r["event_count"] for r in after_restart["deployments"]) == last
    finally:
        await nc.close()
        server.stop()


async def _mid_way(db: Database, last: int) -> bool:
    return 0 < await _position(db) < last


async def _at(db: Database, last: int) -> bool:
    return await _position(db) >= last
