"""The one place where the gateway's adapters are built and wired together.

Nothing is constructed at import time: :func:`build` takes the connections the
service lifecycle opened and returns :class:`Deps`, which the app factory and
the handlers receive.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

import structlog

from flightdeck.eventstore import EventStore
from flightdeck.gateway.adapters.aws import Sts
from flightdeck.gateway.adapters.connections import Connections
from flightdeck.gateway.adapters.github import GitHub
from flightdeck.gateway.adapters.hub import Hub
from flightdeck.gateway.adapters.metrics import Metrics
from flightdeck.gateway.adapters.queries import ReadModel
from flightdeck.gateway.adapters.tokens import (
    TokenDirectory,
    catch_up_revocations,
    follow_revocations,
)
from flightdeck.gateway.config import GatewayConfig
from flightdeck.gateway.domain.deploy import ACTIVE_STATUSES
from flightdeck.gateway.domain.limits import Limit
from flightdeck.readmodel.database import Database
from flightdeck.runtime.aws import AwsSettings
from flightdeck.runtime.kube import KubernetesSettings
from flightdeck.runtime.ownership import Ownership
from flightdeck.runtime.sealing import Sealer, SecretsSettings, derive_key, master_key
from flightdeck.runtime.settings import load_section
from flightdeck.runtime.tenancy import TenantSettings

log = structlog.get_logger(__name__)

# A requested deployment not yet in the read model still counts as active this long.
_PENDING_GRACE_S = 60.0


@dataclass
class Deps:
    """Everything a handler or controller may use."""

    config: GatewayConfig
    store: EventStore
    database: Database
    read_model: ReadModel
    hub: Hub
    connections: Connections
    metrics: Metrics
    sealer: Sealer
    sts: Sts
    github: GitHub
    tokens: TokenDirectory
    ticket_key: bytes
    ownership: Ownership
    protected: frozenset[str]
    """Namespaces nobody may deploy to (ADR 0012)."""
    watched: frozenset[str]
    """Namespaces the k8s-watcher watches: a deployment elsewhere could never finish."""
    projector: Any = None
    admission: asyncio.Lock = field(default_factory=asyncio.Lock)
    requested: dict[str, tuple[float, str]] = field(default_factory=dict)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def active_deployments(self, tenant: str) -> tuple[int, int]:
        """Deployments in progress, ``tenant``'s and everyone's: the read model's, plus
        the ones this gateway accepted that it had not seen there yet.

        One the projector writes between the two reads still counts (once): it is
        forgotten here only after it has been counted.
        """
        active = await self.read_model.active_deployments(ACTIVE_STATUSES)
        now = time.monotonic()
        for dep_id, (at, _) in list(self.requested.items()):
            if now - at > _PENDING_GRACE_S:
                del self.requested[dep_id]
        unseen = {d: owner for d, (_, owner) in self.requested.items() if d not in active}
        for dep_id in await self.read_model.known_deployments(list(unseen)):
            self.requested.pop(dep_id, None)
        owners = [*active.values(), *unseen.values()]
        return owners.count(tenant), len(owners)

    def deploy_limit(self) -> Limit:
        return Limit(self.config.deploy_concurrency_per_tenant, self.config.deploy_concurrency)

    async def start(self) -> None:
        """Background work: the connection ticker, the revocation feed and, if
        configured, the projector. Every revocation stored so far is applied before
        this returns, so no revoked key is accepted, even by a gateway just started."""
        after = await catch_up_revocations(self.store, self.tokens)
        self._tasks.append(
            asyncio.create_task(
                follow_revocations(self.store, self.tokens, after), name="revocation feed"
            )
        )
        self._tasks.append(asyncio.create_task(self.connections.run(), name="gateway ticker"))
        if self.projector is not None:
            self._tasks.append(asyncio.create_task(self.projector.run(), name="projector"))

    async def stop(self) -> None:
        self.connections.close_all("gateway stopping")
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.hub.close()
        await self.github.close()
        await self.database.close()


def build(
    config: GatewayConfig,
    store: EventStore,
    database: Database,
    secrets: SecretsSettings | None = None,
    aws: AwsSettings | None = None,
    k8s: KubernetesSettings | None = None,
    tenancy: TenantSettings | None = None,
) -> Deps:
    secrets = secrets or load_section(SecretsSettings)
    aws = aws or load_section(AwsSettings)
    k8s = k8s or load_section(KubernetesSettings)
    tenancy = tenancy or load_section(TenantSettings)
    master = master_key(secrets, dev_mode=config.dev_mode)
    metrics = Metrics()
    read_model = ReadModel(database)
    connections = Connections(
        Limit(config.max_connections_per_tenant, config.max_connections),
        metrics,
        freeze_gc=config.gc_freeze,
    )
    projector = None
    if config.run_projector:
        from flightdeck.readmodel.projector import Projector

        projector = Projector(store, database)
    return Deps(
        config=config,
        store=store,
        database=database,
        read_model=read_model,
        hub=Hub(store, metrics),
        connections=connections,
        metrics=metrics,
        sealer=Sealer.from_settings(secrets, dev_mode=config.dev_mode),
        sts=Sts(aws.endpoint_url, config.upstream_timeout_s),
        github=GitHub(config.github_api_url, config.upstream_timeout_s),
        tokens=TokenDirectory(
            read_model, ttl_s=config.token_cache_s, on_revoked=connections.close_token
        ),
        ticket_key=derive_key(master, "stream-tickets"),
        ownership=Ownership(store),
        protected=tenancy.protected(),
        watched=frozenset(k8s.namespace_list()),
        projector=projector,
    )
