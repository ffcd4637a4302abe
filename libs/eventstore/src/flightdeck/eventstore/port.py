"""The event store as the rest of Flightdeck sees it: a port, whatever stores the events.

Two adapters implement it and pass one contract suite
(``tests/support/event_store_contract.py``): JetStream
(:mod:`flightdeck.eventstore.jetstream`), what runs, and an in-memory twin
(:mod:`flightdeck.eventstore.memory`), for tests that need no server.

Semantics both keep:

- **Positions** are global per stream (JetStream's stream sequence), not per
  aggregate; an aggregate is one subject, its position that of its last stored
  message. ``0`` means "no message yet".
- **Appends** name the position they ``expect`` the aggregate to be at; a
  mismatch (``0`` for an aggregate that exists included) raises
  :class:`~flightdeck.events.errors.ConcurrencyError` and stores nothing.
  Several events go in one all-or-nothing batch.
- **Message ids** are deduplicated within the stream's duplicate window: an
  append repeating a stored id (without an expectation) stores nothing and
  answers ``duplicate=True`` with the original position.
- **Undecodable messages** are reported (``on_undecodable``) and skipped by
  every read and subscription, but still move positions.
- **Subscriptions** deliver history after a position, then live events, with
  no gap or duplicate at the seam.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self

import msgspec

from flightdeck.events.base import Message
from flightdeck.events.envelope import Cause, Recorded
from flightdeck.events.streams import StreamSpec

MAX_BATCH = 1000
"""Most events one atomic append takes (JetStream's limit for an atomic batch)."""


class AppendResult(msgspec.Struct, frozen=True, kw_only=True):
    """Where an append landed. ``last_position`` is the next append's ``expected``."""

    subject: str
    first_position: int
    last_position: int
    ids: tuple[str, ...]
    duplicate: bool = False


class Chunk(msgspec.Struct, frozen=True, kw_only=True):
    """Consecutive stored events, and the position of the last message read
    (which may be an undecodable one that was skipped)."""

    events: list[Recorded[Any]]
    last_position: int
    skipped: int


class StreamState(msgspec.Struct, frozen=True, kw_only=True):
    """How much a stream holds: its message count and its first and last positions."""

    messages: int
    first_position: int
    last_position: int


class Subscription(Protocol):
    """History after a position, then live events; iterate it inside ``async with``.

    ``position`` is the last message seen (skipped ones included), ``skipped``
    how many undecodable messages were passed over.
    """

    stream: str
    subjects: list[str]
    position: int
    skipped: int

    async def start(self) -> Self: ...

    async def close(self) -> None: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def __aiter__(self) -> Self: ...

    async def __anext__(self) -> Recorded[Any]: ...

    async def next(self, timeout: float | None = None) -> Recorded[Any]:
        """The next event, waiting at most ``timeout`` seconds (``TimeoutError`` after)."""
        ...

    async def next_batch(
        self, max_events: int, timeout: float | None = None
    ) -> list[Recorded[Any]]:
        """The next event, plus every one already delivered behind it (up to ``max_events``)."""
        ...


class Tail(Protocol):
    """A running feed of a stream's new events (:meth:`EventStore.tail`)."""

    @property
    def position(self) -> int:
        """The last position the feed has seen, wanted or not."""
        ...

    async def close(self) -> None: ...


Deliver = Callable[[Recorded[Any]], None]
"""Takes one event of a tail; called on the event loop, must not block."""


class EventStore(Protocol):
    """Append, read and subscribe to Flightdeck's events.

    Every subject names its stream (:func:`flightdeck.events.streams.stream_for_subject`);
    a subject outside every stream is a ``ValueError``.
    """

    @property
    def undecodable_count(self) -> int:
        """Stored messages met so far that were not valid events (and were skipped)."""
        ...

    @property
    def connected(self) -> bool:
        """Whether the store's server is reachable right now (health checks)."""
        ...

    @property
    def reconnects(self) -> int:
        """How often the connection to the store's server came back since the start."""
        ...

    async def reconnected(self, since: int) -> int:
        """Wait until :attr:`reconnects` is past ``since``; return the new count."""
        ...

    async def ensure_streams(self, specs: Sequence[StreamSpec]) -> None:
        """Create each stream, or bring an existing one to this configuration."""
        ...

    async def append(
        self,
        subject: str,
        events: Sequence[Message],
        *,
        cause: Cause,
        expected: int | None = None,
        ids: Sequence[str] | None = None,
    ) -> AppendResult:
        """Append ``events`` to the aggregate at ``subject``, all or nothing.

        Args:
            subject: the aggregate's subject (see :mod:`flightdeck.events.subjects`).
            events: one or more events (at most :data:`MAX_BATCH`), stored in this order.
            cause: actor, correlation and causation written on every event.
            expected: the aggregate's last position as the caller knows it (``0``: it
                must not exist yet); ``None`` appends without a check.
            ids: the events' ids, one each, when the caller chooses them so that a
                repeated append is recognised as a duplicate; fresh ones otherwise.

        Returns:
            The positions the events were stored at.

        Raises:
            ConcurrencyError: the aggregate moved past ``expected``; nothing was stored.
            AppendError: the store refused the append or never acknowledged it.
        """
        ...

    async def append_together(
        self, appends: Sequence[tuple[str, Message, int | None]], *, cause: Cause
    ) -> AppendResult:
        """One event on each of several aggregates of one stream, all or nothing.

        Each ``(subject, event, expected)`` is checked against its own subject's
        last position: e.g. a tenant and every namespace it takes, each with
        ``expected=0``, so no namespace ever gets two tenants.

        Raises:
            ConcurrencyError: one of the subjects moved past its ``expected`` (its
                ``subject`` lists them all); nothing was stored.
            AppendError: the store refused the batch or never acknowledged it.
        """
        ...

    async def last_position(self, subject: str) -> int:
        """The position of the aggregate's last stored message, decodable or not (the
        ``expected`` of its next append); ``0`` if it has none."""
        ...

    async def read(self, subject: str, *, after: int = 0) -> list[Recorded[Any]]:
        """Every event of ``subject`` after position ``after``, in order."""
        ...

    async def read_aggregate(self, subject: str, *, after: int = 0) -> Chunk:
        """Every event of one aggregate after ``after``, and the position of its last
        stored message, decodable or not: the ``expected`` of the next append."""
        ...

    def read_chunks(
        self,
        stream: str,
        subject: str = ">",
        *,
        after: int = 0,
        upto: int | None = None,
        batch: int | None = None,
        max_bytes: int | None = None,
    ) -> AsyncGenerator[Chunk, None]:
        """Stored events of ``stream`` matching ``subject`` (wildcards allowed) in
        positions ``(after, upto]``, in order, in chunks of at most ``batch`` messages
        and (beyond the first message) ``max_bytes`` bytes."""
        ...

    async def read_first(self, subject: str) -> Recorded[Any] | None:
        """The oldest stored event of ``subject`` (one aggregate), or ``None``."""
        ...

    async def read_last(self, subject: str) -> Recorded[Any] | None:
        """The last event of ``subject``, or ``None``; if its last stored message is
        undecodable, the last event before it."""
        ...

    async def read_latest(self, subject_filter: str) -> list[Recorded[Any]]:
        """The last event of every subject matching ``subject_filter`` (wildcards
        allowed), in stream order (see :meth:`read_last` for undecodable ones)."""
        ...

    async def read_at(self, stream: str, position: int) -> Recorded[Any] | None:
        """The event stored at ``position`` of ``stream``; ``None`` if there is none
        there (never stored, gone by retention, or undecodable)."""
        ...

    async def position_at(self, subject_filter: str, at: datetime) -> int | None:
        """The position of the first message of ``subject_filter`` stored at or after
        ``at`` (by the store's clock), or ``None`` if none was."""
        ...

    async def stream_last_position(self, stream: str) -> int:
        """The last position stored in ``stream`` (``0`` when empty)."""
        ...

    async def stream_state(self, stream: str) -> StreamState:
        """How many messages ``stream`` holds, and its first and last positions."""
        ...

    def subscribe(self, subjects: str | Sequence[str], *, after: int = 0) -> Subscription:
        """History after ``after``, then live events, of subjects of ONE stream."""
        ...

    async def tail(
        self, stream: str, deliver: Deliver, *, wanted: Callable[[str], bool] | None = None
    ) -> Tail:
        """Hand ``deliver`` every new event of ``stream`` from now on, as it is stored.

        The fan-out's feed: one per stream, shared by every client. ``wanted`` is
        asked each message's subject first, and messages it declines are never
        decoded. After a reconnect the feed goes on after the last position it saw.
        """
        ...
