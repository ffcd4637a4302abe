"""``flightdeck tenants``: who owns which namespaces (ADR 0012).

Tenants live in the event store (``fd.evt.tenant.<tenant>``, one
``fd.evt.namespace.<ns>`` per namespace, first writer wins), so replay shows
who owned what and since when. ``create`` and ``add-namespaces`` record what a
person asks; ``sync`` records ``FLIGHTDECK_TENANTS__CONFIGURED`` (``flightdeck
up`` does it at every start, a production install once per change, like a
migration). All of them need the admin NATS credentials.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import msgspec
import typer
from rich.console import Console
from rich.table import Table

from flightdeck.cli.connect import event_store, settings_or_exit
from flightdeck.cli.output import console, fail
from flightdeck.events import Cause
from flightdeck.eventstore import EventStore
from flightdeck.runtime.ownership import Ownership, Tenant
from flightdeck.runtime.plans import DEV_LIMITS, PlanError, limits_of, plan_event
from flightdeck.runtime.settings import ConfigError, load_section
from flightdeck.runtime.tenancy import TenancyError, TenantPlan, TenantSettings

CAUSE = Cause.root("user:cli")


def _settings() -> TenantSettings:
    try:
        return load_section(TenantSettings)
    except ConfigError as exc:
        raise fail(str(exc), 2) from None


def _split(namespaces: str) -> list[str]:
    return [n.strip() for n in namespaces.split(",") if n.strip()]


def _warn_unwatched(namespaces: list[str]) -> None:
    """A namespace the k8s-watcher does not watch refuses deploys; say so now."""
    from flightdeck.runtime.kube import KubernetesSettings  # kubernetes_asyncio: slow to import

    try:
        watched = set(load_section(KubernetesSettings).namespace_list())
    except ConfigError:
        return
    missing = [ns for ns in namespaces if ns not in watched]
    if missing:
        Console(stderr=True).print(
            f"[yellow]warning:[/] not watched (FLIGHTDECK_K8S__NAMESPACES): {', '.join(missing)}; "
            "deploys there are refused until it lists them",
            highlight=False,
            soft_wrap=True,
        )


async def _record(tenant: str, namespaces: list[str], *, new: bool) -> TenantPlan:
    protected = _settings().protected()
    async with event_store(settings_or_exit()) as store:
        try:
            return await Ownership(store).record_tenant(
                tenant, namespaces, CAUSE, protected=protected, must_be_new=new, must_exist=not new
            )
        except TenancyError as exc:
            raise fail(str(exc)) from None


async def _list() -> list[Tenant]:
    async with event_store(settings_or_exit()) as store:
        return await Ownership(store).tenants()


async def record_at_start(
    store: EventStore, out: Console, *, dev_tenant: str | None
) -> dict[str, TenantPlan]:
    """What ``flightdeck up`` does before the services start: record the configured tenants
    (and, in dev mode, ``dev_tenant`` owning ``default``). Raises :class:`ConfigError`."""
    settings = load_section(TenantSettings)
    try:
        done = await Ownership(store).record_configured(
            settings.with_dev_tenant(dev_tenant),
            Cause.root("service:flightdeck-up"),
            protected=settings.protected(),
            lenient=[dev_tenant] if dev_tenant and dev_tenant not in settings.configured else [],
        )
    except TenancyError as exc:
        raise ConfigError(str(exc)) from None
    if dev_tenant:
        await _dev_plan(Ownership(store), dev_tenant)
    changed = [f"{t} (+{', '.join(p.added)})" for t, p in done.items() if p.added]
    if changed:
        out.print(f"[green]✔[/] tenants recorded: {'; '.join(changed)}")
    return done


async def _dev_plan(ownership: Ownership, tenant: str) -> None:
    """The dev tenant is on max with a 5-second floor (ADR 0027), unless a plan was set."""
    if await ownership.plan_of(tenant) is not None:
        return
    event = plan_event(
        tenant,
        "max",
        max_monitors=DEV_LIMITS.max_monitors,
        min_interval_s=DEV_LIMITS.min_interval_s,
        history_days=DEV_LIMITS.history_days,
    )
    try:
        await ownership.set_plan(event, Cause.root("service:flightdeck-up"))
    except TenancyError:  # the dev tenant could not be recorded (lenient): no plan either
        return


def _tenant_json(t: Tenant) -> dict[str, object]:
    return {
        "tenant": t.name,
        "createdAt": t.created_at.isoformat(),
        "plan": t.plan,
        "namespaces": [{"namespace": ns, "since": at.isoformat()} for ns, at in t.namespaces],
    }


def register(app: typer.Typer) -> None:
    tenants = typer.Typer(
        help="Tenants and the namespaces they own (deploy targets).", no_args_is_help=True
    )

    @tenants.command("create")
    def create(
        name: Annotated[str, typer.Argument(help="The tenant's name (a DNS label).")],
        namespaces: Annotated[
            str, typer.Option(help="Namespaces it owns, comma-separated (each has one tenant).")
        ],
    ) -> None:
        """Create a tenant owning namespaces nobody owns yet."""
        wanted = _split(namespaces)
        if not wanted:
            raise fail("--namespaces must name at least one namespace")
        asyncio.run(_record(name, wanted, new=True))
        console.print(f"tenant {name} created, owning {', '.join(wanted)}", highlight=False)
        _warn_unwatched(wanted)

    @tenants.command("add-namespaces")
    def add_namespaces(
        name: Annotated[str, typer.Argument(help="An existing tenant.")],
        namespaces: Annotated[str, typer.Option(help="More namespaces, comma-separated.")],
    ) -> None:
        """Give an existing tenant more namespaces (nobody's yet)."""
        wanted = _split(namespaces)
        if not wanted:
            raise fail("--namespaces must name at least one namespace")
        plan = asyncio.run(_record(name, wanted, new=False))
        added = ", ".join(plan.added) or "nothing new"
        console.print(f"tenant {name}: {added}", highlight=False)
        _warn_unwatched(wanted)

    @tenants.command("list")
    def list_tenants(
        output: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
    ) -> None:
        """Every tenant, its namespaces, and since when it owns them."""
        if output not in ("table", "json"):
            raise fail("--format must be table or json", 2)
        found = asyncio.run(_list())
        if output == "json":
            text = msgspec.json.encode([_tenant_json(t) for t in found]).decode()
            console.print(text, highlight=False, soft_wrap=True)
            return
        table = Table("tenant", "namespaces", "plan", "since")
        for t in found:
            owned = ", ".join(ns for ns, _ in t.namespaces) or "—"
            table.add_row(t.name, owned, t.plan, t.created_at.isoformat(timespec="seconds"))
        console.print(table)

    @tenants.command("sync")
    def sync() -> None:
        """Record FLIGHTDECK_TENANTS__CONFIGURED (idempotent; flightdeck up does it at start)."""
        settings = _settings()

        async def run() -> dict[str, TenantPlan]:
            async with event_store(settings_or_exit()) as store:
                try:
                    return await Ownership(store).record_configured(
                        settings.configured, CAUSE, protected=settings.protected()
                    )
                except TenancyError as exc:
                    raise fail(str(exc)) from None

        done = asyncio.run(run())
        for tenant, plan in done.items():
            news = ", ".join(plan.added) or "unchanged"
            console.print(f"tenant {tenant}: {news}", highlight=False)
        _warn_unwatched([ns for nss in settings.configured.values() for ns in nss])

    @tenants.command("plan")
    def plan(
        name: Annotated[str, typer.Argument(help="An existing tenant.")],
        plan_name: Annotated[str, typer.Argument(metavar="PLAN", help="free, pro or max.")],
        max_monitors: Annotated[
            int | None, typer.Option(help="max only: how many monitors (default 1000).")
        ] = None,
        min_interval: Annotated[
            float | None, typer.Option(help="max only: shortest check interval, s (default 30).")
        ] = None,
        history_days: Annotated[
            int | None, typer.Option(help="max only: days of check history kept (default 400).")
        ] = None,
    ) -> None:
        """Set a tenant's monitoring plan (free: 5 monitors, 1 h; pro: 100, 60 s; max: set)."""
        try:
            event = plan_event(
                name,
                plan_name,
                max_monitors=max_monitors,
                min_interval_s=min_interval,
                history_days=history_days,
            )
        except PlanError as exc:
            raise fail(str(exc), 2) from None

        async def run() -> None:
            async with event_store(settings_or_exit()) as store:
                try:
                    await Ownership(store).set_plan(event, CAUSE)
                except TenancyError as exc:
                    raise fail(str(exc)) from None

        asyncio.run(run())
        got = limits_of(event)
        console.print(
            f"tenant {name}: plan {got.plan} ({got.max_monitors} monitors, interval "
            f">= {got.min_interval_s:g} s, history {got.history_days} days)",
            highlight=False,
        )

    app.add_typer(tenants, name="tenants")
