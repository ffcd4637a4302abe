"""Two subscriptions on two streams, written to one client: a deployment and its pods' logs.

Kept apart from :mod:`flightdeck.gateway.adapters.streams` (the one-stream
replay machine it composes) so the two can change independently.

Order: history is the first source's (its final event held back), then the
second's, then that final event, so a client that stops reading at a
deployment's ``error`` has seen its pods' error lines; live events of both are
interleaved as they arrive. Each source keeps its own order.
"""

from __future__ import annotations

import asyncio
from typing import Any

from flightdeck.gateway.adapters.streams import SendFrames, Subscription
from flightdeck.gateway.domain.logrender import LogRendered
from flightdeck.gateway.domain.rendering import Rendered

MARK = b"\x00"
"""Stands in a frame's ``id:`` for the other source's cursor until the frame is written."""


def first_frame(rendered: Rendered) -> bytes:
    """An event of the first source: ``id: <position>/<second's cursor>``."""
    return b"id: %d/%s\nevent: %s\ndata: %s\n\n" % (
        rendered.position,
        MARK,
        rendered.event.encode(),
        rendered.data,
    )


def second_frame(rendered: Rendered) -> bytes:
    """An event of the second source, one message per log line: ``id: <first's>/<cursor>``."""
    if isinstance(rendered, LogRendered):
        p = rendered.position
        return b"".join(
            b"id: %s/%d:%d\nevent: log\ndata: %s\n\n" % (MARK, p, i, line)
            for i, line in zip(rendered.indices, rendered.lines, strict=True)
        )
    return b"id: %s/%d\nevent: %s\ndata: %s\n\n" % (
        MARK,
        rendered.position,
        rendered.event.encode(),
        rendered.data,
    )


def _position_of(frame: bytes) -> int:
    """The first source's position in a :func:`first_frame`."""
    return int(frame[4 : frame.index(b"/")])


class _Resume:
    """``outbox.resume_from`` of an :class:`Interleaved`: both cursors, as its SSE ids carry them."""

    __slots__ = ("_owner",)

    def __init__(self, owner: Interleaved) -> None:
        self._owner = owner

    @property
    def resume_from(self) -> str:
        return self._owner.cursor()


class Interleaved:
    """Two subscriptions on two streams written to one client, interleaved by arrival.

    Positions of two streams cannot be compared, so each SSE id carries both
    cursors, ``<first>/<second>``: a frame is rendered with :data:`MARK` in
    place of the other source's cursor, and the mark is replaced by that
    cursor (what was written of the other source so far) when the frame is
    written. A client resuming with any id it received gets exactly what it
    had not seen of either source. Each source stays in its own order; history
    is the first source's, then the second's, then both live as they arrive.
    It offers what :class:`~flightdeck.gateway.entrypoints.sse.SseConnection`
    uses of a :class:`Subscription`.

    Args:
        first: e.g. a deployment's events.
        second: e.g. the log lines of its pods.
        cursors: where the client resumes in each (``str`` of a position or cursor).
    """

    def __init__(self, first: Subscription, second: Subscription, cursors: tuple[str, str]) -> None:
        self.parts = (first, second)
        self._cursors = list(cursors)
        self._after = [first.spec.after, second.spec.after]
        self.overflow = asyncio.Event()
        for part in self.parts:
            part.overflow = self.overflow
        self.outbox = _Resume(self)
        self.direct: Any = None
        """Set by the SSE connection and never used: frames need their ids completed."""

    def cursor(self) -> str:
        return f"{self._cursors[0]}/{self._cursors[1]}"

    @property
    def last_write(self) -> float:
        return max(part.last_write for part in self.parts)

    @property
    def terminal_at(self) -> float | None:
        return self.parts[0].terminal_at

    def wake_writer(self) -> None:
        for part in self.parts:
            part.wake_writer()

    async def wait(self, timeout: float | None = None) -> None:
        """Sleep until either source has something (both wake the same future)."""
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
        first, second = self.parts
        history: list[bytes] = []

        async def keep(frames: list[bytes]) -> None:
            history.extend(frames)

        await first.replay(keep)
        final = history.pop() if first.terminal_at is not None and history else None
        if history:
            await self._sender(0, send)(history)
        if final is None:
            self._advance(0)
        elif history:  # the final event is not written yet: resuming must send it
            self._cursors[0] = str(_position_of(history[-1]))
        await second.replay(self._sender(1, send))
        self._advance(1)
        if final is not None:
            await self._sender(0, send)([final])
            self._advance(0)

    async def flush(self, send: SendFrames) -> bool:
        wrote = False
        for i, part in enumerate(self.parts):
            if await part.flush(self._sender(i, send)):
                wrote = True
                self._advance(i)
        return wrote

    def _sender(self, i: int, send: SendFrames) -> SendFrames:
        async def write(frames: list[bytes]) -> None:
            other = self._cursors[1 - i].encode()
            await send([frame.replace(MARK, other) for frame in frames])

        return write

    def _advance(self, i: int) -> None:
        written = self.parts[i].outbox.resume_from
        if written > self._after[i]:
            self._after[i] = written
            self._cursors[i] = str(written)
