"""The live app view's handlers: who may see an app, the app now, and where its stream
and the tenant's feed start (what each client knows before its first event).

Reads come from the read model (CQRS); the few events it has not projected yet,
and the samples a resumed client may already have, come from the event store.
The streams themselves are opened in :mod:`flightdeck.gateway.service_layer.streams`.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from flightdeck.events import Recorded, subjects
from flightdeck.events.cluster import PodMetricsSampled, PodObserved
from flightdeck.events.deployments import DeploymentRequested
from flightdeck.events.streams import AUDIT, CLUSTER, DEPLOYMENTS, stream_for_subject
from flightdeck.eventstore import EventStore
from flightdeck.gateway.domain import ownership
from flightdeck.gateway.domain.appview import (
    AppSummary,
    AppView,
    RenderCache,
    app_document,
    summary_of,
)
from flightdeck.gateway.domain.auth import Principal

Row = dict[str, Any]


class AppOwners(Protocol):
    async def app_owner(self, namespace: str, app: str) -> str | None: ...


class AppRowsPort(Protocol):
    """The read model's answers for the app view (``adapters/approws.py``)."""

    async def app_slot(self, namespace: str, app: str) -> Row | None: ...

    async def app_deployment(
        self, tenant: str, namespace: str, app: str, *, colour: str | None = None
    ) -> Row | None: ...

    async def deployment(self, tenant: str, deployment_id: str) -> Row | None: ...

    async def app_pods(self, namespace: str, app: str, *, deleted: bool = False) -> list[Row]: ...

    async def cluster_resource(self, kind: str, namespace: str, name: str) -> Row | None: ...

    async def open_deployments(
        self, tenant: str, after: int, *, namespace: str | None = None, app: str | None = None
    ) -> set[str]: ...

    async def projected_upto(self, stream: str) -> int: ...

    async def apps_of(
        self, tenant: str, namespace: str | None, limit: int, offset: int
    ) -> tuple[list[Row], int]: ...


@dataclass(frozen=True)
class AppViewing:
    """What the app view, the app stream and the tenant feed need."""

    rows: AppRowsPort
    store: EventStore
    owners: AppOwners
    interval_s: float
    """The polling interval of samples that do not state theirs (``metrics_interval_s``)."""
    cluster_render: RenderCache
    feed_render: RenderCache
    read_wait_s: float = 2.0
    """How long ``GET /api/v1/apps/{app}`` waits for the read model to reach what the
    streams held when it was asked (read your writes), before answering anyway."""


async def check_app_visible(v: AppViewing, who: Principal, namespace: str, app: str) -> None:
    """``APP_NOT_FOUND`` unless ``who``'s tenant claimed the app (ADR 0012): one direct get
    of the claim whoever asks, so another tenant's app and an unknown one answer alike."""
    if await v.owners.app_owner(namespace, app) != who.tenant:
        raise ownership.app_not_found(namespace, app)


async def app_view(v: AppViewing, tenant: str, namespace: str, app: str) -> AppView:
    """The app now, from the read model (the caller checked it is ``tenant``'s)."""
    rows = v.rows
    slot = await rows.app_slot(namespace, app)
    serving = slot["serving_colour"] if slot else None
    active_id = slot["active_deployment_id"] if slot else None
    live = replicas = None
    if serving is not None:
        live = await rows.app_deployment(tenant, namespace, app, colour=serving)
        replicas = await rows.cluster_resource("Deployment", namespace, f"{app}-{serving}")
    return app_document(
        namespace,
        app,
        slot=slot,
        live=live,
        last=await rows.app_deployment(tenant, namespace, app),
        active=await rows.deployment(tenant, active_id) if active_id else None,
        live_replicas=replicas,
        pods=await rows.app_pods(namespace, app),
    )


async def caught_up(v: AppViewing, streams: tuple[str, ...] = (DEPLOYMENTS, CLUSTER)) -> bool:
    """Wait, at most ``read_wait_s``, until the read model has projected every event the
    ``streams`` held now, so a read made after a client saw an event on a stream (the
    app stream's, a deployment's ``done``) reflects it. ``False`` if it had not by then."""
    targets = {stream: await v.store.stream_last_position(stream) for stream in streams}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + v.read_wait_s
    while True:
        behind = [s for s, p in targets.items() if await v.rows.projected_upto(s) < p]
        if not behind:
            return True
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(0.01)


async def list_apps(
    v: AppViewing, tenant: str, namespace: str | None, limit: int, offset: int
) -> tuple[list[AppSummary], int]:
    """The tenant's apps (those it deployed first), as of every claim and slot stored
    when asked."""
    await caught_up(v, (DEPLOYMENTS, AUDIT))
    rows, total = await v.rows.apps_of(tenant, namespace, limit, offset)
    return [summary_of(r) for r in rows], total


async def _read(
    store: EventStore, subject_filter: str, after: int, upto: int
) -> list[Recorded[Any]]:
    out: list[Recorded[Any]] = []
    if upto <= after:
        return out
    chunks = store.read_chunks(
        stream_for_subject(subject_filter), subject_filter, after=after, upto=upto, batch=512
    )
    async with contextlib.aclosing(chunks):
        async for chunk in chunks:
            out.extend(chunk.events)
    return out


def pods_filter(namespace: str) -> str:
    return subjects.cluster_object(namespace, "Pod", "x")[:-1] + "*"


def samples_filter(namespace: str) -> str:
    return subjects.cluster_object(namespace, "PodMetrics", "x")[:-1] + "*"


async def known_pods(v: AppViewing, namespace: str, app: str, after: int) -> set[str]:
    """Every pod of the app observed at or before cluster position ``after``: the read
    model's, plus those of the events it has not projected yet."""
    projected = await v.rows.projected_upto(CLUSTER)  # first: the rows are at least as new
    names = {r["name"] for r in await v.rows.app_pods(namespace, app, deleted=True)}
    for rec in await _read(v.store, pods_filter(namespace), projected, after):
        e = rec.event
        if isinstance(e, PodObserved) and e.labels.get("app") == app:
            names.add(e.name)
    return names


async def samples_before(
    v: AppViewing, namespace: str, pods: set[str], after: int
) -> dict[str, datetime]:
    """When each pod's last sample at or before cluster position ``after`` was taken, as
    far back as two polling intervals: the client may have it already, so the next one
    it gets must be an interval later (ADR 0023)."""
    if after <= 0:
        return {}
    at = await v.store.read_at(CLUSTER, after)
    if at is None:
        return {}
    window = timedelta(seconds=2 * v.interval_s)
    start = await v.store.position_at(samples_filter(namespace), at.time - window)
    if start is None or start > after:
        return {}
    last: dict[str, datetime] = {}
    for rec in await _read(v.store, samples_filter(namespace), start - 1, after):
        e = rec.event
        if isinstance(e, PodMetricsSampled) and e.pod in pods:
            last[e.pod] = max(rec.time, last.get(e.pod, rec.time))
    return last


async def known_deployments(
    v: AppViewing, tenant: str, after: int, *, namespace: str | None = None, app: str | None = None
) -> set[str]:
    """The tenant's (or its app's) deployments that may have events after deployments
    position ``after``: unfinished or with later events in the read model, plus those
    requested in what it has not projected yet."""
    projected = await v.rows.projected_upto(DEPLOYMENTS)  # first: the rows are at least as new
    known = await v.rows.open_deployments(tenant, after, namespace=namespace, app=app)
    for rec in await _read(v.store, subjects.ALL_DEPLOYMENTS, projected, after):
        e = rec.event
        if (
            isinstance(e, DeploymentRequested)
            and e.tenant == tenant
            and (app is None or e.app == app)
            and (namespace is None or e.namespace == namespace)
        ):
            known.add(subjects.aggregate_id(rec.subject))
    return known


def tenant_ops(tenant: str) -> str:
    """Every ops subject of a tenant's apps."""
    return f"{subjects.EVENTS}.ops.{subjects.token(tenant)}.>"
