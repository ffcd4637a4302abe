"""The event store in memory: JetStream's semantics without a server, for tests.

It keeps what the contract suite checks the JetStream adapter for, so a test
on it means the same thing: positions global per stream, optimistic
concurrency (``expected=0`` included), deduplication by message id within the
stream's duplicate window, all-or-nothing batches, undecodable messages
(:meth:`InMemoryEventStore.inject`) reported and skipped, subscriptions that
deliver history then live. Events go through the same codec as on JetStream,
so upcasting and decode errors behave alike.

What it leaves out: retention limits (nothing ages out), persistence, and
network failures (it never times out, so nothing is ever retried).
"""

from __future__ import annotations

import asyncio
import bisect
import logging
from collections import OrderedDict
from collections.abc import AsyncGenerator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flightdeck.events.base import Message
from flightdeck.events.codec import Codec, OutgoingMessage, utc_now
from flightdeck.events.envelope import Cause, Recorded
from flightdeck.events.errors import (
    AppendError,
    ConcurrencyError,
    EventDecodeError,
    EventStoreError,
)
from flightdeck.events.streams import StreamSpec, declare, stream_for_subject
from flightdeck.eventstore.memory_feeds import MemorySubscription, MemoryTail, Stored
from flightdeck.eventstore.port import (
    MAX_BATCH,
    AppendResult,
    Chunk,
    Deliver,
    EventStore,
    StreamState,
)
from flightdeck.eventstore.subjectfilter import matches
from flightdeck.eventstore.undecodable import Report, Undecodable, log_undecodable

log = logging.getLogger(__name__)

_DUPLICATE_IN_BATCH = 10201  # JetStream's code, kept so callers see the same error


@dataclass
class _Stream:
    spec: StreamSpec
    messages: list[Stored] = field(default_factory=list)  # messages[i].position == i + 1
    by_subject: dict[str, list[int]] = field(default_factory=dict)
    ids: OrderedDict[str, tuple[int, datetime]] = field(default_factory=OrderedDict)
    listeners: list[Callable[[Stored], None]] = field(default_factory=list)

    @property
    def last(self) -> int:
        return len(self.messages)

    def last_of(self, subject: str) -> int:
        positions = self.by_subject.get(subject)
        return positions[-1] if positions else 0

    def recent(self, now: datetime) -> OrderedDict[str, tuple[int, datetime]]:
        """The message ids still inside the duplicate window."""
        window = timedelta(seconds=self.spec.duplicate_window_s)
        while self.ids and next(iter(self.ids.values()))[1] + window <= now:
            self.ids.popitem(last=False)
        return self.ids

    def store(self, subject: str, payload: bytes, headers: dict[str, str], now: datetime) -> Stored:
        stored = Stored(self.last + 1, subject, payload, headers, now)
        self.messages.append(stored)
        self.by_subject.setdefault(subject, []).append(stored.position)
        msg_id = headers.get("Nats-Msg-Id")
        if msg_id:
            self.ids[msg_id] = (stored.position, now)
        return stored

    def notify(self, stored: list[Stored]) -> None:
        for message in stored:
            for listener in list(self.listeners):
                try:
                    listener(message)
                except Exception:  # a reader's failure is not the writer's
                    log.exception("event store listener failed")


class InMemoryEventStore:
    """The :class:`~flightdeck.eventstore.port.EventStore` in this process's memory.

    Args:
        codec: encodes this process's events and decodes everyone's.
        streams: the streams that exist at the start (all of :func:`declare` by default).
        clock: when messages are stored (duplicate windows, :meth:`position_at`).
        on_undecodable: told of each stored message that is not a valid event.
        read_batch: most messages per chunk of :meth:`read_chunks`.
    """

    def __init__(
        self,
        codec: Codec | None = None,
        *,
        streams: Sequence[StreamSpec] | None = None,
        clock: Callable[[], datetime] = utc_now,
        on_undecodable: Report = log_undecodable,
        read_batch: int = 10_000,
    ) -> None:
        self.codec = codec or Codec("/flightdeck/memory")
        self._clock = clock
        self._undecodable = Undecodable(on_undecodable)
        self._read_batch = read_batch
        self._streams: dict[str, _Stream] = {}
        self._reconnects = 0
        self._reconnect_waiters: list[asyncio.Future[None]] = []
        for spec in declare() if streams is None else streams:
            self._streams[spec.name] = _Stream(spec)

    # ------------------------------------------------------------ connection

    @property
    def undecodable_count(self) -> int:
        return self._undecodable.count

    @property
    def connected(self) -> bool:
        return True

    @property
    def reconnects(self) -> int:
        return self._reconnects

    async def reconnected(self, since: int) -> int:
        while self._reconnects <= since:
            waiter = asyncio.get_running_loop().create_future()
            self._reconnect_waiters.append(waiter)
            await waiter
        return self._reconnects

    def reconnect(self) -> None:
        """As if the connection had dropped and come back: wakes :meth:`reconnected`."""
        self._reconnects += 1
        waiters, self._reconnect_waiters = self._reconnect_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def ensure_streams(self, specs: Sequence[StreamSpec]) -> None:
        for spec in specs:
            existing = self._streams.get(spec.name)
            if existing is None:
                self._streams[spec.name] = _Stream(spec)
            else:
                existing.spec = spec

    def _stream(self, name: str, *, writing: bool = False) -> _Stream:
        found = self._streams.get(name)
        if found is None:
            raise (
                AppendError(name, "no stream stores it")
                if writing
                else EventStoreError(f"no stream {name}")
            )
        return found

    # --------------------------------------------------------------- appends

    async def append(
        self,
        subject: str,
        events: Sequence[Message],
        *,
        cause: Cause,
        expected: int | None = None,
        ids: Sequence[str] | None = None,
    ) -> AppendResult:
        if not events:
            raise ValueError("append needs at least one event")
        if len(events) > MAX_BATCH:
            raise ValueError(f"at most {MAX_BATCH} events fit one atomic append")
        if ids is not None and len(ids) != len(events):
            raise ValueError("append needs one id per event")
        messages = [
            self.codec.encode(subject, event, cause, event_id=ids[n] if ids else None)
            for n, event in enumerate(events)
        ]
        checks = [expected] + [None] * (len(messages) - 1)
        return self._commit(subject, list(zip(messages, checks, strict=True)))

    async def append_together(
        self, appends: Sequence[tuple[str, Message, int | None]], *, cause: Cause
    ) -> AppendResult:
        if not appends:
            raise ValueError("append_together needs at least one event")
        if len(appends) > MAX_BATCH:
            raise ValueError(f"at most {MAX_BATCH} events fit one atomic append")
        if len({stream_for_subject(subject) for subject, _, _ in appends}) != 1:
            raise ValueError("an atomic append stays within one stream")
        items = [(self.codec.encode(s, event, cause), expected) for s, event, expected in appends]
        try:
            return self._commit(appends[-1][0], items)
        except ConcurrencyError as exc:
            subjects = ", ".join(subject for subject, _, _ in appends)
            raise ConcurrencyError(subjects, -1, exc.actual) from None

    def _commit(
        self, subject: str, items: list[tuple[OutgoingMessage, int | None]]
    ) -> AppendResult:
        """Check every expectation, then deduplicate, then store all (as JetStream does)."""
        stream = self._stream(stream_for_subject(subject), writing=True)
        now = self._clock()
        ids = tuple(m.id for m, _ in items)
        lasts: dict[str, int] = {}
        for index, (m, expected) in enumerate(items):
            actual = lasts.get(m.subject, stream.last_of(m.subject))
            if expected is not None and expected != actual:
                raise ConcurrencyError(m.subject, expected, actual)
            lasts[m.subject] = stream.last + index + 1
        recent = stream.recent(now)
        if len(items) == 1 and ids[0] in recent:
            position = recent[ids[0]][0]
            return AppendResult(
                subject=subject,
                first_position=position,
                last_position=position,
                ids=ids,
                duplicate=True,
            )
        if len(items) > 1 and (len(set(ids)) < len(ids) or any(i in recent for i in ids)):
            raise AppendError(subject, "duplicate message id in batch", _DUPLICATE_IN_BATCH)
        stored = [stream.store(m.subject, m.payload, m.headers, now) for m, _ in items]
        stream.notify(stored)
        return AppendResult(
            subject=subject,
            first_position=stored[0].position,
            last_position=stored[-1].position,
            ids=ids,
        )

    def inject(self, subject: str, payload: bytes, headers: dict[str, str] | None = None) -> int:
        """Store a raw message, as any NATS client could (garbage included); its position."""
        stream = self._stream(stream_for_subject(subject), writing=True)
        stored = stream.store(subject, payload, dict(headers or {}), self._clock())
        stream.notify([stored])
        return stored.position

    # ----------------------------------------------------------------- reads

    def _decode(self, stream: str, message: Stored) -> Recorded[Any] | None:
        """The event in ``message``; ``None`` (reported) if it is not a valid one."""
        try:
            return self.codec.decode(
                stream, message.subject, message.payload, message.headers, message.position
            )
        except EventDecodeError as exc:
            self._undecodable(exc)
            return None

    def _selected(self, stream: _Stream, subject_filter: str, after: int) -> Iterator[Stored]:
        """Stored messages matching ``subject_filter`` after ``after``, in order."""
        exact = stream.by_subject.get(subject_filter)
        if "*" not in subject_filter and ">" not in subject_filter:
            for position in (exact or [])[bisect.bisect_right(exact or [], after) :]:
                yield stream.messages[position - 1]
            return
        for message in stream.messages[after:]:
            if matches(subject_filter, message.subject):
                yield message

    async def last_position(self, subject: str) -> int:
        return self._stream(stream_for_subject(subject)).last_of(subject)

    async def read(self, subject: str, *, after: int = 0) -> list[Recorded[Any]]:
        return (await self.read_aggregate(subject, after=after)).events

    async def read_aggregate(self, subject: str, *, after: int = 0) -> Chunk:
        events: list[Recorded[Any]] = []
        position, skipped = after, 0
        async for chunk in self.read_chunks(stream_for_subject(subject), subject, after=after):
            events.extend(chunk.events)
            position, skipped = chunk.last_position, skipped + chunk.skipped
        return Chunk(events=events, last_position=position, skipped=skipped)

    async def read_chunks(
        self,
        stream: str,
        subject: str = ">",
        *,
        after: int = 0,
        upto: int | None = None,
        batch: int | None = None,
        max_bytes: int | None = None,
    ) -> AsyncGenerator[Chunk, None]:
        most = batch or self._read_batch
        chunk: list[Stored] = []
        size = 0
        for message in self._selected(self._stream(stream), subject, after):
            if upto is not None and message.position > upto:
                break
            weight = message.size()
            if chunk and (
                len(chunk) >= most or (max_bytes is not None and size + weight > max_bytes)
            ):
                yield self._chunk(stream, chunk)
                chunk, size = [], 0
            chunk.append(message)
            size += weight
        if chunk:
            yield self._chunk(stream, chunk)

    def _chunk(self, stream: str, messages: list[Stored]) -> Chunk:
        events = [r for r in (self._decode(stream, m) for m in messages) if r is not None]
        return Chunk(
            events=events,
            last_position=messages[-1].position,
            skipped=len(messages) - len(events),
        )

    async def read_first(self, subject: str) -> Recorded[Any] | None:
        stream = stream_for_subject(subject)
        first = next(self._selected(self._stream(stream), subject, 0), None)
        return self._decode(stream, first) if first is not None else None

    async def read_last(self, subject: str) -> Recorded[Any] | None:
        stream = stream_for_subject(subject)
        last = self._stream(stream).last_of(subject)
        if not last:
            return None
        return await self._last_decodable(stream, last)

    async def _last_decodable(self, stream: str, position: int) -> Recorded[Any] | None:
        """The event at ``position``, or (if that one is garbage) its subject's last real one."""
        found = self._stream(stream).messages[position - 1]
        recorded = self._decode(stream, found)
        if recorded is None:
            events = await self.read(found.subject)
            recorded = events[-1] if events else None
        return recorded

    async def read_latest(self, subject_filter: str) -> list[Recorded[Any]]:
        stream = stream_for_subject(subject_filter)
        lasts = sorted(
            positions[-1]
            for subject, positions in self._stream(stream).by_subject.items()
            if matches(subject_filter, subject)
        )
        out = [r for r in [await self._last_decodable(stream, p) for p in lasts] if r is not None]
        out.sort(key=lambda r: r.position)
        return out

    async def read_at(self, stream: str, position: int) -> Recorded[Any] | None:
        messages = self._stream(stream).messages
        if not 0 < position <= len(messages):
            return None
        return self._decode(stream, messages[position - 1])

    async def position_at(self, subject_filter: str, at: datetime) -> int | None:
        stream = self._stream(stream_for_subject(subject_filter))
        for message in self._selected(stream, subject_filter, 0):
            if message.stored_at >= at:
                return message.position
        return None

    async def stream_last_position(self, stream: str) -> int:
        return self._stream(stream).last

    async def stream_state(self, stream: str) -> StreamState:
        last = self._stream(stream).last
        return StreamState(messages=last, first_position=1 if last else 0, last_position=last)

    # ------------------------------------------------------------ following

    def subscribe(self, subjects: str | Sequence[str], *, after: int = 0) -> MemorySubscription:
        filters = [subjects] if isinstance(subjects, str) else list(subjects)
        streams = {stream_for_subject(s) for s in filters}
        if len(streams) != 1:
            raise ValueError(f"subjects span several streams: {sorted(streams)}")
        name = streams.pop()
        stream = self._stream(name)

        def history(after: int) -> list[Stored]:
            return [
                m for m in stream.messages[after:] if any(matches(f, m.subject) for f in filters)
            ]

        return MemorySubscription(name, filters, after, history, stream.listeners, self._decode)

    async def tail(
        self, stream: str, deliver: Deliver, *, wanted: Callable[[str], bool] | None = None
    ) -> MemoryTail:
        found = self._stream(stream)
        return MemoryTail(stream, found.last, found.listeners, self._decode, deliver, wanted)


def _implements_the_port(store: InMemoryEventStore) -> EventStore:
    return store  # checked by mypy: the twin keeps the port's signatures
