"""The Litestar application factory: routes, dependencies, errors, OpenAPI."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Request
from litestar.di import Provide
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from flightdeck.gateway.bootstrap import Deps
from flightdeck.gateway.domain.auth import Principal
from flightdeck.gateway.entrypoints.auth import current_principal
from flightdeck.gateway.entrypoints.controllers.connections import (
    AwsConnectionController,
    ConnectionListController,
    GithubConnectionController,
)
from flightdeck.gateway.entrypoints.controllers.deployments import (
    DeployController,
    DeploymentListController,
)
from flightdeck.gateway.entrypoints.controllers.health import HealthController, MetricsController
from flightdeck.gateway.entrypoints.controllers.logs import LogsController
from flightdeck.gateway.entrypoints.controllers.streams import (
    DeploymentEventsController,
    StreamTicketController,
    websocket_endpoint,
)
from flightdeck.gateway.entrypoints.edge import QueryRules, edge_checks, query_rules
from flightdeck.gateway.entrypoints.errors import EXCEPTION_HANDLERS
from flightdeck.gateway.entrypoints.openapi import amend
from flightdeck.gateway.schemas import AwsConnectionCreate, DeployCreate, GithubConnectionCreate

VERSION = "0.1.0"


def create_app(deps: Deps) -> Litestar:
    """The gateway's ASGI app over ``deps`` (built by :mod:`flightdeck.gateway.bootstrap`)."""

    async def provide_deps() -> Deps:
        return deps

    async def provide_principal(request: Request[Any, Any, Any]) -> Principal:
        return await current_principal(deps, request)

    async def provide_stream_principal(request: Request[Any, Any, Any]) -> Principal:
        return await current_principal(deps, request, tickets=True)

    queries: dict[str, QueryRules] = {}  # filled from the document, below
    app = Litestar(
        route_handlers=[
            DeployController,
            DeploymentListController,
            DeploymentEventsController,
            LogsController,
            StreamTicketController,
            AwsConnectionController,
            GithubConnectionController,
            ConnectionListController,
            HealthController,
            MetricsController,
            websocket_endpoint,
        ],
        dependencies={
            "deps": Provide(provide_deps, use_cache=True),
            "principal": Provide(provide_principal),
            "stream_principal": Provide(provide_stream_principal),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        before_request=edge_checks(deps.config.max_json_depth, queries),
        request_max_body_size=deps.config.max_body_bytes,
        logging_config=None,  # the process already logs through structlog
        openapi_config=OpenAPIConfig(
            title="Flightdeck gateway",
            version=VERSION,
            description="Panda-compatible REST, SSE and WebSocket API (see docs/api.md)",
            path="/schema",
            render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin()],
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(type="http", scheme="bearer", description="API key")
                }
            ),
        ),
        debug=False,
    )
    amend(app.openapi_schema, requests=(DeployCreate, AwsConnectionCreate, GithubConnectionCreate))
    queries.update(query_rules(app.openapi_schema))
    app.state.metrics = deps.metrics
    app.state.deps = deps
    return app
