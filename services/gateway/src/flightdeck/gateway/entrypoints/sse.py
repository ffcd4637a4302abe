"""An SSE connection: a raw ASGI response streaming pre-encoded bytes.

Litestar's ``ServerSentEvent`` re-encodes every message per client; here the
bytes come framed from the hub, and each wake-up writes everything pending as
one chunk. The response owns its writer task so that a slow client, stuck in
the transport's flow control, can be cut off (with a final ``event: error``
naming ``SLOW_CONSUMER`` and the position to resume from, if it still reads).

**Direct writes.** Waking 1,000 writer tasks for one broadcast event cost
~30 µs a client (ADR 0008, "Performance"). When the server is uvicorn with
httptools, the connection also hands the hub a :class:`UvicornWriter`: while
the client is caught up and its transport below the high-water mark, the hub
writes the feed's shared chunk straight to the transport from its flush and
the writer task stays asleep. Everything else (replay, heartbeats, closing,
backlog, flow control, the cut-off) stays on the task path. Any other server,
or a middleware that wraps ``receive``, simply gets the task path.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from typing import Any, cast

import msgspec
from litestar.response.base import ASGIResponse
from litestar.types import Receive, Send

from flightdeck.gateway.adapters.hub import DirectWriter
from flightdeck.gateway.adapters.interleave import Interleaved
from flightdeck.gateway.adapters.joined import Joined
from flightdeck.gateway.adapters.metrics import Metrics
from flightdeck.gateway.adapters.streams import Subscription
from flightdeck.gateway.domain import sse
from flightdeck.gateway.domain.auth import Principal
from flightdeck.gateway.domain.errors import ErrorCode
from flightdeck.gateway.service_layer.connections import REVOKED, Connections

_encode = msgspec.json.Encoder().encode

SSE_HEADERS = {
    "cache-control": "no-cache",
    "x-accel-buffering": "no",
}


class SseTimings(msgspec.Struct, frozen=True):
    retry_ms: int
    heartbeat_s: float
    close_after_done_s: float
    idle_timeout_s: float
    slow_close_grace_s: float


class SseConnection:
    """One SSE client: its subscription, its timers, and why it closes."""

    kind = "sse"

    def __init__(
        self,
        sub: Subscription,
        timings: SseTimings,
        connections: Connections,
        metrics: Metrics,
        tenant: str,
        token_id: str | None = None,
    ) -> None:
        self.sub = sub
        self.tenant = tenant
        self.token_id = token_id
        self.timings = timings
        self.connections = connections
        self.metrics = metrics
        self.closing: str | None = None
        self.heartbeat_due = False
        self.last_heartbeat = 0.0
        self.opened = time.monotonic()

    def tick(self, now: float) -> None:
        """Close after ``idle_timeout_s`` with no event (heartbeats do not count);
        send a heartbeat after ``heartbeat_s`` with nothing written at all."""
        if now - self.sub.last_write >= self.timings.idle_timeout_s:
            self.close("idle timeout")
        elif now - max(self.sub.last_write, self.last_heartbeat) >= self.timings.heartbeat_s:
            self.last_heartbeat = now
            self.heartbeat_due = True
            self.sub.wake_writer()

    def close(self, reason: str) -> None:
        self.closing = reason
        self.sub.wake_writer()

    async def run(self, send: Send, receive: Receive) -> None:
        async def write(frames: list[bytes]) -> None:
            body = frames[0] if len(frames) == 1 else b"".join(frames)
            await send({"type": "http.response.body", "body": body, "more_body": True})

        writer = asyncio.create_task(self._write(write))
        watcher = asyncio.create_task(_wait_disconnect(receive))
        cut = asyncio.create_task(self.sub.overflow.wait())
        self.sub.direct = direct_writer(receive)
        try:
            done, _ = await asyncio.wait(
                {writer, watcher, cut}, return_when=asyncio.FIRST_COMPLETED
            )
            if writer in done:
                writer.result()
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            elif cut in done:
                writer.cancel()
                await self._cut_off(send)
        finally:
            self.sub.direct = None
            for task in (writer, watcher, cut):
                task.cancel()
            await asyncio.gather(writer, watcher, cut, return_exceptions=True)
            self.sub.detach()
            self.connections.release(self)

    async def _write(self, write: Any) -> None:
        sub = self.sub
        await write([sse.retry(self.timings.retry_ms)])
        await sub.replay(write)
        while self.closing is None:
            if await sub.flush(write):
                continue
            if self.heartbeat_due:
                self.heartbeat_due = False
                await write([sse.HEARTBEAT])
                continue
            timeout = None
            if sub.terminal_at is not None:
                timeout = sub.terminal_at + self.timings.close_after_done_s - time.monotonic()
                if timeout <= 0:
                    return
            await sub.wait(timeout)
        if self.closing == REVOKED:  # an error event: EventSource's reconnect then gets 401
            body = _encode({"errorCode": ErrorCode.UNAUTHORIZED.value, "message": REVOKED})
            await write([b"event: error\ndata: " + body + b"\n\n"])
        else:
            await write([sse.comment(f"closing: {self.closing}")])

    async def _cut_off(self, send: Send) -> None:
        """Tell a slow client where to resume, if it still reads; never wait long for it."""
        self.metrics.error(ErrorCode.SLOW_CONSUMER.value)
        body = _encode(
            {
                "errorCode": ErrorCode.SLOW_CONSUMER.value,
                "message": "the client fell too far behind; reconnect with Last-Event-ID",
                "resumeFrom": self.sub.outbox.resume_from,
            }
        )
        final = b"event: error\ndata: " + body + b"\n\n"
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                send({"type": "http.response.body", "body": final, "more_body": False}),
                self.timings.slow_close_grace_s,
            )


try:
    from uvicorn.protocols.http.httptools_impl import RequestResponseCycle as _HttpToolsCycle
except ImportError:  # pragma: no cover - uvicorn without httptools
    _HttpToolsCycle = None  # type: ignore[assignment, misc]


class UvicornWriter:
    """Writes pre-framed chunks to one uvicorn (httptools) response's transport.

    The hook is uvicorn's own ASGI ``receive``: a bound method of its
    ``RequestResponseCycle``, which Litestar passes through unwrapped. Writing
    ``Transfer-Encoding: chunked`` frames to ``cycle.transport`` is exactly what
    ``cycle.send`` does for a body message, minus the await; like ``send``, it
    refuses while the transport is paused (above its high-water mark), so a
    slow client's bytes pile up in its bounded outbox, never in the transport.
    """

    __slots__ = ("_cycle", "_flow", "_transport")

    def __init__(self, cycle: Any) -> None:
        self._cycle = cycle
        self._flow = cycle.flow
        self._transport = cycle.transport

    def write(self, chunk: bytes) -> bool:
        cycle = self._cycle
        if self._flow.write_paused or cycle.disconnected or cycle.response_complete:
            return False
        transport = self._transport
        if transport.is_closing():
            return False
        try:
            transport.write(chunk)
        except Exception:  # a transport that fails here fails the task path's send too
            return False
        return True


def direct_writer(receive: Receive) -> DirectWriter | None:
    """The direct writer of the response ``receive`` belongs to, or ``None`` (task path only).

    Only for uvicorn's httptools protocol once the response has started with
    chunked encoding: the only framing the hub's shared chunks carry.
    """
    cycle = getattr(receive, "__self__", None)
    if _HttpToolsCycle is None or type(cycle) is not _HttpToolsCycle:
        return None
    if cycle.chunked_encoding is not True or not cycle.response_started:
        return None
    return UvicornWriter(cycle)


async def _wait_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


@dataclass(frozen=True)
class SseSetup:
    """What an SSE endpoint needs besides its subscription: timings, the open
    connections (admission), counters."""

    timings: SseTimings
    connections: Connections
    metrics: Metrics


async def respond(
    setup: SseSetup, sub: Subscription | Interleaved | Joined, principal: Principal
) -> SseResponse:
    """Admit one SSE client of ``principal``'s tenant reading ``sub`` and return its
    streaming response; the stream ends if ``principal``'s key is revoked."""
    # SseConnection is typed for a Subscription; Interleaved and Joined offer the same surface.
    conn = SseConnection(
        cast(Subscription, sub),
        setup.timings,
        setup.connections,
        setup.metrics,
        principal.tenant,
        principal.token_id,
    )
    setup.connections.admit(conn)
    try:
        await sub.attach()
    except BaseException:
        sub.detach()
        setup.connections.release(conn)
        raise
    return SseResponse(conn)


class SseResponse(ASGIResponse):
    """The ASGI response of an SSE endpoint; the body is the connection's stream."""

    _should_set_content_length = False

    def __init__(self, connection: SseConnection) -> None:
        super().__init__(
            headers=SSE_HEADERS,
            media_type="text/event-stream",
            status_code=200,
        )
        self.connection = connection

    async def send_body(self, send: Send, receive: Receive) -> None:
        await self.connection.run(send, receive)
