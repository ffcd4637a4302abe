"""The event store on JetStream: an append-only log of aggregates.

One subject per aggregate. An append names the position it expects the
aggregate to be at (``Nats-Expected-Last-Subject-Sequence``), so two writers
can never both advance it; several events go in one atomic batch, so a
multi-event append is all or nothing. Reads use batched direct gets
(:mod:`flightdeck.eventstore.jetstream.directget`): one request, many
messages, no consumer to create. Appends wait for their acknowledgement on
one shared reply subscription (:mod:`~flightdeck.eventstore.jetstream.acks`)
and headers go through the fast client (:mod:`~flightdeck.eventstore.jetstream.wire`):
the measured fast paths of ADR 0006.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec
import nats.errors
from nats.aio.msg import Msg
from nats.js import api
from nats.js.errors import BadRequestError

from flightdeck.events import envelope as ce
from flightdeck.events.base import Message
from flightdeck.events.codec import Codec, OutgoingMessage
from flightdeck.events.envelope import Cause, Recorded
from flightdeck.events.errors import (
    AppendError,
    AppendUnacknowledged,
    ConcurrencyError,
    EventDecodeError,
)
from flightdeck.events.streams import StreamSpec, stream_for_subject
from flightdeck.eventstore.jetstream.acks import AckWaiter
from flightdeck.eventstore.jetstream.directget import (
    MULTI_LAST_SUBJECTS,
    DirectGet,
    TooManySubjects,
    subject_of,
)
from flightdeck.eventstore.jetstream.failures import translated, translating
from flightdeck.eventstore.jetstream.subscription import Subscription
from flightdeck.eventstore.jetstream.tail import Tail, start_tail
from flightdeck.eventstore.jetstream.wire import Client
from flightdeck.eventstore.port import (
    MAX_BATCH,
    AppendResult,
    Chunk,
    Deliver,
    EventStore,
    StreamState,
)
from flightdeck.eventstore.undecodable import Report, Undecodable, log_undecodable

# The server holds at most 50 open atomic batches per stream (across all clients);
# past that it drops batch messages and answers "incomplete" (10176). Each client
# keeps well below, and a batch refused as incomplete stored nothing: send it again.
MAX_OPEN_BATCHES = 16
_BATCH_INCOMPLETE = 10176
_WRONG_SEQUENCE = frozenset({10071, 10164})
_DUPLICATE_IN_BATCH = 10201
_STREAM_NAME_IN_USE = 10058
_RETRYABLE = (
    nats.errors.TimeoutError,
    nats.errors.NoRespondersError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.OutboundBufferLimitError,
)
_RECONNECT_POLL_S = 0.5


class _ApiError(msgspec.Struct):
    code: int = 0
    err_code: int = 0
    description: str = ""


class _PubAck(msgspec.Struct):
    stream: str = ""
    seq: int = 0
    duplicate: bool = False
    count: int = 0
    error: _ApiError | None = None


_ack_decoder = msgspec.json.Decoder(_PubAck)


def _actual_sequence(description: str) -> int | None:
    """The stream's real last sequence from ``"wrong last sequence: N"``."""
    tail = description.rsplit(":", 1)[-1].strip()
    return int(tail) if tail.isdigit() else None


class JetStreamEventStore:
    """The :class:`~flightdeck.eventstore.port.EventStore` on JetStream.

    ``nc`` and ``codec`` stay this adapter's own: nothing outside
    :mod:`flightdeck.eventstore.jetstream` uses them (tests of the adapter aside).

    Args:
        nc: a connected :class:`flightdeck.eventstore.jetstream.wire.Client` (nats-py, faster).
        codec: encodes this process's events (its ``source``) and decodes everyone's.
        timeout: seconds to wait for one acknowledgement or read.
        attempts: how often an unacknowledged append is sent again.
        on_undecodable: called for each stored message that is not a valid event;
            reads and subscriptions then skip it instead of failing.
    """

    def __init__(
        self,
        nc: Client,
        codec: Codec,
        *,
        timeout: float = 5.0,
        attempts: int = 5,
        on_undecodable: Report = log_undecodable,
        read_batch: int = 10_000,
    ) -> None:
        if not isinstance(nc, Client):
            raise TypeError(
                "JetStreamEventStore needs flightdeck.eventstore.jetstream.wire.Client "
                "(connect with flightdeck.runtime.connection.connect or wire.connect)"
            )
        self.nc = nc
        self.codec = codec
        self._acks = AckWaiter(nc)
        self._timeout = timeout
        self._attempts = attempts
        self._undecodable = Undecodable(on_undecodable)
        self._direct = DirectGet(nc, timeout=timeout, batch=read_batch)
        self._open_batches: dict[str, asyncio.Semaphore] = {}

    # ------------------------------------------------------------ connection

    @property
    def undecodable_count(self) -> int:
        return self._undecodable.count

    @property
    def connected(self) -> bool:
        return bool(self.nc.is_connected)

    @property
    def reconnects(self) -> int:
        return int(self.nc.stats["reconnects"])

    async def reconnected(self, since: int) -> int:
        # nats-py offers no way to add a reconnect callback after connecting, so the
        # count is polled: a resync a fraction of a second late loses nothing.
        while (now := self.reconnects) <= since:  # noqa: ASYNC110 (no callback to wait on)
            await asyncio.sleep(_RECONNECT_POLL_S)
        return now

    # ----------------------------------------------------------------- streams

    @translating
    async def ensure_streams(self, specs: Sequence[StreamSpec]) -> None:
        """Create each stream, or bring an existing one to this configuration."""
        js = self.nc.jetstream(timeout=self._timeout)
        for spec in specs:
            config = api.StreamConfig(
                name=spec.name,
                description=spec.description,
                subjects=list(spec.subjects),
                retention=api.RetentionPolicy.LIMITS,
                storage=api.StorageType.FILE,
                discard=api.DiscardPolicy.OLD,
                max_age=spec.max_age_s,
                max_bytes=spec.max_bytes,
                num_replicas=spec.replicas,
                duplicate_window=spec.duplicate_window_s,
                allow_direct=True,
                allow_atomic=True,
            )
            try:
                await js.add_stream(config)
            except BadRequestError as exc:
                if exc.err_code != _STREAM_NAME_IN_USE:
                    raise
                await js.update_stream(config)

    # ----------------------------------------------------------------- appends

    @translating
    async def append(
        self,
        subject: str,
        events: Sequence[Message],
        *,
        cause: Cause,
        expected: int | None = None,
        ids: Sequence[str] | None = None,
    ) -> AppendResult:
        """See :meth:`flightdeck.eventstore.port.EventStore.append`."""
        if not events:
            raise ValueError("append needs at least one event")
        if len(events) > MAX_BATCH:
            raise ValueError(f"at most {MAX_BATCH} events fit one atomic append")
        if ids is not None and len(ids) != len(events):
            raise ValueError("append needs one id per event")
        stream_for_subject(subject)  # a foreign subject is refused here, not by a time-out
        messages = [
            self.codec.encode(subject, event, cause, event_id=ids[n] if ids else None)
            for n, event in enumerate(events)
        ]
        return await self._append_messages(subject, messages, expected)

    @translating
    async def append_together(
        self, appends: Sequence[tuple[str, Message, int | None]], *, cause: Cause
    ) -> AppendResult:
        """See :meth:`flightdeck.eventstore.port.EventStore.append_together`; one
        atomic batch whose messages each carry their own expectation."""
        if not appends:
            raise ValueError("append_together needs at least one event")
        if len(appends) > MAX_BATCH:
            raise ValueError(f"at most {MAX_BATCH} events fit one atomic append")
        if len({stream_for_subject(subject) for subject, _, _ in appends}) != 1:
            raise ValueError("an atomic append stays within one stream")
        messages = []
        for subject, event, expected in appends:
            m = self.codec.encode(subject, event, cause)
            if expected is not None:
                check = {api.Header.EXPECTED_LAST_SUBJECT_SEQUENCE.value: str(expected)}
                m = OutgoingMessage(m.subject, m.payload, {**m.headers, **check}, m.id)
            messages.append(m)
        try:
            return await self._append_messages(messages[-1].subject, messages, None)
        except ConcurrencyError as exc:
            subjects = ", ".join(subject for subject, _, _ in appends)
            raise ConcurrencyError(subjects, -1, exc.actual) from None

    async def _append_messages(
        self, subject: str, messages: list[OutgoingMessage], expected: int | None
    ) -> AppendResult:
        ids = tuple(m.id for m in messages)
        failure: Exception | None = None
        for attempt in range(self._attempts):
            if attempt:
                await asyncio.sleep(min(0.05 * 2**attempt, 2.0))
            try:
                ack = await self._send(messages, expected)
            except _RETRYABLE as exc:
                failure = exc
                continue
            except nats.errors.ConnectionClosedError as exc:
                raise AppendUnacknowledged(subject, "the connection is closed") from exc
            if ack.error is not None and ack.error.err_code == _BATCH_INCOMPLETE:
                failure = AppendError(subject, ack.error.description, _BATCH_INCOMPLETE)
                continue
            if ack.error is None:
                first = ack.seq - len(messages) + 1
                return AppendResult(
                    subject=subject,
                    first_position=first,
                    last_position=ack.seq,
                    ids=ids,
                    duplicate=ack.duplicate,
                )
            code = ack.error.err_code
            if attempt and (code in _WRONG_SEQUENCE or code == _DUPLICATE_IN_BATCH):
                # An earlier attempt may have been stored and only its ack lost: the server
                # checks the expected sequence before dedup, so look at what is there.
                landed = await self._landed(subject, messages, ids)
                if landed is not None:
                    return landed
            if code in _WRONG_SEQUENCE:
                raise ConcurrencyError(
                    subject,
                    expected if expected is not None else -1,
                    _actual_sequence(ack.error.description),
                )
            raise AppendError(subject, ack.error.description, code)
        raise AppendUnacknowledged(
            subject, f"no acknowledgement after {self._attempts} attempts: {failure!r}"
        )

    async def _send(self, messages: list[OutgoingMessage], expected: int | None) -> _PubAck:
        if len(messages) == 1:
            m = messages[0]
            headers = m.headers
            if expected is not None:
                headers = {**headers, api.Header.EXPECTED_LAST_SUBJECT_SEQUENCE: str(expected)}
            return _ack_decoder.decode(
                await self._acks.request(m.subject, m.payload, headers, self._timeout)
            )
        stream = stream_for_subject(messages[0].subject)
        slots = self._open_batches.setdefault(stream, asyncio.Semaphore(MAX_OPEN_BATCHES))
        async with slots:
            return await self._send_batch(messages, expected)

    async def _send_batch(self, messages: list[OutgoingMessage], expected: int | None) -> _PubAck:
        """One atomic batch: only the first message carries the expectation, only the
        commit waits for an answer, so the whole batch costs one round trip."""
        batch_id = ce.new_id()
        last = len(messages)
        for index, m in enumerate(messages, start=1):
            headers = {
                **m.headers,
                api.Header.BATCH_ID: batch_id,
                api.Header.BATCH_SEQUENCE: str(index),
            }
            if index == 1 and expected is not None:
                headers[api.Header.EXPECTED_LAST_SUBJECT_SEQUENCE] = str(expected)
            if index < last:
                await self.nc.publish(m.subject, m.payload, headers=headers)
            else:
                headers[api.Header.BATCH_COMMIT] = "1"
                return _ack_decoder.decode(
                    await self._acks.request(m.subject, m.payload, headers, self._timeout)
                )
        raise AssertionError("unreachable")

    async def _landed(
        self, subject: str, messages: list[OutgoingMessage], ids: tuple[str, ...]
    ) -> AppendResult | None:
        """The result of an earlier attempt, if the aggregate's last event is ours."""
        found = await self._direct_last(stream_for_subject(subject), subject)
        if found is None or (found.headers or {}).get(ce.MSG_ID) != messages[-1].id:
            return None
        seq = int((found.headers or {})["Nats-Sequence"])
        return AppendResult(
            subject=subject,
            first_position=seq - len(messages) + 1,
            last_position=seq,
            ids=ids,
            duplicate=True,
        )

    # ------------------------------------------------------------------- reads

    @translating
    async def last_position(self, subject: str) -> int:
        """The position of the aggregate's last stored message, decodable or not (the
        ``expected`` of its next append); ``0`` if it has none."""
        found = await self._direct_last(stream_for_subject(subject), subject)
        return int((found.headers or {})["Nats-Sequence"]) if found is not None else 0

    async def read(self, subject: str, *, after: int = 0) -> list[Recorded[Any]]:
        """Every event of ``subject`` after position ``after``, in order."""
        return (await self.read_aggregate(subject, after=after)).events

    @translating
    async def read_aggregate(self, subject: str, *, after: int = 0) -> Chunk:
        """Every event of one aggregate after ``after``, and the position of its last
        stored message, decodable or not: the ``expected`` of the next append.

        An undecodable message is reported and skipped, never folded, but it still
        moves the aggregate's position; judging OCC by the last *decoded* event
        would make every later append fail (one garbage message would wedge the
        aggregate for good).
        """
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
        """Stored events of ``stream`` matching ``subject`` (wildcards allowed) in
        positions ``(after, upto]``, in order, a chunk per direct-get request.

        This is how a reader catches up fast (a rebuild, a late joiner): no consumer,
        no per-message objects. Undecodable messages are skipped and reported.

        Args:
            batch: most messages per request (``read_batch`` by default).
            max_bytes: most bytes per request (large events, e.g. log batches).
        """
        decode = self.codec.decode
        request: dict[str, Any] = {"next_by_subj": subject, "batch": batch or self._direct.batch}
        if max_bytes is not None:
            request["max_bytes"] = max_bytes
        async with contextlib.aclosing(
            self._direct.batches(stream, request, after, upto)
        ) as batches:
            while True:
                with translated("read_chunks"):
                    messages = await anext(batches, None)
                if messages is None:
                    return
                events: list[Recorded[Any]] = []
                position = after
                for data, headers in messages:
                    position = int(headers["Nats-Sequence"])
                    try:
                        events.append(
                            decode(stream, headers["Nats-Subject"], data, headers, position)
                        )
                    except EventDecodeError as exc:
                        self._undecodable(exc)
                yield Chunk(
                    events=events, last_position=position, skipped=len(messages) - len(events)
                )

    @translating
    async def read_first(self, subject: str) -> Recorded[Any] | None:
        """The oldest stored event of ``subject`` (one aggregate), or ``None``."""
        stream = stream_for_subject(subject)
        return self._decoded(
            stream, await self._direct.one(stream, {"seq": 1, "next_by_subj": subject})
        )

    @translating
    async def position_at(self, subject_filter: str, at: datetime) -> int | None:
        """The position of the first event of ``subject_filter`` stored at or after
        ``at`` (by the server's clock), or ``None`` if none was."""
        stream = stream_for_subject(subject_filter)
        stamp = at.astimezone(UTC).isoformat().replace("+00:00", "Z")
        found = await self._direct.one(
            stream, {"start_time": stamp, "next_by_subj": subject_filter}
        )
        return int((found.headers or {})["Nats-Sequence"]) if found is not None else None

    async def stream_last_position(self, stream: str) -> int:
        """The last position stored in ``stream`` (``0`` when empty)."""
        return (await self.stream_state(stream)).last_position

    @translating
    async def stream_state(self, stream: str) -> StreamState:
        info = await self.nc.jetstream(timeout=self._timeout).stream_info(stream)
        return StreamState(
            messages=int(info.state.messages),
            first_position=int(info.state.first_seq),
            last_position=int(info.state.last_seq),
        )

    @translating
    async def read_at(self, stream: str, position: int) -> Recorded[Any] | None:
        return self._decoded(stream, await self._direct.one(stream, {"seq": position}))

    @translating
    async def read_last(self, subject: str) -> Recorded[Any] | None:
        """The last event of ``subject`` (one aggregate or object), or ``None``.

        If the last stored message is undecodable, the last event before it (this
        reads the whole subject, which only garbage makes necessary); its
        ``position`` is then older than :meth:`last_position`.
        """
        stream = stream_for_subject(subject)
        found = await self._direct_last(stream, subject)
        if found is None:
            return None
        return self._decoded(stream, found) or await self._last_decodable(subject)

    async def _last_decodable(self, subject: str) -> Recorded[Any] | None:
        events = await self.read(subject)
        return events[-1] if events else None

    def _decoded(self, stream: str, found: Msg | None) -> Recorded[Any] | None:
        """The event in a direct-get reply; ``None`` for none or an undecodable one."""
        if found is None:
            return None
        headers = found.headers or {}
        try:
            return self.codec.decode(
                stream, subject_of(found), found.data, headers, int(headers["Nats-Sequence"])
            )
        except EventDecodeError as exc:
            self._undecodable(exc)
            return None

    @translating
    async def read_latest(self, subject_filter: str) -> list[Recorded[Any]]:
        """The last event of every subject matching ``subject_filter`` (wildcards allowed),
        in stream order: one snapshot of many aggregates, e.g. every app's current claim.

        Uses batched ``multi_last`` direct gets (nats-server 2.11+). The server refuses a
        filter matching too many subjects (413); then the subjects are listed from the
        stream's state and asked for in groups. A subject whose last message is
        undecodable gives its last decodable event (see :meth:`read_last`).
        """
        stream = stream_for_subject(subject_filter)
        try:
            messages = [m async for m in self._direct.multi_last(stream, [subject_filter])]
        except TooManySubjects:
            info = await self.nc.jetstream(timeout=self._timeout).stream_info(
                stream, subjects_filter=subject_filter
            )
            names = sorted((info.state.subjects or {}).keys())
            messages = []
            for start in range(0, len(names), MULTI_LAST_SUBJECTS):
                group = names[start : start + MULTI_LAST_SUBJECTS]
                messages += [m async for m in self._direct.multi_last(stream, group)]
            messages.sort(key=lambda m: int((m.headers or {})["Nats-Sequence"]))
        out: list[Recorded[Any]] = []
        for msg in messages:
            recorded = self._decoded(stream, msg)
            if recorded is None:  # garbage on top: the subject's last real event instead
                recorded = await self._last_decodable(subject_of(msg))
            if recorded is not None:
                out.append(recorded)
        out.sort(key=lambda r: r.position)
        return out

    def subscribe(self, subjects: str | Sequence[str], *, after: int = 0) -> Subscription:
        """History after ``after``, then live events, on one ordered consumer.

        Every subject must belong to the same stream. Use as an async context
        manager and iterate it.
        """
        filters = [subjects] if isinstance(subjects, str) else list(subjects)
        streams = {stream_for_subject(s) for s in filters}
        if len(streams) != 1:
            raise ValueError(f"subjects span several streams: {sorted(streams)}")
        return Subscription(self.nc, self.codec, self._undecodable, streams.pop(), filters, after)

    @translating
    async def tail(
        self, stream: str, deliver: Deliver, *, wanted: Callable[[str], bool] | None = None
    ) -> Tail:
        """See :meth:`flightdeck.eventstore.port.EventStore.tail`: one ordered push
        consumer from the stream's end, its messages decoded in its callback."""
        last = await self.stream_last_position(stream)
        return await start_tail(
            self.nc, self.codec, self._undecodable, stream, last, deliver, wanted
        )

    async def _direct_last(self, stream: str, subject: str) -> Msg | None:
        return await self._direct.one(stream, {"last_by_subj": subject})


def _implements_the_port(store: JetStreamEventStore) -> EventStore:
    return store  # checked by mypy: the adapter keeps the port's signatures
