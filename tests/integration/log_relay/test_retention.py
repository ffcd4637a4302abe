"""FD_LOGS is bounded by FLIGHTDECK_STREAMS__LOGS_MAX_BYTES and __LOGS_MAX_AGE_S:
old lines go, new ones stay, and disk never grows without bound."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest

from flightdeck.events import Cause, Codec, declare, streams, subjects
from flightdeck.events.logs import LogLevel, LogLine, LogLinesCaptured, LogSource
from flightdeck.eventstore import EventStore
from flightdeck.eventstore.jetstream import JetStreamEventStore
from flightdeck.log_relay.adapters.publisher import LogPublisher
from flightdeck.runtime.connection import connect
from flightdeck.runtime.nats_server import NatsServer
from flightdeck.runtime.settings import load_settings
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

MAX_BYTES = 64 * 1024


@pytest.fixture
async def private_store(tmp_path: Path) -> AsyncIterator[EventStore]:
    """A nats-server of this test's own: the shared one must keep its real limits."""
    async with NatsServer(tmp_path / "nats") as server:
        nc = await connect(server.url, "retention-test")
        yield JetStreamEventStore(nc, Codec("/flightdeck/tests"))
        await nc.close()


def batch(n: int) -> LogLinesCaptured:
    start = datetime(2026, 11, 25, 12, tzinfo=UTC) + timedelta(seconds=n)
    return LogLinesCaptured(
        namespace="shop",
        pod="web-1",
        container="app",
        node="node-1",
        app="web",
        lines=[
            LogLine(
                time=start + timedelta(microseconds=i),
                source=LogSource.STDOUT,
                source_inferred=True,
                level=LogLevel.INFO,
                text=f"batch {n} line {i} " + "x" * 60,
            )
            for i in range(20)
        ],
    )


async def test_logs_stream_keeps_the_newest_within_its_byte_and_age_bounds(
    private_store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLIGHTDECK_STREAMS__LOGS_MAX_BYTES", str(MAX_BYTES))
    monkeypatch.setenv("FLIGHTDECK_STREAMS__LOGS_MAX_AGE_S", "4")
    configured = load_settings().streams.to_stream_settings()
    # JetStream refuses a duplicate window longer than the max age (10052), and declare()
    # keeps the 120 s default, so a seconds-long age bound needs a shorter window here.
    bounded = msgspec.structs.replace(configured, duplicate_window_s=1.0)
    await private_store.ensure_streams([s for s in declare(bounded) if s.name == streams.LOGS])
    publisher = LogPublisher(private_store)
    subject = subjects.pod_logs("shop", "web", "web-1")
    cause = Cause.root("service:log-relay")

    for n in range(100):
        await publisher.publish(subject, batch(n), f"retention-{n}", cause)
    js = private_store.nc.jetstream()
    info = await js.stream_info(streams.LOGS)
    newest = await private_store.read_last(subject)

    assert (configured.logs_max_bytes, configured.logs_max_age_s) == (MAX_BYTES, 4.0)
    assert info.config.max_bytes == MAX_BYTES and info.config.max_age == 4.0
    assert 0 < info.state.bytes <= MAX_BYTES, "the byte bound holds"
    assert info.state.first_seq > 1 and info.state.last_seq == 100, "the oldest went first"
    assert newest is not None and newest.event == batch(99), "the newest stayed"
    assert info.state.messages == info.state.last_seq - info.state.first_seq + 1

    async def aged_out() -> bool:
        return (await js.stream_info(streams.LOGS)).state.messages == 0

    await eventually(aged_out, within=30, what="every message to age out")
