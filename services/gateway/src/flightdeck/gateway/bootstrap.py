"""The one place where the gateway's adapters are built and wired together.

Nothing is constructed at import time: :func:`build` takes the connections the
service lifecycle opened, builds the adapters once, and hands each group of
handlers only what it uses (:class:`~flightdeck.gateway.entrypoints.app.Dependencies`).
The mutable state lives in the service-layer objects that own it: the open
connections (:class:`Connections`), the pending deployments and the admission
lock (:class:`DeployAdmission`), the key cache (:class:`TokenDirectory`).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from flightdeck.events.connections import read_connections
from flightdeck.eventstore import EventStore
from flightdeck.gateway.adapters.approws import AppRows
from flightdeck.gateway.adapters.aws import Sts
from flightdeck.gateway.adapters.github import GitHub
from flightdeck.gateway.adapters.hub import Hub
from flightdeck.gateway.adapters.metrics import Metrics
from flightdeck.gateway.adapters.opsfeed import OpsFeed
from flightdeck.gateway.adapters.queries import ReadModel, rows_of_events
from flightdeck.gateway.adapters.requests import RecordedRequests
from flightdeck.gateway.adapters.streams import Frame, StreamSpec, Subscription
from flightdeck.gateway.config import GatewayConfig
from flightdeck.gateway.domain.appview import RenderCache, render_cluster, render_feed_deployment
from flightdeck.gateway.domain.limits import Limit
from flightdeck.gateway.domain.ops import OpsRate
from flightdeck.gateway.entrypoints.app import Dependencies
from flightdeck.gateway.entrypoints.sse import SseSetup, SseTimings
from flightdeck.gateway.entrypoints.ws import WsSetup
from flightdeck.gateway.service_layer import loghistory
from flightdeck.gateway.service_layer.admission import DeployAdmission
from flightdeck.gateway.service_layer.apps import AppViewing
from flightdeck.gateway.service_layer.connections import Connections
from flightdeck.gateway.service_layer.freshness import Freshness
from flightdeck.gateway.service_layer.handlers import Connecting, Deploying, Targets, Ticketing
from flightdeck.gateway.service_layer.health import HealthChecks
from flightdeck.gateway.service_layer.logs import LogReading
from flightdeck.gateway.service_layer.ops import Operating
from flightdeck.gateway.service_layer.results import Results
from flightdeck.gateway.service_layer.streams import Streaming
from flightdeck.gateway.service_layer.tokens import (
    Authenticator,
    TokenDirectory,
    catch_up_revocations,
    follow_revocations,
)
from flightdeck.readmodel.database import Database
from flightdeck.runtime.aws import AwsSettings
from flightdeck.runtime.kube import KubernetesSettings
from flightdeck.runtime.ownership import Ownership
from flightdeck.runtime.sealing import Sealer, SecretsSettings, derive_key, master_key
from flightdeck.runtime.settings import load_section
from flightdeck.runtime.tenancy import TenantSettings


@dataclass
class Gateway:
    """The built gateway: what its app is given, and the work that runs beside the app.

    Only the process (and the tests) hold this; controllers receive their own
    narrow dependencies from :attr:`dependencies`.
    """

    config: GatewayConfig
    dependencies: Dependencies
    connections: Connections
    admission: DeployAdmission
    read_model: ReadModel
    store: EventStore
    tokens: TokenDirectory
    hub: Hub
    github: GitHub
    database: Database
    projector: Any = None
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

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
) -> Gateway:
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
    admission = DeployAdmission(
        read_model, Limit(config.deploy_concurrency_per_tenant, config.deploy_concurrency)
    )
    projector = None
    if config.run_projector:
        from flightdeck.readmodel.projector import Projector

        projector = Projector(store, database)
    hub = Hub(store, metrics)
    github = GitHub(config.github_api_url, config.upstream_timeout_s)
    sealer = Sealer.from_settings(secrets, dev_mode=config.dev_mode)
    tokens = TokenDirectory(
        read_model, ttl_s=config.token_cache_s, on_revoked=connections.close_token
    )
    ticket_key = derive_key(master, "stream-tickets")
    ownership = Ownership(store)
    requests = RecordedRequests(store)

    def subscribe(spec: StreamSpec, frame: Frame) -> Subscription:
        return Subscription(hub, store, spec, limit=config.client_buffer, frame=frame)

    dependencies = Dependencies(
        auth=Authenticator(tokens, ticket_key),
        deploying=Deploying(
            send=store.append,
            requests=requests,
            owners=ownership,
            targets=Targets(protected=tenancy.protected(), watched=frozenset(k8s.namespace_list())),
            connections=read_model,
            connections_of=partial(read_connections, store),
            sealer=sealer,
            github=github,
            admission=admission,
            wait_s=config.deploy_wait_s,
        ),
        deployment_rows=read_model,
        results=Results(
            rows=read_model,
            fresh=Freshness(store, read_model, within_s=config.read_your_writes_s),
            history=store.read,
            fold=rows_of_events,
        ),
        connecting=Connecting(
            append=store.append,
            sealer=sealer,
            sts=Sts(aws.endpoint_url, config.upstream_timeout_s),
            github=github,
        ),
        connection_rows=read_model,
        tickets=Ticketing(key=ticket_key, ttl_s=config.ticket_ttl_s),
        streaming=Streaming(
            history=store,
            rows=read_model,
            seek_logs=partial(loghistory.seek, store),
            subscribe=subscribe,
        ),
        app_viewing=AppViewing(
            rows=AppRows(database),
            store=store,
            owners=ownership,
            interval_s=config.metrics_interval_s,
            cluster_render=RenderCache(render_cluster),
            feed_render=RenderCache(render_feed_deployment),
        ),
        logs=LogReading(store, ownership, config.max_history_lines),
        sse_setup=SseSetup(
            SseTimings(
                retry_ms=config.retry_ms,
                heartbeat_s=config.heartbeat_s,
                close_after_done_s=config.close_after_done_s,
                idle_timeout_s=config.idle_timeout_s,
                slow_close_grace_s=config.slow_close_grace_s,
            ),
            connections,
            metrics,
        ),
        ws_setup=WsSetup(
            max_subscriptions=config.ws_max_subscriptions,
            max_json_depth=config.max_json_depth,
            idle_timeout_s=config.idle_timeout_s,
            close_after_done_s=config.close_after_done_s,
            slow_close_grace_s=config.slow_close_grace_s,
            connections=connections,
            metrics=metrics,
        ),
        health_checks=HealthChecks(
            nats_connected=lambda: store.connected,
            ping_database=database.ping,
            projector_lag=projector.lag if projector is not None else None,
            connection_counts=connections.counts,
        ),
        metrics=metrics,
        operating=Operating(
            send=store.append,
            events=OpsFeed(store),
            rows=read_model,
            rate=OpsRate(config.ops_rate_per_minute, config.ops_burst),
            wait_s=config.ops_wait_s,
        ),
    )
    return Gateway(
        config=config,
        dependencies=dependencies,
        connections=connections,
        admission=admission,
        read_model=read_model,
        store=store,
        tokens=tokens,
        hub=hub,
        github=github,
        database=database,
        projector=projector,
    )
