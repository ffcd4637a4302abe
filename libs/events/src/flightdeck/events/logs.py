"""Pod log lines: ``fd.evt.log.<namespace>.<pod>``, many lines per message."""

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
    """One line. Array-like on the wire: log streams are the biggest by far."""

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


class LogFollowLost(Event, frozen=True, kw_only=True, tag="log.follow_lost"):
    """The relay could not keep up or lost the stream: never a silent gap."""

    namespace: str
    pod: str
    container: str
    dropped_lines: int
    reason: str


LogEvent = LogLinesCaptured | LogFollowLost
