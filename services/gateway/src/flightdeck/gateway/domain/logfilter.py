"""Log-line filters and positions: which lines a client wants, and where it is.

A log event carries many lines, so a place in a log stream is a *cursor*
``<position>:<line>`` (the event's stream sequence and the line's index in it);
a bare ``<position>`` stands for the whole event. Every line the gateway sends
carries its cursor, and a client resumes after any cursor without a gap or a
duplicate, even in the middle of a 500-line batch.

A filter is checked per line (level, source, time, keywords, regular
expressions) and per event (pod, container). User regular expressions run
with the ``regex`` module's time-out, so a catastrophic pattern cannot stall
the gateway's event loop: :class:`RegexTooSlow` is raised instead.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

import msgspec
import regex

from flightdeck.events.logs import LogLevel, LogLine, LogLinesCaptured, LogSource
from flightdeck.gateway.domain.inputs import parse_position

MAX_KEYWORDS = 20
MAX_KEYWORD_LENGTH = 256
MAX_NAMES = 100
MAX_PATTERN_LENGTH = 512
MAX_TAIL = 10_000
REGEX_TIMEOUT_S = 0.005
"""How long one pattern may spend on one line before the filter is refused."""

_LEVEL_ALIASES = {"WARNING": "WARN", "ERR": "ERROR", "CRITICAL": "FATAL"}


class FilterError(ValueError):
    """A filter the gateway refuses (``INVALID_LOG_FILTER``); the message names the field."""


class RegexTooSlow(Exception):
    """A user pattern exceeded :data:`REGEX_TIMEOUT_S` on one line."""


class Cursor(NamedTuple):
    """A place in a log stream: after line ``line`` of event ``position``.

    ``line is None`` means after the whole event.
    """

    position: int
    line: int | None = None

    @property
    def after(self) -> int:
        """The last event read in full: a replay starts after it."""
        return self.position if self.line is None else self.position - 1

    def __str__(self) -> str:
        return str(self.position) if self.line is None else f"{self.position}:{self.line}"

    def just_before(self) -> Cursor:
        """The cursor of everything strictly before this one."""
        if self.line is None or self.line == 0:
            return Cursor(self.position - 1)
        return Cursor(self.position, self.line - 1)


def parse_cursor(text: str) -> Cursor:
    """``"41"`` or ``"41:3"``, each number ASCII digits within a stream position's range;
    ``ValueError`` for anything else."""
    head, sep, tail = text.strip().partition(":")
    return Cursor(parse_position(head), parse_position(tail) if sep else None)


class LogFilter(
    msgspec.Struct, frozen=True, kw_only=True, rename="camel", forbid_unknown_fields=True
):
    """Which lines a client wants, as it sends them; an empty field does not restrict."""

    levels: list[str] = []
    sources: list[str] = []
    keywords: list[str] = []
    include: str | None = None
    exclude: str | None = None
    pods: list[str] = []
    containers: list[str] = []
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class LineFilter:
    """A checked, compiled :class:`LogFilter`; ``None`` fields do not restrict.

    ``pod_prefixes`` is not on the wire: a deployment's stream uses it to keep
    the lines of its own colour's pods (``()`` keeps nothing until the colour is known).
    """

    levels: frozenset[LogLevel] | None = None
    sources: frozenset[LogSource] | None = None
    keywords: tuple[str, ...] = ()
    include: Any = None
    exclude: Any = None
    pods: frozenset[str] | None = None
    pod_prefixes: tuple[str, ...] | None = None
    containers: frozenset[str] | None = None
    since: datetime | None = None
    until: datetime | None = None

    def replace(self, **changes: Any) -> LineFilter:
        return dataclasses.replace(self, **changes)

    def keeps_origin(self, pod: str, container: str) -> bool:
        if self.pods is not None and pod not in self.pods:
            return False
        if self.pod_prefixes is not None and not pod.startswith(self.pod_prefixes):
            return False
        return self.containers is None or container in self.containers

    def indices(self, event: LogLinesCaptured) -> list[int]:
        """Indices of the event's lines this filter keeps.

        One pass per check over the lines still kept, cheapest checks first
        (this runs for every line of every event a client follows).
        """
        if not self.keeps_origin(event.pod, event.container):
            return []
        lines = event.lines
        kept: list[int] | range = range(len(lines))
        if self.levels is not None:
            levels = self.levels
            kept = [i for i in kept if lines[i].level in levels]
        if self.sources is not None:
            sources = self.sources
            kept = [i for i in kept if lines[i].source in sources]
        if self.since is not None:
            since = self.since
            kept = [i for i in kept if lines[i].time >= since]
        if self.until is not None:
            until = self.until
            kept = [i for i in kept if lines[i].time <= until]
        if self.keywords:
            kept = _with_keywords(self.keywords, lines, kept)
        if self.include is not None:
            include = self.include
            kept = [i for i in kept if _search(include, lines[i].text)]
        if self.exclude is not None:
            exclude = self.exclude
            kept = [i for i in kept if not _search(exclude, lines[i].text)]
        return kept if isinstance(kept, list) else list(kept)

    def keeps_gap(
        self, pod: str, container: str, since: datetime | None, until: datetime | None
    ) -> bool:
        """A gap is shown to every client of its container unless it lies outside the time range."""
        if not self.keeps_origin(pod, container):
            return False
        if self.since is not None and until is not None and until < self.since:
            return False
        return not (self.until is not None and since is not None and since > self.until)


def _with_keywords(
    keywords: tuple[str, ...], lines: list[LogLine], kept: list[int] | range
) -> list[int]:
    if len(keywords) == 1:
        word = keywords[0]
        return [i for i in kept if word in lines[i].text.lower()]
    return [i for i in kept if any(word in lines[i].text.lower() for word in keywords)]


def _search(pattern: Any, text: str) -> bool:
    try:
        return pattern.search(text, timeout=REGEX_TIMEOUT_S) is not None
    except TimeoutError as exc:
        raise RegexTooSlow(pattern.pattern) from exc


def compile_filter(f: LogFilter) -> LineFilter:
    """Check ``f`` and compile it; :class:`FilterError` names the first bad field."""
    since, until = _range(f.since, f.until)
    return LineFilter(
        levels=_levels(f.levels),
        sources=_sources(f.sources),
        keywords=_keywords(f.keywords),
        include=_pattern("include", f.include),
        exclude=_pattern("exclude", f.exclude),
        pods=_names("pods", f.pods),
        containers=_names("containers", f.containers),
        since=since,
        until=until,
    )


def check_tail(tail: int | None) -> int | None:
    if tail is not None and not 0 <= tail <= MAX_TAIL:
        raise FilterError(f"tail: must be between 0 and {MAX_TAIL}")
    return tail


def split_values(values: list[str] | None) -> list[str]:
    """Query lists: repeated parameters and comma-separated values alike."""
    return [v.strip() for raw in values or () for v in raw.split(",") if v.strip()]


def parse_time(field: str, text: str | None) -> datetime | None:
    """An ISO 8601 time from a query string; a time without a zone is UTC."""
    if text is None or not text.strip():
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace(" ", "+"))
    except ValueError as exc:
        raise FilterError(f"{field}: not an ISO 8601 time: {text!r}") from exc
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _levels(values: list[str]) -> frozenset[LogLevel] | None:
    if not values:
        return None
    out = set()
    for value in values:
        name = value.strip().upper()
        name = _LEVEL_ALIASES.get(name, name)
        if name not in LogLevel.__members__:
            known = ", ".join(LogLevel.__members__)
            raise FilterError(f"levels: unknown level {value!r} (one of {known})")
        out.add(LogLevel(name))
    return frozenset(out)


def _sources(values: list[str]) -> frozenset[LogSource] | None:
    if not values:
        return None
    try:
        return frozenset(LogSource(v.strip().lower()) for v in values)
    except ValueError as exc:
        raise FilterError("sources: each must be stdout or stderr") from exc


def _keywords(values: list[str]) -> tuple[str, ...]:
    words = tuple(v.lower() for v in values if v)
    if len(words) > MAX_KEYWORDS or any(len(w) > MAX_KEYWORD_LENGTH for w in words):
        raise FilterError(
            f"keywords: at most {MAX_KEYWORDS}, each at most {MAX_KEYWORD_LENGTH} characters"
        )
    return words


def _names(field: str, values: list[str]) -> frozenset[str] | None:
    if not values:
        return None
    if len(values) > MAX_NAMES:
        raise FilterError(f"{field}: at most {MAX_NAMES} names")
    return frozenset(values)


def _pattern(field: str, text: str | None) -> Any:
    if text is None or text == "":
        return None
    if len(text) > MAX_PATTERN_LENGTH:
        raise FilterError(f"{field}: a pattern has at most {MAX_PATTERN_LENGTH} characters")
    try:
        return regex.compile(text)
    except (regex.error, ValueError, OverflowError, RecursionError) as exc:
        raise FilterError(f"{field}: not a valid regular expression: {exc}") from exc


def _range(
    since: datetime | None, until: datetime | None
) -> tuple[datetime | None, datetime | None]:
    since = _utc(since)
    until = _utc(until)
    if since is not None and until is not None and since > until:
        raise FilterError("since: must not be after until")
    return since, until


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
