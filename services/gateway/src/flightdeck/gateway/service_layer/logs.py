"""The log endpoints' handlers (beside :mod:`~flightdeck.gateway.service_layer.handlers`):
who may read an app's logs, where a stream starts, how much history it may replay
(ADR 0016), and one page of history.

Controllers and the WebSocket decode requests and call these; these never see HTTP.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from flightdeck.events import subjects
from flightdeck.eventstore import EventStore
from flightdeck.gateway.domain import ownership
from flightdeck.gateway.domain.auth import Principal
from flightdeck.gateway.domain.errors import ApiError, ErrorCode
from flightdeck.gateway.domain.logfilter import (
    Cursor,
    FilterError,
    LineFilter,
    LogFilter,
    RegexTooSlow,
    check_tail,
    compile_filter,
)
from flightdeck.gateway.domain.logrender import (
    ALL_LINES,
    GapPayload,
    LinePayload,
    LogRenderer,
    gap_payload,
    line_payloads,
)
from flightdeck.gateway.domain.rendering import ClientFilter, Renderer
from flightdeck.gateway.service_layer import loghistory

DEFAULT_TAIL = 1_000
"""History of a stream opened without ``since``, ``tail`` or a resume point."""


class AppOwners(Protocol):
    async def app_owner(self, namespace: str, app: str) -> str | None: ...


@dataclass
class LogReading:
    """What reading an app's logs needs (not frozen: a test narrows the history limit)."""

    store: EventStore
    owners: AppOwners
    max_history_lines: int
    """Most lines a stream or subscription replays (``tail``, or in ``since``/``until``)."""


async def check_app_visible(logs: LogReading, who: Principal, namespace: str, app: str) -> None:
    """``APP_NOT_FOUND`` unless ``who``'s tenant claimed the app (ADR 0012).

    One direct get of the app's claim, whoever asks: another tenant's app and an
    unknown one cost the same and answer alike. The gateway claims an app before
    it answers the first ``POST /deploy``, so a client may ask right after.
    """
    if await logs.owners.app_owner(namespace, app) != who.tenant:
        raise ownership.app_not_found(namespace, app)


def checked_filter(f: LogFilter, tail: int | None = None) -> LineFilter:
    """The compiled filter, or ``INVALID_LOG_FILTER`` naming the bad field."""
    try:
        check_tail(tail)
        if tail is not None and (f.since is not None or f.until is not None):
            raise FilterError("tail: use since/until or tail, not both")
        return compile_filter(f)
    except FilterError as exc:
        raise ApiError(ErrorCode.INVALID_LOG_FILTER, str(exc)) from exc


@dataclass(frozen=True)
class LogStart:
    """Where a log stream's replay starts, and the renderer that continues from there."""

    subject: str
    after: int
    renderer: Renderer
    client_filter: ClientFilter | None


async def stream_start(
    logs: LogReading,
    namespace: str,
    app: str,
    f: LineFilter,
    *,
    resume: Cursor | None,
    tail: int | None,
) -> LogStart:
    """History then live: after ``resume``, else from ``since``, else the last ``tail`` lines.

    ``tail=0`` is live only; with ``until`` alone the whole retained history is
    read; with nothing, the last :data:`DEFAULT_TAIL` kept lines.
    """
    subject = subjects.app_logs(namespace, app)
    store = logs.store
    first: Cursor | None = None
    if resume is not None:
        after, first = resume.after, resume
    elif f.since is not None:
        after = await loghistory.seek(store, subject, f.since)
    elif f.until is not None and tail is None:
        after = 0
    else:
        end = await loghistory.end_of(store, subject)
        count = DEFAULT_TAIL if tail is None else tail
        scan = loghistory.Scan()
        if count:
            with _slow_pattern():
                scan = await loghistory.scan_back(store, subject, f, count, before=Cursor(end + 1))
        after = end
        if len(scan.lines) < count and not scan.more:  # fewer than ``count`` exist: all
            after = 0
        elif scan.lines:
            rec, index = scan.lines[0]
            after = rec.position - 1
            first = Cursor(rec.position, index - 1) if index > 0 else None
    own = f != LineFilter() or (first is not None and first.line is not None)
    renderer = LogRenderer(f, first) if own else None
    return LogStart(subject=subject, after=after, renderer=ALL_LINES, client_filter=renderer)


@contextlib.contextmanager
def _slow_pattern() -> Iterator[None]:
    try:
        yield
    except RegexTooSlow as exc:
        raise ApiError(
            ErrorCode.INVALID_LOG_FILTER, f"the pattern {str(exc)[:80]!r} took too long on a line"
        ) from exc


@dataclass(frozen=True)
class HistoryPage:
    items: list[LinePayload]
    gaps: list[GapPayload]
    more: bool
    prev: str | None
    next: str | None


async def history_page(
    logs: LogReading,
    namespace: str,
    app: str,
    f: LineFilter,
    *,
    limit: int,
    before: Cursor | None,
    after: Cursor | None,
) -> HistoryPage:
    """One page of kept lines, oldest first.

    With ``after`` (or ``since``): the first ``limit`` lines after it, up to
    ``before`` if given. Otherwise the last ``limit`` lines before ``before``
    (default: the end), not older than ``since``.
    """
    subject = subjects.app_logs(namespace, app)
    store = logs.store
    lower = await loghistory.seek(store, subject, f.since) if f.since is not None else 0
    with _slow_pattern():
        if after is not None or f.since is not None:
            start = after if after is not None and after.after >= lower else Cursor(lower)
            scan = await loghistory.scan_forward(
                store, subject, f, limit, after=start, before=before
            )
            first_cursor = None
            last_cursor = scan.resume
        else:
            top = before or Cursor(await loghistory.end_of(store, subject) + 1)
            scan = await loghistory.scan_back(store, subject, f, limit, before=top, lower=lower)
            first_cursor = scan.resume if scan.more else None
            last_cursor = top.just_before()
    items = [p for rec, i in scan.lines for p in line_payloads(rec.event, rec.position, [i])]
    gaps = [gap_payload(g.event, g.position) for g in scan.gaps]
    if items:
        first_cursor = Cursor(scan.lines[0][0].position, scan.lines[0][1])
        last_cursor = Cursor(scan.lines[-1][0].position, scan.lines[-1][1])
    return HistoryPage(
        items=items,
        gaps=gaps,
        more=scan.more,
        prev=str(first_cursor) if first_cursor is not None else None,
        next=str(last_cursor) if last_cursor is not None else None,
    )


def checked_tail(logs: LogReading, tail: int | None) -> None:
    """``tail`` within ``max_history_lines`` (the filter checks the rest)."""
    limit = logs.max_history_lines
    if tail is not None and tail > limit:
        raise ApiError(ErrorCode.INVALID_LOG_FILTER, f"tail: at most {limit} lines")


async def checked_history(
    logs: LogReading, app: str, start: LogStart, f: LineFilter, *, by_time: bool
) -> None:
    """A history chosen by time (``since``, or ``until`` alone) holds at most
    ``max_history_lines`` kept lines, like a ``tail`` (ADR 0016).

    Counted before the stream opens, with the bounded history reader; a longer
    one is refused, pointing to the paged endpoint. A resume point is not
    capped: a client that reconnects must get what it missed.
    """
    if not by_time:
        return
    limit = logs.max_history_lines
    with _slow_pattern():
        scan = await loghistory.scan_forward(
            logs.store, start.subject, f, limit + 1, after=Cursor(start.after)
        )
    if len(scan.lines) > limit:
        raise ApiError(
            ErrorCode.INVALID_LOG_FILTER,
            f"since/until: more than {limit} lines in that time range; narrow it or use tail, "
            f"or page through them with GET /api/v1/logs/{app}",
        )
