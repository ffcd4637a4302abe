"""The gateway served by uvicorn on a free port, once per test run, with real neighbours.

NATS comes from the run's nats-server, the read model is a SQLite file with
the projector running in-process, AWS is a moto server and GitHub a small
local stand-in. Tokens are created as the CLI does: an ``ApiTokenCreated``
event, then a poll until the projector has applied it.
"""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from flightdeck.events import Cause, new_id, subjects
from flightdeck.events.audit import ApiTokenCreated
from flightdeck.events.base import Event
from flightdeck.events.deployments import DeploymentRequested
from flightdeck.eventstore import EventStore
from flightdeck.gateway import bootstrap
from flightdeck.gateway.config import GatewayConfig
from flightdeck.gateway.domain.auth import hash_token, new_token
from flightdeck.gateway.entrypoints.app import create_app
from flightdeck.readmodel.database import open_database
from flightdeck.runtime.aws import AwsSettings
from flightdeck.runtime.kube import KubernetesSettings
from flightdeck.runtime.ownership import Ownership
from flightdeck.runtime.sealing import SecretsSettings
from flightdeck.runtime.tenancy import TenantSettings
from tests.support import github
from tests.support.github import github_stand_in
from tests.support.intake import command_intake
from tests.support.samples import requested as sample_request
from tests.support.serving import free_port, moto_server, serve
from tests.support.waiting import eventually

GITHUB_TOKEN = github.TOKEN
GITHUB_SHA = github.SHA
CAUSE = Cause.root("user:tests")
# Who owns which namespaces in this run's event store (ADR 0012); the first is each
# tenant's home, where its test deployments go. "unwatched" is owned but not watched.
TENANTS = {
    "acme": ["default", "gw-logs", "unwatched"],
    "globex": ["globex"],
    "revocable": ["revocable"],
    "ticketed": ["ticketed"],
}
WATCHED = "default,gw-logs,globex"


@pytest.fixture(scope="session")
async def github_url() -> AsyncIterator[str]:
    port = free_port()
    server, task = await serve(github_stand_in, port)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    with moto_server() as url:
        yield url


@dataclass
class Gateway:
    """The running gateway, what it was built from, and ready-made keys."""

    url: str
    built: bootstrap.Gateway
    store: EventStore
    tokens: dict[str, str]

    def client(self, who: str | None = "acme-admin", **kw: Any) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=30, **kw)

    def auth(self, who: str = "acme-admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def websocket(self, who: str = "acme-read", **kw: Any) -> Any:
        """``async with gateway.websocket() as ws``: the gateway's WebSocket, as ``who``."""
        url = self.url.replace("http://", "ws://") + "/api/v1/ws"
        return websockets.connect(url, additional_headers=self.auth(who), **kw)


async def create_token(
    store: EventStore, built: bootstrap.Gateway, tenant: str, scopes: list[str]
) -> str:
    token = new_token(os.urandom(32))
    event = ApiTokenCreated(
        token_id=new_id(), tenant=tenant, name="test", scopes=scopes, token_hash=hash_token(token)
    )
    await store.append(subjects.access(tenant), [event], cause=CAUSE)
    await eventually(lambda: built.read_model.token(hash_token(token)))
    return token


@pytest.fixture(scope="session")
async def gateway(
    store: EventStore,
    tmp_path_factory: pytest.TempPathFactory,
    github_url: str,
    moto_url: str,
) -> AsyncIterator[Gateway]:
    db_path = Path(tmp_path_factory.mktemp("gateway-db")) / "readmodel.db"
    database = await open_database(f"sqlite+aiosqlite:///{db_path}")
    config = GatewayConfig(
        github_api_url=github_url,
        client_buffer=64,
        heartbeat_s=1.0,
        close_after_done_s=0.5,
        deploy_concurrency=1000,
        deploy_concurrency_per_tenant=1000,
        slow_close_grace_s=0.5,
        gc_freeze=False,
        max_connections=400,
        max_connections_per_tenant=400,
        read_your_writes_s=0.3,
        ops_burst=10_000,  # the rate limit has its own test, with its own gateway app
    )
    secrets = SecretsSettings(key=base64.b64encode(os.urandom(32)).decode())
    tenancy = TenantSettings(configured=TENANTS)
    await Ownership(store).record_configured(TENANTS, CAUSE, protected=tenancy.protected())
    built = bootstrap.build(
        config,
        store,
        database,
        secrets,
        AwsSettings(endpoint_url=moto_url),
        KubernetesSettings(namespaces=WATCHED),
        tenancy,
    )
    await built.start()
    # the orchestrator's part of a deploy that the 202 waits for: recording the request
    async with command_intake(store):
        port = free_port()
        server, task = await serve(create_app(config, built.dependencies), port, config)
        tokens = {}
        for name, tenant, scopes in (
            ("acme-admin", "acme", ["admin"]),
            ("acme-read", "acme", ["read"]),
            ("acme-deploy", "acme", ["deploy"]),
            ("globex-admin", "globex", ["admin"]),
        ):
            tokens[name] = await create_token(store, built, tenant, scopes)
        yield Gateway(url=f"http://127.0.0.1:{port}", built=built, store=store, tokens=tokens)
        built.connections.close_all("tests done")
        server.should_exit = True
        await asyncio.gather(task, return_exceptions=True)
    await built.stop()


def home(tenant: str) -> str:
    """The namespace a tenant's test deployments go to."""
    return TENANTS[tenant][0]


def requested(deployment_id: str, tenant: str = "acme", app: str = "web") -> DeploymentRequested:
    return sample_request(deployment_id, app, tenant=tenant, namespace=home(tenant), registry=None)


async def new_deployment(
    store: EventStore, *events: Event, tenant: str = "acme", app: str = "web"
) -> tuple[str, list[int]]:
    """A deployment with ``events`` after its request, in the tenant's home namespace, its
    app claimed as the gateway claims it; returns its id and every position."""
    dep = new_id()
    await Ownership(store).claim_app(tenant, home(tenant), app, dep, CAUSE)
    result = await store.append(
        subjects.deployment(dep), [requested(dep, tenant, app), *events], cause=CAUSE, expected=0
    )
    return dep, list(range(result.first_position, result.last_position + 1))
