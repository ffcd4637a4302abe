"""The read model's answers for the live app view and the tenant feed (CQRS).

Deployments are scoped to a tenant in the WHERE clause; an app's slot, pods and
Kubernetes objects are keyed by namespace and app, which the service layer has
already checked belong to the caller's tenant (ADR 0012).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select

from flightdeck.events.deployments import DeploymentStatus
from flightdeck.gateway.adapters.queries import ReadModel, Row
from flightdeck.readmodel import schema as t

OPEN = (DeploymentStatus.PENDING.value, DeploymentStatus.IN_PROGRESS.value)


class AppRows(ReadModel):
    """The queries of the app view, beside the gateway's others."""

    async def app_slot(self, namespace: str, app: str) -> Row | None:
        a = t.apps
        return await self._one(select(a).where(a.c.namespace == namespace, a.c.app == app))

    async def app_deployment(
        self, tenant: str, namespace: str, app: str, *, colour: str | None = None
    ) -> Row | None:
        """The app's latest deployment; with ``colour``, its latest that succeeded there."""
        d = t.deployments
        where: list[Any] = [d.c.tenant == tenant, d.c.namespace == namespace, d.c.app == app]
        if colour is not None:
            where += [d.c.colour == colour, d.c.status == DeploymentStatus.SUCCEEDED.value]
        query = select(d).where(*where).order_by(d.c.created_at.desc(), d.c.id.desc()).limit(1)
        return await self._one(query)

    async def app_pods(self, namespace: str, app: str, *, deleted: bool = False) -> list[Row]:
        """The app's pods; with ``deleted``, also those that are gone."""
        p = t.pods
        where: list[Any] = [p.c.namespace == namespace, p.c.app == app]
        if not deleted:
            where.append(p.c.deleted.is_(False))
        return await self._all(select(p).where(*where).order_by(p.c.name))

    async def cluster_resource(self, kind: str, namespace: str, name: str) -> Row | None:
        r = t.cluster_resources
        query = select(r).where(
            r.c.kind == kind, r.c.namespace == namespace, r.c.name == name, r.c.deleted.is_(False)
        )
        return await self._one(query)

    async def open_deployments(
        self, tenant: str, after: int, *, namespace: str | None = None, app: str | None = None
    ) -> set[str]:
        """The tenant's (or its app's) deployments that may still have events after
        position ``after``: those not finished, and those with events past it."""
        d = t.deployments
        where: list[Any] = [
            d.c.tenant == tenant,
            or_(d.c.status.in_(OPEN), d.c.last_position > after),
        ]
        if namespace is not None:
            where.append(d.c.namespace == namespace)
        if app is not None:
            where.append(d.c.app == app)
        query = select(d.c.id).where(*where)
        return {r["id"] for r in await self._all(query)}

    async def apps_of(
        self, tenant: str, namespace: str | None, limit: int, offset: int
    ) -> tuple[list[Row], int]:
        """The tenant's apps (its claims), with their slots, by namespace and name."""
        o, a = t.app_owners, t.apps
        where: list[Any] = [o.c.tenant == tenant]
        if namespace:
            where.append(o.c.namespace == namespace)
        joined = o.outerjoin(a, (a.c.namespace == o.c.namespace) & (a.c.app == o.c.app))
        query = (
            select(
                o.c.namespace,
                o.c.app,
                o.c.claimed_at,
                a.c.serving_colour,
                a.c.active_deployment_id,
                a.c.last_deployment_id,
                a.c.last_outcome,
                a.c.updated_at,
            )
            .select_from(joined)
            .where(*where)
            .order_by(o.c.namespace, o.c.app)
            .limit(limit)
            .offset(offset)
        )
        total = await self._one(select(func.count().label("n")).select_from(o).where(*where))
        return await self._all(query), int(total["n"]) if total else 0
