"""The fan-out: ONE feed per stream, shared by every connected client.

Per-client consumers cost three tasks each and ~9 % CPU idle at 1,000 clients
(STACK-NOTES); here one feed per stream (:meth:`EventStore.tail`: on JetStream
one ordered consumer whose callback decodes each event once, only when some
feed wants its subject),
each *feed* (a subject filter and its renderer) renders it once, and every
client of the feed gets the same bytes. The hub never waits on a client.

Events are handed out once per event-loop iteration (:meth:`Hub._flush`), a
feed at a time. A client that is caught up gets the iteration's events as ONE
pre-framed chunk, the same bytes object for all such clients, written straight
to its transport (:meth:`Sink.push`), so a broadcast costs a write per client
and no task wake-up. Every other client gets them in its bounded
:class:`Outbox` (a list append) and its task is woken; a client that cannot
keep up is cut off by its outbox (ADR 0008, "Performance").
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any, Protocol

import structlog

from flightdeck.events import Recorded
from flightdeck.events.streams import stream_for_subject
from flightdeck.eventstore import EventStore, Tail
from flightdeck.gateway.adapters.metrics import Metrics
from flightdeck.gateway.domain import sse
from flightdeck.gateway.domain.outbox import Outbox
from flightdeck.gateway.domain.rendering import ClientFilter, Rendered, Renderer

log = structlog.get_logger(__name__)

_TIMER_SLACK = 0.001


Frame = Callable[[Rendered], bytes]


class Sink(Protocol):
    """One client subscription as the hub sees it."""

    outbox: Outbox
    client_filter: ClientFilter | None
    direct: DirectWriter | None

    @property
    def frame(self) -> Frame: ...

    def wake(self) -> None: ...

    def push(self, chunk: bytes, first: int, last: int, now: float) -> bool: ...


class DirectWriter(Protocol):
    """A client's transport, written without waking the client's task (SSE over uvicorn)."""

    def write(self, chunk: bytes) -> bool:
        """Write ``chunk`` now if the transport takes it without blocking; ``False`` if not."""
        ...


class Feed:
    """The clients of one subject filter, all rendered by one renderer.

    Events are collected as they arrive and handed to the clients once per
    event-loop iteration (:meth:`flush`), so a burst of events costs each
    client one write, not one per event. After a long flush (a broadcast to
    many clients) the feed waits before the next (``next_flush``), so events
    arriving meanwhile share its writes.
    """

    __slots__ = ("_pending", "next_flush", "renderer", "sinks", "subject_filter")

    def __init__(self, subject_filter: str, renderer: Renderer) -> None:
        self.subject_filter = subject_filter
        self.renderer = renderer
        self.sinks: dict[Sink, None] = {}
        self._pending: list[Recorded[Any]] = []
        self.next_flush = 0.0
        """Monotonic time before which this feed is not flushed again (coalescing)."""

    def add(self, rec: Recorded[Any]) -> bool:
        """Collect one event; ``True`` when it is the first since the last flush."""
        self._pending.append(rec)
        return len(self._pending) == 1

    def flush(self, now: float) -> tuple[int, list[Recorded[Any]]]:
        """Hand the collected events to every client; returns the deliveries and the events.

        The shared rendering is done once. A client that is caught up, idle and
        writable gets them as ONE pre-framed chunk, the same bytes object for
        every such client, written straight to its transport; any other client
        (replaying, backlogged, flow-controlled, filtered, WebSocket) gets them
        in its bounded outbox and its task is woken, as before.
        """
        recs, self._pending = self._pending, []
        shared: list[Rendered] | None = None
        chunks: dict[Frame, bytes] = {}
        count = 0
        for sink in self.sinks:
            client_filter = sink.client_filter
            if client_filter is None:
                if shared is None:
                    shared = [r for r in map(self.renderer, recs) if r is not None]
                rendered = shared
                if not rendered:
                    continue
                if sink.direct is not None:
                    frame = sink.frame
                    chunk = chunks.get(frame)
                    if chunk is None:
                        chunk = chunks[frame] = _direct_chunk(rendered, frame)
                    if chunk and sink.push(chunk, rendered[0].position, rendered[-1].position, now):
                        count += len(rendered)
                        continue
            else:
                rendered = [r for r in map(client_filter, recs) if r is not None]
            outbox = sink.outbox
            woken = False
            for r in rendered:
                if outbox.offer(r.position, sink.frame(r), r.terminal):
                    woken = True
            if woken:
                sink.wake()
            count += len(rendered)
        return count, recs


def _direct_chunk(rendered: list[Rendered], frame: Frame) -> bytes:
    """The shared events as one HTTP/1.1 chunk, framed once for every direct client;
    empty if one of them ends the stream (a terminal event goes through the outbox,
    so that the client's task starts its close-after-done timer)."""
    for r in rendered:
        if r.terminal:
            return b""
    body = frame(rendered[0]) if len(rendered) == 1 else b"".join([frame(r) for r in rendered])
    return sse.http_chunk(body)


def _patterns(subject: str) -> list[str]:
    """Every subscription pattern that matches ``subject`` (itself, ``a.b.*``, ``a.>``…)."""
    tokens = subject.split(".")
    out = [subject, ".".join(tokens[:-1]) + ".*"]
    out += [".".join(tokens[:i]) + ".>" for i in range(1, len(tokens))]
    return out


class Hub:
    """Routes every event of the streams it follows to the feeds that want it.

    Args:
        store: the event store, whose :meth:`~EventStore.tail` feeds each stream.
        metrics: where deliveries and latencies are counted.
        clock: wall-clock seconds, for publish→delivery latency.
        coalesce: after a feed's flush took ``t`` seconds (at least ``coalesce_from``),
            that feed's next flush starts no sooner than ``coalesce * t`` later (at
            most ``coalesce_max``), so events arriving meanwhile share its writes.
            Under a broadcast storm this bounds the fan-out's share of the CPU and
            multiplies the events per write; a quiet feed, or a small one next to
            a busy one, is never delayed.
    """

    def __init__(
        self,
        store: EventStore,
        metrics: Metrics,
        clock: Callable[[], float] = time.time,
        *,
        coalesce: float = 1.0,
        coalesce_from: float = 0.002,
        coalesce_max: float = 0.025,
    ) -> None:
        self._store = store
        self._metrics = metrics
        self._clock = clock
        self._coalesce = coalesce
        self._coalesce_from = coalesce_from
        self._coalesce_max = coalesce_max
        self._feeds: dict[tuple[str, Renderer], Feed] = {}
        self._by_pattern: dict[str, list[Feed]] = {}
        self._wildcards = 0
        self._tails: dict[str, Tail] = {}
        self._matched: tuple[str, list[Feed]] = ("", [])
        self._starting: dict[str, asyncio.Lock] = {}
        self._dirty: list[Feed] = []
        self._soon = False
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0

    @property
    def positions(self) -> dict[str, int]:
        """The last position each followed stream's feed has seen."""
        return {stream: tail.position for stream, tail in self._tails.items()}

    async def follow(self, stream: str) -> None:
        """Start the stream's one feed if it is not running (new events only: after the
        stream's last position now, and after it still if NATS restarts before the
        first new one, instead of from the stream's first event)."""
        if stream in self._tails:
            return
        lock = self._starting.setdefault(stream, asyncio.Lock())
        async with lock:
            if stream in self._tails:
                return
            tail = await self._store.tail(stream, self._dispatch, wanted=self._wanted)
            self._tails[stream] = tail
            log.info("following stream", stream=stream, after=tail.position)

    async def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for tail in self._tails.values():
            with contextlib.suppress(Exception):
                await tail.close()
        self._tails.clear()

    def attach(self, subject_filter: str, renderer: Renderer, sink: Sink) -> Feed:
        key = (subject_filter, renderer)
        feed = self._feeds.get(key)
        if feed is None:
            feed = self._feeds[key] = Feed(subject_filter, renderer)
            self._by_pattern.setdefault(subject_filter, []).append(feed)
            if "*" in subject_filter or ">" in subject_filter:
                self._wildcards += 1
        feed.sinks[sink] = None
        return feed

    def detach(self, feed: Feed, sink: Sink) -> None:
        feed.sinks.pop(sink, None)
        if feed.sinks:
            return
        self._feeds.pop((feed.subject_filter, feed.renderer), None)
        feeds = self._by_pattern.get(feed.subject_filter, [])
        if feed in feeds:
            feeds.remove(feed)
            if not feeds:
                del self._by_pattern[feed.subject_filter]
        if "*" in feed.subject_filter or ">" in feed.subject_filter:
            self._wildcards -= 1

    def _feeds_of(self, subject: str) -> list[Feed]:
        patterns = _patterns(subject) if self._wildcards else (subject,)
        return [f for p in patterns for f in self._by_pattern.get(p, ())]

    def _wanted(self, subject: str) -> bool:
        """Whether any feed wants ``subject`` (the others are never decoded). The feeds
        found are kept for :meth:`_dispatch`, which the tail calls right after."""
        self._matched = (subject, self._feeds_of(subject))
        return bool(self._matched[1])

    def _dispatch(self, rec: Recorded[Any]) -> None:
        subject, feeds = self._matched
        if subject != rec.subject:
            feeds = self._feeds_of(rec.subject)
        now = time.monotonic()
        for feed in feeds:
            if feed.add(rec):
                self._dirty.append(feed)
                self._schedule(feed.next_flush, now)

    def _schedule(self, at: float, now: float) -> None:
        """Make sure a flush runs by ``at`` (this loop iteration if it is due)."""
        loop = asyncio.get_running_loop()
        if at <= now:
            if not self._soon:
                self._soon = True
                loop.call_soon(self._flush)
        elif self._timer is None or at < self._timer_at:
            if self._timer is not None:
                self._timer.cancel()
            self._timer_at = at
            self._timer = loop.call_later(at - now, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._flush()

    def _flush(self) -> None:
        """Hand everything dispatched so far to the clients, feed by feed.

        nats-py hands the consumer every message of one socket read in one go,
        so events that arrive together are written together: one write per
        client per flush however many events there were. A feed still in its
        coalescing wait stays dirty, and a timer comes back for it.
        """
        self._soon = False
        now = time.monotonic()
        soon = now + _TIMER_SLACK  # timers may fire a little early (uvloop: ms clock)
        due = [f for f in self._dirty if f.next_flush <= soon]
        if len(due) < len(self._dirty):
            self._dirty = [f for f in self._dirty if f.next_flush > soon]
            self._schedule(min(f.next_flush for f in self._dirty), now)
        else:
            self._dirty = []
        if due:
            self._flush_feeds(due, now)

    def _flush_feeds(self, feeds: list[Feed], now: float) -> None:
        metrics = self._metrics
        wall = self._clock()
        for feed in feeds:
            started = time.monotonic()
            try:
                count, recs = feed.flush(now)
            except Exception:  # one feed's renderer must not starve the others
                log.exception("fan-out failed", subject_filter=feed.subject_filter)
                continue
            finally:
                ended = time.monotonic()
                took = ended - started
                if took >= self._coalesce_from:
                    feed.next_flush = ended + min(took * self._coalesce, self._coalesce_max)
            if count:
                metrics.deliveries.inc(count)
                for rec in recs:
                    metrics.latency.observe(max(wall - rec.time.timestamp(), 0.0))


def stream_of(subject_filter: str) -> str:
    return stream_for_subject(subject_filter)
