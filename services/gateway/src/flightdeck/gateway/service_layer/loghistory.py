"""Finding places in an app's log history: by time, by the last N matching lines, by page.

JetStream reads forward only, so "the last N matching lines" walks back in
windows of stream positions that grow four-fold, each window read forward with
batched direct gets bounded in messages and bytes (log events are up to
256 KiB). A time becomes a position with one direct get by ``start_time``: a
line is stored after the kubelet stamped it, so the first event stored at or
after ``t - CLOCK_SLACK`` is early enough for every line at or after ``t``.
Every scan stops after :data:`SCAN_LINES` lines and says so, so no request can
make the gateway read the whole stream.

It reads only through the event-store port and does no I/O of its own, so it
belongs to the service layer, beside the log handlers that use it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flightdeck.events import Recorded
from flightdeck.events.logs import LogFollowLost, LogLinesCaptured
from flightdeck.events.streams import stream_for_subject
from flightdeck.eventstore import EventStore
from flightdeck.gateway.domain.logfilter import Cursor, LineFilter

SCAN_LINES = 500_000
"""The most lines one history request examines."""
CLOCK_SLACK = timedelta(seconds=60)
"""How far a node's clock may be ahead of the NATS server's without losing lines."""
FIRST_WINDOW = 512
"""Positions in the first window back: at most 500 lines each, well within one scan."""


async def seek(store: EventStore, subject_filter: str, at: datetime) -> int:
    """The position to replay *after* so that lines stamped at or after ``at`` are all read."""
    end = await end_of(store, subject_filter)  # before the seek: a later line is after it
    start = max(at - CLOCK_SLACK, datetime(1970, 1, 1, tzinfo=UTC))
    found = await store.position_at(subject_filter, start)
    return end if found is None else found - 1


async def end_of(store: EventStore, subject_filter: str) -> int:
    return await store.stream_last_position(stream_for_subject(subject_filter))


async def read_range(
    store: EventStore, subject_filter: str, after: int, upto: int | None = None
) -> AsyncGenerator[list[Recorded[Any]], None]:
    """Stored events in ``(after, upto]``, a batch at a time, each request bounded in
    messages and bytes (log events are up to 256 KiB)."""
    chunks = store.read_chunks(
        stream_for_subject(subject_filter),
        subject_filter,
        after=after,
        upto=upto,
        batch=256,
        max_bytes=1 << 20,
    )
    async with contextlib.aclosing(chunks):
        async for chunk in chunks:
            if chunk.events:
                yield chunk.events


Line = tuple[Recorded[Any], int]
"""One kept line: its event and its index in the event."""


@dataclass
class Scan:
    """What a history scan found, oldest first.

    ``more`` says the scan stopped early (the count or :data:`SCAN_LINES`); then
    ``resume`` is where to go on in the same direction when no line was found.
    """

    lines: list[Line] = field(default_factory=list)
    gaps: list[Recorded[Any]] = field(default_factory=list)
    more: bool = False
    resume: Cursor | None = None


def _kept(
    rec: Recorded[Any], f: LineFilter, lower: Cursor | None, upper: Cursor | None
) -> list[int]:
    """Kept line indices of ``rec`` strictly after ``lower`` and strictly before ``upper``."""
    kept = f.indices(rec.event)
    if lower is not None and lower.line is not None and rec.position == lower.position:
        kept = [i for i in kept if i > lower.line]
    if upper is not None and upper.line is not None and rec.position == upper.position:
        kept = [i for i in kept if i < upper.line]
    return kept


def _upper_position(before: Cursor) -> int:
    """The last event with lines before ``before`` (a bare cursor excludes its event)."""
    return before.position if before.line is not None else before.position - 1


async def scan_back(
    store: EventStore,
    subject_filter: str,
    f: LineFilter,
    count: int,
    *,
    before: Cursor | None = None,
    lower: int = 0,
) -> Scan:
    """The last ``count`` kept lines before ``before`` (default: the end) and after ``lower``.

    A window that would take the scan past :data:`SCAN_LINES` is abandoned whole
    (never the first, which is small enough), so what is returned is always
    every kept line between the oldest one returned and ``before``.
    """
    top = _upper_position(before) if before is not None else await end_of(store, subject_filter)
    windows: list[tuple[list[Line], list[Recorded[Any]]]] = []
    found = examined = 0
    window = FIRST_WINDOW
    while top > lower and found < count:
        bottom = max(lower, top - window)
        budget = SCAN_LINES - examined if windows else None
        part = await _window(store, subject_filter, f, bottom, top, before, budget)
        if part is None:
            break
        lines, gaps, seen = part
        windows.append((lines, gaps))
        found += len(lines)
        examined += seen
        top = bottom
        window *= 4
    every = [line for lines, _ in reversed(windows) for line in lines]
    kept = every[-count:] if count else []
    first = kept[0][0].position if kept else 0
    gaps = [g for _, gs in reversed(windows) for g in gs if g.position >= first]
    scan = Scan(lines=kept, gaps=gaps, more=top > lower or len(every) > len(kept))
    if scan.more and not kept:
        scan.resume = Cursor(top + 1)
    return scan


async def _window(
    store: EventStore,
    subject_filter: str,
    f: LineFilter,
    bottom: int,
    top: int,
    before: Cursor | None,
    budget: int | None,
) -> tuple[list[Line], list[Recorded[Any]], int] | None:
    """Kept lines and gaps in ``(bottom, top]``; ``None`` once more than ``budget`` lines are seen."""
    lines: list[Line] = []
    gaps: list[Recorded[Any]] = []
    seen = 0
    async with contextlib.aclosing(read_range(store, subject_filter, bottom, top)) as reads:
        async for batch in reads:
            for rec in batch:
                e = rec.event
                if isinstance(e, LogLinesCaptured):
                    seen += len(e.lines)
                    if budget is not None and seen > budget:
                        return None
                    lines += [(rec, i) for i in _kept(rec, f, None, before)]
                elif isinstance(e, LogFollowLost) and f.keeps_gap(
                    e.pod, e.container, e.since, e.until
                ):
                    gaps.append(rec)
    return lines, gaps, seen


async def scan_forward(
    store: EventStore,
    subject_filter: str,
    f: LineFilter,
    count: int,
    *,
    after: Cursor,
    before: Cursor | None = None,
) -> Scan:
    """The first ``count`` kept lines after ``after`` (and before ``before``, if given)."""
    upto = _upper_position(before) if before is not None else None
    scan = Scan(resume=after)
    examined = 0
    async with contextlib.aclosing(read_range(store, subject_filter, after.after, upto)) as reads:
        async for batch in reads:
            for rec in batch:
                e = rec.event
                if isinstance(e, LogFollowLost):
                    if f.keeps_gap(e.pod, e.container, e.since, e.until):
                        scan.gaps.append(rec)
                    scan.resume = Cursor(rec.position)
                    continue
                if not isinstance(e, LogLinesCaptured):
                    continue
                examined += len(e.lines)
                kept = _kept(rec, f, after, before)
                room = count - len(scan.lines)
                scan.lines += [(rec, i) for i in kept[:room]]
                if len(kept) >= room:
                    scan.more = True
                    scan.resume = Cursor(rec.position, kept[room - 1]) if room else scan.resume
                    return scan
                scan.resume = Cursor(rec.position)
                if examined >= SCAN_LINES:
                    scan.more = True
                    return scan
    return scan
