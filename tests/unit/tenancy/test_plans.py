"""Monitoring plans (issue 15 item 3, ADR 0027): limits per plan, the floor, the count."""

from __future__ import annotations

import pytest

from flightdeck.events import subjects
from flightdeck.readmodel.projections import PROJECTIONS
from flightdeck.readmodel.rows import RowSet
from flightdeck.runtime.plans import (
    DEV_LIMITS,
    IntervalBelowFloor,
    Plan,
    PlanError,
    PlanLimitReached,
    admit_monitor,
    check_interval,
    limits_of,
    plan_event,
)
from tests.support.recorded import recorded

pytestmark = pytest.mark.unit


def test_a_tenant_without_a_plan_is_on_free() -> None:
    free = limits_of(None)
    assert (free.plan, free.max_monitors, free.min_interval_s, free.history_days) == (
        Plan.FREE,
        5,
        3600.0,
        7,
    )
    pro = limits_of(plan_event("acme", "PRO"))
    assert (pro.max_monitors, pro.min_interval_s, pro.history_days) == (100, 60.0, 100)


def test_the_sixth_monitor_on_free_is_refused_naming_the_limit() -> None:
    free = limits_of(None)
    admit_monitor(free, 4, 3600)
    with pytest.raises(PlanLimitReached, match="free plan allows 5 monitors") as caught:
        admit_monitor(free, 5, 3600)
    assert caught.value.limit == 5


def test_an_interval_below_the_floor_names_the_floor() -> None:
    with pytest.raises(IntervalBelowFloor, match="below the free plan's floor of 3600 s"):
        admit_monitor(limits_of(None), 0, 60)
    with pytest.raises(IntervalBelowFloor, match="floor of 60 s"):
        check_interval(limits_of(plan_event("acme", "pro")), 59.5)
    check_interval(DEV_LIMITS, 5)


def test_max_takes_its_own_limits() -> None:
    limits = limits_of(plan_event("dev", "max", max_monitors=7, min_interval_s=5, history_days=3))
    assert (limits.max_monitors, limits.min_interval_s, limits.history_days) == (7, 5, 3)
    admit_monitor(limits, 6, 5)
    with pytest.raises(PlanLimitReached, match="max plan allows 7"):
        admit_monitor(limits, 7, 5)


@pytest.mark.parametrize(
    ("plan", "kwargs", "message"),
    [
        ("gold", {}, "unknown plan 'gold'"),
        ("free", {"max_monitors": 10}, "fixed limits"),
        ("max", {"max_monitors": 0}, "--max-monitors"),
        ("max", {"min_interval_s": 0.5}, "--min-interval"),
        ("max", {"history_days": 0}, "--history-days"),
    ],
)
def test_a_bad_plan_is_one_line(plan: str, kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(PlanError, match=message):
        plan_event("acme", plan, **kwargs)  # type: ignore[arg-type]


def test_the_plan_is_projected_onto_the_tenant_row() -> None:
    rows = RowSet()
    event = plan_event("acme", "max", max_monitors=9)
    projection = PROJECTIONS[type(event)]
    stored = recorded(subjects.tenant("acme"), event)
    for table, key in projection.touches(stored):
        rows.preload(table, key, None)
    projection.apply(rows, stored)
    row = rows.get("tenants", ("acme",))
    assert row is not None
    assert (row["plan"], row["max_monitors"], row["min_interval_s"]) == ("max", 9, None)
