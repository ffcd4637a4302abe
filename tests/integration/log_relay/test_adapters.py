"""The relay's NATS adapters on a real server, and the contract its fakes must keep."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from flightdeck.events import Cause, subjects
from flightdeck.events.logs import LogFollowLost, LogLevel, LogLine, LogLinesCaptured, LogSource
from flightdeck.eventstore import EventStore
from flightdeck.eventstore.jetstream import JetStreamEventStore
from flightdeck.eventstore.jetstream.buckets import JetStreamBuckets
from flightdeck.log_relay.adapters.kv import Cursors, Leases, Members
from flightdeck.log_relay.adapters.publisher import LogPublisher
from flightdeck.log_relay.domain.cursor import Cursor
from flightdeck.log_relay.domain.selection import ContainerKey
from tests.support.waiting import eventually
from tests.unit.log_relay.fakes import FakeCursors, FakePublisher

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 25, 10, tzinfo=UTC)
CAUSE = Cause.root("service:log-relay")


def bucket() -> str:
    return f"t_{uuid.uuid4().hex[:10]}"


def captured(pod: str, *texts: str) -> LogLinesCaptured:
    return LogLinesCaptured(
        namespace="contract",
        pod=pod,
        container="app",
        node=None,
        app="web",
        lines=[
            LogLine(
                time=T0 + timedelta(microseconds=i),
                source=LogSource.STDOUT,
                source_inferred=True,
                level=LogLevel.INFO,
                text=text,
            )
            for i, text in enumerate(texts)
        ],
        restart_count=0,
    )


@pytest.fixture
async def kv_bucket(store: JetStreamEventStore) -> AsyncIterator[Any]:
    """A bucket of this test's own (TTL 1 s, for the leases), deleted afterwards."""
    js, name = store.nc.jetstream(), bucket()
    yield await JetStreamBuckets(store.nc).open(name, ttl_s=1.0)
    await js.delete_key_value(name)


@pytest.fixture(params=["fake", "nats"])
async def cursors(request: pytest.FixtureRequest, kv_bucket: Any) -> Any:
    return FakeCursors() if request.param == "fake" else Cursors(kv_bucket)


@pytest.fixture(params=["fake", "nats"])
async def publisher(request: pytest.FixtureRequest, store: EventStore) -> Any:
    return FakePublisher() if request.param == "fake" else LogPublisher(store)


class TestCursorStoreContract:
    async def test_a_cursor_is_there_after_saving_and_the_last_save_wins(
        self, cursors: Any
    ) -> None:
        dotted = ContainerKey("shop", "web.v2-1", "app")
        plain = ContainerKey("shop", "web=2E", "app")  # what a naive escape of the dot yields
        first = Cursor(time=T0, count=2, restarts=1, pod_uid="u1")
        later = Cursor(time=T0 + timedelta(seconds=1), count=1, restarts=1, pod_uid="u1")

        missing = await cursors.load(dotted)
        await cursors.save(dotted, first)
        await cursors.save(dotted, later)

        assert missing is None
        assert await cursors.load(dotted) == later
        assert await cursors.load(plain) is None


class TestLogStoreContract:
    async def test_ids_decide_duplicates_and_stored_batches_read_back(self, publisher: Any) -> None:
        pod = f"web-{uuid.uuid4().hex[:6]}"
        subject = subjects.pod_logs("contract", "web", pod)
        first_id, second_id = uuid.uuid4().hex, uuid.uuid4().hex
        batch = captured(pod, "one", "two", "three")

        first = await publisher.publish(subject, batch, first_id, CAUSE)
        again = await publisher.publish(subject, captured(pod, "one"), first_id, CAUSE)
        second = await publisher.publish(subject, captured(pod, "four"), second_id, CAUSE)
        lost = LogFollowLost(
            namespace="contract", pod=pod, container="app", dropped_lines=1, reason="x"
        )
        marker = await publisher.publish(subject, lost, uuid.uuid4().hex, CAUSE)

        assert not first.duplicate and not second.duplicate
        assert again.duplicate and again.position == first.position
        assert first.position < second.position < marker.position
        assert await publisher.stored_lines(first.position) == batch
        assert await publisher.stored_lines(marker.position) is None


async def test_one_holder_per_lease_until_released_or_expired(kv_bucket: Any) -> None:
    key = ContainerKey("shop", "web.1", "app")
    a, b = Leases(kv_bucket, "relay-a"), Leases(kv_bucket, "relay-b")

    assert await a.acquire(key)
    assert not await b.acquire(key)
    assert await a.renew(key) is True
    await a.release(key)
    assert await b.acquire(key)
    assert await a.renew(key) is False, "a released lease is not renewed"

    async def expired_and_taken() -> bool:
        return await a.acquire(key)

    await eventually(expired_and_taken, within=15, what="b's lease to expire")
    assert await b.renew(key) is False, "b lost it when it expired"
    assert await Leases(kv_bucket, "relay-a").acquire(key), "the same holder, restarted"


async def test_members_of_one_group_see_each_other_and_leave(kv_bucket: Any) -> None:
    a = Members(kv_bucket, "relay-a", 5.0, "shop|True")
    b = Members(kv_bucket, "relay-b", 5.0, "shop|True")
    other = Members(kv_bucket, "relay-c", 5.0, "ops|True")
    for member in (a, b, other):
        await member.beat(full=False)
    ready = asyncio.Event()
    watch = asyncio.create_task(a.watch(ready))
    try:
        await asyncio.wait_for(ready.wait(), 10)

        async def both() -> bool:
            return a.alive() == ["relay-a", "relay-b"]

        await eventually(both, within=10, what="both members of the group")
        await b.beat(full=True)

        async def b_full() -> bool:
            return a.alive() == ["relay-a"]

        await eventually(b_full, within=10, what="a full member to take no more")
        await b.beat(full=False)
        await eventually(both, within=10, what="b to take containers again")
        await b.leave()
        await eventually(b_full, within=10, what="b to leave")
    finally:
        watch.cancel()
        await asyncio.gather(watch, return_exceptions=True)
