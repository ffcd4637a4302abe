"""A log line's level, read from what the line itself says.

Containers log in every format under the sun, so this tries the common ones in
order of how certain they are: a JSON object's level field, a klog header, an
access-log status, then the first level word near the start of the line
(``level=warn``, ``[error]``, ``ERROR``, zap's tab-separated ``info``). A line
that says nothing is ``UNKNOWN`` -- except an indented continuation (a stack
frame) right after a line that had a level, which belongs to that line.

Pure and fast: one JSON decode or one anchored regex and one search over the
first ``SCAN_CHARS`` characters per line. ``msgspec`` decodes JSON here because
it is what our events are made of and several times faster than ``json``.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from flightdeck.events.logs import LogLevel

SCAN_CHARS = 160
"""Level words further into a line are message text, not the line's level."""

_NAMES: dict[str, LogLevel] = {
    **dict.fromkeys(("trace", "trac", "trc", "verbose", "vrb", "finest", "finer"), LogLevel.TRACE),
    **dict.fromkeys(("debug", "debu", "dbg", "fine"), LogLevel.DEBUG),
    **dict.fromkeys(
        ("info", "inf", "information", "informational", "notice", "config", "log"), LogLevel.INFO
    ),
    **dict.fromkeys(("warn", "warning", "wrn"), LogLevel.WARN),
    **dict.fromkeys(("error", "err", "erro", "eror", "severe", "dpanic"), LogLevel.ERROR),
    **dict.fromkeys(
        (
            "fatal",
            "fata",
            "panic",
            "pani",
            "critical",
            "crit",
            "crt",
            "alert",
            "emerg",
            "emergency",
        ),
        LogLevel.FATAL,
    ),
}
# Single letters only count where a field is known to hold a level (JSON values).
_LETTERS: dict[str, LogLevel] = {
    "t": LogLevel.TRACE,
    "v": LogLevel.TRACE,
    "d": LogLevel.DEBUG,
    "i": LogLevel.INFO,
    "w": LogLevel.WARN,
    "e": LogLevel.ERROR,
    "f": LogLevel.FATAL,
    "c": LogLevel.FATAL,
    "a": LogLevel.FATAL,
}
_SYSLOG = (
    LogLevel.FATAL,  # 0 emerg
    LogLevel.FATAL,  # 1 alert
    LogLevel.FATAL,  # 2 crit
    LogLevel.ERROR,  # 3 err
    LogLevel.WARN,  # 4 warning
    LogLevel.INFO,  # 5 notice
    LogLevel.INFO,  # 6 info
    LogLevel.DEBUG,  # 7 debug
)
_KLOG = {"I": LogLevel.INFO, "W": LogLevel.WARN, "E": LogLevel.ERROR, "F": LogLevel.FATAL}
_CARRIES = frozenset(
    (LogLevel.TRACE, LogLevel.DEBUG, LogLevel.INFO, LogLevel.WARN, LogLevel.ERROR, LogLevel.FATAL)
)


class _JsonFields(msgspec.Struct):
    """The fields structured loggers put a level in (logrus, zap, pino, bunyan,
    python-json-logger, GCP, ECS, Serilog); every other field is skipped unread."""

    level: Any = None
    severity: Any = None
    lvl: Any = None
    levelname: Any = None
    loglevel: Any = None
    log_level: Any = None
    ecs_level: Any = msgspec.field(name="log.level", default=None)
    serilog_level: Any = msgspec.field(name="@l", default=None)
    log: Any = None  # ECS nested form: {"log": {"level": "warn"}}


_decode_json = msgspec.json.Decoder(_JsonFields).decode

_KLOG_HEADER = re.compile(r"([IWEF])\d{4} \d\d:\d\d:\d\d\.\d{6}\s")
_ACCESS_LOG = re.compile(r'\S+ \S+ \S+ \[[^\]]{10,40}\] "[A-Z]+ [^"]*" (\d{3}) ')
_FATAL_START = re.compile(r"(?:panic: |fatal error: |Traceback \(most recent call last\):)")
# Plain alternations of literals: Python's regex engine is several times faster on
# these than on one pattern with lookarounds; word boundaries are checked in Python.
_UPPER = re.compile(
    r"WARNING|WARN|ERROR|ERRO|ERR|INFO|DEBUG|DEBU|TRACE|TRAC|FATAL|FATA|PANIC|PANI"
    r"|CRITICAL|CRIT|SEVERE|NOTICE|EMERG|ALERT"
)
_KEYED = re.compile(r"""(?:level|lvl|severity)[=:] ?["']?([A-Za-z]+)""")
_BRACKETED = re.compile(r"\[(?:[\w.-]+:)?([A-Za-z]{3,11})\]")
_TABBED = re.compile(r"\t(debug|info|warn|error|dpanic|panic|fatal)\t")
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_BEFORE_WORD = _WORD_CHARS | frozenset("./-")
_AFTER_WORD = _WORD_CHARS | frozenset("/-")


def level_name(value: Any) -> LogLevel | None:
    """The level a structured logger's level field holds: a name, a letter, or a number
    (pino/bunyan's 10..60, or syslog's 0..7)."""
    if isinstance(value, str):
        name = value.strip().lower()
        found = _NAMES.get(name) or (_LETTERS.get(name) if len(name) == 1 else None)
        if found is not None or not name.isdigit():
            return found
        value = int(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = int(value)
    if 0 <= number < len(_SYSLOG):
        return _SYSLOG[number]
    if number < 10:
        return None
    for bound, level in (
        (10, LogLevel.TRACE),
        (20, LogLevel.DEBUG),
        (30, LogLevel.INFO),
        (40, LogLevel.WARN),
        (50, LogLevel.ERROR),
    ):
        if number <= bound:
            return level
    return LogLevel.FATAL


def _from_json(text: str) -> LogLevel | None:
    try:
        fields = _decode_json(text)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    nested = fields.log.get("level") if isinstance(fields.log, dict) else None
    for value in (
        fields.level,
        fields.severity,
        fields.lvl,
        fields.levelname,
        fields.loglevel,
        fields.log_level,
        fields.ecs_level,
        nested,
        fields.serilog_level,
    ):
        if value is not None and (found := level_name(value)) is not None:
            return found
    return None


def _upper_word(head: str) -> tuple[int, LogLevel] | None:
    """The first level word in capitals standing on its own (``ERROR``, not ``ERROR_CODE``)."""
    for match in _UPPER.finditer(head):
        start, end = match.span()
        if (start and head[start - 1] in _BEFORE_WORD) or head[end : end + 1] in _AFTER_WORD:
            continue
        return start, _NAMES[match.group().lower()]
    return None


def _named(pattern: re.Pattern[str], head: str) -> tuple[int, LogLevel] | None:
    """The first match of ``pattern`` whose group names a level (``[app]`` does not)."""
    for match in pattern.finditer(head):
        if (found := _NAMES.get(match.group(1).lower())) is not None:
            return match.start(), found
    return None


def _from_text(text: str) -> LogLevel | None:
    head = text[:SCAN_CHARS]
    first = head[:1]
    if first in _KLOG and (klog := _KLOG_HEADER.match(head)) is not None:
        return _KLOG[klog.group(1)]
    if first.isalnum() and (access := _ACCESS_LOG.match(head)) is not None:
        status = int(access.group(1))
        return (
            LogLevel.ERROR if status >= 500 else LogLevel.WARN if status >= 400 else LogLevel.INFO
        )
    if first in "pfT" and _FATAL_START.match(head):
        return LogLevel.ERROR if first == "T" else LogLevel.FATAL
    # The leftmost level statement wins (`level=warn msg="ERROR in x"` is a warning), so
    # the other forms are only looked for before the first capitalised level word.
    best = _upper_word(head)
    scope = head[: best[0]] if best is not None else head
    for pattern, present in (
        (_KEYED, "level" in scope or "lvl" in scope or "severity" in scope),
        (_BRACKETED, "[" in scope),
        (_TABBED, "\t" in scope),
    ):
        if present and (hit := _named(pattern, scope)) is not None:
            best, scope = hit, head[: hit[0]]  # within scope, so before the best so far
    return best[1] if best is not None else None


def parse_level(text: str, previous: LogLevel = LogLevel.UNKNOWN) -> LogLevel:
    """The level of one line.

    Args:
        text: the line, without its timestamp prefix or newline.
        previous: the level of the line before it in the same container, so an
            indented continuation (a stack frame) keeps the level of its head line.

    Returns:
        The level the line states, ``previous`` for a continuation, else ``UNKNOWN``.
    """
    if text[:1] == "{" and (found := _from_json(text)) is not None:
        return found
    if (found := _from_text(text)) is not None:
        return found
    if text[:1] in (" ", "\t") and previous in _CARRIES and text.strip():
        return previous
    return LogLevel.UNKNOWN
