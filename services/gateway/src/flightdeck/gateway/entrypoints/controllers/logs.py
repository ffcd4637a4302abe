"""An app's pod logs: the SSE stream (history then live) and pages of history as JSON.

Both take the same filters as query parameters; list parameters accept
repeated and comma-separated values alike (``levels=ERROR,WARN``).
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency, Provide
from litestar.params import HeaderParameter, PathParameter, QueryParameter

from flightdeck.gateway.adapters.streams import StreamSpec
from flightdeck.gateway.domain.auth import Principal
from flightdeck.gateway.domain.errors import ApiError, ErrorCode
from flightdeck.gateway.domain.logfilter import (
    Cursor,
    FilterError,
    LogFilter,
    parse_cursor,
    parse_time,
    split_values,
)
from flightdeck.gateway.entrypoints.controllers.streams import sse_frame
from flightdeck.gateway.entrypoints.openapi import IN_PATH, READ, SECURED, STREAM, errors
from flightdeck.gateway.entrypoints.sse import SseResponse, SseSetup, respond
from flightdeck.gateway.schemas import DNS_LABEL, Envelope, LogPage
from flightdeck.gateway.service_layer import logs as loghandlers
from flightdeck.gateway.service_layer.logs import LogReading
from flightdeck.gateway.service_layer.streams import Streaming

ListParam = list[str] | None
AppPath = Annotated[str, PathParameter(min_length=1, max_length=53, pattern=DNS_LABEL)]
_NS = QueryParameter(
    name="namespace",
    min_length=1,
    max_length=63,
    pattern=DNS_LABEL,
    description="the app's namespace",
)
_LEVELS = QueryParameter(
    name="levels", description="TRACE, DEBUG, INFO, WARN, ERROR, FATAL, UNKNOWN (any of)"
)
_SOURCES = QueryParameter(name="sources", description="stdout, stderr")
_KEYWORDS = QueryParameter(name="keywords", description="case-insensitive; a line has any of them")
_INCLUDE = QueryParameter(
    name="include", max_length=512, description="regular expression a line must match"
)
_EXCLUDE = QueryParameter(
    name="exclude", max_length=512, description="regular expression a line must not match"
)
_PODS = QueryParameter(name="pods", description="pod names (any of)")
_CONTAINERS = QueryParameter(name="containers", description="container names (any of)")
_SINCE = QueryParameter(name="since", description="ISO 8601; lines at or after")
_UNTIL = QueryParameter(name="until", description="ISO 8601; lines at or before")


def log_filter(
    levels: Annotated[ListParam, _LEVELS] = None,
    sources: Annotated[ListParam, _SOURCES] = None,
    keywords: Annotated[ListParam, _KEYWORDS] = None,
    include: Annotated[str | None, _INCLUDE] = None,
    exclude: Annotated[str | None, _EXCLUDE] = None,
    pods: Annotated[ListParam, _PODS] = None,
    containers: Annotated[ListParam, _CONTAINERS] = None,
    since: Annotated[str | None, _SINCE] = None,
    until: Annotated[str | None, _UNTIL] = None,
) -> LogFilter:
    """The filter from query parameters (``INVALID_LOG_FILTER`` for a bad time): a
    dependency of both handlers, so they share the parameters and their docs."""
    try:
        return LogFilter(
            levels=split_values(levels),
            sources=split_values(sources),
            keywords=split_values(keywords),
            include=include,
            exclude=exclude,
            pods=split_values(pods),
            containers=split_values(containers),
            since=parse_time("since", since),
            until=parse_time("until", until),
        )
    except FilterError as exc:
        raise ApiError(ErrorCode.INVALID_LOG_FILTER, str(exc)) from exc


def cursor_param(name: str, *values: str | None) -> Cursor | None:
    """The first non-empty of ``values`` as a cursor; ``VALIDATION_ERROR`` when malformed."""
    for value in values:
        if value not in (None, ""):
            try:
                return parse_cursor(value)
            except ValueError as exc:
                raise ApiError(
                    ErrorCode.VALIDATION_ERROR,
                    f"{name} must be a position or <position>:<line>, like 1041:3",
                ) from exc
    return None


class LogsController(Controller):
    """``/api/v1/logs/{app}``: an app's log lines, filtered on the server."""

    path = "/api/v1/logs"
    tags = ["logs"]
    security = SECURED
    dependencies = {"wanted": Provide(log_filter, sync_to_thread=False)}

    @get(
        "/{app:str}/stream",
        operation_id="streamAppLogs",
        summary="SSE: an app's log lines, history then live (one message per line)",
        media_type="text/event-stream",
        responses=errors(
            *READ, *STREAM, *IN_PATH, ErrorCode.INVALID_LOG_FILTER, ErrorCode.APP_NOT_FOUND
        ),
    )
    async def stream(
        self,
        app: AppPath,
        logs: NamedDependency[LogReading],
        streaming: NamedDependency[Streaming],
        sse_setup: NamedDependency[SseSetup],
        stream_principal: NamedDependency[Principal],
        wanted: NamedDependency[LogFilter],
        namespace: Annotated[str, _NS] = "default",
        tail: Annotated[
            int | None,
            QueryParameter(
                name="tail",
                description="start with the N most recent kept lines "
                "(0 to max_history_lines, 10,000 by default)",
            ),
        ] = None,
        last_event_id_header: Annotated[
            str | None, HeaderParameter(name="Last-Event-ID", required=False)
        ] = None,
        last_event_id: Annotated[
            str | None, QueryParameter(name="lastEventId", required=False)
        ] = None,
        ticket: Annotated[str | None, QueryParameter(name="ticket", required=False)] = None,
    ) -> SseResponse:
        loghandlers.checked_tail(logs, tail)
        line_filter = loghandlers.checked_filter(wanted, tail)
        resume = cursor_param("Last-Event-ID", last_event_id_header, last_event_id)
        await loghandlers.check_app_visible(logs, stream_principal, namespace, app)
        start = await loghandlers.stream_start(
            logs, namespace, app, line_filter, resume=resume, tail=tail
        )
        by_time = resume is None and tail is None and (wanted.since or wanted.until) is not None
        await loghandlers.checked_history(logs, app, start, line_filter, by_time=by_time)
        spec = StreamSpec(
            subject_filter=start.subject,
            renderer=start.renderer,
            after=start.after,
            client_filter=start.client_filter,
        )
        return await respond(sse_setup, streaming.subscribe(spec, sse_frame), stream_principal)

    @get(
        "/{app:str}",
        operation_id="getAppLogs",
        summary="A page of an app's log history (same filters; before/after cursors)",
        responses=errors(*READ, *IN_PATH, ErrorCode.INVALID_LOG_FILTER, ErrorCode.APP_NOT_FOUND),
    )
    async def page(
        self,
        app: AppPath,
        logs: NamedDependency[LogReading],
        principal: NamedDependency[Principal],
        wanted: NamedDependency[LogFilter],
        namespace: Annotated[str, _NS] = "default",
        limit: Annotated[int, QueryParameter(name="limit", ge=1, le=1000)] = 100,
        before: Annotated[
            str | None, QueryParameter(name="before", description="lines before this cursor")
        ] = None,
        after: Annotated[
            str | None, QueryParameter(name="after", description="lines after this cursor")
        ] = None,
    ) -> Envelope[LogPage]:
        line_filter = loghandlers.checked_filter(wanted)
        upper = cursor_param("before", before)
        lower = cursor_param("after", after)
        await loghandlers.check_app_visible(logs, principal, namespace, app)
        found = await loghandlers.history_page(
            logs, namespace, app, line_filter, limit=limit, before=upper, after=lower
        )
        page = LogPage(
            items=found.items,
            gaps=found.gaps,
            limit=limit,
            has_more=found.more,
            prev=found.prev,
            next=found.next,
        )
        return Envelope(code=200, message="OK", data=page)
