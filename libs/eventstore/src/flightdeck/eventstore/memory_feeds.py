"""Following the in-memory store: subscriptions (history then live) and tails.

Both register a listener on their stream; the store calls it for each message
right after an append committed, in position order. A subscription takes its
history and registers in the same step (nothing can be appended in between,
there is no await), so there is no gap and no duplicate at the seam.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Any

from flightdeck.events.envelope import Recorded
from flightdeck.eventstore.port import Deliver
from flightdeck.eventstore.subjectfilter import matches


class Stored:
    """One stored message, as JetStream would hold it."""

    __slots__ = ("headers", "payload", "position", "stored_at", "subject")

    def __init__(
        self, position: int, subject: str, payload: bytes, headers: dict[str, str], at: datetime
    ) -> None:
        self.position = position
        self.subject = subject
        self.payload = payload
        self.headers = headers
        self.stored_at = at

    def size(self) -> int:
        """Roughly what the message weighs on the wire (for ``max_bytes``)."""
        return (
            len(self.subject)
            + len(self.payload)
            + sum(len(k) + len(v) + 4 for k, v in self.headers.items())
        )


Decode = Callable[[str, Stored], Recorded[Any] | None]
Listeners = list[Callable[[Stored], None]]


class MemorySubscription:
    """An async iterator of recorded events after ``after``; ``position`` is the last seen."""

    def __init__(
        self,
        stream: str,
        subjects: list[str],
        after: int,
        history: Callable[[int], list[Stored]],
        listeners: Listeners,
        decode: Decode,
    ) -> None:
        self.stream = stream
        self.subjects = subjects
        self.position = after
        self.skipped = 0
        self._history = history
        self._listeners = listeners
        self._decode = decode
        self._queue: asyncio.Queue[Stored] = asyncio.Queue()
        self._started = False

    def _on_message(self, message: Stored) -> None:
        if any(matches(f, message.subject) for f in self.subjects):
            self._queue.put_nowait(message)

    async def start(self) -> MemorySubscription:
        if not self._started:
            self._started = True
            for message in self._history(self.position):
                self._queue.put_nowait(message)
            self._listeners.append(self._on_message)
        return self

    async def close(self) -> None:
        if self._on_message in self._listeners:
            self._listeners.remove(self._on_message)

    async def __aenter__(self) -> MemorySubscription:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __aiter__(self) -> MemorySubscription:
        return self

    async def __anext__(self) -> Recorded[Any]:
        if not self._started:
            await self.start()
        while True:
            recorded = self._take(await self._queue.get())
            if recorded is not None:
                return recorded

    async def next(self, timeout: float | None = None) -> Recorded[Any]:
        return await asyncio.wait_for(self.__anext__(), timeout)

    async def next_batch(
        self, max_events: int, timeout: float | None = None
    ) -> list[Recorded[Any]]:
        out = [await self.next(timeout)]
        while len(out) < max_events and not self._queue.empty():
            recorded = self._take(self._queue.get_nowait())
            if recorded is not None:
                out.append(recorded)
        return out

    def _take(self, message: Stored) -> Recorded[Any] | None:
        self.position = message.position
        recorded = self._decode(self.stream, message)
        if recorded is None:
            self.skipped += 1
        return recorded


class MemoryTail:
    """A stream's new events handed to ``deliver`` as they are stored."""

    def __init__(
        self,
        stream: str,
        after: int,
        listeners: Listeners,
        decode: Decode,
        deliver: Deliver,
        wanted: Callable[[str], bool] | None,
    ) -> None:
        self.stream = stream
        self._position = after
        self._listeners = listeners
        self._decode = decode
        self._deliver = deliver
        self._wanted = wanted
        listeners.append(self._on_message)

    @property
    def position(self) -> int:
        return self._position

    def _on_message(self, message: Stored) -> None:
        self._position = message.position
        if self._wanted is not None and not self._wanted(message.subject):
            return
        recorded = self._decode(self.stream, message)
        if recorded is not None:
            self._deliver(recorded)

    async def close(self) -> None:
        if self._on_message in self._listeners:
            self._listeners.remove(self._on_message)
