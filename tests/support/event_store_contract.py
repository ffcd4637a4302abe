"""The event store's contract: one suite, run against every adapter of the port.

Subclass :class:`EventStoreContract` per adapter (as pyeventsourcing subclasses
its recorder tests per backend) and provide two things: ``make_store`` (a
fixture returning a function that builds a store with the given options) and
``inject`` (store a raw message, as any NATS client could). The JetStream
adapter runs it in ``tests/integration/test_event_store.py``, the in-memory
twin in ``tests/unit/eventstore/test_memory_store.py``: the twin cannot drift.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from flightdeck.events import (
    AppendError,
    Cause,
    ConcurrencyError,
    EventDecodeError,
    Recorded,
    new_id,
    streams,
    subjects,
)
from flightdeck.events.tenancy import NamespaceAssigned, TenantCreated
from flightdeck.eventstore import MAX_BATCH, EventStore
from tests.support.samples import one_of_each, progressed, requested
from tests.support.waiting import eventually

cause = Cause.root("user:ada")

MakeStore = Callable[..., EventStore]


def fresh_subject() -> tuple[str, str]:
    dep = new_id()
    return dep, subjects.deployment(dep)


class EventStoreContract:
    """What every event store keeps; subclasses say how to build one."""

    @pytest.fixture
    def make_store(self) -> MakeStore:
        raise NotImplementedError

    async def inject(self, store: EventStore, subject: str, payload: bytes) -> None:
        """Store a raw message on ``subject`` behind the port's back."""
        raise NotImplementedError

    async def moment(self) -> datetime:
        """A time after every message stored so far and before any stored next, by the
        store's clock (:meth:`EventStore.position_at`)."""
        raise NotImplementedError

    @pytest.fixture
    def store(self, make_store: MakeStore) -> EventStore:
        return make_store()

    # ------------------------------------------------------------- appends

    async def test_append_then_read_round_trip(self, store: EventStore) -> None:
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
        assert [r.id for r in events[1:]] == list(more.ids)
        assert await store.last_position(subject) == more.last_position
        assert await store.read(subject, after=first.last_position) == events[1:]

    async def test_positions_are_global_per_stream(self, store: EventStore) -> None:
        _, a = fresh_subject()
        _, b = fresh_subject()
        first = await store.append(a, [progressed(1)], cause=cause)
        second = await store.append(b, [progressed(2)], cause=cause)
        assert second.first_position == first.last_position + 1
        assert await store.last_position(a) == first.last_position
        assert await store.stream_last_position(streams.DEPLOYMENTS) == second.last_position
        state = await store.stream_state(streams.DEPLOYMENTS)
        assert state.last_position == second.last_position
        assert state.messages >= 2 and state.first_position >= 1

    async def test_every_stream_accepts_and_returns_its_events(self, store: EventStore) -> None:
        key = new_id()
        for subject, event in one_of_each(key):
            result = await store.append(subject, [event], cause=cause)
            stored = await store.read(subject, after=result.last_position - 1)
            assert stored[0].event == event

    async def test_empty_aggregate_reads_empty(self, store: EventStore) -> None:
        _, subject = fresh_subject()
        assert await store.read(subject) == []
        assert await store.last_position(subject) == 0
        assert await store.read_first(subject) is None
        assert await store.read_last(subject) is None
        assert (await store.read_aggregate(subject)).last_position == 0

    async def test_concurrent_appenders_exactly_one_wins(self, store: EventStore) -> None:
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

    async def test_failed_batch_stores_nothing(self, store: EventStore) -> None:
        dep, subject = fresh_subject()
        await store.append(subject, [requested(dep)], cause=cause, expected=0)
        with pytest.raises(ConcurrencyError):
            await store.append(subject, [progressed(i) for i in range(5)], cause=cause, expected=0)
        assert len(await store.read(subject)) == 1

    async def test_new_aggregate_expectation_refuses_existing(self, store: EventStore) -> None:
        dep, subject = fresh_subject()
        await store.append(subject, [requested(dep)], cause=cause, expected=0)
        with pytest.raises(ConcurrencyError) as refused:
            await store.append(subject, [requested(dep)], cause=cause, expected=0)
        assert refused.value.expected == 0
        assert refused.value.actual == await store.last_position(subject)

    async def test_same_message_id_without_expectation_is_deduplicated(
        self, store: EventStore
    ) -> None:
        dep, subject = fresh_subject()
        eid = new_id()
        first = await store.append(subject, [requested(dep)], cause=cause, ids=[eid])
        again = await store.append(subject, [requested(dep)], cause=cause, ids=[eid])
        assert not first.duplicate
        assert again.duplicate and again.last_position == first.last_position
        assert [r.id for r in await store.read(subject)] == [eid]

    async def test_the_expectation_is_checked_before_deduplication(self, store: EventStore) -> None:
        dep, subject = fresh_subject()
        eid = new_id()
        await store.append(subject, [requested(dep)], cause=cause, expected=0, ids=[eid])
        with pytest.raises(ConcurrencyError):
            await store.append(subject, [requested(dep)], cause=cause, expected=0, ids=[eid])
        assert len(await store.read(subject)) == 1

    async def test_a_batch_repeating_a_stored_id_is_refused_whole(self, store: EventStore) -> None:
        _, subject = fresh_subject()
        eid = new_id()
        stored = await store.append(subject, [progressed(0)], cause=cause, ids=[eid])
        with pytest.raises(AppendError):
            await store.append(
                subject, [progressed(1), progressed(2)], cause=cause, ids=[new_id(), eid]
            )
        assert await store.last_position(subject) == stored.last_position

    async def test_appends_refuse_what_no_store_could_take(self, store: EventStore) -> None:
        _, subject = fresh_subject()
        with pytest.raises(ValueError, match="at least one"):
            await store.append(subject, [], cause=cause)
        with pytest.raises(ValueError, match="at most"):
            await store.append(subject, [progressed(0)] * (MAX_BATCH + 1), cause=cause)
        with pytest.raises(ValueError, match="one id per event"):
            await store.append(subject, [progressed(0)], cause=cause, ids=["a", "b"])
        with pytest.raises(ValueError, match="no Flightdeck stream"):
            await store.append("elsewhere.thing", [progressed(0)], cause=cause)
        assert await store.last_position(subject) == 0

    async def test_append_together_is_all_or_nothing(self, store: EventStore) -> None:
        tenant, taken, free = new_id(), new_id(), new_id()
        await store.append(
            subjects.namespace(taken),
            [NamespaceAssigned(namespace=taken, tenant="other")],
            cause=cause,
            expected=0,
        )
        with pytest.raises(ConcurrencyError) as refused:
            await store.append_together(
                [
                    (
                        subjects.tenant(tenant),
                        TenantCreated(tenant=tenant, namespaces=[free, taken]),
                        0,
                    ),
                    (subjects.namespace(free), NamespaceAssigned(namespace=free, tenant=tenant), 0),
                    (
                        subjects.namespace(taken),
                        NamespaceAssigned(namespace=taken, tenant=tenant),
                        0,
                    ),
                ],
                cause=cause,
            )
        assert subjects.namespace(taken) in refused.value.subject
        assert await store.read(subjects.tenant(tenant)) == []
        assert await store.read(subjects.namespace(free)) == []

        done = await store.append_together(
            [
                (subjects.tenant(tenant), TenantCreated(tenant=tenant, namespaces=[free]), 0),
                (subjects.namespace(free), NamespaceAssigned(namespace=free, tenant=tenant), 0),
            ],
            cause=cause,
        )
        assert done.subject == subjects.namespace(free)
        assert done.last_position == done.first_position + 1
        assert (await store.read(subjects.tenant(tenant)))[0].position == done.first_position
        with pytest.raises(ValueError, match="one stream"):
            await store.append_together(
                [
                    (subjects.tenant(tenant), TenantCreated(tenant=tenant, namespaces=[]), None),
                    (subjects.deployment(tenant), progressed(0), None),
                ],
                cause=cause,
            )

    # --------------------------------------------------------------- reads

    async def test_read_large_aggregate_across_many_requests(self, make_store: MakeStore) -> None:
        small_batches = make_store(read_batch=64)
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

    async def test_bounded_reads_stop_at_upto_across_interleaved_subjects(
        self, make_store: MakeStore
    ) -> None:
        small = make_store(read_batch=7)
        _, a = fresh_subject()
        _, b = fresh_subject()
        positions: list[int] = []
        for i in range(30):  # a and b interleaved: a batch counts matches, not positions
            positions.append((await small.append(a, [progressed(i)], cause=cause)).last_position)
            await small.append(b, [progressed(i)], cause=cause)
        after, upto = positions[3], positions[20]
        chunks = [
            c async for c in small.read_chunks(streams.DEPLOYMENTS, a, after=after, upto=upto)
        ]
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

    async def test_wildcard_reads_take_every_matching_subject_in_order(
        self, store: EventStore
    ) -> None:
        ns = f"ns{new_id()[:8]}"
        a, b = subjects.cluster_object(ns, "Pod", "a"), subjects.cluster_object(ns, "Pod", "b")
        other = subjects.cluster_object(ns, "Service", "a")
        event = one_of_each(ns)[3][1]  # the cluster stream's sample
        done = [
            (await store.append(s, [event], cause=cause)).last_position for s in (a, other, b, a)
        ]
        chunks = store.read_chunks(streams.CLUSTER, f"fd.evt.k8s.{ns}.pod.*")
        assert [r.position async for c in chunks for r in c.events] == [done[0], *done[2:]]
        chunks = store.read_chunks(streams.CLUSTER, f"fd.evt.k8s.{ns}.>")
        assert [r.position async for c in chunks for r in c.events] == done
        latest = await store.read_latest(f"fd.evt.k8s.{ns}.pod.*")
        assert [(r.subject, r.position) for r in latest] == [(b, done[2]), (a, done[3])]

    async def test_first_last_and_one_position(self, store: EventStore) -> None:
        dep, subject = fresh_subject()
        first = await store.append(subject, [requested(dep)], cause=cause, expected=0)
        last = await store.append(subject, [progressed(1)], cause=cause)
        found = await store.read_first(subject)
        assert found is not None and found.position == first.last_position
        newest = await store.read_last(subject)
        assert newest is not None and newest.event == progressed(1)
        at = await store.read_at(streams.DEPLOYMENTS, first.last_position)
        assert at is not None and at.event == requested(dep)
        beyond = last.last_position + 1000
        assert await store.read_at(streams.DEPLOYMENTS, beyond) is None

    async def test_position_by_time(self, store: EventStore) -> None:
        dep, subject = fresh_subject()
        before = await self.moment()
        first = await store.append(subject, [requested(dep)], cause=cause, expected=0)
        between = await self.moment()
        later = await store.append(subject, [progressed(1)], cause=cause)
        after = await self.moment()
        assert await store.position_at(subject, before) == first.last_position
        assert await store.position_at(subject, between) == later.last_position
        assert await store.position_at(subject, after) is None

    # ------------------------------------------------------- subscriptions

    async def test_subscribe_from_position_across_the_seam(self, store: EventStore) -> None:
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
                        await asyncio.sleep(0)  # let the live side catch up now and then

            task = asyncio.create_task(writer())
            while len(seen) < 50:
                recorded = await sub.next(timeout=10)
                seen.append(recorded.event.detail["n"])
            await task
        assert seen == list(range(10, 60))
        assert sub.position == (await store.read_last(subject)).position  # type: ignore[union-attr]

    async def test_subscribe_to_several_subjects_of_one_stream(self, store: EventStore) -> None:
        a, sa = fresh_subject()
        b, sb = fresh_subject()
        after = await store.stream_last_position(streams.DEPLOYMENTS)
        await store.append(sa, [requested(a)], cause=cause, expected=0)
        await store.append(sb, [requested(b)], cause=cause, expected=0)
        await store.append(sa, [progressed(1)], cause=cause)
        async with store.subscribe([sa, sb], after=after) as sub:
            got = [(await sub.next(timeout=10)).subject for _ in range(3)]
            more = await store.append(sb, [progressed(2)], cause=cause)
            batch = await sub.next_batch(10, timeout=10)
        assert got == [sa, sb, sa]
        assert [r.position for r in batch] == [more.last_position]

    async def test_subscribe_across_streams_is_refused(self, store: EventStore) -> None:
        with pytest.raises(ValueError, match="several streams"):
            store.subscribe([subjects.deployment("x"), subjects.probe("y")])

    async def test_a_tail_hands_over_new_events_of_wanted_subjects_only(
        self, store: EventStore
    ) -> None:
        _, wanted = fresh_subject()
        _, unwanted = fresh_subject()
        before = await store.append(wanted, [progressed(0)], cause=cause)
        got: list[Recorded[Any]] = []
        asked: list[str] = []

        def wants(subject: str) -> bool:
            asked.append(subject)
            return subject == wanted

        tail = await store.tail(streams.DEPLOYMENTS, got.append, wanted=wants)
        try:
            assert tail.position >= before.last_position
            await store.append(unwanted, [progressed(1)], cause=cause)
            last = await store.append(wanted, [progressed(2), progressed(3)], cause=cause)
            await eventually(
                lambda: tail.position >= last.last_position, within=10, what="the tail"
            )
        finally:
            await tail.close()
        assert [r.event for r in got] == [progressed(2), progressed(3)]
        assert unwanted in asked
        await store.append(wanted, [progressed(4)], cause=cause)
        assert len(got) == 2  # closed: nothing more

    # ------------------------------------------------------------- garbage

    async def test_undecodable_messages_are_reported_and_skipped_everywhere(
        self, make_store: MakeStore
    ) -> None:
        errors: list[EventDecodeError] = []
        tolerant = make_store(on_undecodable=errors.append)
        dep, subject = fresh_subject()
        await tolerant.append(subject, [requested(dep)], cause=cause, expected=0)
        await self.inject(tolerant, subject, b"\x00 definitely not an event")
        garbage = await tolerant.last_position(subject)

        stored = await tolerant.read(subject)
        assert [type(r.event).__name__ for r in stored] == ["DeploymentRequested"]
        assert len(errors) == 1 and tolerant.undecodable_count == 1
        assert errors[0].stream == streams.DEPLOYMENTS and errors[0].subject == subject
        assert f"FD_DEPLOYMENTS#{garbage}" in str(errors[0])

        aggregate = await tolerant.read_aggregate(subject)
        assert (aggregate.last_position, aggregate.skipped) == (garbage, 1)
        last = await tolerant.read_last(subject)
        assert last is not None and last.position == stored[0].position
        assert await tolerant.read_at(streams.DEPLOYMENTS, garbage) is None
        latest = await tolerant.read_latest(subject)
        assert [r.position for r in latest] == [stored[0].position]

        # the garbage moved the aggregate: the next append expects its position
        after = await tolerant.append(subject, [progressed(1)], cause=cause, expected=garbage)
        async with tolerant.subscribe(subject) as sub:
            live = [await sub.next(timeout=10) for _ in range(2)]
        assert [r.position for r in live] == [stored[0].position, after.last_position]
        assert sub.skipped == 1
        assert tolerant.undecodable_count == len(errors) >= 6

    async def test_ensure_streams_is_idempotent(self, store: EventStore) -> None:
        await store.ensure_streams(streams.declare())
        await store.ensure_streams(streams.declare())
        _, subject = fresh_subject()
        assert (await store.append(subject, [progressed(0)], cause=cause)).last_position > 0
