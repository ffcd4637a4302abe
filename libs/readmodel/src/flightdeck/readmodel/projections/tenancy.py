"""Tenants, namespace owners and app owners, from the FD_AUDIT stream (ADR 0012).

The first event of a namespace's or an app's subject is its owner (both are
appended with ``expected=0``), so a row, once written, is never replaced.
"""

from __future__ import annotations

from typing import Any

from flightdeck.events.envelope import Recorded
from flightdeck.events.tenancy import (
    AppClaimed,
    NamespaceAssigned,
    TenantCreated,
    TenantNamespacesAdded,
    TenantPlanSet,
)
from flightdeck.readmodel.projections.base import Projection, Touch, ignore, nothing
from flightdeck.readmodel.rows import RowSet

TENANTS = "tenants"
NAMESPACE_OWNERS = "namespace_owners"
APP_OWNERS = "app_owners"


def _tenant(recorded: Recorded[Any]) -> list[Touch]:
    return [(TENANTS, (recorded.event.tenant,))]


def tenant_created(rows: RowSet, recorded: Recorded[Any]) -> None:
    e: TenantCreated = recorded.event
    if rows.get(TENANTS, (e.tenant,)) is None:
        row = {"tenant": e.tenant, "created_by": recorded.actor, "created_at": recorded.time}
        rows.put(TENANTS, (e.tenant,), row)


def plan_set(rows: RowSet, recorded: Recorded[Any]) -> None:
    e: TenantPlanSet = recorded.event
    plan = {
        "plan": e.plan,
        "max_monitors": e.max_monitors,
        "min_interval_s": e.min_interval_s,
        "history_days": e.history_days,
    }
    if not rows.update(TENANTS, (e.tenant,), **plan):
        row = {"tenant": e.tenant, "created_by": recorded.actor, "created_at": recorded.time}
        rows.put(TENANTS, (e.tenant,), {**row, **plan})


def _namespace(recorded: Recorded[Any]) -> list[Touch]:
    return [(NAMESPACE_OWNERS, (recorded.event.namespace,))]


def namespace_assigned(rows: RowSet, recorded: Recorded[Any]) -> None:
    e: NamespaceAssigned = recorded.event
    if rows.get(NAMESPACE_OWNERS, (e.namespace,)) is None:
        rows.put(
            NAMESPACE_OWNERS,
            (e.namespace,),
            {
                "namespace": e.namespace,
                "tenant": e.tenant,
                "assigned_by": recorded.actor,
                "assigned_at": recorded.time,
            },
        )


def _app(recorded: Recorded[Any]) -> list[Touch]:
    return [(APP_OWNERS, (recorded.event.namespace, recorded.event.app))]


def app_claimed(rows: RowSet, recorded: Recorded[Any]) -> None:
    e: AppClaimed = recorded.event
    key = (e.namespace, e.app)
    if rows.get(APP_OWNERS, key) is None:
        rows.put(
            APP_OWNERS,
            key,
            {
                "namespace": e.namespace,
                "app": e.app,
                "tenant": e.tenant,
                "deployment_id": e.deployment_id,
                "claimed_by": recorded.actor,
                "claimed_at": recorded.time,
            },
        )


PROJECTIONS: dict[type, Projection] = {
    TenantCreated: Projection(_tenant, tenant_created),
    # its namespaces each come with their own NamespaceAssigned
    TenantNamespacesAdded: Projection(nothing, ignore),
    NamespaceAssigned: Projection(_namespace, namespace_assigned),
    AppClaimed: Projection(_app, app_claimed),
    TenantPlanSet: Projection(_tenant, plan_set),
}
