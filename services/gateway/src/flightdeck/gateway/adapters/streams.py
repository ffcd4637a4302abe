"""One subscription's life: attach to the hub, replay history, then follow live.

The subscription attaches to its feed *before* reading history, so every
event stored after the history read began reaches its outbox; the outbox holds
those until the replay ends and drops the ones the replay already sent
(ADR 0008). The same class serves SSE (bytes to an HTTP response) and each
WebSocket subscription (messages to a socket); only ``frame`` and the writer
differ.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from flightdeck.events import Recorded
from flightdeck.eventstore import EventStore
from flightdeck.gateway.adapters.history import read_batches
from flightdeck.gateway.adapters.hub import DirectWriter, Feed, Hub, stream_of
from flightdeck.gateway.domain.outbox import Outbox
from flightdeck.gateway.domain.rendering import ClientFilter, Rendered, Renderer


@dataclass(frozen=True)
class StreamSpec:
    """What to stream: a subject filter, how to render it, and from where.

    Args:
        subject_filter: one subject or a wildcard filter within one stream.
        renderer: shared rendering for every client of this filter.
        after: resume after this position (0: from the beginning).
        client_filter: per-client rendering instead of the shared one (log filters).
        replay: whether to send history before live events.
    """

    subject_filter: str
    renderer: Renderer
    after: int = 0
    client_filter: ClientFilter | None = None
    replay: bool = True


SendFrames = Callable[[list[bytes]], Awaitable[None]]
Frame = Callable[[Rendered], bytes]


class Subscription:
    """History then live for one client, written through ``send`` in order."""

    def __init__(
        self,
        hub: Hub,
        store: EventStore,
        spec: StreamSpec,
        *,
        limit: int,
        frame: Frame,
    ) -> None:
        self.hub = hub
        self.store = store
        self.spec = spec
        self.client_filter = spec.client_filter
        self.outbox = Outbox(limit, spec.after)
        self.frame = frame
        self._waiter: asyncio.Future[None] | None = None
        self.overflow = asyncio.Event()
        self.last_write = time.monotonic()
        self.terminal_at: float | None = None
        self._feed: Feed | None = None
        self.direct: DirectWriter | None = None
        """Set by a connection whose transport can take the feed's shared chunks directly."""

    def wake(self) -> None:
        """Called by the hub: something is pending (or the client overflowed)."""
        if self.outbox.overflowed:
            self.overflow.set()
        self.wake_writer()

    def wake_writer(self) -> None:
        """Wake the parked writer (a bare future is cheaper than an ``asyncio.Event``)."""
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait(self, timeout: float | None = None) -> None:
        """Sleep until :meth:`wake` (or ``timeout``); call only with nothing pending."""
        self._waiter = waiter = asyncio.get_running_loop().create_future()
        try:
            if timeout is None:
                await waiter
            else:
                await asyncio.wait({waiter}, timeout=timeout)
        finally:
            self._waiter = None

    def push(self, chunk: bytes, first: int, last: int, now: float) -> bool:
        """The hub's fast path: write the feed's shared chunk (events ``first``..``last``)
        straight to the transport, without waking this client's task.

        Only when that keeps every guarantee of the task path: the client is live,
        nothing of it is queued or being written (its writer is parked), none of
        these events was sent already, and the transport is below its high-water
        mark. Otherwise ``False``, and the hub queues the events in the outbox,
        where the bound and the slow-client cut-off apply as before.
        """
        direct = self.direct
        waiter = self._waiter
        box = self.outbox
        if (
            direct is None
            or waiter is None
            or waiter.done()
            or not box.idle_after(first)
            or not direct.write(chunk)
        ):
            return False
        box.sent(last)
        self.last_write = now
        return True

    def render(self, rec: Recorded[Any]) -> Rendered | None:
        if self.client_filter is not None:
            return self.client_filter(rec)
        return self.spec.renderer(rec)

    def set_filter(self, client_filter: ClientFilter | None) -> None:
        self.client_filter = client_filter

    async def attach(self) -> None:
        await self.hub.follow(stream_of(self.spec.subject_filter))
        self._feed = self.hub.attach(self.spec.subject_filter, self.spec.renderer, self)

    def detach(self) -> None:
        if self._feed is not None:
            self.hub.detach(self._feed, self)
            self._feed = None

    async def replay(self, send: SendFrames) -> None:
        """Send stored events after ``after``, then go live (held events past the seam)."""
        last = self.spec.after
        if self.spec.replay:
            async for batch in read_batches(self.store, self.spec.subject_filter, last):
                frames = []
                for rec in batch:
                    rendered = self.render(rec)
                    if rendered is not None:
                        frames.append(self.frame(rendered))
                        if rendered.terminal:
                            self.terminal_at = time.monotonic()
                last = batch[-1].position
                if frames:
                    await send(frames)
                    self.last_write = time.monotonic()
                self.outbox.written(last)
        else:
            last = max(last, self.hub.positions.get(stream_of(self.spec.subject_filter), 0))
        if self.outbox.go_live(last):
            self.wake()

    async def flush(self, send: SendFrames) -> bool:
        """Write what is pending in one go; ``False`` when there was nothing."""
        frames, end = self.outbox.drain()
        if not frames:
            return False
        if self.outbox.terminal and self.terminal_at is None:
            self.terminal_at = time.monotonic()
        await send(frames)
        self.outbox.written(end)
        self.last_write = time.monotonic()
        return True
