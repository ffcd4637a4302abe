"""Raw pods/log lines (``timestamps=true``) into :class:`LogLine` events' lines.

The kubelet prefixes every line with the runtime's RFC 3339 timestamp
(nanoseconds, trailing zeros trimmed) and a space; that timestamp is the line's
time, and what resuming is keyed on. Lines are bytes from the wire: invalid
UTF-8 is replaced rather than rejected, and an overlong line is cut so one
runaway line cannot exceed a NATS message.
"""

from __future__ import annotations

from datetime import datetime

from flightdeck.events.logs import LogLevel, LogLine
from flightdeck.log_relay.domain.levels import parse_level
from flightdeck.log_relay.domain.sources import infer_source

TRUNCATED = " …[truncated]"


def split_timestamp(line: str) -> tuple[datetime | None, str]:
    """``(time, text)`` of one line; ``(None, line)`` when it has no timestamp prefix."""
    space = line.find(" ")
    if 20 <= space <= 40 and line[4:5] == "-" and line[10:11] == "T":
        try:
            return datetime.fromisoformat(line[:space]), line[space + 1 :]
        except ValueError:
            pass
    return None, line


class LineParser:
    """Turns one container's raw lines into ``LogLine``s, in order.

    Stateful only in what one line needs from the one before: a continuation's
    level, and a time for the rare line with no timestamp (never before the line
    ahead of it, so a container's lines stay in order).

    Args:
        max_line_bytes: longer lines are cut to this and marked ``…[truncated]``.
    """

    def __init__(self, max_line_bytes: int = 32_768) -> None:
        self._max = max_line_bytes
        self._level = LogLevel.UNKNOWN
        self._time: datetime | None = None

    def parse(self, raw: bytes, fallback: datetime) -> LogLine:
        """One line (without its newline); ``fallback`` is the time for a line without one."""
        if len(raw) > self._max:
            text = raw[: self._max].decode("utf-8", "ignore") + TRUNCATED
        else:
            text = raw.decode("utf-8", "replace")
        if text.endswith("\r"):
            text = text[:-1]
        time, text = split_timestamp(text)
        if time is None:
            time = self._time or fallback
        self._time = time
        level = self._level = parse_level(text, self._level)
        return LogLine(
            time=time, source=infer_source(level), source_inferred=True, level=level, text=text
        )
