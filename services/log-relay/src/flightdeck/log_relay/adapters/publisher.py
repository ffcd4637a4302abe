"""Publishing log events under ids we choose, and reading back what a duplicate covered.

Appends go through the event store with our deterministic event ids
(``append(..., ids=[...])``), so a batch sent again after a crash or a lost
acknowledgement is a duplicate within the stream's window, not a second copy.
Logs need no optimistic concurrency (one lease holder per container writes),
only order and dedup.
"""

from __future__ import annotations

import dataclasses

import structlog

from flightdeck.events import AppendError, AppendUnacknowledged, Cause, streams
from flightdeck.events.logs import LogEvent, LogLinesCaptured
from flightdeck.eventstore import EventStore
from flightdeck.log_relay.domain.publishing import Published, PublishRefused
from flightdeck.runtime import retries

log = structlog.get_logger(__name__)


class LogPublisher:
    """Appends log events to ``FD_LOGS``, retrying until acknowledged.

    Args:
        store: the event store (its own acknowledgement time-out applies).
        retry_max_s: longest pause between attempts while NATS does not answer.
    """

    def __init__(self, store: EventStore, retry_max_s: float = 5.0):
        self._store = store
        self._backoff = dataclasses.replace(retries.APPEND, wait_max=retry_max_s)
        self.retries = 0

    async def publish(
        self, subject: str, event: LogEvent, event_id: str, cause: Cause
    ) -> Published:
        """Append ``event``; waits (and retries) as long as NATS is unreachable.

        Raises:
            PublishRefused: the server refused the message itself.
        """

        def not_acknowledged(exc: Exception, delay: float) -> None:
            self.retries += 1
            log.warning(
                "log append not acknowledged",
                subject=subject,
                error=repr(exc),
                retry_in_s=round(delay, 2),
            )

        retrying = self._backoff.retrying(AppendUnacknowledged, not_acknowledged)
        try:
            result = await retrying.call(
                self._store.append, subject, [event], cause=cause, ids=[event_id]
            )
        except AppendError as exc:
            raise PublishRefused(str(exc)) from exc
        return Published(position=result.last_position, duplicate=result.duplicate)

    async def stored_lines(self, position: int) -> LogLinesCaptured | None:
        """The ``LogLinesCaptured`` stored at ``position`` (to see what a duplicate covered)."""
        recorded = await self._store.read_at(streams.LOGS, position)
        event = recorded.event if recorded is not None else None
        return event if isinstance(event, LogLinesCaptured) else None
