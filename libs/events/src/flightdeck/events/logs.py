"""Pod log lines: ``fd.evt.log.<namespace>.<app>.<pod>``, many lines per message.

Everything a reader filters on travels with the event itself, so the gateway
can filter server-side without asking anyone: level, source and time per line;
namespace, pod, container, node and app per batch (the app is also a subject
token, so one subscription follows an app's pods).
"""

from __future__ import annotations

import enum
from datetime import datetime

import msgspec

from flightdeck.events.base import Event


class LogLevel(enum.StrEnum):
    TRACE = "TRACE"
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARN = "WARN"
    ERROR = "ERROR"
    FATAL = "FATAL"
    UNKNOWN = "UNKNOWN"


class LogSource(enum.StrEnum):
    STDOUT = "stdout"
    STDERR = "stderr"


class LogLine(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    """One line. Array-like on the wire: log streams are the biggest by far.

    ``time`` is the container runtime's timestamp for the line (the kubelet's
    ``timestamps=true`` prefix, or the CRI log file's), not when the relay read
    it. ``source_inferred`` says the stream was guessed from the level because
    the pods/log API mixes stdout and stderr without saying which is which; it
    is false when the relay read the runtime's log files (node mode, ADR 0025),
    where each line says its stream.
    """

    time: datetime
    source: LogSource
    source_inferred: bool
    level: LogLevel
    text: str


class LogLinesCaptured(Event, frozen=True, kw_only=True, tag="log.lines_captured"):
    """A batch of consecutive lines of one container, in the order it wrote them."""

    namespace: str
    pod: str
    container: str
    node: str | None
    app: str | None
    lines: list[LogLine]
    restart_count: int | None = None
    """Which run of the container the lines come from (its restart count as observed
    when the relay attached); ``None`` from relays that did not record it."""


class LogFollowLost(Event, frozen=True, kw_only=True, tag="log.follow_lost"):
    """The relay could not keep up or lost the stream: never a silent gap.

    ``dropped_lines`` is exact when the relay itself dropped lines, and ``0`` when
    the lines were gone before it could read them (a container that restarted
    several times while nobody followed it, a log rotated past the resume point):
    then ``reason`` says so, and ``since``/``until`` bound the gap in time.
    """

    namespace: str
    pod: str
    container: str
    dropped_lines: int
    reason: str
    app: str | None = None
    node: str | None = None
    since: datetime | None = None
    """The last line relayed before the gap, when known."""
    until: datetime | None = None
    """The first line relayed after the gap (or the last line dropped), when known."""


LogEvent = LogLinesCaptured | LogFollowLost
