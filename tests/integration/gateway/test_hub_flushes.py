"""The hub's flushes: what one loop iteration gathers goes out in one write, and a
feed whose last write took long coalesces while other feeds do not wait.

Not a unit test: the hub is fed messages shaped as nats-py hands them over, and
the coalescing is measured on the clock (a write that takes 50 ms).
"""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from typing import Any

import pytest

from flightdeck.events import Cause, Codec
from flightdeck.gateway.adapters.hub import Hub
from flightdeck.gateway.adapters.metrics import Metrics
from flightdeck.gateway.adapters.streams import StreamSpec, Subscription
from flightdeck.gateway.domain import pipeline
from tests.support.fanout import FakeTransport, parked, sse_frame
from tests.support.samples import progressed

pytestmark = pytest.mark.integration

SUBJECT = "fd.evt.deploy.d1"
CODEC = Codec("/flightdeck/tests")


class SlowTransport(FakeTransport):
    """Takes chunks, each after ``delay`` seconds (a broadcast to many clients)."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    def write(self, chunk: bytes) -> bool:
        time.sleep(self.delay)
        return super().write(chunk)


class Stream:
    """Messages as the hub's consumer hands them over."""

    def __init__(self) -> None:
        self.position = 0

    def msg(self, subject: str, n: int) -> Any:
        self.position += 1
        out = CODEC.encode(subject, progressed(n), Cause.root("user:t"))
        return SimpleNamespace(
            metadata=SimpleNamespace(sequence=SimpleNamespace(stream=self.position)),
            subject=subject,
            data=out.payload,
            headers=out.headers,
        )


async def attached(hub: Hub, subject: str, transport: FakeTransport) -> Subscription:
    spec = StreamSpec(subject, pipeline.render)
    sub = Subscription(hub, None, spec, limit=8, frame=sse_frame)  # type: ignore[arg-type]
    hub.attach(subject, pipeline.render, sub)
    await parked(sub, transport)
    return sub


async def test_events_of_one_iteration_go_out_in_one_write_in_the_next() -> None:
    hub = Hub(SimpleNamespace(codec=CODEC), Metrics())  # type: ignore[arg-type]
    transport = FakeTransport()
    sub = await attached(hub, SUBJECT, transport)
    stream = Stream()
    hub._dispatch("FD_DEPLOYMENTS", stream.msg(SUBJECT, 1))
    hub._dispatch("FD_DEPLOYMENTS", stream.msg(SUBJECT, 2))
    assert transport.chunks == []  # not in the consumer's callback
    await asyncio.sleep(0)
    assert len(transport.chunks) == 1
    assert transport.chunks[0].count(b"id: ") == 2
    assert sub.outbox.resume_from == 2


async def test_after_a_long_flush_a_feed_coalesces_and_other_feeds_do_not_wait() -> None:
    hub = Hub(  # type: ignore[arg-type]
        SimpleNamespace(codec=CODEC), Metrics(), coalesce=1.0, coalesce_max=0.5
    )
    slow, quick = SlowTransport(0.05), FakeTransport()
    await attached(hub, SUBJECT, slow)
    other = "fd.evt.deploy.d2"
    await attached(hub, other, quick)
    stream = Stream()
    hub._dispatch("FD_DEPLOYMENTS", stream.msg(SUBJECT, 1))
    await asyncio.sleep(0)
    assert len(slow.chunks) == 1  # the first flush is never delayed; it took 50 ms
    hub._dispatch("FD_DEPLOYMENTS", stream.msg(SUBJECT, 2))
    hub._dispatch("FD_DEPLOYMENTS", stream.msg(other, 3))
    await asyncio.sleep(0)
    assert len(quick.chunks) == 1  # another feed goes at once
    assert len(slow.chunks) == 1  # the busy feed waits about as long as it took
    hub._dispatch("FD_DEPLOYMENTS", stream.msg(SUBJECT, 4))
    await asyncio.sleep(0.1)
    assert len(slow.chunks) == 2  # events 2 and 4 in one write
    assert slow.chunks[1].count(b"id: ") == 2
    await hub.close()
