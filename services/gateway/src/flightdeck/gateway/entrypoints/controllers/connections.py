"""Connections to AWS and GitHub: validated upstream, stored sealed, never returned."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from flightdeck.gateway.domain.auth import Principal, Scope
from flightdeck.gateway.domain.errors import ErrorCode
from flightdeck.gateway.entrypoints.auth import needs
from flightdeck.gateway.entrypoints.openapi import BODY, READ, SECURED, errors
from flightdeck.gateway.schemas import (
    AwsConnection,
    AwsConnectionCreate,
    Connection,
    Envelope,
    GithubConnection,
    GithubConnectionCreate,
)
from flightdeck.gateway.service_layer import handlers
from flightdeck.gateway.service_layer.handlers import Connecting
from flightdeck.gateway.service_layer.ports import ConnectionRows


class AwsConnectionController(Controller):
    path = "/api/v1/connect/aws"
    tags = ["connections"]
    security = SECURED

    @post(
        "/",
        operation_id="connectAws",
        status_code=201,
        guards=[needs(Scope.ADMIN)],
        summary="Connect an AWS account",
        responses=errors(
            *READ, *BODY, ErrorCode.AWS_CREDENTIALS_INVALID, ErrorCode.UPSTREAM_UNAVAILABLE
        ),
    )
    async def create(
        self,
        data: JSONBody[AwsConnectionCreate],
        connecting: NamedDependency[Connecting],
        principal: NamedDependency[Principal],
    ) -> Envelope[AwsConnection]:
        created = await handlers.connect_aws(connecting, principal, data)
        return Envelope(code=201, message="Created", data=created)


class GithubConnectionController(Controller):
    path = "/api/v1/connect/github"
    tags = ["connections"]
    security = SECURED

    @post(
        "/",
        operation_id="connectGithub",
        status_code=201,
        guards=[needs(Scope.ADMIN)],
        summary="Connect a GitHub repository",
        responses=errors(
            *READ,
            *BODY,
            ErrorCode.GITHUB_CREDENTIALS_INVALID,
            ErrorCode.GITHUB_REPOSITORY_NOT_FOUND,
            ErrorCode.GITHUB_BRANCH_NOT_FOUND,
            ErrorCode.UPSTREAM_UNAVAILABLE,
        ),
    )
    async def create(
        self,
        data: JSONBody[GithubConnectionCreate],
        connecting: NamedDependency[Connecting],
        principal: NamedDependency[Principal],
    ) -> Envelope[GithubConnection]:
        created = await handlers.connect_github(connecting, principal, data)
        return Envelope(code=201, message="Created", data=created)


class ConnectionListController(Controller):
    path = "/api/v1/connections"
    tags = ["connections"]
    security = SECURED

    @get(
        "/",
        operation_id="listConnections",
        summary="This tenant's connections (no secrets)",
        responses=errors(ErrorCode.UNAUTHORIZED),
    )
    async def list_connections(
        self,
        connection_rows: NamedDependency[ConnectionRows],
        principal: NamedDependency[Principal],
    ) -> Envelope[list[Connection]]:
        rows = await connection_rows.connections(principal.tenant)
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
