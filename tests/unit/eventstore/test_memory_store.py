"""The in-memory event store keeps the port's contract, like the JetStream adapter."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from flightdeck.events import Cause, Codec, StreamSettings, new_id, subjects
from flightdeck.eventstore import EventStore
from flightdeck.eventstore.memory import InMemoryEventStore
from tests.support.event_store_contract import EventStoreContract, MakeStore
from tests.support.samples import T0, progressed

CAUSE = Cause.root("user:ada")

pytestmark = pytest.mark.unit


class Ticking:
    """A clock one millisecond further on at every reading."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now


class TestInMemoryEventStore(EventStoreContract):
    clock = Ticking()

    @pytest.fixture
    def make_store(self) -> MakeStore:
        def make(**options: Any) -> EventStore:
            return InMemoryEventStore(Codec("/flightdeck/tests"), clock=self.clock, **options)

        return make

    async def inject(self, store: EventStore, subject: str, payload: bytes) -> None:
        assert isinstance(store, InMemoryEventStore)
        store.inject(subject, payload)

    async def moment(self) -> datetime:
        return self.clock()


async def test_a_reconnect_wakes_whoever_waits_for_one() -> None:
    store = InMemoryEventStore()
    since = store.reconnects
    store.reconnect()
    assert await store.reconnected(since) == since + 1


async def test_an_id_is_forgotten_once_its_duplicate_window_has_passed() -> None:
    clock = Ticking()
    store = InMemoryEventStore(clock=clock)
    subject = subjects.deployment(new_id())
    eid = new_id()
    first = await store.append(subject, [progressed(0)], cause=CAUSE, ids=[eid])
    clock.now += timedelta(seconds=StreamSettings().duplicate_window_s)
    again = await store.append(subject, [progressed(0)], cause=CAUSE, ids=[eid])
    assert not again.duplicate and again.last_position == first.last_position + 1
