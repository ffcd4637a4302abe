"""Publishing log events under ids we choose, and reading back what a duplicate covered.

Appends go through ``js.publish`` with the codec's CloudEvents headers and our
deterministic ``Nats-Msg-Id``: the event store's ``append`` draws a fresh id,
which would defeat JetStream's duplicate window. Logs need no optimistic
concurrency (one lease holder per container writes), only order and dedup.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import nats.errors
import structlog
from nats.js.errors import APIError, NotFoundError

from flightdeck.events import Cause, EventDecodeError, EventStore, streams
from flightdeck.events.logs import LogEvent, LogLinesCaptured
from flightdeck.runtime import retries

log = structlog.get_logger(__name__)

_TRANSIENT = (
    nats.errors.TimeoutError,
    nats.errors.NoRespondersError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.ConnectionClosedError,
    nats.errors.OutboundBufferLimitError,
    TimeoutError,
)


class PublishRefused(Exception):
    """JetStream answered with an error: sending the same message again will not help."""


@dataclass(frozen=True)
class Published:
    """Where an event landed; ``duplicate``: an earlier publish with its id already did."""

    position: int
    duplicate: bool


class LogPublisher:
    """Appends log events to ``FD_LOGS``, retrying until acknowledged.

    Args:
        store: the event store (its connection and codec).
        timeout_s: wait for one acknowledgement.
        retry_max_s: longest pause between attempts while NATS does not answer.
    """

    def __init__(self, store: EventStore, timeout_s: float = 5.0, retry_max_s: float = 5.0):
        self._store = store
        self._js = store.nc.jetstream(timeout=timeout_s)
        self._timeout = timeout_s
        self._backoff = dataclasses.replace(retries.APPEND, wait_max=retry_max_s)
        self.retries = 0

    async def publish(
        self, subject: str, event: LogEvent, event_id: str, cause: Cause
    ) -> Published:
        """Append ``event``; waits (and retries) as long as NATS is unreachable.

        Raises:
            PublishRefused: the server refused the message itself.
        """
        message = self._store.codec.encode(subject, event, cause, event_id=event_id)

        def not_acknowledged(exc: Exception, delay: float) -> None:
            self.retries += 1
            log.warning(
                "log append not acknowledged",
                subject=subject,
                error=repr(exc),
                retry_in_s=round(delay, 2),
            )

        try:
            ack = await self._backoff.retrying(_TRANSIENT, not_acknowledged).call(
                self._js.publish,
                subject,
                message.payload,
                timeout=self._timeout,
                stream=streams.LOGS,
                headers=message.headers,
            )
        except APIError as exc:
            raise PublishRefused(str(exc)) from exc
        return Published(position=ack.seq, duplicate=bool(ack.duplicate))

    async def stored_lines(self, position: int) -> LogLinesCaptured | None:
        """The ``LogLinesCaptured`` stored at ``position`` (to see what a duplicate covered)."""
        try:
            raw = await self._js.get_msg(streams.LOGS, seq=position, direct=True)
        except NotFoundError:
            return None
        try:
            recorded = self._store.codec.decode(
                streams.LOGS, raw.subject or "", raw.data or b"", raw.headers, position
            )
        except EventDecodeError:
            return None
        event = recorded.event
        return event if isinstance(event, LogLinesCaptured) else None
