"""When to publish a container's pending lines, how many, and under which id.

A batch goes out when it is full (lines or bytes) or its oldest line has waited
``linger_s``: full batches under load, a short wait when quiet. Its event id is
derived from the container and the position of its first line, never random,
so a batch published again after a crash is recognised by JetStream's duplicate
window instead of being stored twice.
"""

from __future__ import annotations

import hashlib
from collections import deque
from dataclasses import dataclass
from datetime import datetime

from flightdeck.events.logs import LogLine
from flightdeck.log_relay.domain.cursor import Cursor

LINE_OVERHEAD = 48
"""Bytes a line costs on the wire besides its text (timestamp, level, source, JSON)."""


@dataclass(frozen=True)
class BatchPolicy:
    """Bounds of one ``LogLinesCaptured``.

    Args:
        max_lines: lines in one event at most.
        max_bytes: approximate encoded size of one event at most (NATS caps a message).
        linger_s: how long the oldest pending line may wait for more company.
    """

    max_lines: int = 500
    max_bytes: int = 256 * 1024
    linger_s: float = 0.025


def line_size(line: LogLine) -> int:
    return len(line.text) + LINE_OVERHEAD


def due(policy: BatchPolicy, pending_lines: int, oldest_age_s: float) -> bool:
    """Whether pending lines should be published now rather than wait for more."""
    return pending_lines >= policy.max_lines or oldest_age_s >= policy.linger_s


@dataclass(frozen=True)
class RunStarted:
    """Lines after this come from the container run with this restart count: a batch
    never spans two runs, so its ``restart_count`` is one number."""

    restarts: int


@dataclass(frozen=True)
class Gap:
    """Lines that will never be relayed, in their place in the order."""

    reason: str
    dropped_lines: int = 0
    since: datetime | None = None
    until: datetime | None = None


Pending = LogLine | RunStarted | Gap


def take(pending: deque[Pending], policy: BatchPolicy) -> list[LogLine] | RunStarted | Gap:
    """Remove and return what goes out next from the front of ``pending``: a marker on its
    own, or a batch of lines (at least one) ending before the next marker or bound."""
    first = pending.popleft()
    if not isinstance(first, LogLine):
        return first
    batch = [first]
    size = line_size(first)
    while pending and len(batch) < policy.max_lines:
        line = pending[0]
        if not isinstance(line, LogLine):
            break
        size += line_size(line)
        if size > policy.max_bytes:
            break
        pending.popleft()
        batch.append(line)
    return batch


def event_id(namespace: str, pod: str, container: str, first: Cursor, kind: str = "lines") -> str:
    """The id of the event that starts at ``first`` (the cursor just after its first line).

    Same container, same first line, same id: whatever the batch's length, so a
    re-published batch is found by its id and its stored length read back.
    """
    key = f"{kind}\0{namespace}\0{pod}\0{container}\0{first.time.isoformat()}\0{first.count}"
    return hashlib.blake2b(key.encode(), digest_size=16).hexdigest()
