"""The Litestar application factory: routes, dependencies, errors, OpenAPI.

Each controller declares, by parameter name, the narrow dependencies it uses
(:class:`Dependencies`); nothing hands a controller the whole gateway.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from litestar import Litestar, Request
from litestar.di import Provide
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from flightdeck.gateway.adapters.metrics import Metrics
from flightdeck.gateway.config import GatewayConfig
from flightdeck.gateway.domain.auth import Principal
from flightdeck.gateway.entrypoints.auth import current_principal
from flightdeck.gateway.entrypoints.controllers.apps import AppsController, TenantEventsController
from flightdeck.gateway.entrypoints.controllers.asyncapi import (
    AsyncApiController,
    AsyncApiDocumentController,
)
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
from flightdeck.gateway.entrypoints.controllers.ops import AppOpsController, DeployCancelController
from flightdeck.gateway.entrypoints.controllers.streams import (
    DeploymentEventsController,
    StreamTicketController,
    websocket_endpoint,
)
from flightdeck.gateway.entrypoints.edge import QueryRules, edge_checks, query_rules
from flightdeck.gateway.entrypoints.errors import EXCEPTION_HANDLERS
from flightdeck.gateway.entrypoints.openapi import amend
from flightdeck.gateway.entrypoints.sse import SseSetup
from flightdeck.gateway.entrypoints.ws import WsSetup
from flightdeck.gateway.schemas import (
    AwsConnectionCreate,
    DeployCreate,
    GithubConnectionCreate,
    ScaleCreate,
)
from flightdeck.gateway.service_layer.apps import AppViewing
from flightdeck.gateway.service_layer.handlers import Connecting, Deploying, Ticketing
from flightdeck.gateway.service_layer.health import HealthChecks
from flightdeck.gateway.service_layer.logs import LogReading
from flightdeck.gateway.service_layer.ops import Operating
from flightdeck.gateway.service_layer.ports import ConnectionRows, DeploymentRows
from flightdeck.gateway.service_layer.results import Results
from flightdeck.gateway.service_layer.streams import Streaming
from flightdeck.gateway.service_layer.tokens import Authenticator

VERSION = "0.1.0"


@dataclass(frozen=True)
class Dependencies:
    """What the controllers may receive, each under its field's name (built by
    :mod:`flightdeck.gateway.bootstrap`)."""

    auth: Authenticator
    deploying: Deploying
    deployment_rows: DeploymentRows
    results: Results
    connecting: Connecting
    connection_rows: ConnectionRows
    tickets: Ticketing
    streaming: Streaming
    app_viewing: AppViewing
    logs: LogReading
    sse_setup: SseSetup
    ws_setup: WsSetup
    health_checks: HealthChecks
    metrics: Metrics
    operating: Operating


def _provide(value: object) -> Provide:
    async def provide() -> Any:
        return value

    return Provide(provide, use_cache=True)


def create_app(config: GatewayConfig, dependencies: Dependencies) -> Litestar:
    """The gateway's ASGI app: its routes, each given the ``dependencies`` it names."""
    auth = dependencies.auth

    async def provide_principal(request: Request[Any, Any, Any]) -> Principal:
        return await current_principal(auth, request)

    async def provide_stream_principal(request: Request[Any, Any, Any]) -> Principal:
        return await current_principal(auth, request, tickets=True)

    provided = {
        field.name: _provide(getattr(dependencies, field.name))
        for field in dataclasses.fields(dependencies)
    }

    queries: dict[str, QueryRules] = {}  # filled from the document, below
    app = Litestar(
        route_handlers=[
            DeployController,
            DeploymentListController,
            DeploymentEventsController,
            LogsController,
            AppsController,
            TenantEventsController,
            StreamTicketController,
            AwsConnectionController,
            GithubConnectionController,
            ConnectionListController,
            AppOpsController,
            DeployCancelController,
            HealthController,
            MetricsController,
            AsyncApiController,
            AsyncApiDocumentController,
            websocket_endpoint,
        ],
        dependencies={
            **provided,
            "principal": Provide(provide_principal),
            "stream_principal": Provide(provide_stream_principal),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        before_request=edge_checks(config.max_json_depth, queries),
        request_max_body_size=config.max_body_bytes,
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
    amend(
        app.openapi_schema,
        requests=(DeployCreate, AwsConnectionCreate, GithubConnectionCreate, ScaleCreate),
    )
    queries.update(query_rules(app.openapi_schema))
    app.state.metrics = dependencies.metrics
    app.state.auth = auth
    return app
