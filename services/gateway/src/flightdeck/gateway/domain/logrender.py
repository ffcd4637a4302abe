"""Log events as clients see them: one JSON object per line, each with its cursor.

Over SSE every line is its own message (``id: <position>:<line>``, ``event:
log``), so a client's ``Last-Event-ID`` names the exact line it saw last. Over
the WebSocket a batch stays one message (``{"lines": [...]}``): tens of
thousands of lines a second cost one send per batch, not per line. A
``LogFollowLost`` becomes ``event: gap`` (id: the bare position).

Line objects are assembled from pre-encoded parts (the batch's origin once,
then each line's own fields); :class:`LinePayload` is the same shape as a
msgspec Struct, for the JSON history page and the OpenAPI document, and a unit
test keeps the two identical.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from flightdeck.events import Recorded
from flightdeck.events.logs import LogFollowLost, LogLevel, LogLinesCaptured, LogSource
from flightdeck.gateway.domain.errors import ErrorCode
from flightdeck.gateway.domain.logfilter import Cursor, LineFilter, RegexTooSlow
from flightdeck.gateway.domain.rendering import Rendered

_encode = msgspec.json.Encoder().encode


class LinePayload(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """One log line (``position`` is its cursor, ``"<position>:<line>"``)."""

    position: str
    time: datetime
    level: str
    source: str
    source_inferred: bool
    namespace: str
    app: str | None
    pod: str
    container: str
    node: str | None
    text: str


class GapPayload(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """Lines of one container that never reached the stream (``LogFollowLost``)."""

    position: str
    namespace: str
    app: str | None
    pod: str
    container: str
    node: str | None
    dropped_lines: int
    reason: str
    since: datetime | None
    until: datetime | None


def line_payloads(e: LogLinesCaptured, position: int, indices: list[int]) -> list[LinePayload]:
    out = []
    for i in indices:
        ln = e.lines[i]
        out.append(
            LinePayload(
                position=f"{position}:{i}",
                time=ln.time,
                level=ln.level.value,
                source=ln.source.value,
                source_inferred=ln.source_inferred,
                namespace=e.namespace,
                app=e.app,
                pod=e.pod,
                container=e.container,
                node=e.node,
                text=ln.text,
            )
        )
    return out


def gap_payload(e: LogFollowLost, position: int) -> GapPayload:
    return GapPayload(
        position=str(position),
        namespace=e.namespace,
        app=e.app,
        pod=e.pod,
        container=e.container,
        node=e.node,
        dropped_lines=e.dropped_lines,
        reason=e.reason,
        since=e.since,
        until=e.until,
    )


_LEVEL = {level: f'"level":"{level.value}",'.encode() for level in LogLevel}
_SOURCE = {
    (
        source,
        inferred,
    ): f'"source":"{source.value}","sourceInferred":{str(inferred).lower()},'.encode()
    for source in LogSource
    for inferred in (True, False)
}


def encode_lines(e: LogLinesCaptured, position: int, indices: list[int]) -> list[bytes]:
    """The JSON of each kept line, byte for byte what msgspec makes of :class:`LinePayload`."""
    origin = b'"namespace":%s,"app":%s,"pod":%s,"container":%s,"node":%s,"text":' % (
        _encode(e.namespace),
        _encode(e.app),
        _encode(e.pod),
        _encode(e.container),
        _encode(e.node),
    )
    head = b'{"position":"%d:' % position
    lines, level, source, encode = e.lines, _LEVEL, _SOURCE, _encode
    out = []
    for i in indices:
        ln = lines[i]
        out.append(
            b'%s%d","time":%s,%s%s%s%s}'
            % (
                head,
                i,
                encode(ln.time),
                level[ln.level],
                source[ln.source, ln.source_inferred],
                origin,
                encode(ln.text),
            )
        )
    return out


class LogRendered(Rendered):
    """Kept lines of one event: ``data`` is the WebSocket batch, ``sse`` one message per line."""

    __slots__ = ("indices", "lines")

    def __init__(self, position: int, indices: list[int], lines: list[bytes]) -> None:
        super().__init__(position, "log", b'{"lines":[' + b",".join(lines) + b"]}")
        self.indices = indices
        self.lines = lines

    @property
    def sse(self) -> bytes:
        if self._frame is None:
            p = self.position
            self._frame = b"".join(
                b"id: %d:%d\nevent: log\ndata: %s\n\n" % (p, i, line)
                for i, line in zip(self.indices, self.lines, strict=True)
            )
        return self._frame


class LogRenderer:
    """Renders log events for one client: its filter, and where it resumes.

    Never raises (it runs inside the hub's fan-out): a pattern that times out
    ends the client's stream with ``event: error`` ``INVALID_LOG_FILTER``.
    ``line_filter`` may be replaced while the stream runs (a deployment's
    stream learns its colour); the next event uses the new one.

    Args:
        line_filter: which lines to keep.
        resume: the cursor the client already has; lines at or before it are skipped.
    """

    __slots__ = ("failed", "line_filter", "resume")

    def __init__(self, line_filter: LineFilter, resume: Cursor | None = None) -> None:
        self.line_filter = line_filter
        self.resume = resume if resume is not None and resume.line is not None else None
        self.failed = False

    def __call__(self, rec: Recorded[Any]) -> Rendered | None:
        if self.failed:
            return None
        e = rec.event
        f = self.line_filter
        if isinstance(e, LogLinesCaptured):
            try:
                kept = f.indices(e)
            except RegexTooSlow as exc:
                self.failed = True
                return _too_slow(rec.position, str(exc))
            resume = self.resume
            if resume is not None and rec.position <= resume.position:
                if rec.position < resume.position or resume.line is None:
                    return None
                skip = resume.line
                kept = [i for i in kept if i > skip]
            if not kept:
                return None
            return LogRendered(rec.position, kept, encode_lines(e, rec.position, kept))
        if isinstance(e, LogFollowLost):
            if self.resume is not None and rec.position <= self.resume.position:
                return None
            if not f.keeps_gap(e.pod, e.container, e.since, e.until):
                return None
            return Rendered(rec.position, "gap", _encode(gap_payload(e, rec.position)))
        return None


def _too_slow(position: int, pattern: str) -> Rendered:
    body = {
        "errorCode": ErrorCode.INVALID_LOG_FILTER.value,
        "message": f"the pattern {pattern[:80]!r} took too long on a line; use a simpler one",
    }
    return Rendered(position, "error", _encode(body), terminal=True)


ALL_LINES = LogRenderer(LineFilter())
"""The shared renderer of every log feed: clients without a filter all get the same bytes."""
