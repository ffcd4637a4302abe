"""How much log history one stream or subscription may replay (ADR 0016).

``tail`` is at most ``max_history_lines``; so is a history chosen by time
(``since``, or ``until`` alone), counted before the stream opens. Shared by the
SSE endpoint and the WebSocket.
"""

from __future__ import annotations

from flightdeck.gateway.adapters import loghistory
from flightdeck.gateway.bootstrap import Deps
from flightdeck.gateway.domain.errors import ApiError, ErrorCode
from flightdeck.gateway.domain.logfilter import Cursor, LineFilter, RegexTooSlow
from flightdeck.gateway.service_layer import logs as loghandlers


def checked_tail(deps: Deps, tail: int | None) -> None:
    """``tail`` within ``max_history_lines`` (the filter checks the rest)."""
    limit = deps.config.max_history_lines
    if tail is not None and tail > limit:
        raise ApiError(ErrorCode.INVALID_LOG_FILTER, f"tail: at most {limit} lines")


async def checked_history(
    deps: Deps, app: str, start: loghandlers.LogStart, f: LineFilter, *, by_time: bool
) -> None:
    """A history chosen by time (``since``, or ``until`` alone) holds at most
    ``max_history_lines`` kept lines, like a ``tail`` (ADR 0016).

    Counted before the stream opens, with the bounded history reader; a longer
    one is refused, pointing to the paged endpoint. A resume point is not
    capped: a client that reconnects must get what it missed.
    """
    if not by_time:
        return
    limit = deps.config.max_history_lines
    try:
        scan = await loghistory.scan_forward(
            deps.store, start.subject, f, limit + 1, after=Cursor(start.after)
        )
    except RegexTooSlow as exc:
        raise ApiError(
            ErrorCode.INVALID_LOG_FILTER, f"the pattern {str(exc)[:80]!r} took too long on a line"
        ) from exc
    if len(scan.lines) > limit:
        raise ApiError(
            ErrorCode.INVALID_LOG_FILTER,
            f"since/until: more than {limit} lines in that time range; narrow it or use tail, "
            f"or page through them with GET /api/v1/logs/{app}",
        )
