"""Resumable server-sent event streams, the way a browser's EventSource resumes them.

The gateway's streams are history then live; each event's ``id:`` is a position.
A stream that drops (a gateway restart, an idle time-out, a slow-consumer cut) is
reopened with ``Last-Event-ID`` set to the last id seen, so nothing is repeated or
missed. A stream ends for good when the server answers **204 No Content** (the
WHATWG signal: a deployment's stream after its final event), or, for a deployment,
once its terminal ``done``/``error`` event has been seen (a gateway that does not
answer 204 yet would otherwise hold the reconnect open).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from httpx_sse import SSEError, aconnect_sse

from flightdeck.client.errors import FlightdeckError, error_from_response
from flightdeck.client.models import StreamEvent

# Errors a stream reports in-band (``event: error``) that no reconnect can cure.
FATAL_STREAM_ERRORS = frozenset({"UNAUTHORIZED", "INVALID_LOG_FILTER", "FORBIDDEN"})


@dataclass
class Reconnect:
    """How a dropped stream is reopened.

    Args:
        delay_s: the first wait before reopening a stream that failed (doubled after
            each failure in a row, up to ``max_delay_s``); a stream the server ended
            cleanly is reopened at once.
        max_delay_s: the longest wait between two attempts.
        attempts: failures in a row (connection refused, 5xx) before giving up.
    """

    delay_s: float = 0.25
    max_delay_s: float = 3.0
    attempts: int = 20


@dataclass
class ResumableStream:
    """An SSE stream over ``http`` that reopens itself; iterate it for :class:`StreamEvent`.

    Args:
        http: the client (base URL, key) to open it with.
        path: the stream's path.
        params: query parameters (filters).
        last_event_id: where to resume from (the first request sends it too).
        terminal: event names after which the stream is finished (``done``, ``error``).
        reconnect: the reconnect policy.
    """

    http: httpx.AsyncClient
    path: str
    params: Mapping[str, Any] = field(default_factory=dict)
    last_event_id: str | None = None
    terminal: frozenset[str] = frozenset()
    reconnect: Reconnect = field(default_factory=Reconnect)
    sleep: Callable[[float], Any] = asyncio.sleep
    connections: int = 0
    """How many times the stream was opened (1 + reconnects): for tests and metrics."""
    finished_by: str = ""
    """Why iteration ended: ``"204"``, ``"terminal"`` (a done/error event)."""

    def __aiter__(self) -> AsyncIterator[StreamEvent]:
        return self._events()

    async def _events(self) -> AsyncIterator[StreamEvent]:
        failures = quiet = 0
        while True:
            headers = {"Last-Event-ID": self.last_event_id} if self.last_event_id else {}
            self.connections += 1
            try:
                async with aconnect_sse(
                    self.http,
                    "GET",
                    self.path,
                    params=dict(self.params),
                    headers=headers,
                    timeout=httpx.Timeout(30.0, read=None),
                ) as source:
                    response = source.response
                    if response.status_code == 204:
                        self.finished_by = "204"
                        return
                    if response.status_code >= 500:
                        raise httpx.TransportError(f"the gateway answered {response.status_code}")
                    if response.status_code != 200:
                        await response.aread()
                        raise error_from_response(response)
                    failures = 0
                    async for sse in source.aiter_sse():
                        if not sse.data:
                            continue  # the retry: line, or a comment
                        data = json.loads(sse.data)
                        if sse.event == "error" and "resumeFrom" in data:
                            self.last_event_id = str(data["resumeFrom"])  # cut off: resume
                            break
                        if sse.event == "error" and data.get("errorCode") in FATAL_STREAM_ERRORS:
                            raise FlightdeckError(
                                response.status_code,
                                str(data["errorCode"]),
                                str(data.get("message") or ""),
                            )
                        if sse.id:
                            self.last_event_id = sse.id
                        quiet = 0
                        yield StreamEvent(id=sse.id, event=sse.event, data=data)
                        if sse.event in self.terminal:
                            self.finished_by = "terminal"
                            return
                # The server ended it cleanly (an idle time-out, a cut): reopen at once,
                # unless it keeps ending without an event, which would be a hot loop.
                quiet += 1
                if quiet > 1:
                    await self.sleep(self._delay(quiet - 1))
            except (httpx.TransportError, SSEError) as exc:
                failures += 1
                if failures >= self.reconnect.attempts:
                    raise FlightdeckError(
                        0, "UNREACHABLE", f"the stream {self.path} kept failing: {exc}"
                    ) from None
                await self.sleep(self._delay(failures))

    def _delay(self, attempt: int) -> float:
        """The wait before reopening after ``attempt`` bad tries in a row (from 1)."""
        return float(min(self.reconnect.delay_s * 2 ** (attempt - 1), self.reconnect.max_delay_s))
