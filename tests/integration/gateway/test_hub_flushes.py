"""The hub's flushes: what one loop iteration gathers goes out in one write, and a
feed whose last write took long coalesces while other feeds do not wait.

Not a unit test: the coalescing is measured on the clock (a write that takes
50 ms). The hub is fed by the in-memory event store, each append reaching it as
it would from JetStream.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from flightdeck.events import Cause, streams
from flightdeck.eventstore.memory import InMemoryEventStore
from flightdeck.gateway.adapters.hub import Hub
from flightdeck.gateway.adapters.metrics import Metrics
from flightdeck.gateway.adapters.streams import StreamSpec, Subscription
from flightdeck.gateway.domain import pipeline
from tests.support.fanout import FakeTransport, parked, sse_frame
from tests.support.samples import progressed

pytestmark = pytest.mark.integration

SUBJECT = "fd.evt.deploy.d1"
CAUSE = Cause.root("user:t")


class SlowTransport(FakeTransport):
    """Takes chunks, each after ``delay`` seconds (a broadcast to many clients)."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    def write(self, chunk: bytes) -> bool:
        time.sleep(self.delay)
        return super().write(chunk)


async def following(**options: Any) -> tuple[Hub, InMemoryEventStore]:
    """A hub fed by an in-memory store: each append reaches it as from JetStream."""
    store = InMemoryEventStore()
    hub = Hub(store, Metrics(), **options)
    await hub.follow(streams.DEPLOYMENTS)
    return hub, store


async def attached(hub: Hub, subject: str, transport: FakeTransport) -> Subscription:
    spec = StreamSpec(subject, pipeline.render)
    sub = Subscription(hub, None, spec, limit=8, frame=sse_frame)  # type: ignore[arg-type]
    hub.attach(subject, pipeline.render, sub)
    await parked(sub, transport)
    return sub


async def test_events_of_one_iteration_go_out_in_one_write_in_the_next() -> None:
    hub, store = await following()
    transport = FakeTransport()
    sub = await attached(hub, SUBJECT, transport)
    await store.append(SUBJECT, [progressed(1)], cause=CAUSE)
    await store.append(SUBJECT, [progressed(2)], cause=CAUSE)
    assert transport.chunks == []  # not in the feed's callback
    await asyncio.sleep(0)
    assert len(transport.chunks) == 1
    assert transport.chunks[0].count(b"id: ") == 2
    assert sub.outbox.resume_from == 2
    await hub.close()


async def test_after_a_long_flush_a_feed_coalesces_and_other_feeds_do_not_wait() -> None:
    hub, store = await following(coalesce=1.0, coalesce_max=0.5)
    slow, quick = SlowTransport(0.05), FakeTransport()
    await attached(hub, SUBJECT, slow)
    other = "fd.evt.deploy.d2"
    await attached(hub, other, quick)
    await store.append(SUBJECT, [progressed(1)], cause=CAUSE)
    await asyncio.sleep(0)
    assert len(slow.chunks) == 1  # the first flush is never delayed; it took 50 ms
    await store.append(SUBJECT, [progressed(2)], cause=CAUSE)
    await store.append(other, [progressed(3)], cause=CAUSE)
    await asyncio.sleep(0)
    assert len(quick.chunks) == 1  # another feed goes at once
    assert len(slow.chunks) == 1  # the busy feed waits about as long as it took
    await store.append(SUBJECT, [progressed(4)], cause=CAUSE)
    await asyncio.sleep(0.1)
    assert len(slow.chunks) == 2  # events 2 and 4 in one write
    assert slow.chunks[1].count(b"id: ") == 2
    await hub.close()
