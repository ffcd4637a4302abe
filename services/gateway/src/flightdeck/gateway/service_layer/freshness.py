"""Read your writes: a read made after a client saw an event reflects that event (ADR 0024).

The read model trails the streams by a few milliseconds. A client that has just
seen an event on a stream (``done`` on a deployment's SSE) and then reads the
result, a list or an app view must not get the state from before it. So a read
first asks the event store where the aggregate (or the stream) stands, then waits,
bounded, until the projector's checkpoint has reached that position; if it does
not in time, the caller answers from the stream or says what it has.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol


class Positions(Protocol):
    """Where the event store stands: one aggregate, or a whole stream."""

    async def last_position(self, subject: str) -> int: ...

    async def stream_last_position(self, stream: str) -> int: ...


class Checkpoints(Protocol):
    """How far the read model has applied a stream (its projector's checkpoint)."""

    async def projected_upto(self, stream: str) -> int: ...


@dataclass(frozen=True)
class Freshness:
    """Waits for the read model to reach a position of the stream."""

    positions: Positions
    checkpoints: Checkpoints
    within_s: float = 2.0
    """The bound: how long a read may wait for the projector."""
    first_poll_s: float = 0.002
    max_poll_s: float = 0.025
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep)
    clock: Callable[[], float] = field(default=time.monotonic)

    async def reached(self, stream: str, position: int) -> bool:
        """``True`` once the read model holds ``stream`` up to ``position``; ``False`` if it
        did not within :attr:`within_s`."""
        deadline = self.clock() + self.within_s
        delay = self.first_poll_s
        while await self.checkpoints.projected_upto(stream) < position:
            if self.clock() >= deadline:
                return False
            await self.sleep(delay)
            delay = min(delay * 2, self.max_poll_s)
        return True

    async def aggregate(self, stream: str, subject: str) -> tuple[int, bool]:
        """The aggregate's latest position (``0``: none), and whether the read model holds it."""
        latest = await self.positions.last_position(subject)
        return latest, await self.reached(stream, latest)

    async def whole_stream(self, stream: str) -> bool:
        """Whether the read model holds everything ``stream`` held when this was asked."""
        return await self.reached(stream, await self.positions.stream_last_position(stream))
