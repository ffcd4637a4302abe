"""Several subscriptions on several streams, written to one client: an app's live view
(its pods, its slot, its ops actions), or a tenant's feed.

Positions of different streams cannot be compared, so every SSE id carries one
cursor per source, ``<first>/<second>/…`` (what the client has of each), like
:mod:`flightdeck.gateway.adapters.interleave` does for two. A frame is rendered
with its own position between two :data:`MARK` bytes in place of the id; the
id is completed when the frame is written. A client resuming with any id it
received gets exactly what it had not seen of each source. History is each
source's in turn, then live events as they arrive; each source keeps its order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from flightdeck.gateway.adapters.streams import SendFrames, Subscription
from flightdeck.gateway.domain.rendering import Rendered

MARK = b"\x00"


def joined_frame(rendered: Rendered) -> bytes:
    """An event of one source, its position standing where its id will be (built once per
    event, whoever it goes to)."""
    framed = rendered.joined
    if framed is None:
        framed = rendered.joined = b"\x00%d\x00event: %s\ndata: %s\n\n" % (
            rendered.position,
            rendered.event.encode(),
            rendered.data,
        )
    return framed


def cursor_of(positions: Sequence[int]) -> str:
    return "/".join(str(p) for p in positions)


def parse_cursor(raw: str, parts: int) -> list[int]:
    """``<p1>/<p2>/…`` with exactly ``parts`` positions; ``ValueError`` otherwise."""
    from flightdeck.gateway.domain.inputs import parse_position

    pieces = raw.strip().split("/")
    if len(pieces) != parts:
        raise ValueError(f"expected {parts} positions")
    return [parse_position(p) for p in pieces]


class _Resume:
    """``outbox.resume_from`` of a :class:`Joined`: every cursor, as its SSE ids carry them."""

    __slots__ = ("_owner",)

    def __init__(self, owner: Joined) -> None:
        self._owner = owner

    @property
    def resume_from(self) -> str:
        return self._owner.cursor()


class Joined:
    """Subscriptions on several streams written to one client (what
    :class:`~flightdeck.gateway.entrypoints.sse.SseConnection` uses of a
    :class:`Subscription`).

    Args:
        parts: one subscription per source, each built with :func:`joined_frame`.
        first: already-rendered events to send before any history (e.g. the app's
            current state), each ``(event name, JSON)``; their id is the starting cursor.
    """

    def __init__(self, parts: Sequence[Subscription], first: Sequence[tuple[str, bytes]] = ()):
        self.parts = tuple(parts)
        self._cursors = [part.spec.after for part in self.parts]
        self._first = list(first)
        self.overflow = asyncio.Event()
        for part in self.parts:
            part.overflow = self.overflow
        self.outbox = _Resume(self)
        self.direct: Any = None
        """Set by the SSE connection and never used: frames need their ids completed."""

    def cursor(self) -> str:
        return cursor_of(self._cursors)

    @property
    def last_write(self) -> float:
        return max(part.last_write for part in self.parts)

    @property
    def terminal_at(self) -> float | None:
        return None

    def wake_writer(self) -> None:
        for part in self.parts:
            part.wake_writer()

    async def wait(self, timeout: float | None = None) -> None:
        """Sleep until any source has something (all wake the same future)."""
        waiter = asyncio.get_running_loop().create_future()
        for part in self.parts:
            part._waiter = waiter
        try:
            if timeout is None:
                await waiter
            else:
                await asyncio.wait({waiter}, timeout=timeout)
        finally:
            for part in self.parts:
                part._waiter = None

    async def attach(self) -> None:
        for part in self.parts:
            await part.attach()

    def detach(self) -> None:
        for part in self.parts:
            part.detach()

    async def replay(self, send: SendFrames) -> None:
        if self._first:
            cursor = self.cursor().encode()
            await send(
                [
                    b"id: %s\nevent: %s\ndata: %s\n\n" % (cursor, event.encode(), data)
                    for event, data in self._first
                ]
            )
        for i, part in enumerate(self.parts):
            await part.replay(self._sender(i, send))
            self._advance(i)

    async def flush(self, send: SendFrames) -> bool:
        wrote = False
        for i, part in enumerate(self.parts):
            if await part.flush(self._sender(i, send)):
                wrote = True
                self._advance(i)
        return wrote

    def _sender(self, i: int, send: SendFrames) -> SendFrames:
        async def write(frames: list[bytes]) -> None:
            # the other sources' cursors are the same for every frame of this write
            before = "".join(f"{c}/" for c in self._cursors[:i]).encode()
            after = "".join(f"/{c}" for c in self._cursors[i + 1 :]).encode()
            mine = self._cursors[i]
            out = []
            for frame in frames:
                _, position, rest = frame.split(MARK, 2)
                mine = max(mine, int(position))
                out.append(b"id: %s%d%s\n%s" % (before, mine, after, rest))
            await send(out)
            self._cursors[i] = mine

        return write

    def _advance(self, i: int) -> None:
        written = self.parts[i].outbox.resume_from
        if written > self._cursors[i]:
            self._cursors[i] = written
