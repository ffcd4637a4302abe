"""The backpressure policy (hold during replay, splice at the seam, bound, cut off) and
the fan-out's direct path, which must keep every one of those guarantees."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from flightdeck.events import Recorded
from flightdeck.events.deployments import Colour, DeploymentCompleted
from flightdeck.gateway.adapters.hub import Feed
from flightdeck.gateway.adapters.metrics import Metrics
from flightdeck.gateway.adapters.streams import StreamSpec, Subscription
from flightdeck.gateway.domain import pipeline, sse
from flightdeck.gateway.domain.limits import Limit
from flightdeck.gateway.domain.outbox import Outbox
from flightdeck.gateway.domain.rendering import Rendered
from flightdeck.gateway.entrypoints.sse import UvicornWriter, direct_writer
from flightdeck.gateway.service_layer import connections as connections_module
from flightdeck.gateway.service_layer.connections import Connections
from tests.support.fanout import FakeTransport, parked, sse_frame
from tests.support.recorded import recorded
from tests.support.samples import progressed

pytestmark = pytest.mark.unit


def test_live_events_held_during_replay_are_spliced_without_duplicates() -> None:
    box = Outbox(limit=10, after=0)
    for position in (4, 5, 6):  # arrived while history (up to 5) was being read
        assert box.offer(position, b"%d" % position) is False
    assert box.go_live(5) is True
    assert box.drain() == ([b"6"], 6)


def test_nothing_after_the_seam_means_no_wake() -> None:
    box = Outbox(limit=10)
    box.offer(3, b"3")
    assert box.go_live(3) is False
    assert box.drain() == ([], 3)


def test_first_pending_wakes_the_writer_and_later_ones_do_not() -> None:
    box = Outbox(limit=10)
    box.go_live(0)
    assert box.offer(1, b"a") is True
    assert box.offer(2, b"b") is False
    assert box.drain() == ([b"a", b"b"], 2)
    assert box.offer(2, b"again") is False  # a redelivery is dropped
    assert box.offer(3, b"c") is True


def test_overflow_cuts_off_and_resumes_after_the_last_written() -> None:
    box = Outbox(limit=2)
    box.go_live(0)
    box.offer(1, b"a")
    _, end = box.drain()
    box.written(end)
    box.offer(2, b"b")
    box.offer(3, b"c")
    assert box.offer(4, b"d") is True
    assert box.overflowed
    assert box.pending == 0
    assert box.resume_from == 1
    assert box.offer(5, b"e") is False


def test_overflow_while_replaying() -> None:
    box = Outbox(limit=1)
    box.offer(7, b"x")
    assert box.offer(8, b"y") is True
    assert box.overflowed
    assert box.go_live(6) is True


def test_terminal_is_remembered() -> None:
    box = Outbox(limit=5)
    box.go_live(0)
    box.offer(1, b"done", terminal=True)
    assert box.terminal


def test_idle_after_and_sent_let_a_live_client_bypass_its_buffer() -> None:
    box = Outbox(limit=4)
    assert not box.idle_after(1)  # still replaying
    box.go_live(3)
    assert not box.idle_after(3)  # already sent by the replay
    assert box.idle_after(4)
    box.sent(6)
    assert (box.last_queued, box.resume_from) == (6, 6)
    assert box.offer(6, b"again") is False  # what went direct is never queued again
    assert box.offer(7, b"g") is True
    assert not box.idle_after(8)  # something is queued: it must be written first


# ----------------------------------------------------------------- the fan-out's direct path

SUBJECT = "fd.evt.deploy.d1"


def subscription(*, after: int = 0, client_filter: Any = None) -> Subscription:
    spec = StreamSpec(SUBJECT, pipeline.render, after=after, client_filter=client_filter)
    return Subscription(None, None, spec, limit=8, frame=sse_frame)  # type: ignore[arg-type]


def events(*numbers: int) -> list[Recorded[Any]]:
    return [recorded(SUBJECT, progressed(n)) for n in numbers]


def feed_of(*subs: Subscription) -> Feed:
    feed = Feed(SUBJECT, pipeline.render)
    for sub in subs:
        feed.sinks[sub] = None
    return feed


async def test_caught_up_clients_get_one_shared_chunk_without_a_wake_up() -> None:
    a, b = subscription(), subscription()
    ta, tb = FakeTransport(), FakeTransport()
    tasks = [await parked(a, ta), await parked(b, tb)]
    feed = feed_of(a, b)
    recs = events(1, 2)
    for rec in recs:
        feed.add(rec)

    count, flushed = feed.flush(now=42.0)

    assert (count, flushed) == (4, recs)
    frames = b"".join(pipeline.render(r).sse for r in recs)  # type: ignore[union-attr]
    assert ta.chunks == [sse.http_chunk(frames)]
    assert tb.chunks[0] is ta.chunks[0]  # one bytes object for every client
    for sub in (a, b):
        assert sub.outbox.pending == 0
        assert sub.outbox.resume_from == recs[-1].position
        assert sub.last_write == 42.0
    assert not any(t.done() for t in tasks)  # nobody was woken
    for t in tasks:
        t.cancel()


async def test_clients_that_cannot_take_the_chunk_now_get_their_outbox_in_order() -> None:
    busy = subscription()  # its writer is not parked (e.g. mid-write, or a heartbeat is due)
    busy.outbox.go_live(0)
    busy.direct = FakeTransport()
    paused_transport = FakeTransport(accept=False)
    paused = subscription()
    task = await parked(paused, paused_transport)
    feed = feed_of(busy, paused)
    first, second = events(1, 2), events(3)
    for rec in first:
        feed.add(rec)

    count, _ = feed.flush(now=1.0)

    assert count == 4
    assert busy.direct.chunks == []  # type: ignore[union-attr]
    assert busy.outbox.pending == 2
    assert paused.outbox.pending == 2
    await asyncio.sleep(0)
    assert task.done()  # the paused client's writer was woken to write (and wait)
    paused_transport.accept = True
    again = asyncio.create_task(paused.wait())
    await asyncio.sleep(0)
    feed.add(second[0])
    feed.flush(now=2.0)
    assert paused_transport.chunks == []  # queued events go first: no overtaking
    again.cancel()
    frames, end = paused.outbox.drain()
    assert end == second[0].position
    assert len(frames) == 3


async def test_a_terminal_event_goes_through_the_outbox_to_start_the_close_timer() -> None:
    sub, transport = subscription(), FakeTransport()
    task = await parked(sub, transport)
    feed = feed_of(sub)
    done = DeploymentCompleted(
        colour=Colour.GREEN, url=None, stage_durations_ms={}, total_duration_ms=1
    )
    feed.add(recorded(SUBJECT, progressed(1)))
    feed.add(recorded(SUBJECT, done))

    feed.flush(now=1.0)

    assert transport.chunks == []
    assert sub.outbox.pending == 2
    assert sub.outbox.terminal
    await asyncio.sleep(0)
    assert task.done()


async def test_events_the_replay_already_sent_are_never_written_again() -> None:
    recs = events(1, 2, 3)
    sub, transport = subscription(), FakeTransport()
    sub.spec = StreamSpec(SUBJECT, pipeline.render, after=recs[1].position)
    task = await parked(sub, transport)
    feed = feed_of(sub)
    for rec in recs:
        feed.add(rec)

    feed.flush(now=1.0)

    assert transport.chunks == []
    frames, end = sub.outbox.drain()
    assert (len(frames), end) == (1, recs[2].position)
    task.cancel()


async def test_filtered_clients_are_rendered_each_and_use_their_outbox() -> None:
    def only_even(rec: Recorded[Any]) -> Rendered | None:
        return pipeline.render(rec) if rec.event.detail["n"] % 2 == 0 else None

    sub, transport = subscription(client_filter=only_even), FakeTransport()
    task = await parked(sub, transport)
    feed = feed_of(sub)
    recs = events(1, 2, 3, 4)
    for rec in recs:
        feed.add(rec)

    count, _ = feed.flush(now=1.0)

    assert count == 2
    assert transport.chunks == []
    assert sub.outbox.drain()[1] == recs[3].position
    await asyncio.sleep(0)
    assert task.done()


def test_a_receive_that_is_not_uvicorns_gets_no_direct_writer() -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    assert direct_writer(receive) is None


class _Transport:
    def __init__(self) -> None:
        self.closing = False
        self.written: list[bytes] = []

    def is_closing(self) -> bool:
        return self.closing

    def write(self, data: bytes) -> None:
        self.written.append(data)


def test_the_uvicorn_writer_refuses_whatever_uvicorns_send_would_wait_for_or_drop() -> None:
    transport = _Transport()
    cycle = SimpleNamespace(
        flow=SimpleNamespace(write_paused=False),
        transport=transport,
        disconnected=False,
        response_complete=False,
    )
    writer = UvicornWriter(cycle)
    assert writer.write(b"a") is True
    cycle.flow.write_paused = True
    assert writer.write(b"b") is False  # above the high-water mark: the outbox bounds it
    cycle.flow.write_paused = False
    cycle.disconnected = True
    assert writer.write(b"c") is False
    cycle.disconnected = False
    transport.closing = True
    assert writer.write(b"d") is False
    assert transport.written == [b"a"]


# ----------------------------------------------------------------- GC freezing


class _Conn:
    kind = "sse"
    tenant = "acme"

    def tick(self, now: float) -> None:
        pass

    def close(self, reason: str) -> None:
        pass


def test_gc_is_frozen_as_connections_grow_turn_over_and_leave(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    gc = connections_module.gc
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(gc, "unfreeze", lambda: calls.append("unfreeze"))
    monkeypatch.setattr(gc, "collect", lambda generation=2: calls.append(f"collect{generation}"))
    conns = Connections(Limit(10_000, 10_000), Metrics(), refreeze_s=5.0)
    population = [_Conn() for _ in range(300)]
    for conn in population:
        conns.admit(conn)
    assert conns._maybe_freeze(now=100.0) == "grown"
    assert calls == ["collect1", "freeze"]
    assert conns._maybe_freeze(now=101.0) is None
    for conn in population[:90]:  # 30 % of them leave and are replaced
        conns.release(conn)
        conns.admit(_Conn())
    calls.clear()
    assert conns._maybe_freeze(now=102.0) == "changed"
    assert calls == ["unfreeze", "collect2", "freeze"]  # frozen garbage is reclaimed
    for conn in list(conns._open)[:120]:  # more change, but within refreeze_s of the last
        conns.release(conn)
    assert conns._maybe_freeze(now=104.0) is None
    assert conns._maybe_freeze(now=107.5) == "changed"  # a population that left, too
    for conn in list(conns._open):
        conns.release(conn)
    assert conns._maybe_freeze(now=108.0) is None  # too soon after the last
    assert conns._maybe_freeze(now=113.0) == "changed"
    assert conns._maybe_freeze(now=120.0) is None  # nothing changed since
