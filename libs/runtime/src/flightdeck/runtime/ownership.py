"""Who owns what, read from and written to the event store (ADR 0012).

Ownership is read straight from the streams, never from the read model: one
direct get per question, so an answer never waits for a projector and a tenant
created a moment ago can deploy at once. The first event of a namespace's or an
app's subject is the one that counts (both are appended with ``expected=0``).
The rules themselves are in :mod:`flightdeck.runtime.tenancy`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from flightdeck.events import Cause, ConcurrencyError, subjects
from flightdeck.events.tenancy import AppClaimed, NamespaceAssigned, TenantCreated, TenantPlanSet
from flightdeck.eventstore import EventStore
from flightdeck.runtime.tenancy import TenancyError, TenantPlan, plan_tenant

_ATTEMPTS = 3


@dataclass(frozen=True)
class Tenant:
    """One tenant as ``flightdeck tenants list`` shows it."""

    name: str
    created_at: datetime
    namespaces: list[tuple[str, datetime]]
    plan: str = "free"
    """The monitoring plan (ADR 0027)."""


class Ownership:
    """Questions and answers about ownership, on the event store."""

    def __init__(self, store: EventStore) -> None:
        self.store = store

    async def namespace_owner(self, namespace: str) -> str | None:
        """The tenant that owns ``namespace``, or ``None`` (one direct get)."""
        first = await self.store.read_first(subjects.namespace(namespace))
        if first is not None and isinstance(first.event, NamespaceAssigned):
            return first.event.tenant
        return None

    async def app_owner(self, namespace: str, app: str) -> str | None:
        """The tenant that claimed ``app`` in ``namespace``, or ``None`` (one direct get)."""
        first = await self.store.read_first(subjects.claim(namespace, app))
        if first is not None and isinstance(first.event, AppClaimed):
            return first.event.tenant
        return None

    async def claim_app(
        self, tenant: str, namespace: str, app: str, deployment_id: str, cause: Cause
    ) -> str | None:
        """Claim ``app`` for ``tenant`` unless someone has; returns the owner it has now.

        The append names ``expected=0``, so of two tenants claiming at once exactly
        one wins, and the loser reads the winner.
        """
        claim = AppClaimed(tenant=tenant, namespace=namespace, app=app, deployment_id=deployment_id)
        try:
            await self.store.append(
                subjects.claim(namespace, app), [claim], cause=cause, expected=0
            )
        except ConcurrencyError:
            return await self.app_owner(namespace, app)
        return tenant

    async def record_tenant(
        self,
        tenant: str,
        namespaces: Iterable[str],
        cause: Cause,
        *,
        protected: frozenset[str],
        must_be_new: bool = False,
        must_exist: bool = False,
    ) -> TenantPlan:
        """Make ``tenant`` exist and own ``namespaces`` (those it does not own yet).

        The tenant event and every new ``NamespaceAssigned`` go in one atomic batch,
        each checked, so a concurrent writer makes the whole batch fail; then the
        current owners are read again and the request is planned again, which ends
        in a clear :class:`TenancyError` if it lost a namespace.
        """
        wanted = list(namespaces)
        for _ in range(_ATTEMPTS):
            position = await self.store.last_position(subjects.tenant(tenant))
            owners = {ns: await self.namespace_owner(ns) for ns in wanted}
            plan = plan_tenant(
                tenant,
                wanted,
                position=position,
                owners=owners,
                protected=protected,
                must_be_new=must_be_new,
                must_exist=must_exist,
            )
            if not plan.appends:
                return plan
            try:
                await self.store.append_together(plan.appends, cause=cause)
            except ConcurrencyError:
                continue
            return plan
        raise TenancyError(f"tenant {tenant}: changed by someone else meanwhile; try again")

    async def record_configured(
        self,
        tenants: Mapping[str, list[str]],
        cause: Cause,
        *,
        protected: frozenset[str],
        lenient: Iterable[str] = (),
    ) -> dict[str, TenantPlan]:
        """Record every configured tenant (idempotent: run at every start).

        A tenant in ``lenient`` (the dev tenant's default) that cannot have its
        namespaces is skipped instead of failing the start.
        """
        done: dict[str, TenantPlan] = {}
        forgiving = set(lenient)
        for tenant, namespaces in tenants.items():
            try:
                done[tenant] = await self.record_tenant(
                    tenant, namespaces, cause, protected=protected
                )
            except TenancyError as exc:
                if tenant not in forgiving:
                    raise TenancyError(f"FLIGHTDECK_TENANTS__CONFIGURED: {exc}") from None
        return done

    async def set_plan(self, event: TenantPlanSet, cause: Cause) -> None:
        """Record an existing tenant's monitoring plan (ADR 0027); :class:`TenancyError`
        for a tenant that does not exist."""
        subject = subjects.tenant(event.tenant)
        for _ in range(_ATTEMPTS):
            position = await self.store.last_position(subject)
            if not position:
                raise TenancyError(f"no tenant {event.tenant} (create it first)")
            try:
                await self.store.append(subject, [event], cause=cause, expected=position)
            except ConcurrencyError:
                continue
            return
        raise TenancyError(f"tenant {event.tenant}: changed by someone else meanwhile; try again")

    async def plan_of(self, tenant: str) -> TenantPlanSet | None:
        """The tenant's last plan event (``None``: it is on free)."""
        found = None
        for recorded in await self.store.read(subjects.tenant(tenant)):
            if isinstance(recorded.event, TenantPlanSet):
                found = recorded.event
        return found

    async def tenants(self) -> list[Tenant]:
        """Every tenant and its namespaces, with the times they were recorded."""
        created: dict[str, datetime] = {}
        for last in await self.store.read_latest(subjects.ALL_TENANTS):
            first = await self.store.read_first(last.subject)
            if first is not None and isinstance(first.event, TenantCreated):
                created[first.event.tenant] = first.time
        owned: dict[str, list[tuple[str, datetime]]] = {}
        for last in await self.store.read_latest(subjects.ALL_NAMESPACES):
            first = await self.store.read_first(last.subject)  # the first one wins
            if first is not None and isinstance(first.event, NamespaceAssigned):
                owned.setdefault(first.event.tenant, []).append((first.event.namespace, first.time))
        out = []
        for name, at in sorted(created.items()):
            plan = await self.plan_of(name)
            out.append(
                Tenant(
                    name=name,
                    created_at=at,
                    namespaces=sorted(owned.get(name, [])),
                    plan=plan.plan if plan is not None else "free",
                )
            )
        return out
