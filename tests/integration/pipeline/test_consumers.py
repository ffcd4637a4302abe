"""Durable consumers: explicit acks, retries with delay, poison messages to the dead-letter subject."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

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
