"""The live app view (ADR 0023): an app now, its stream, and the tenant's feed.

``GET /api/v1/apps/{app}`` answers from the read model; ``GET
/api/v1/apps/{app}/events`` streams the app's pods, CPU/memory, replicas,
deployments and ops actions, history then live; ``GET /api/v1/events`` streams
every deployment event and ops action of the caller's tenant. Payloads are
documented in docs/api.md.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import HeaderParameter, QueryParameter

from flightdeck.gateway.adapters.joined import parse_cursor
from flightdeck.gateway.domain.appview import AppSummary, AppView
from flightdeck.gateway.domain.auth import Principal
from flightdeck.gateway.domain.errors import ApiError, ErrorCode
from flightdeck.gateway.entrypoints.controllers.logs import AppPath
from flightdeck.gateway.entrypoints.openapi import IN_PATH, READ, SECURED, STREAM, errors
from flightdeck.gateway.entrypoints.sse import SseResponse, SseSetup, respond
from flightdeck.gateway.schemas import DNS_LABEL, Envelope, Page
from flightdeck.gateway.service_layer import apps, streams
from flightdeck.gateway.service_layer.apps import AppViewing
from flightdeck.gateway.service_layer.streams import Streaming

_NS = QueryParameter(
    name="namespace",
    min_length=1,
    max_length=63,
    pattern=DNS_LABEL,
    description="the app's namespace",
)
LastEventIdHeader = Annotated[str | None, HeaderParameter(name="Last-Event-ID", required=False)]
LastEventIdQuery = Annotated[str | None, QueryParameter(name="lastEventId", required=False)]
Ticket = Annotated[str | None, QueryParameter(name="ticket", required=False)]


def cursor(header: str | None, query: str | None, parts: int, shape: str) -> list[int] | None:
    """Where to resume, from ``Last-Event-ID`` or ``?lastEventId=`` (the header wins)."""
    raw = header if header not in (None, "") else query
    if raw in (None, ""):
        return None
    try:
        return parse_cursor(str(raw), parts)
    except ValueError as exc:
        raise ApiError(ErrorCode.VALIDATION_ERROR, f"Last-Event-ID must be {shape}") from exc


class AppsController(Controller):
    """``/api/v1/apps/{app}``: an app of the caller's tenant, now and live."""

    path = "/api/v1/apps"
    tags = ["apps"]
    security = SECURED

    @get(
        "/",
        operation_id="listApps",
        summary="The tenant's apps (those it deployed first) and what serves each",
        responses=errors(*READ),
    )
    async def list_apps(
        self,
        app_viewing: NamedDependency[AppViewing],
        principal: NamedDependency[Principal],
        namespace: Annotated[str | None, _NS] = None,
        limit: Annotated[int, QueryParameter(name="limit", ge=1, le=200)] = 50,
        offset: Annotated[int, QueryParameter(name="offset", ge=0, le=1_000_000)] = 0,
    ) -> Envelope[Page[AppSummary]]:
        items, total = await apps.list_apps(app_viewing, principal.tenant, namespace, limit, offset)
        page = Page(items=items, total=total, limit=limit, offset=offset)
        return Envelope(code=200, message="OK", data=page)

    @get(
        "/{app:str}",
        operation_id="getApp",
        summary="An app now: live colour, image, URL, replicas, deployments, pods",
        responses=errors(*READ, *IN_PATH, ErrorCode.APP_NOT_FOUND),
    )
    async def get_app(
        self,
        app: AppPath,
        app_viewing: NamedDependency[AppViewing],
        principal: NamedDependency[Principal],
        namespace: Annotated[str, _NS] = "default",
    ) -> Envelope[AppView]:
        await apps.check_app_visible(app_viewing, principal, namespace, app)
        await apps.caught_up(app_viewing)
        view = await apps.app_view(app_viewing, principal.tenant, namespace, app)
        return Envelope(code=200, message="OK", data=view)

    @get(
        "/{app:str}/events",
        operation_id="streamAppEvents",
        summary="SSE: the app's pods, CPU/memory, replicas, deployments and ops actions, live",
        media_type="text/event-stream",
        responses=errors(*READ, *STREAM, *IN_PATH, ErrorCode.APP_NOT_FOUND),
    )
    async def events(
        self,
        app: AppPath,
        app_viewing: NamedDependency[AppViewing],
        streaming: NamedDependency[Streaming],
        sse_setup: NamedDependency[SseSetup],
        stream_principal: NamedDependency[Principal],
        namespace: Annotated[str, _NS] = "default",
        last_event_id_header: LastEventIdHeader = None,
        last_event_id: LastEventIdQuery = None,
        ticket: Ticket = None,
    ) -> SseResponse:
        after = cursor(
            last_event_id_header,
            last_event_id,
            streams.APP_SOURCES,
            "<cluster>/<slot>/<deployments>/<audit> positions",
        )
        await apps.check_app_visible(app_viewing, stream_principal, namespace, app)
        sub = await streams.app_stream(
            streaming, app_viewing, stream_principal, namespace, app, after
        )
        return await respond(sse_setup, sub, stream_principal)


class TenantEventsController(Controller):
    """``/api/v1/events``: the caller's tenant's whole feed, for dashboards."""

    path = "/api/v1/events"
    tags = ["apps"]
    security = SECURED

    @get(
        "/",
        operation_id="streamTenantEvents",
        summary="SSE: every deployment event and ops action of the tenant, live",
        media_type="text/event-stream",
        responses=errors(*READ, *STREAM),
    )
    async def events(
        self,
        app_viewing: NamedDependency[AppViewing],
        streaming: NamedDependency[Streaming],
        sse_setup: NamedDependency[SseSetup],
        stream_principal: NamedDependency[Principal],
        last_event_id_header: LastEventIdHeader = None,
        last_event_id: LastEventIdQuery = None,
        ticket: Ticket = None,
    ) -> SseResponse:
        after = cursor(
            last_event_id_header,
            last_event_id,
            streams.FEED_SOURCES,
            "<deployments>/<audit> positions",
        )
        sub = await streams.tenant_feed(streaming, app_viewing, stream_principal, after)
        return await respond(sse_setup, sub, stream_principal)
