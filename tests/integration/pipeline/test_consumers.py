"""Durable consumers: explicit acks, retries with delay, poison messages to the dead-letter subject."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from faststream.nats import NatsBroker

from flightdeck.events import Cause, Recorded, new_id, streams, subjects
from flightdeck.events.commands import CancelDeployment
from flightdeck.events.deadletters import MessageDeadLettered
from flightdeck.eventstore import EventStore
from flightdeck.runtime import retries
from flightdeck.runtime.consumers import Consumers, ConsumerSpec
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


def cancel(n: int) -> CancelDeployment:
    return CancelDeployment(deployment_id=f"d{n}", reason="test")


async def dead_letters(store: EventStore, service: str) -> list[MessageDeadLettered]:
    return [r.event for r in await store.read(subjects.dead_letters(service))]


async def test_poison_messages_are_dead_lettered_and_the_consumer_moves_on(
    store: EventStore,
) -> None:
    service = f"svc-{new_id()[:8]}"
    subject = subjects.command(service, "do")
    handled: list[str] = []
    attempts: dict[str, int] = {}

    async def handler(r: Recorded[Any]) -> None:
        attempts[r.event.deployment_id] = attempts.get(r.event.deployment_id, 0) + 1
        if r.event.deployment_id == "d2":
            raise RuntimeError("d2 is poison")
        if r.event.deployment_id == "d3" and attempts["d3"] == 1:
            raise ConnectionError("transient")
        handled.append(r.event.deployment_id)

    spec = ConsumerSpec(
        durable=f"{service}-commands",
        stream=streams.COMMANDS,
        subjects=(subject,),
        handler=handler,
        max_deliver=3,
        redelivery=retries.Policy("test", wait_initial=0.05, wait_max=0.05, wait_jitter=0),
        start="new",
    )
    consumers = Consumers(store, service, store.nc)
    ready = asyncio.Event()
    task = asyncio.create_task(consumers.run([spec], ready))
    try:
        await ready.wait()
        cause = Cause.root("user:ada")
        await store.append(subject, [cancel(1)], cause=cause)
        await store.nc.jetstream().publish(subject, b"not an event")
        for n in (2, 3, 4):
            await store.append(subject, [cancel(n)], cause=cause)

        await eventually(lambda: _done(handled, ["d1", "d3", "d4"]), what="good messages handled")
        await eventually(lambda: _count(store, service, 2), what="two dead letters")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    letters = await dead_letters(store, service)
    undecodable, poison = sorted(letters, key=lambda m: m.position)
    assert undecodable.error.startswith("undecodable") and undecodable.payload == "not an event"
    assert poison.error == "RuntimeError: d2 is poison" and poison.deliveries == 3
    assert attempts["d2"] == 3 and attempts["d3"] == 2
    assert '"deployment_id":"d2"' in poison.payload and poison.headers["ce-type"].endswith(
        "cancel_deployment"
    )
    stats = consumers.stats[spec.durable]
    assert (stats.acked, stats.dead_lettered) == (3, 2)


async def test_a_long_handler_keeps_its_message_past_ack_wait(store: EventStore) -> None:
    service = f"svc-{new_id()[:8]}"
    subject = subjects.command(service, "slow")
    seen: list[int] = []

    async def slow(r: Recorded[Any]) -> None:
        seen.append(r.position)
        await asyncio.sleep(2.5)  # longer than ack_wait: in_progress keeps it ours

    spec = ConsumerSpec(
        durable=f"{service}-commands",
        stream=streams.COMMANDS,
        subjects=(subject,),
        handler=slow,
        ack_wait_s=1.0,
        start="new",
    )
    ready = asyncio.Event()
    task = asyncio.create_task(Consumers(store, service, store.nc).run([spec], ready))
    try:
        await ready.wait()
        await store.append(subject, [cancel(1)], cause=Cause.root("user:ada"))
        await asyncio.sleep(3.5)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert len(seen) == 1  # never redelivered while held


async def _done(handled: list[str], wanted: list[str]) -> bool:
    return sorted(handled) == wanted


async def _count(store: EventStore, service: str, n: int) -> bool:
    return len(await dead_letters(store, service)) >= n


async def test_consumers_are_faststream_subscribers_on_the_process_connection(
    store: EventStore,
) -> None:
    """One broker per process, on the connection the process already has (its user, its
    TLS): no second connection, and stopping the consumers leaves it open (ADR 0019)."""
    service = f"svc-{new_id()[:8]}"
    subject = subjects.command(service, "do")
    handled: list[Recorded[Any]] = []

    async def handler(r: Recorded[Any]) -> None:
        handled.append(r)

    spec = ConsumerSpec(
        durable=f"{service}-commands", stream=streams.COMMANDS, subjects=(subject,), handler=handler
    )
    consumers = Consumers(store, service, store.nc)
    ready = asyncio.Event()
    task = asyncio.create_task(consumers.run([spec], ready))
    try:
        await ready.wait()
        broker = consumers.running
        assert isinstance(broker, NatsBroker)
        assert broker._connection is store.nc
        assert [s.subject.broker_address for s in broker.subscribers] == [subject]
        cause = Cause(actor="user:ada", correlation_id="corr-1", causation_id="cause-1")
        appended = await store.append(subject, [cancel(1)], cause=cause)
        await eventually(lambda: _some(handled), what="the command handled")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    (got,) = handled
    assert (got.correlation_id, got.causation_id, got.actor) == ("corr-1", "cause-1", "user:ada")
    assert got.position == appended.last_position and got.stream == streams.COMMANDS
    assert got.event == cancel(1)
    assert consumers.running is None
    assert store.nc.is_connected  # not drained: the process closes it, once


async def test_a_durable_on_several_subjects_gets_them_all(store: EventStore) -> None:
    service = f"svc-{new_id()[:8]}"
    wanted = (subjects.command(service, "a"), subjects.command(service, "b"))
    seen: list[str] = []

    async def handler(r: Recorded[Any]) -> None:
        seen.append(r.subject)

    spec = ConsumerSpec(
        durable=f"{service}-commands", stream=streams.COMMANDS, subjects=wanted, handler=handler
    )
    ready = asyncio.Event()
    task = asyncio.create_task(Consumers(store, service, store.nc).run([spec], ready))
    try:
        await ready.wait()
        cause = Cause.root("user:ada")
        for subject in (*wanted, subjects.command(service, "other")):
            await store.append(subject, [cancel(1)], cause=cause)
        await eventually(lambda: _done(sorted(seen), sorted(wanted)), what="both subjects")
        await asyncio.sleep(0.2)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert sorted(seen) == sorted(wanted)  # and nothing of the subject it does not filter


async def test_no_more_messages_are_taken_than_there_are_free_handlers(store: EventStore) -> None:
    """A message waiting in a buffer would age past ack_wait without its keep-alive: the
    consumer pulls only for free slots, so at most ``concurrency`` are held at once."""
    service = f"svc-{new_id()[:8]}"
    subject = subjects.command(service, "hold")
    held: set[str] = set()
    most = 0
    release = asyncio.Event()
    done: list[str] = []

    async def handler(r: Recorded[Any]) -> None:
        nonlocal most
        held.add(r.event.deployment_id)
        most = max(most, len(held))
        await release.wait()
        held.discard(r.event.deployment_id)
        done.append(r.event.deployment_id)

    spec = ConsumerSpec(
        durable=f"{service}-commands",
        stream=streams.COMMANDS,
        subjects=(subject,),
        handler=handler,
        concurrency=2,
        start="new",
    )
    consumers = Consumers(store, service, store.nc)
    ready = asyncio.Event()
    task = asyncio.create_task(consumers.run([spec], ready))
    try:
        await ready.wait()
        for n in range(6):
            await store.append(subject, [cancel(n)], cause=Cause.root("user:ada"))
        await eventually(lambda: _held(held, 2), what="two held")
        await asyncio.sleep(0.3)
        info = await store.nc.jetstream().consumer_info(streams.COMMANDS, spec.durable)
        assert most == 2 and info.num_ack_pending == 2  # the other four still on the server
        release.set()
        await eventually(lambda: _done(sorted(done), [f"d{n}" for n in range(6)]), what="all six")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert consumers.stats[spec.durable].acked == 6


async def _some(items: list[Any]) -> bool:
    return bool(items)


async def _held(held: set[str], n: int) -> bool:
    return len(held) == n


async def test_several_durables_in_one_process_each_get_their_own(store: EventStore) -> None:
    """One broker, four subscribers (like the orchestrator's): each durable's messages
    reach its own handler, and every durable is pulled from."""
    service = f"svc-{new_id()[:8]}"
    seen: dict[str, list[str]] = {}
    specs = []
    for what in ("a", "b", "c", "d"):

        async def handler(r: Recorded[Any], what: str = what) -> None:
            seen.setdefault(what, []).append(r.subject)

        specs.append(
            ConsumerSpec(
                durable=f"{service}-{what}",
                stream=streams.COMMANDS,
                subjects=(subjects.command(service, what),),
                handler=handler,
                start="new",
            )
        )
    consumers = Consumers(store, service, store.nc)
    ready = asyncio.Event()
    task = asyncio.create_task(consumers.run(specs, ready))
    try:
        await ready.wait()
        for what in ("a", "b", "c", "d"):
            await store.append(subjects.command(service, what), [cancel(1)], cause=Cause.root("u"))
        await eventually(lambda: _count_seen(seen, 4), what="each durable's message")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert seen == {w: [subjects.command(service, w)] for w in ("a", "b", "c", "d")}
    assert {d: s.acked for d, s in consumers.stats.items()} == {s.durable: 1 for s in specs}


async def _count_seen(seen: dict[str, list[str]], n: int) -> bool:
    return sum(map(len, seen.values())) >= n
