"""Tenancy's rules (ADR 0012): which names are valid, where nobody may deploy, and
what a tenant may do with a namespace and an app. Pure: the owners come in as
arguments (:mod:`flightdeck.runtime.ownership` reads them from the event store).

A tenant owns namespaces (the first tenant to take one keeps it for good) and,
within them, the apps it deployed first. ``kube-system``, ``kube-public``,
``kube-node-lease`` and the namespace Flightdeck runs in belong to nobody.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pydantic import ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from flightdeck.events import subjects
from flightdeck.events.base import Event
from flightdeck.events.tenancy import NamespaceAssigned, TenantCreated, TenantNamespacesAdded

ALWAYS_PROTECTED = frozenset({"kube-system", "kube-public", "kube-node-lease"})
"""Kubernetes' own namespaces: never a deploy target, never a tenant's."""
DEV_NAMESPACE = "default"
"""What the dev tenant owns in dev mode (``flightdeck up``) unless configured otherwise."""
MAX_NAMESPACES = 100
"""Namespaces one tenant event may name (they are appended in one atomic batch)."""

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


class TenancyError(Exception):
    """A tenant or namespace Flightdeck cannot record; the message is one line for a person."""


class TenantSettings(BaseSettings):
    """Tenants, the namespaces each owns, and where nobody may deploy (ADR 0012)."""

    model_config = SettingsConfigDict(
        env_prefix="FLIGHTDECK_TENANTS__", extra="ignore", use_attribute_docstrings=True
    )

    system_namespace: str = "flightdeck"
    """The namespace Flightdeck itself runs in: never a deploy target, like kube-system,
    kube-public and kube-node-lease."""
    configured: dict[str, list[str]] = {}
    """Tenants and the namespaces each owns, e.g. {"acme": ["acme-prod", "acme-dev"]} (JSON
    in the environment, a table in TOML); flightdeck up and flightdeck tenants sync record
    them as events. In dev mode the dev tenant also owns default, unless another does."""

    @field_validator("system_namespace")
    @classmethod
    def _system_namespace(cls, value: str) -> str:
        if not _DNS_LABEL.match(value) or len(value) > 63:
            raise ValueError("must be a namespace name (a DNS label of at most 63 characters)")
        return value

    @field_validator("configured")
    @classmethod
    def _tenants(cls, value: dict[str, list[str]], info: ValidationInfo) -> dict[str, list[str]]:
        protected = protected_namespaces(info.data.get("system_namespace", "flightdeck"))
        seen: dict[str, str] = {}
        for tenant, namespaces in value.items():
            problem = tenant_name_problem(tenant) or namespaces_problem(namespaces, protected)
            if problem:
                raise ValueError(f"tenant {tenant!r}: {problem}")
            for ns in namespaces:
                if ns in seen and seen[ns] != tenant:
                    raise ValueError(f"namespace {ns} is given to both {seen[ns]} and {tenant}")
                seen[ns] = tenant
        return value

    def protected(self) -> frozenset[str]:
        """Namespaces nobody may own or deploy to."""
        return protected_namespaces(self.system_namespace)

    def with_dev_tenant(self, dev_tenant: str | None) -> dict[str, list[str]]:
        """The tenants to record: the configured ones, plus (in dev mode) ``dev_tenant``
        owning ``default`` when no configured tenant names either."""
        wanted = {t: list(ns) for t, ns in self.configured.items()}
        taken = {ns for namespaces in wanted.values() for ns in namespaces}
        if dev_tenant and dev_tenant not in wanted and DEV_NAMESPACE not in taken:
            wanted[dev_tenant] = [DEV_NAMESPACE]
        return wanted


def protected_namespaces(system_namespace: str) -> frozenset[str]:
    return ALWAYS_PROTECTED | {system_namespace}


def tenant_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a tenant's (``None`` if it can): a DNS label, like namespaces."""
    if not name:
        return "a tenant name cannot be empty"
    if len(name) > 63 or not _DNS_LABEL.match(name):
        return (
            f"tenant name {name!r} must be lower-case letters, digits and '-' "
            "(at most 63, starting and ending with a letter or digit)"
        )
    return None


def namespaces_problem(namespaces: Iterable[str], protected: frozenset[str]) -> str | None:
    """Why these namespaces cannot be a tenant's (``None`` if they can)."""
    names = list(namespaces)
    if len(names) > MAX_NAMESPACES:
        return f"at most {MAX_NAMESPACES} namespaces at once"
    for ns in names:
        if len(ns) > 63 or not _DNS_LABEL.match(ns):
            return (
                f"namespace {ns!r} must be a DNS label (lower-case letters, digits and '-', "
                "at most 63)"
            )
        if ns in protected:
            return f"namespace {ns} is reserved (never a deploy target)"
    if len(set(names)) != len(names):
        return "a namespace is named twice"
    return None


class Refusal(enum.StrEnum):
    """Why a deployment may not go where it asks; the values are error codes."""

    PROTECTED = "NAMESPACE_PROTECTED"
    NOT_OWNED = "NAMESPACE_NOT_OWNED"
    APP_NOT_OWNED = "APP_NOT_OWNED"
    NOT_WATCHED = "NAMESPACE_NOT_WATCHED"

    @property
    def foreign(self) -> bool:
        """Whether the caller must not learn more than "no such namespace" from it:
        everything but an unwatched namespace of its own."""
        return self is not Refusal.NOT_WATCHED


def deploy_refusal(
    tenant: str,
    namespace: str,
    *,
    namespace_owner: str | None,
    app_owner: str | None,
    protected: frozenset[str],
    watched: frozenset[str] | None,
) -> Refusal | None:
    """Whether ``tenant`` may deploy into ``namespace``; ``None`` if it may.

    ``app_owner`` is the tenant that claimed the app (``None``: unclaimed, or not
    looked up); ``watched`` the namespaces Flightdeck watches (``None``: not checked).
    A claim by another tenant in the caller's own namespace cannot arise (a claim
    is only made after this check, and a namespace's owner never changes); it is
    refused all the same, like a namespace of someone else's.
    """
    if namespace in protected:
        return Refusal.PROTECTED
    if namespace_owner != tenant:
        return Refusal.NOT_OWNED
    if app_owner is not None and app_owner != tenant:
        return Refusal.APP_NOT_OWNED
    if watched is not None and namespace not in watched:
        return Refusal.NOT_WATCHED
    return None


def refusal_message(refusal: Refusal, namespace: str) -> str:
    """What the deployment's failure says (the orchestrator's words; the gateway's differ)."""
    if refusal is Refusal.PROTECTED:
        return f"namespace {namespace} is reserved: never a deploy target"
    if refusal is Refusal.NOT_WATCHED:
        return f"namespace {namespace} is not watched (FLIGHTDECK_K8S__NAMESPACES)"
    if refusal is Refusal.APP_NOT_OWNED:
        return f"the app in namespace {namespace} belongs to another tenant"
    return f"namespace {namespace} does not belong to the deployment's tenant"


Append = tuple[str, Event, int | None]


@dataclass(frozen=True)
class TenantPlan:
    """What recording a tenant appends (in one atomic batch), and what it changes."""

    appends: list[Append] = field(default_factory=list)
    created: bool = False
    added: list[str] = field(default_factory=list)


def plan_tenant(
    tenant: str,
    namespaces: Iterable[str],
    *,
    position: int,
    owners: Mapping[str, str | None],
    protected: frozenset[str],
    must_be_new: bool = False,
    must_exist: bool = False,
) -> TenantPlan:
    """The events that make ``tenant`` own ``namespaces``, or :class:`TenancyError`.

    Args:
        position: the tenant aggregate's last position (``0``: no such tenant yet).
        owners: each namespace's current owner (``None``: nobody's).
        must_be_new: refuse a tenant that already exists (``tenants create``).
        must_exist: refuse a tenant that does not exist yet (``tenants add-namespaces``).

    Namespaces the tenant already owns are left alone; one owned by another tenant
    refuses the whole request. Each new namespace gets its ``NamespaceAssigned``
    with ``expected=0`` beside the tenant event, so a race loses cleanly.
    """
    wanted = list(namespaces)
    problem = tenant_name_problem(tenant) or namespaces_problem(wanted, protected)
    if problem:
        raise TenancyError(problem)
    if must_be_new and position:
        raise TenancyError(f"tenant {tenant} already exists")
    if must_exist and not position:
        raise TenancyError(f"no tenant {tenant}: create it first (flightdeck tenants create)")
    taken = [ns for ns in wanted if owners.get(ns) not in (None, tenant)]
    if taken:
        ns = taken[0]
        raise TenancyError(f"namespace {ns} already belongs to tenant {owners[ns]}")
    new = [ns for ns in wanted if owners.get(ns) is None]
    assigned: list[Append] = [
        (subjects.namespace(ns), NamespaceAssigned(namespace=ns, tenant=tenant), 0) for ns in new
    ]
    if not position:
        created = TenantCreated(tenant=tenant, namespaces=wanted)
        return TenantPlan([(subjects.tenant(tenant), created, 0), *assigned], True, new)
    if not new:
        return TenantPlan()
    added = TenantNamespacesAdded(tenant=tenant, namespaces=new)
    return TenantPlan([(subjects.tenant(tenant), added, position), *assigned], False, new)
