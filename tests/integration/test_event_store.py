"""The event store against a real nats-server (JetStream, file storage)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flightdeck.events import (
    Cause,
    Codec,
    ConcurrencyError,
    EventDecodeError,
    EventStore,
    declare,
    new_id,
    streams,
    subjects,
)
from flightdeck.events.deployments import StageProgressed
from flightdeck.runtime.connection import connect
from flightdeck.runtime.nats_server import NatsServer
from tests.support.nats_proxy import LossyNatsProxy
from tests.support.samples import one_of_each, progressed, requested

pytestmark = pytest.mark.integration

cause = Cause.root("user:ada")


def fresh_subject() -> tuple[str, str]:
    dep = new_id()
    return dep, subjects.deployment(dep)


async def test_append_then_read_round_trip(store: EventStore) -> None:
    dep, subject = fresh_subject()
    first = await store.append(subject, [requested(dep)], cause=cause, expected=0)
    more = await store.append(
        subject,
        [progressed(1), progressed(2)],
        cause=cause.because_of((await store.read(subject))[0], actor="service:orchestrator"),
        expected=first.last_position,
    )
    events = await store.read(subject)
    assert [r.event for r in events] == [requested(dep), progressed(1), progressed(2)]
    assert [r.position for r in events] == [
        first.last_position,
        more.first_position,
        more.last_position,
    ]
    assert more.last_position == more.first_position + 1
    assert events[1].actor == "service:orchestrator"
    assert events[1].causation_id == events[0].id
    assert {r.correlation_id for r in events} == {cause.correlation_id}
    assert await store.last_position(subject) == more.last_position
    assert await store.read(subject, after=first.last_position) == events[1:]


async def test_every_stream_accepts_and_returns_its_events(store: EventStore) -> None:
    key = new_id()
    for subject, event in one_of_each(key):
        result = await store.append(subject, [event], cause=cause)
        stored = await store.read(subject, after=result.last_position - 1)
        assert stored[0].event == event


async def test_empty_aggregate_reads_empty(store: EventStore) -> None:
    _, subject = fresh_subject()
    assert await store.read(subject) == []
    assert await store.last_position(subject) == 0


async def test_concurrent_appenders_exactly_one_wins(store: EventStore) -> None:
    dep, subject = fresh_subject()
    base = await store.append(subject, [requested(dep)], cause=cause, expected=0)

    async def contender(n: int) -> int | ConcurrencyError:
        try:
            r = await store.append(
                subject, [progressed(n)], cause=cause, expected=base.last_position
            )
            return r.last_position
        except ConcurrencyError as exc:
            return exc

    outcomes = await asyncio.gather(*(contender(n) for n in range(10)))
    winners = [o for o in outcomes if isinstance(o, int)]
    losers = [o for o in outcomes if isinstance(o, ConcurrencyError)]
    assert len(winners) == 1 and len(losers) == 9
    assert all(e.actual == winners[0] and e.expected == base.last_position for e in losers)
    assert len(await store.read(subject)) == 2


async def test_failed_batch_stores_nothing(store: EventStore) -> None:
    dep, subject = fresh_subject()
    await store.append(subject, [requested(dep)], cause=cause, expected=0)
    with pytest.raises(ConcurrencyError):
        await store.append(subject, [progressed(i) for i in range(5)], cause=cause, expected=0)
    assert len(await store.read(subject)) == 1


async def test_new_aggregate_expectation_refuses_existing(store: EventStore) -> None:
    dep, subject = fresh_subject()
    await store.append(subject, [requested(dep)], cause=cause, expected=0)
    with pytest.raises(ConcurrencyError):
        await store.append(subject, [requested(dep)], cause=cause, expected=0)


@pytest.mark.parametrize("batch", [1, 3], ids=["single", "atomic-batch"])
async def test_retry_after_lost_ack_is_stored_once(nats_server: NatsServer, batch: int) -> None:
    """The ack of the first attempt is lost; the retry must not duplicate or fail."""
    proxy = await LossyNatsProxy(nats_server.host, nats_server.port).start()
    nc = await connect(proxy.url, "lossy")
    try:
        lossy = EventStore(nc, Codec("/flightdeck/tests"), timeout=0.5)
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


async def test_same_message_id_without_expectation_is_deduplicated(store: EventStore) -> None:
    dep, subject = fresh_subject()
    message = store.codec.encode(subject, requested(dep), cause)
    first = await store._append_messages(subject, [message], None)
    again = await store._append_messages(subject, [message], None)
    assert again.duplicate and again.last_position == first.last_position
    assert len(await store.read(subject)) == 1


async def test_read_large_aggregate_across_many_requests(nc) -> None:
    small_batches = EventStore(nc, Codec("/flightdeck/tests"), read_batch=64)
    _, subject = fresh_subject()
    position = 0
    for chunk in range(10):
        events = [progressed(chunk * 50 + i) for i in range(50)]
        position = (
            await small_batches.append(subject, events, cause=cause, expected=position)
        ).last_position
    stored = await small_batches.read(subject)
    assert [r.event.detail["n"] for r in stored] == list(range(500))
    assert stored[-1].position == position


async def test_bounded_reads_stop_at_upto_across_interleaved_subjects(nc) -> None:
    small = EventStore(nc, Codec("/flightdeck/tests"), read_batch=7)
    _, a = fresh_subject()
    _, b = fresh_subject()
    positions: list[int] = []
    for i in range(30):  # a and b interleaved: a batch counts matches, not positions
        positions.append((await small.append(a, [progressed(i)], cause=cause)).last_position)
        await small.append(b, [progressed(i)], cause=cause)
    after, upto = positions[3], positions[20]
    chunks = [c async for c in small.read_chunks(streams.DEPLOYMENTS, a, after=after, upto=upto)]
    read = [r for c in chunks for r in c.events]
    assert [r.position for r in read] == positions[4:21]
    assert max(len(c.events) for c in chunks) <= 7
    assert [
        r
        async for c in small.read_chunks(streams.DEPLOYMENTS, a, after=upto, upto=upto)
        for r in c.events
    ] == []
    tiny = [c async for c in small.read_chunks(streams.DEPLOYMENTS, a, max_bytes=1)]
    assert [r.position for c in tiny for r in c.events] == positions
    assert all(len(c.events) == 1 for c in tiny)  # at least one message per request


async def test_first_event_and_position_by_time(store: EventStore) -> None:
    dep, subject = fresh_subject()
    assert await store.read_first(subject) is None
    first = await store.append(subject, [requested(dep)], cause=cause, expected=0)
    await asyncio.sleep(0.05)
    between = datetime.now(UTC)
    await asyncio.sleep(0.05)
    later = await store.append(subject, [progressed(1)], cause=cause)
    found = await store.read_first(subject)
    assert found is not None and found.position == first.last_position
    assert await store.position_at(subject, between - timedelta(hours=1)) == first.last_position
    assert await store.position_at(subject, between) == later.last_position
    assert await store.position_at(subject, datetime.now(UTC) + timedelta(hours=1)) is None


async def test_subscribe_from_position_across_the_seam(store: EventStore) -> None:
    _, subject = fresh_subject()
    position = 0
    for i in range(30):
        position = (
            await store.append(subject, [progressed(i)], cause=cause, expected=position)
        ).last_position
    history = await store.read(subject)
    start_after = history[9].position  # resume after the 10th event

    seen: list[int] = []
    async with store.subscribe(subject, after=start_after) as sub:

        async def writer() -> None:
            pos = position
            for i in range(30, 60):
                pos = (
                    await store.append(subject, [progressed(i)], cause=cause, expected=pos)
                ).last_position
                if i % 7 == 0:
                    await asyncio.sleep(0.01)  # let the live side catch up now and then

        task = asyncio.create_task(writer())
        while len(seen) < 50:
            recorded = await sub.next(timeout=10)
            seen.append(recorded.event.detail["n"])
        await task
    assert seen == list(range(10, 60))


async def test_subscribe_to_several_subjects_of_one_stream(store: EventStore) -> None:
    a, sa = fresh_subject()
    b, sb = fresh_subject()
    after = await store.last_position(sa)
    await store.append(sa, [requested(a)], cause=cause, expected=0)
    await store.append(sb, [requested(b)], cause=cause, expected=0)
    await store.append(sa, [progressed(1)], cause=cause)
    async with store.subscribe([sa, sb], after=after) as sub:
        got = [(await sub.next(timeout=10)).subject for _ in range(3)]
    assert got == [sa, sb, sa]


async def test_subscribe_across_streams_is_refused(store: EventStore) -> None:
    with pytest.raises(ValueError, match="several streams"):
        store.subscribe([subjects.deployment("x"), subjects.probe("y")])


async def test_undecodable_message_is_a_clear_error_not_a_crash(nc) -> None:
    errors: list[EventDecodeError] = []
    tolerant = EventStore(nc, Codec("/flightdeck/tests"), on_undecodable=errors.append)
    dep, subject = fresh_subject()
    await tolerant.append(subject, [requested(dep)], cause=cause, expected=0)
    await nc.jetstream().publish(subject, b"\x00 definitely not an event")
    await tolerant.append(subject, [progressed(1)], cause=cause)

    stored = await tolerant.read(subject)
    assert [type(r.event).__name__ for r in stored] == ["DeploymentRequested", "StageProgressed"]
    assert len(errors) == 1 and tolerant.undecodable_count == 1
    assert errors[0].stream == streams.DEPLOYMENTS and errors[0].subject == subject
    assert f"FD_DEPLOYMENTS#{stored[0].position + 1}" in str(errors[0])

    async with tolerant.subscribe(subject) as sub:
        live = [await sub.next(timeout=10) for _ in range(2)]
    assert [r.event for r in live] == [r.event for r in stored]
    assert len(errors) == 2


async def test_ensure_streams_is_idempotent_and_updates(store: EventStore, nc) -> None:
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
        durable = EventStore(nc, Codec("/flightdeck/tests"))
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
        stored = await EventStore(nc, Codec("/flightdeck/tests")).read(subject)
        await nc.close()
        assert len(stored) == 201 and stored[-1].position == position
        assert [r.event.detail["n"] for r in stored[1:]] == list(range(200))
        assert all(isinstance(r.event, StageProgressed) for r in stored[1:])
    finally:
        server.stop()
