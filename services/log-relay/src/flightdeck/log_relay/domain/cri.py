"""The container runtime's own log files (the CRI format), read as a node agent reads them.

The kubelet asks the runtime to write each container run's output to
``<root>/<namespace>_<pod>_<uid>/<container>/<restart count>.log``, one record
a line: ``<RFC 3339 nano time> <stdout|stderr> <P|F> <text>``. A line longer
than the runtime's buffer is cut into ``P`` (partial) records closed by an
``F`` (full) one; stdout and stderr are separate pipes, so a stream's
fragments may be interleaved with the other stream's records. The stream is a
fact here, unlike in the pods/log API.

The kubelet rotates a file that outgrew its limit by renaming it to
``<n>.log.<YYYYmmdd-HHMMSS>`` and asking the runtime to reopen, which creates a
new ``<n>.log``; older rotated files are gzip-compressed, the oldest removed.
It never truncates a file in place. Everything here is pure: the file tailer
(``adapters/files.py``) asks these functions what to do.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from flightdeck.events.logs import LogLevel, LogLine, LogSource
from flightdeck.log_relay.domain.levels import parse_level
from flightdeck.log_relay.domain.lines import TRUNCATED
from flightdeck.log_relay.domain.sources import infer_source

_STREAMS = {b"stdout": LogSource.STDOUT, b"stderr": LogSource.STDERR}


@dataclass(frozen=True, slots=True)
class CriRecord:
    """One record of a CRI log file."""

    time: datetime
    source: LogSource
    partial: bool
    text: bytes


def parse_record(raw: bytes) -> CriRecord | None:
    """One line of a CRI file (without its newline); ``None`` if it is not in that format."""
    first = raw.find(b" ")
    second = raw.find(b" ", first + 1)
    if first < 20 or second < 0:
        return None
    source = _STREAMS.get(raw[first + 1 : second])
    tag_end = raw.find(b" ", second + 1)
    tag = raw[second + 1 : tag_end] if tag_end >= 0 else raw[second + 1 :]
    if source is None or tag not in (b"P", b"F"):
        return None
    try:
        time = datetime.fromisoformat(raw[:first].decode("ascii"))
    except (ValueError, UnicodeDecodeError):
        return None
    if time.tzinfo is None:
        return None
    text = raw[tag_end + 1 :] if tag_end >= 0 else b""
    return CriRecord(time, source, tag == b"P", text)


def record_ends_line(raw: bytes) -> bool:
    """Whether a raw CRI line closes a log line (an ``F`` record, or not CRI at all)."""
    record = parse_record(raw)
    return record is None or not record.partial


class CriLineParser:
    """Turns one container run's CRI records into ``LogLine``s with their true stream.

    ``P`` fragments wait, per stream, for the ``F`` that closes them; the joined
    line takes the closing record's time, so lines come out in the order of
    their times. A joined line longer than ``max_line_bytes`` is cut and marked.
    Stateful like :class:`~flightdeck.log_relay.domain.lines.LineParser`: a
    continuation line keeps its head line's level.

    Args:
        max_line_bytes: longer lines are cut to this and marked ``…[truncated]``.
    """

    def __init__(self, max_line_bytes: int = 32_768) -> None:
        self._max = max_line_bytes
        self._partial: dict[LogSource, bytearray] = {}
        self._level = LogLevel.UNKNOWN
        self._time: datetime | None = None

    @property
    def pending(self) -> bool:
        """Whether fragments wait for their closing record."""
        return bool(self._partial)

    def parse(self, raw: bytes, fallback: datetime) -> LogLine | None:
        """One raw line of the file; ``None`` while it is a fragment of a longer line.

        A line that is not a CRI record (a foreign writer) is taken whole, its
        stream inferred from its level and marked so; ``fallback`` is its time
        when no line before it had one.
        """
        record = parse_record(raw)
        if record is None:
            time = self._time or fallback
            return self._line(time, None, raw)
        self._time = record.time
        if record.partial:
            self._hold(self._partial.setdefault(record.source, bytearray()), record.text)
            return None
        held = self._partial.pop(record.source, None)
        if held is not None:
            return self._line(record.time, record.source, bytes(self._hold(held, record.text)))
        return self._line(record.time, record.source, record.text)

    def _hold(self, held: bytearray, text: bytes) -> bytearray:
        """Add a fragment, keeping one byte past the limit so the cut is seen."""
        if len(held) <= self._max:
            held += text[: self._max + 1 - len(held)]
        return held

    def _line(self, time: datetime, source: LogSource | None, raw: bytes) -> LogLine:
        if len(raw) > self._max:
            text = raw[: self._max].decode("utf-8", "ignore") + TRUNCATED
        else:
            text = raw.decode("utf-8", "replace")
        if text.endswith("\r"):
            text = text[:-1]
        level = self._level = parse_level(text, self._level)
        if source is None:
            return LogLine(
                time=time, source=infer_source(level), source_inferred=True, level=level, text=text
            )
        return LogLine(time=time, source=source, source_inferred=False, level=level, text=text)


class LineSplitter:
    """Bytes read from a file into whole lines; a line still being written waits.

    Files are read in chunks that end anywhere; only bytes up to the last
    newline are lines yet. :meth:`finish` gives the rest when nothing more will
    be written (a rotated file at its end: a truncated last line is still a line).
    """

    def __init__(self) -> None:
        self._rest = b""

    @property
    def holding(self) -> int:
        """Bytes of an unfinished line held back."""
        return len(self._rest)

    def feed(self, chunk: bytes) -> list[bytes]:
        lines = chunk.split(b"\n")
        if self._rest:
            lines[0] = self._rest + lines[0]
        self._rest = lines.pop()
        return lines

    def finish(self) -> list[bytes]:
        rest, self._rest = self._rest, b""
        return [rest] if rest else []


class Step(enum.Enum):
    """What the tailer of one run's log does next, once it has read to the end of its file."""

    WAIT = "wait"  # the file may still grow: look again shortly
    SWITCH = "switch"  # rotated: the runtime writes a new file now; finish this one, open that
    REWIND = "rewind"  # shorter than what was read (truncated in place): read it again from 0
    END = "end"  # nothing more will be written to this run's log


@dataclass(frozen=True, slots=True)
class FileState:
    """What the tailer sees after reading everything its open file held.

    Args:
        open_id: (device, inode) of the open file.
        open_size: its size now.
        offset: how far it was read.
        path_id: (device, inode) of the file at the run's path now, ``None`` if none.
        newer_run: a later run of the container has a log (this run has ended).
        pod_gone: the pod's log directory is gone (the kubelet removed the pod).
        follow: keep following, rather than stop at the end of what is there.
    """

    open_id: tuple[int, int]
    open_size: int
    offset: int
    path_id: tuple[int, int] | None
    newer_run: bool
    pod_gone: bool
    follow: bool = True


def next_step(state: FileState) -> Step:
    """Rotation and end of a run, decided as the kubelet behaves (rename, then a new file)."""
    if state.open_size < state.offset:
        return Step.REWIND
    if state.path_id is not None and state.path_id != state.open_id:
        return Step.SWITCH
    if not state.follow or state.newer_run or state.pod_gone:
        return Step.END
    return Step.WAIT  # renamed but not reopened yet (no file at the path) waits too


ROTATED_STAMP_LEN = len("20060102-150405")


def run_of(name: str) -> int | None:
    """The run (restart count) of a live log file ``<n>.log``; ``None`` for anything else."""
    stem, dot, ext = name.partition(".")
    if ext != "log" or not dot or not stem.isdigit():
        return None
    return int(stem)


def rotated_files(names: list[str], run: int) -> list[str]:
    """The rotated, still uncompressed files of ``run``, oldest first (kubelet's names sort
    by time: ``<n>.log.<YYYYmmdd-HHMMSS>``)."""
    prefix = f"{run}.log."
    return sorted(
        name
        for name in names
        if name.startswith(prefix)
        and len(name) == len(prefix) + ROTATED_STAMP_LEN
        and name[len(prefix) :].replace("-", "").isdigit()
    )


def latest_run(names: list[str]) -> int | None:
    """The highest run with a live log file among ``names``."""
    runs = [r for name in names if (r := run_of(name)) is not None]
    return max(runs, default=None)


def tail_start(raw_lines: list[bytes], lines: int) -> int:
    """Where the last ``lines`` log lines start in ``raw_lines``, counting a run of
    ``P`` fragments and its ``F`` as one line, so a tail never starts mid-line."""
    if lines <= 0:
        return len(raw_lines)
    seen = 0
    for index in range(len(raw_lines) - 1, -1, -1):
        if record_ends_line(raw_lines[index]):
            if seen == lines:
                return index + 1
            seen += 1
    return 0


def pod_directory(namespace: str, pod: str, uid: str) -> str:
    """The kubelet's directory name of a pod's logs."""
    return f"{namespace}_{pod}_{uid}"
