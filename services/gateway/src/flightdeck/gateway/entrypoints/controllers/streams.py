"""Streaming endpoints: the deployment SSE stream, stream tickets, the WebSocket."""

from __future__ import annotations

from typing import Annotated, Any, cast

from litestar import Controller, WebSocket, get, post, websocket
from litestar.di import NamedDependency
from litestar.params import HeaderParameter, QueryParameter

from flightdeck.events import Recorded, subjects
from flightdeck.gateway.adapters import loghistory
from flightdeck.gateway.adapters.interleave import Interleaved, first_frame, second_frame
from flightdeck.gateway.adapters.streams import StreamSpec, Subscription
from flightdeck.gateway.bootstrap import Deps
from flightdeck.gateway.domain import deploylogs, pipeline, sse
from flightdeck.gateway.domain.auth import Principal
from flightdeck.gateway.domain.errors import ApiError, ErrorCode
from flightdeck.gateway.domain.logfilter import Cursor, parse_cursor
from flightdeck.gateway.domain.logrender import ALL_LINES, LogRenderer
from flightdeck.gateway.domain.rendering import Rendered
from flightdeck.gateway.entrypoints.auth import authenticate
from flightdeck.gateway.entrypoints.controllers.deployments import DeploymentId
from flightdeck.gateway.entrypoints.openapi import IN_PATH, READ, SECURED, STREAM, errors
from flightdeck.gateway.entrypoints.sse import SseConnection, SseResponse, SseTimings
from flightdeck.gateway.entrypoints.ws import WsConnection
from flightdeck.gateway.schemas import Envelope, StreamTicket
from flightdeck.gateway.service_layer import handlers


def sse_frame(rendered: Rendered) -> bytes:
    return rendered.sse


def timings(deps: NamedDependency[Deps]) -> SseTimings:
    c = deps.config
    return SseTimings(
        retry_ms=c.retry_ms,
        heartbeat_s=c.heartbeat_s,
        close_after_done_s=c.close_after_done_s,
        idle_timeout_s=c.idle_timeout_s,
        slow_close_grace_s=c.slow_close_grace_s,
    )


async def open_sse(
    deps: NamedDependency[Deps], spec: StreamSpec, principal: Principal
) -> SseResponse:
    """Admit one SSE client of ``principal``'s tenant for ``spec`` and return its
    streaming response.

    The logs endpoints reuse this with their own subject filter, renderer and
    per-client filter. The stream ends if ``principal``'s key is revoked.
    """
    sub = Subscription(deps.hub, deps.store, spec, limit=deps.config.client_buffer, frame=sse_frame)
    conn = SseConnection(
        sub, timings(deps), deps.connections, deps.metrics, principal.tenant, principal.token_id
    )
    deps.connections.admit(conn)
    try:
        await sub.attach()
    except BaseException:
        deps.connections.release(conn)
        raise
    return SseResponse(conn)


def resume_point(header: str | None, query: str | None) -> int:
    try:
        return sse.parse_last_event_id(header, query) or 0
    except ValueError as exc:
        raise ApiError(ErrorCode.VALIDATION_ERROR, "Last-Event-ID must be a position") from exc


def _two_cursors(header: str | None, query: str | None) -> tuple[int, Cursor | None]:
    """``<deployment position>[/<log cursor>]`` from Last-Event-ID or ``?lastEventId=``."""
    raw = header if header not in (None, "") else query
    if raw in (None, ""):
        return 0, None
    head, sep, tail = str(raw).partition("/")
    try:
        return resume_point(head, None), parse_cursor(tail) if sep else None
    except ValueError as exc:
        raise ApiError(
            ErrorCode.VALIDATION_ERROR, "Last-Event-ID must be <position>/<log cursor>"
        ) from exc


async def open_deployment_with_logs(
    deps: NamedDependency[Deps],
    deployment_id: str,
    after: int,
    log_cursor: Cursor | None,
    principal: Principal,
) -> SseResponse:
    """A deployment's events and its pods' ERROR/FATAL lines on one SSE stream (ADR 0011)."""
    subject = subjects.deployment(deployment_id)
    scope = deploylogs.scope_of(await deps.store.read(subject))
    if scope is None:
        raise ApiError(ErrorCode.DEPLOYMENT_NOT_FOUND, f"no deployment {deployment_id}")
    lines = LogRenderer(scope.line_filter(), log_cursor)

    def watch(rec: Recorded[Any]) -> Rendered | None:
        if scope.observe(rec):
            lines.line_filter = scope.line_filter()
        return pipeline.render(rec)

    log_subject = subjects.app_logs(scope.namespace, scope.app)
    if log_cursor is not None:
        log_after = log_cursor.after
    else:
        log_after = await loghistory.seek(deps.store, log_subject, scope.requested_at)
    limit = deps.config.client_buffer
    first = Subscription(
        deps.hub,
        deps.store,
        StreamSpec(subject, pipeline.render, after=after, client_filter=watch),
        limit=limit,
        frame=first_frame,
    )
    second = Subscription(
        deps.hub,
        deps.store,
        StreamSpec(log_subject, ALL_LINES, after=log_after, client_filter=lines),
        limit=limit,
        frame=second_frame,
    )
    merged = Interleaved(first, second, (str(after), str(log_cursor or Cursor(log_after))))
    # SseConnection is typed for a Subscription; Interleaved offers the same surface.
    conn = SseConnection(
        cast(Subscription, merged),
        timings(deps),
        deps.connections,
        deps.metrics,
        principal.tenant,
        principal.token_id,
    )
    deps.connections.admit(conn)
    try:
        await merged.attach()
    except BaseException:
        merged.detach()
        deps.connections.release(conn)
        raise
    return SseResponse(conn)


class DeploymentEventsController(Controller):
    path = "/api/v1/deploy"
    tags = ["streams"]
    security = SECURED

    @get(
        "/{deployment_id:str}/events",
        operation_id="streamDeploymentEvents",
        summary="SSE: the deployment's events, history then live",
        media_type="text/event-stream",
        responses=errors(*READ, *STREAM, *IN_PATH, ErrorCode.DEPLOYMENT_NOT_FOUND),
    )
    async def events(
        self,
        deployment_id: DeploymentId,
        deps: NamedDependency[Deps],
        stream_principal: NamedDependency[Principal],
        last_event_id_header: Annotated[
            str | None, HeaderParameter(name="Last-Event-ID", required=False)
        ] = None,
        last_event_id: Annotated[
            str | None, QueryParameter(name="lastEventId", required=False)
        ] = None,
        ticket: Annotated[str | None, QueryParameter(name="ticket", required=False)] = None,
        include: Annotated[
            str | None,
            QueryParameter(
                name="include", required=False, description="logs: add its pods' ERROR lines"
            ),
        ] = None,
    ) -> SseResponse:
        if include not in (None, "", "logs"):
            raise ApiError(ErrorCode.VALIDATION_ERROR, "include: the only value is logs")
        after, log_cursor = _two_cursors(last_event_id_header, last_event_id)
        await handlers.check_deployment_visible(deps, stream_principal, deployment_id)
        if include == "logs":
            return await open_deployment_with_logs(
                deps, deployment_id, after, log_cursor, stream_principal
            )
        spec = StreamSpec(
            subject_filter=subjects.deployment(deployment_id),
            renderer=pipeline.render,
            after=after,
        )
        return await open_sse(deps, spec, stream_principal)


class StreamTicketController(Controller):
    path = "/api/v1/stream-tickets"
    tags = ["streams"]
    security = SECURED

    @post(
        "/",
        operation_id="createStreamTicket",
        status_code=201,
        summary="A short-lived SSE ticket",
        responses=errors(ErrorCode.UNAUTHORIZED),
    )
    async def create(
        self, deps: NamedDependency[Deps], principal: NamedDependency[Principal]
    ) -> Envelope[StreamTicket]:
        return Envelope(code=201, message="Created", data=handlers.issue_ticket(deps, principal))


@websocket("/api/v1/ws", operation_id="websocket")
async def websocket_endpoint(socket: WebSocket[Any, Any, Any], deps: NamedDependency[Deps]) -> None:
    """Pipelines and logs on one socket (messages documented in docs/api.md)."""
    await socket.accept()
    try:
        principal = await authenticate(deps, socket, tickets=True)
        conn = WsConnection(socket, deps, principal)
        deps.connections.admit(conn)
    except ApiError as exc:
        deps.metrics.error(exc.code.value)
        await socket.send_json({"type": "error", "code": exc.code.value, "message": exc.message})
        await socket.close(code=4401 if exc.code == ErrorCode.UNAUTHORIZED else 1013)
        return
    try:
        await conn.run()
    finally:
        deps.connections.release(conn)
