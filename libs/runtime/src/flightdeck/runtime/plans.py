"""Monitoring plans (issue 15 item 3, ADR 0027): what a tenant may monitor. Pure.

==========  ==============  ==================  ===============
plan        monitors        shortest interval   history kept
==========  ==============  ==================  ===============
free        5               3600 s (1 h)        7 days
pro         100             60 s                100 days
max         set per tenant  set per tenant      set per tenant
==========  ==============  ==================  ===============

A tenant's plan is the last :class:`~flightdeck.events.tenancy.TenantPlanSet` on its
subject (``flightdeck tenants plan``); without one it is on free. The dev tenant of
``flightdeck up`` is on max with a 5-second floor (:data:`DEV_LIMITS`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from flightdeck.events.tenancy import TenantPlanSet


class Plan(enum.StrEnum):
    FREE = "free"
    PRO = "pro"
    MAX = "max"


@dataclass(frozen=True)
class PlanLimits:
    plan: Plan
    max_monitors: int
    min_interval_s: float
    history_days: int


FIXED = {
    Plan.FREE: PlanLimits(Plan.FREE, max_monitors=5, min_interval_s=3600.0, history_days=7),
    Plan.PRO: PlanLimits(Plan.PRO, max_monitors=100, min_interval_s=60.0, history_days=100),
}
MAX_DEFAULTS = PlanLimits(Plan.MAX, max_monitors=1000, min_interval_s=30.0, history_days=400)
"""What a max plan gets for a limit the operator did not set."""
DEV_LIMITS = PlanLimits(Plan.MAX, max_monitors=1000, min_interval_s=5.0, history_days=30)
"""The dev tenant of ``flightdeck up``: checks every 5 s, so the demo shows them at once."""


class PlanError(Exception):
    """A plan the CLI cannot record; the message is one line for a person."""


class PlanLimitReached(Exception):
    """Creating this monitor would pass the plan's limit (403 ``PLAN_LIMIT_REACHED``)."""

    def __init__(self, limits: PlanLimits) -> None:
        super().__init__(
            f"the {limits.plan} plan allows {limits.max_monitors} monitors; "
            "delete one or change the plan"
        )
        self.limit = limits.max_monitors


class IntervalBelowFloor(Exception):
    """The interval is shorter than the plan allows (400, naming the floor)."""

    def __init__(self, limits: PlanLimits, interval_s: float) -> None:
        super().__init__(
            f"intervalSeconds {interval_s:g} is below the {limits.plan} plan's floor of "
            f"{limits.min_interval_s:g} s"
        )
        self.floor = limits.min_interval_s


def plan_event(
    tenant: str,
    plan: str,
    *,
    max_monitors: int | None = None,
    min_interval_s: float | None = None,
    history_days: int | None = None,
) -> TenantPlanSet:
    """The event ``flightdeck tenants plan`` appends; :class:`PlanError` for a bad one."""
    try:
        chosen = Plan(plan.lower())
    except ValueError:
        known = ", ".join(p.value for p in Plan)
        raise PlanError(f"unknown plan {plan!r} (known: {known})") from None
    custom = (max_monitors, min_interval_s, history_days)
    if chosen is not Plan.MAX and any(v is not None for v in custom):
        raise PlanError(f"the {chosen} plan has fixed limits; only max takes --max-monitors …")
    if max_monitors is not None and not 1 <= max_monitors <= 100_000:
        raise PlanError("--max-monitors must be between 1 and 100000")
    if min_interval_s is not None and not 1 <= min_interval_s <= 86_400:
        raise PlanError("--min-interval must be between 1 and 86400 seconds")
    if history_days is not None and not 1 <= history_days <= 3650:
        raise PlanError("--history-days must be between 1 and 3650")
    return TenantPlanSet(
        tenant=tenant,
        plan=chosen.value,
        max_monitors=max_monitors,
        min_interval_s=min_interval_s,
        history_days=history_days,
    )


def limits_of(event: TenantPlanSet | None) -> PlanLimits:
    """The limits a tenant's last plan event gives (free without one)."""
    if event is None:
        return FIXED[Plan.FREE]
    plan = Plan(event.plan)
    if plan is not Plan.MAX:
        return FIXED[plan]
    return PlanLimits(
        Plan.MAX,
        max_monitors=event.max_monitors or MAX_DEFAULTS.max_monitors,
        min_interval_s=event.min_interval_s or MAX_DEFAULTS.min_interval_s,
        history_days=event.history_days or MAX_DEFAULTS.history_days,
    )


def admit_monitor(limits: PlanLimits, monitors_now: int, interval_s: float) -> None:
    """Raise unless a tenant with ``monitors_now`` monitors may create one more at
    ``interval_s`` (the interval is checked first: it is the caller's to fix)."""
    if interval_s < limits.min_interval_s:
        raise IntervalBelowFloor(limits, interval_s)
    if monitors_now >= limits.max_monitors:
        raise PlanLimitReached(limits)


def check_interval(limits: PlanLimits, interval_s: float) -> None:
    """For an update: only the floor applies."""
    if interval_s < limits.min_interval_s:
        raise IntervalBelowFloor(limits, interval_s)
