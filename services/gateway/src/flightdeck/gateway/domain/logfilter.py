"""Log-line filters, evaluated per client on the shared stream of log events.

A log event carries many lines; a client sees only the lines its filter
keeps (levels, sources, keywords, pods, containers, a time range), rendered
once per client and event. An event with no matching line is skipped, but its
position still counts, so a resume never re-sends it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from flightdeck.events import Recorded
from flightdeck.events.logs import LogFollowLost, LogLine, LogLinesCaptured
from flightdeck.gateway.domain.rendering import ClientFilter, Rendered


class LogFilter(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """Which lines a client wants; an empty field means no restriction."""

    levels: list[str] = []
    sources: list[str] = []
    keywords: list[str] = []
    pods: list[str] = []
    containers: list[str] = []
    since: datetime | None = None
    until: datetime | None = None


class LinePayload(msgspec.Struct, frozen=True, array_like=False, rename="camel"):
    time: datetime
    source: str
    level: str
    text: str


class LogPayload(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    namespace: str
    app: str | None
    pod: str
    container: str
    lines: list[LinePayload]


class LostPayload(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    namespace: str
    pod: str
    container: str
    dropped_lines: int
    reason: str


_encode = msgspec.json.Encoder().encode


def keeps_line(f: LogFilter, line: LogLine, keywords: tuple[str, ...]) -> bool:
    if f.levels and line.level.value not in f.levels:
        return False
    if f.sources and line.source.value not in f.sources:
        return False
    if f.since is not None and line.time < f.since:
        return False
    if f.until is not None and line.time > f.until:
        return False
    if keywords:
        text = line.text.lower()
        return any(k in text for k in keywords)
    return True


def keeps_origin(f: LogFilter, pod: str, container: str) -> bool:
    return (not f.pods or pod in f.pods) and (not f.containers or container in f.containers)


def log_renderer(f: LogFilter) -> ClientFilter:
    """A per-client renderer for log events under filter ``f``."""
    keywords = tuple(k.lower() for k in f.keywords)

    def render(rec: Recorded[Any]) -> Rendered | None:
        e = rec.event
        if not keeps_origin(f, e.pod, e.container):
            return None
        if isinstance(e, LogFollowLost):
            lost = LostPayload(
                namespace=e.namespace,
                pod=e.pod,
                container=e.container,
                dropped_lines=e.dropped_lines,
                reason=e.reason,
            )
            return Rendered(rec.position, "lost", _encode(lost))
        if not isinstance(e, LogLinesCaptured):
            return None
        lines = [
            LinePayload(ln.time, ln.source.value, ln.level.value, ln.text)
            for ln in e.lines
            if keeps_line(f, ln, keywords)
        ]
        if not lines:
            return None
        payload = LogPayload(
            namespace=e.namespace, app=e.app, pod=e.pod, container=e.container, lines=lines
        )
        return Rendered(rec.position, "log", _encode(payload))

    return render
