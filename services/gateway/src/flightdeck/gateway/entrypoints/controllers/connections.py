"""Connections to AWS and GitHub: validated upstream, stored sealed, never returned."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from flightdeck.gateway import handlers
from flightdeck.gateway.bootstrap import Deps
from flightdeck.gateway.domain.auth import Principal, Scope
from flightdeck.gateway.entrypoints.auth import needs
from flightdeck.gateway.schemas import (
    AwsConnection,
    AwsConnectionCreate,
    Connection,
    Envelope,
    GithubConnection,
    GithubConnectionCreate,
)


class AwsConnectionController(Controller):
    path = "/api/v1/connect/aws"
    tags = ["connections"]

    @post(
        "/",
        operation_id="connectAws",
        status_code=201,
        guards=[needs(Scope.ADMIN)],
        summary="Connect an AWS account",
    )
    async def create(
        self,
        data: JSONBody[AwsConnectionCreate],
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
    ) -> Envelope[AwsConnection]:
        created = await handlers.connect_aws(deps, principal, data)
        return Envelope(code=201, message="Created", data=created)


class GithubConnectionController(Controller):
    path = "/api/v1/connect/github"
    tags = ["connections"]

    @post(
        "/",
        operation_id="connectGithub",
        status_code=201,
        guards=[needs(Scope.ADMIN)],
        summary="Connect a GitHub repository",
    )
    async def create(
        self,
        data: JSONBody[GithubConnectionCreate],
        deps: NamedDependency[Deps],
        principal: NamedDependency[Principal],
    ) -> Envelope[GithubConnection]:
        created = await handlers.connect_github(deps, principal, data)
        return Envelope(code=201, message="Created", data=created)


class ConnectionListController(Controller):
    path = "/api/v1/connections"
    tags = ["connections"]

    @get("/", operation_id="listConnections", summary="This tenant's connections (no secrets)")
    async def list_connections(
        self, deps: NamedDependency[Deps], principal: NamedDependency[Principal]
    ) -> Envelope[list[Connection]]:
        rows = await deps.read_model.connections(principal.tenant)
        items = [
            Connection(
                connection_id=r["id"],
                kind=r["kind"],
                details={k: str(v) for k, v in r["details"].items()},
                created_at=r["created_at"],
            )
            for r in rows
        ]
        return Envelope(code=200, message="OK", data=items)
