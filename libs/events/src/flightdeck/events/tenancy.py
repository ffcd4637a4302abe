"""Who owns what: tenants, their namespaces, and the apps they deployed first (ADR 0012).

Subjects (all in ``FD_AUDIT``, kept for good):

- ``fd.evt.tenant.<tenant>``: :class:`TenantCreated`, then :class:`TenantNamespacesAdded`
  and :class:`TenantPlanSet` (the monitoring plan, ADR 0027).
- ``fd.evt.namespace.<namespace>``: one :class:`NamespaceAssigned`, appended with
  ``expected=0`` in the same atomic batch as the tenant event that names it, so a
  namespace has exactly one tenant, the first that asked, for good.
- ``fd.evt.claim.<namespace>.<app>``: one :class:`AppClaimed`, appended by the gateway
  with ``expected=0`` when a tenant first deploys the app.

Replaying these subjects tells who owned what, and since when (the events' times).
"""

from __future__ import annotations

from flightdeck.events.base import Event


class TenantCreated(Event, frozen=True, kw_only=True, tag="tenant.created"):
    """A tenant exists, owning ``namespaces`` (each also has its ``NamespaceAssigned``)."""

    tenant: str
    namespaces: list[str]


class TenantNamespacesAdded(Event, frozen=True, kw_only=True, tag="tenant.namespaces_added"):
    """An existing tenant now also owns ``namespaces``."""

    tenant: str
    namespaces: list[str]


class NamespaceAssigned(Event, frozen=True, kw_only=True, tag="namespace.assigned"):
    """``namespace`` belongs to ``tenant``: the first event of its subject is what counts."""

    namespace: str
    tenant: str


class AppClaimed(Event, frozen=True, kw_only=True, tag="claim.app_claimed"):
    """``tenant`` deployed ``app`` in ``namespace`` first (``deployment_id``); it owns the app."""

    tenant: str
    namespace: str
    app: str
    deployment_id: str


class TenantPlanSet(Event, frozen=True, kw_only=True, tag="tenant.plan_set"):
    """The tenant's monitoring plan from now on (ADR 0027), set by ``flightdeck tenants
    plan``; a tenant without one is on ``free``. ``max`` carries its own limits; for
    ``free`` and ``pro`` the limit fields are None (the plan's fixed ones apply)."""

    tenant: str
    plan: str
    max_monitors: int | None = None
    min_interval_s: float | None = None
    history_days: int | None = None


TenancyEvent = (
    TenantCreated | TenantNamespacesAdded | NamespaceAssigned | AppClaimed | TenantPlanSet
)
