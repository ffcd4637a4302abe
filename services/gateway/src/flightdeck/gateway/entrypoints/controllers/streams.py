"""Streaming endpoints: the deployment SSE stream, stream tickets, the WebSocket."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, WebSocket, get, post, websocket
from litestar.di import NamedDependency
from litestar.params import FromPath, HeaderParameter, QueryParameter

from flightdeck.events import subjects
from flightdeck.gateway import handlers
from flightdeck.gateway.adapters.streams import StreamSpec, Subscription
from flightdeck.gateway.bootstrap import Deps
from flightdeck.gateway.domain import pipeline, sse
from flightdeck.gateway.domain.auth import Principal
from flightdeck.gateway.domain.errors import ApiError, ErrorCode
from flightdeck.gateway.domain.rendering import Rendered
from flightdeck.gateway.entrypoints.auth import authenticate
from flightdeck.gateway.entrypoints.sse import SseConnection, SseResponse, SseTimings
from flightdeck.gateway.entrypoints.ws import WsConnection
from flightdeck.gateway.schemas import Envelope, StreamTicket


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


async def open_sse(deps: NamedDependency[Deps], spec: StreamSpec) -> SseResponse:
    """Admit one SSE client for ``spec`` and return its streaming response.

    The logs endpoints reuse this with their own subject filter, renderer and
    per-client filter.
    """
    sub = Subscription(deps.hub, deps.store, spec, limit=deps.config.client_buffer, frame=sse_frame)
    conn = SseConnection(sub, timings(deps), deps.connections, deps.metrics)
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


class DeploymentEventsController(Controller):
    path = "/api/v1/deploy"
    tags = ["streams"]

    @get(
        "/{deployment_id:str}/events",
        operation_id="streamDeploymentEvents",
        summary="SSE: the deployment's events, history then live",
        media_type="text/event-stream",
    )
    async def events(
        self,
        deployment_id: FromPath[str],
        deps: NamedDependency[Deps],
        stream_principal: NamedDependency[Principal],
        last_event_id_header: Annotated[
            str | None, HeaderParameter(name="Last-Event-ID", required=False)
        ] = None,
        last_event_id: Annotated[
            str | None, QueryParameter(name="lastEventId", required=False)
        ] = None,
        ticket: Annotated[str | None, QueryParameter(name="ticket", required=False)] = None,
    ) -> SseResponse:
        after = resume_point(last_event_id_header, last_event_id)
        await handlers.check_deployment_visible(deps, stream_principal, deployment_id)
        spec = StreamSpec(
            subject_filter=subjects.deployment(deployment_id),
            renderer=pipeline.render,
            after=after,
        )
        return await open_sse(deps, spec)


class StreamTicketController(Controller):
    path = "/api/v1/stream-tickets"
    tags = ["streams"]

    @post(
        "/", operation_id="createStreamTicket", status_code=201, summary="A short-lived SSE ticket"
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
