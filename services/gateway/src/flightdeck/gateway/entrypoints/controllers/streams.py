"""Streaming endpoints: the deployment SSE stream, stream tickets, the WebSocket."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, WebSocket, get, post, websocket
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import HeaderParameter, QueryParameter
from litestar.response.base import ASGIResponse

from flightdeck.gateway.adapters.interleave import Interleaved
from flightdeck.gateway.adapters.streams import Subscription
from flightdeck.gateway.domain import sse
from flightdeck.gateway.domain.auth import Principal
from flightdeck.gateway.domain.errors import ApiError, ErrorCode
from flightdeck.gateway.domain.logfilter import Cursor, parse_cursor
from flightdeck.gateway.domain.rendering import Rendered
from flightdeck.gateway.entrypoints.auth import authenticate
from flightdeck.gateway.entrypoints.controllers.deployments import DeploymentId
from flightdeck.gateway.entrypoints.openapi import IN_PATH, READ, SECURED, STREAM, errors
from flightdeck.gateway.entrypoints.sse import SseSetup, respond
from flightdeck.gateway.entrypoints.ws import WsConnection, WsSetup
from flightdeck.gateway.schemas import Envelope, StreamTicket
from flightdeck.gateway.service_layer import handlers, streams
from flightdeck.gateway.service_layer.handlers import Ticketing
from flightdeck.gateway.service_layer.logs import LogReading
from flightdeck.gateway.service_layer.streams import Streaming
from flightdeck.gateway.service_layer.tokens import Authenticator

NO_STORE = {"cache-control": "no-store"}


def sse_frame(rendered: Rendered) -> bytes:
    return rendered.sse


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


class DeploymentEventsController(Controller):
    path = "/api/v1/deploy"
    tags = ["streams"]
    security = SECURED

    @get(
        "/{deployment_id:str}/events",
        operation_id="streamDeploymentEvents",
        summary="SSE: the deployment's events, history then live",
        media_type="text/event-stream",
        responses={
            204: ResponseSpec(
                data_container=None,
                description="No Content: Last-Event-ID is at or past the deployment's final "
                "event (done or error); nothing will follow, and EventSource stops",
            ),
            **errors(*READ, *STREAM, *IN_PATH, ErrorCode.DEPLOYMENT_NOT_FOUND),
        },
    )
    async def events(
        self,
        deployment_id: DeploymentId,
        streaming: NamedDependency[Streaming],
        sse_setup: NamedDependency[SseSetup],
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
    ) -> ASGIResponse:
        if include not in (None, "", "logs"):
            raise ApiError(ErrorCode.VALIDATION_ERROR, "include: the only value is logs")
        after, log_cursor = _two_cursors(last_event_id_header, last_event_id)
        await streams.check_deployment_visible(streaming, stream_principal, deployment_id)
        if await streams.ended_within(streaming, deployment_id, after):
            return ASGIResponse(status_code=204, headers=NO_STORE)
        sub: Subscription | Interleaved
        if include == "logs":
            sub = await streams.deployment_with_logs(
                streaming, stream_principal, deployment_id, after, log_cursor
            )
        else:
            sub = streams.deployment_events(streaming, deployment_id, after, sse_frame)
        return await respond(sse_setup, sub, stream_principal)


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
        self, tickets: NamedDependency[Ticketing], principal: NamedDependency[Principal]
    ) -> Envelope[StreamTicket]:
        return Envelope(code=201, message="Created", data=handlers.issue_ticket(tickets, principal))


@websocket("/api/v1/ws", operation_id="websocket")
async def websocket_endpoint(
    socket: WebSocket[Any, Any, Any],
    auth: NamedDependency[Authenticator],
    ws_setup: NamedDependency[WsSetup],
    streaming: NamedDependency[Streaming],
    logs: NamedDependency[LogReading],
) -> None:
    """Pipelines and logs on one socket (messages documented in docs/api.md)."""
    await socket.accept()
    try:
        principal = await authenticate(auth, socket, tickets=True)
        conn = WsConnection(socket, principal, ws_setup, streaming, logs)
        ws_setup.connections.admit(conn)
    except ApiError as exc:
        ws_setup.metrics.error(exc.code.value)
        await socket.send_json({"type": "error", "code": exc.code.value, "message": exc.message})
        await socket.close(code=4401 if exc.code == ErrorCode.UNAUTHORIZED else 1013)
        return
    try:
        await conn.run()
    finally:
        ws_setup.connections.release(conn)
