"""The event store: JetStream used as an append-only log of aggregates.

One subject per aggregate. An append names the position it expects the
aggregate to be at (``Nats-Expected-Last-Subject-Sequence``), so two writers
can never both advance it; several events go in one atomic batch, so a
multi-event append is all or nothing. Reads of one aggregate use batched direct
gets: one request, many messages, no consumer to create.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import msgspec
import nats.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import api
from nats.js.errors import BadRequestError

from flightdeck.events import envelope as ce
from flightdeck.events.acks import AckWaiter
from flightdeck.events.base import Message
from flightdeck.events.codec import Codec, OutgoingMessage
from flightdeck.events.envelope import Cause, Recorded
from flightdeck.events.errors import (
    AppendError,
    ConcurrencyError,
    EventDecodeError,
    EventStoreError,
)
from flightdeck.events.streams import StreamSpec, stream_for_subject
from flightdeck.events.subscription import Subscription

log = logging.getLogger(__name__)

MAX_BATCH = 1000  # the server's limit for one atomic batch
_WRONG_SEQUENCE = frozenset({10071, 10164})
_DUPLICATE_IN_BATCH = 10201
_STREAM_NAME_IN_USE = 10058
_RETRYABLE = (
    nats.errors.TimeoutError,
    nats.errors.NoRespondersError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.OutboundBufferLimitError,
)


class AppendResult(msgspec.Struct, frozen=True, kw_only=True):
    """Where an append landed. ``last_position`` is the next append's ``expected``."""

    subject: str
    first_position: int
    last_position: int
    ids: tuple[str, ...]
    duplicate: bool = False


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
_json = msgspec.json.Encoder()


def _actual_sequence(description: str) -> int | None:
    """The stream's real last sequence from ``"wrong last sequence: N"``."""
    tail = description.rsplit(":", 1)[-1].strip()
    return int(tail) if tail.isdigit() else None


def _log_undecodable(error: EventDecodeError) -> None:
    log.warning("skipping undecodable event: %s", error)


class EventStore:
    """Append, read and subscribe to Flightdeck's events on JetStream.

    Args:
        nc: a connected nats-py client.
        codec: encodes this process's events (its ``source``) and decodes everyone's.
        timeout: seconds to wait for one acknowledgement or read.
        attempts: how often an unacknowledged append is sent again.
        on_undecodable: called for each stored message that is not a valid event;
            reads and subscriptions then skip it instead of failing.
    """

    def __init__(
        self,
        nc: NATS,
        codec: Codec,
        *,
        timeout: float = 5.0,
        attempts: int = 5,
        on_undecodable: Callable[[EventDecodeError], None] = _log_undecodable,
        read_batch: int = 10_000,
    ) -> None:
        self.nc = nc
        self.codec = codec
        self._acks = AckWaiter(nc)
        self._timeout = timeout
        self._attempts = attempts
        self._on_undecodable = on_undecodable
        self._read_batch = read_batch
        self.undecodable_count = 0

    # ----------------------------------------------------------------- streams

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

    async def append(
        self,
        subject: str,
        events: Sequence[Message],
        *,
        cause: Cause,
        expected: int | None = None,
    ) -> AppendResult:
        """Append ``events`` to the aggregate at ``subject``, all or nothing.

        Args:
            subject: the aggregate's subject (see :mod:`flightdeck.events.subjects`).
            events: one or more events, stored consecutively in this order.
            cause: actor, correlation and causation written on every event.
            expected: the aggregate's last position as the caller knows it (``0``: it
                must not exist yet); ``None`` appends without a check.

        Returns:
            The positions the events were stored at.

        Raises:
            ConcurrencyError: the aggregate moved past ``expected``; nothing was stored.
            AppendError: the server refused the append or never acknowledged it.
        """
        if not events:
            raise ValueError("append needs at least one event")
        if len(events) > MAX_BATCH:
            raise ValueError(f"at most {MAX_BATCH} events fit one atomic append")
        messages = [self.codec.encode(subject, event, cause) for event in events]
        return await self._append_messages(subject, messages, expected)

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
        raise AppendError(
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

    async def last_position(self, subject: str) -> int:
        """The position of the aggregate's last event; ``0`` if it has none."""
        found = await self._direct_last(stream_for_subject(subject), subject)
        return int((found.headers or {})["Nats-Sequence"]) if found is not None else 0

    async def read(self, subject: str, *, after: int = 0) -> list[Recorded[Any]]:
        """Every event of ``subject`` after position ``after``, in order."""
        stream = stream_for_subject(subject)
        out: list[Recorded[Any]] = []
        async for msg in self._direct_batches(stream, subject, after):
            headers = msg.headers or {}
            position = int(headers["Nats-Sequence"])
            try:
                out.append(self.codec.decode(stream, subject_of(msg), msg.data, headers, position))
            except EventDecodeError as exc:
                self._undecodable(exc)
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
        return Subscription(self, streams.pop(), filters, after)

    def _undecodable(self, error: EventDecodeError) -> None:
        self.undecodable_count += 1
        self._on_undecodable(error)

    async def _direct_last(self, stream: str, subject: str) -> Msg | None:
        request = _json.encode({"last_by_subj": subject})
        try:
            reply = await self.nc.request(f"$JS.API.DIRECT.GET.{stream}", request, self._timeout)
        except nats.errors.NoRespondersError as exc:
            raise EventStoreError(f"stream {stream} does not answer direct gets") from exc
        status = (reply.headers or {}).get("Status")
        if status == "404":
            return None
        if status:
            raise EventStoreError(f"direct get on {stream} failed with status {status}")
        return reply

    async def _direct_batches(self, stream: str, subject: str, after: int) -> AsyncIterator[Msg]:
        """Stored messages of ``subject`` after ``after``, many per direct-get request."""
        inbox = self.nc.new_inbox()
        batch: list[Msg] = []
        end: asyncio.Future[dict[str, str]] | None = None

        async def collect(msg: Msg) -> None:
            headers = msg.headers or {}
            if "Status" in headers:
                if end is not None and not end.done():
                    end.set_result(headers)
            else:
                batch.append(msg)

        sub = await self.nc.subscribe(inbox, cb=collect)
        try:
            start = after + 1
            while True:
                end = asyncio.get_running_loop().create_future()
                request = {"seq": start, "next_by_subj": subject, "batch": self._read_batch}
                await self.nc.publish(
                    f"$JS.API.DIRECT.GET.{stream}", _json.encode(request), reply=inbox
                )
                status = await asyncio.wait_for(end, self._timeout)
                for msg in batch:
                    yield msg
                if batch:
                    start = int((batch[-1].headers or {})["Nats-Sequence"]) + 1
                batch.clear()
                code = status["Status"]
                if code == "404" or (code == "204" and status.get("Nats-Num-Pending", "0") == "0"):
                    return
                if code != "204":
                    raise EventStoreError(f"read of {subject} failed with status {code}")
        finally:
            await sub.unsubscribe()


def subject_of(msg: Msg) -> str:
    """The stored subject of a message from a direct get or a consumer."""
    headers = msg.headers or {}
    return headers.get("Nats-Subject") or msg.subject
