"""The event store on JetStream: the port's contract, and what only JetStream does.

The contract (:mod:`tests.support.event_store_contract`) runs here against a
real nats-server; the in-memory twin runs the same suite in
``tests/unit/eventstore``. Below it: lost acknowledgements, stream
configuration, a server crash, the reconnect count.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client as NATS

from flightdeck.events import Cause, Codec, declare, streams
from flightdeck.events.deployments import StageProgressed
from flightdeck.eventstore import EventStore
from flightdeck.eventstore.jetstream import JetStreamEventStore
from flightdeck.runtime.connection import connect
from flightdeck.runtime.nats_server import NatsServer
from tests.support.event_store_contract import EventStoreContract, MakeStore, fresh_subject
from tests.support.nats_proxy import LossyNatsProxy
from tests.support.samples import progressed, requested
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

cause = Cause.root("user:ada")


class TestJetStreamEventStore(EventStoreContract):
    @pytest.fixture
    async def make_store(self, nc: NATS) -> MakeStore:
        await JetStreamEventStore(nc, Codec("/flightdeck/tests")).ensure_streams(declare())

        def make(**options: Any) -> EventStore:
            return JetStreamEventStore(nc, Codec("/flightdeck/tests"), **options)

        return make

    async def inject(self, store: EventStore, subject: str, payload: bytes) -> None:
        assert isinstance(store, JetStreamEventStore)
        await store.nc.jetstream().publish(subject, payload)

    async def moment(self) -> datetime:
        # the server stamps messages by its clock, this machine's: keep clear of both sides
        await asyncio.sleep(0.05)
        now = datetime.now(UTC)
        await asyncio.sleep(0.05)
        return now


@pytest.mark.parametrize("batch", [1, 3], ids=["single", "atomic-batch"])
async def test_retry_after_lost_ack_is_stored_once(nats_server: NatsServer, batch: int) -> None:
    """The ack of the first attempt is lost; the retry must not duplicate or fail."""
    proxy = await LossyNatsProxy(nats_server.host, nats_server.port).start()
    nc = await connect(proxy.url, "lossy")
    try:
        lossy = JetStreamEventStore(nc, Codec("/flightdeck/tests"), timeout=0.5)
        dep, subject = fresh_subject()
        base = await lossy.append(subject, [requested(dep)], cause=cause, expected=0)
        proxy.replies_to_drop = 1
        result = await lossy.append(
            subject,
            [progressed(i) for i in range(batch)],
            cause=cause,
            expected=base.last_position,
        )
        assert proxy.dropped == 1
        assert result.duplicate  # resolved by finding our own last event
        stored = await lossy.read(subject)
        assert [r.event for r in stored[1:]] == [progressed(i) for i in range(batch)]
        assert result.last_position == stored[-1].position
        assert [r.id for r in stored[1:]] == list(result.ids)
    finally:
        await nc.close()
        await proxy.stop()


async def test_ensure_streams_is_idempotent_and_updates(store: JetStreamEventStore, nc) -> None:
    await store.ensure_streams(declare())
    tuned = declare(streams.StreamSettings(logs_max_bytes=1 << 20))
    await store.ensure_streams(tuned)
    info = await nc.jetstream().stream_info(streams.LOGS)
    assert info.config.max_bytes == 1 << 20
    assert info.config.allow_atomic and info.config.allow_direct
    await store.ensure_streams(declare())


async def test_acknowledged_events_survive_a_server_crash(tmp_path: Path) -> None:
    server = await NatsServer(tmp_path / "store").start()
    try:
        nc = await connect(server.url, "crash-test")
        durable = JetStreamEventStore(nc, Codec("/flightdeck/tests"))
        await durable.ensure_streams(declare())
        dep, subject = fresh_subject()
        position = (
            await durable.append(subject, [requested(dep)], cause=cause, expected=0)
        ).last_position
        for i in range(0, 200, 4):
            batch = [progressed(i + k) for k in range(4)]
            position = (
                await durable.append(subject, batch, cause=cause, expected=position)
            ).last_position
        await nc.close()

        server.kill()  # SIGKILL: no graceful flush
        await server.start()

        nc = await connect(server.url, "crash-test-2")
        stored = await JetStreamEventStore(nc, Codec("/flightdeck/tests")).read(subject)
        await nc.close()
        assert len(stored) == 201 and stored[-1].position == position
        assert [r.event.detail["n"] for r in stored[1:]] == list(range(200))
        assert all(isinstance(r.event, StageProgressed) for r in stored[1:])
    finally:
        server.stop()


async def test_a_reconnect_is_counted_and_awaited(nats_server: NatsServer) -> None:
    proxy = await LossyNatsProxy(nats_server.host, nats_server.port).start()
    nc = await connect(proxy.url, "reconnecting")
    try:
        store = JetStreamEventStore(nc, Codec("/flightdeck/tests"))
        since = store.reconnects
        await proxy.cut()
        await proxy.restore()
        assert await store.reconnected(since) == since + 1
        await eventually(lambda: store.connected, within=30, what="connected again")
    finally:
        await nc.close()
        await proxy.stop()
