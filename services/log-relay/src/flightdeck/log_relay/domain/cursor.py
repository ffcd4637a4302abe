"""Where a container's relayed log ends, and how to resume after it without duplicates.

The pods/log API can only resume by time (``sinceSeconds``, whole seconds, and
the generated client has no ``sinceTime``), and several lines may carry the
same timestamp. So a cursor is the last relayed line's timestamp plus how many
relayed lines carried exactly that timestamp; a resume asks for a little more
than needed and skips the prefix of lines at or before the cursor.

Timestamps are expected never to go backwards within a container's log (the
runtime stamps lines as it receives them). Should one do so, the cursor keeps
the latest time, and such a line is treated as already relayed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime

import msgspec


class Cursor(msgspec.Struct, frozen=True, kw_only=True):
    """The end of what was relayed for one container.

    Args:
        time: the timestamp of the last relayed line.
        count: how many relayed lines carried exactly ``time``.
        restarts: the restart count of the container run that line came from.
        pod_uid: the pod it belongs to, so a new pod with an old name starts afresh.
    """

    time: datetime
    count: int
    restarts: int = 0
    pod_uid: str = ""


def advance(cursor: Cursor | None, time: datetime, restarts: int, pod_uid: str) -> Cursor:
    """The cursor after one more line stamped ``time``."""
    if cursor is None or time > cursor.time:
        return Cursor(time=time, count=1, restarts=restarts, pod_uid=pod_uid)
    if time == cursor.time:
        return Cursor(time=time, count=cursor.count + 1, restarts=restarts, pod_uid=pod_uid)
    return cursor


def advance_all(
    cursor: Cursor | None, times: Iterable[datetime], restarts: int, pod_uid: str
) -> Cursor | None:
    """The cursor after lines stamped ``times``, in order (one struct, however many lines)."""
    last, count = (cursor.time, cursor.count) if cursor is not None else (None, 0)
    moved = False
    for time in times:
        moved = True
        if last is None or time > last:
            last, count = time, 1
        elif time == last:
            count += 1
    if last is None or not moved:
        return cursor
    return Cursor(time=last, count=count, restarts=restarts, pod_uid=pod_uid)


class ResumeFilter:
    """Skips the lines of a resumed read that the cursor already covers.

    Only a *prefix* is skipped: the first line past the cursor opens the gate for
    good, so a resumed read drops exactly what was relayed before and nothing after.

    Args:
        cursor: the end of what was relayed; ``None`` lets every line through.
    """

    def __init__(self, cursor: Cursor | None) -> None:
        self._cursor = cursor
        self._same_time = 0
        self.skipped = 0

    @property
    def open(self) -> bool:
        return self._cursor is None

    def admit(self, time: datetime) -> bool:
        """Whether the next line, stamped ``time``, is new."""
        cursor = self._cursor
        if cursor is None:
            return True
        if time < cursor.time or (time == cursor.time and self._same_time < cursor.count):
            if time == cursor.time:
                self._same_time += 1
            self.skipped += 1
            return False
        self._cursor = None
        return True


def since_seconds(cursor_time: datetime, now: datetime) -> int:
    """The ``sinceSeconds`` that surely reaches back to ``cursor_time``: rounded up, plus one
    second for clock skew between us and the node."""
    return max(1, math.ceil((now - cursor_time).total_seconds()) + 1)
