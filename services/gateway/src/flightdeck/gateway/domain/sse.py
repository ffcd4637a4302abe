"""Server-Sent Events framing, done once per event as bytes.

Each event is framed once and the same bytes go to every client that wants
it (re-encoding per client was the measured bottleneck). JSON from msgspec
never holds a raw newline, so one ``data:`` line always suffices. Lines end in
``\\n``, which the SSE specification accepts.
"""

from __future__ import annotations

from flightdeck.gateway.domain.inputs import parse_position

HEARTBEAT = b": heartbeat\n\n"


def frame(position: int, event: str, data: bytes) -> bytes:
    """One event: ``id:`` is its stream position, the resume point of ``Last-Event-ID``."""
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (position, event.encode(), data)


def retry(milliseconds: int) -> bytes:
    """How long a browser waits before reconnecting, sent first on every stream."""
    return b"retry: %d\n\n" % milliseconds


def http_chunk(body: bytes) -> bytes:
    """``body`` as one HTTP/1.1 chunk (``Transfer-Encoding: chunked``), as uvicorn frames it.

    The fan-out frames a batch of events once and writes the same chunk to every
    client that takes the direct path (``entrypoints/sse.py``).
    """
    return b"%x\r\n%b\r\n" % (len(body), body)


def comment(text: str) -> bytes:
    return b": " + text.replace("\n", " ").encode() + b"\n\n"


def parse_last_event_id(header: str | None, query: str | None) -> int | None:
    """The position to resume after, from the header or ``?lastEventId=``; the header wins.

    Returns ``None`` when neither is given; raises ``ValueError`` for a malformed one,
    or one past the largest position a stream can have.
    """
    raw = header if header not in (None, "") else query
    if raw is None or raw == "":
        return None
    return parse_position(raw.strip())
