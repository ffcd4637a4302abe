"""A projection built live, one event at a time with a crash in the middle, equals a rebuild.

Hypothesis writes the histories: deployments, pods, monitors, tokens and tenancy whose
events hit the same rows in random orders (valid lifecycles or not: the
projection must be deterministic either way).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flightdeck.events import Cause, new_id, subjects
from flightdeck.events.audit import ApiTokenCreated, ApiTokenRevoked
from flightdeck.events.cluster import ResourceDeleted
from flightdeck.events.deployments import (
    Colour,
    ColourAssigned,
    DeploymentFailed,
    Stage,
    StageFailed,
    StageProgressed,
    StageStarted,
    StageSucceeded,
    TrafficSwitched,
)
from flightdeck.events.monitors import IncidentOpened, IncidentResolved, MonitorCreated
from flightdeck.events.tenancy import AppClaimed, NamespaceAssigned, TenantCreated
from flightdeck.eventstore import EventStore
from flightdeck.readmodel.database import Database
from flightdeck.readmodel.projector import Projector, rebuild
from tests.integration.readmodel.support import caught_up, snapshot
from tests.support.samples import T0, one_of_each, requested
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration
cause = Cause.root("user:hypothesis")

keys = st.sampled_from(["a", "b", "c"])
stages = st.sampled_from(list(Stage))
colours = st.sampled_from(list(Colour))


def _deployment(run: str) -> st.SearchStrategy[tuple[str, Any]]:
    def subject(k: str) -> str:
        return subjects.deployment(f"{run}-{k}")

    return st.one_of(
        keys.map(lambda k: (subject(k), requested(f"{run}-{k}"))),
        st.tuples(keys, colours).map(
            lambda t: (subject(t[0]), ColourAssigned(colour=t[1], previous_colour=None))
        ),
        st.tuples(keys, stages).map(
            lambda t: (subject(t[0]), StageStarted(stage=t[1], deadline=T0))
        ),
        st.tuples(keys, stages).map(
            lambda t: (subject(t[0]), StageProgressed(stage=t[1], message="step"))
        ),
        st.tuples(keys, stages, st.integers(0, 10**6)).map(
            lambda t: (subject(t[0]), StageSucceeded(stage=t[1], duration_ms=t[2]))
        ),
        st.tuples(keys, stages).map(
            lambda t: (
                subject(t[0]),
                StageFailed(stage=t[1], error_code="E", message="m", duration_ms=1),
            )
        ),
        st.tuples(keys, colours).map(
            lambda t: (
                subject(t[0]),
                TrafficSwitched(service="web", from_colour=None, to_colour=t[1]),
            )
        ),
        st.tuples(keys, stages).map(
            lambda t: (
                subject(t[0]),
                DeploymentFailed(
                    stage=t[1],
                    error_code="X",
                    message="no",
                    rolled_back=True,
                    serving_colour=None,
                    total_duration_ms=5,
                ),
            )
        ),
    )


def _others(run: str) -> st.SearchStrategy[tuple[str, Any]]:
    pod_subject, pod = one_of_each(run)[3]
    monitor = subjects.monitor(f"{run}-m")
    return st.one_of(
        st.just((pod_subject, pod)),
        st.just(
            (pod_subject, ResourceDeleted(kind="Pod", namespace="default", name=pod.name, uid="u1"))
        ),
        st.just(
            (
                monitor,
                MonitorCreated(monitor_id=f"{run}-m", tenant="acme", name="m", url="http://x/"),
            )
        ),
        keys.map(
            lambda k: (
                monitor,
                IncidentOpened(
                    incident_id=f"{run}-{k}", monitor_id=f"{run}-m", cause="down", started_at=T0
                ),
            )
        ),
        keys.map(
            lambda k: (
                monitor,
                IncidentResolved(
                    incident_id=f"{run}-{k}", monitor_id=f"{run}-m", resolved_at=T0, duration_s=1
                ),
            )
        ),
        keys.map(
            lambda k: (
                subjects.access("acme"),
                ApiTokenCreated(
                    token_id=f"{run}-{k}",
                    tenant="acme",
                    name=k,
                    scopes=["read"],
                    token_hash=f"{run}-{k}",
                ),
            )
        ),
        keys.map(
            lambda k: (
                subjects.access("acme"),
                ApiTokenRevoked(token_id=f"{run}-{k}", tenant="acme"),
            )
        ),
        keys.map(
            lambda k: (
                subjects.tenant(f"{run}-{k}"),
                TenantCreated(tenant=f"{run}-{k}", namespaces=[f"{run}-ns"]),
            )
        ),
        keys.map(  # several tenants on one namespace's subject: the first one stays
            lambda k: (
                subjects.namespace(f"{run}-ns"),
                NamespaceAssigned(namespace=f"{run}-ns", tenant=f"{run}-{k}"),
            )
        ),
        st.tuples(keys, keys).map(
            lambda t: (
                subjects.claim(f"{run}-ns", t[0]),
                AppClaimed(tenant=t[1], namespace=f"{run}-ns", app=t[0], deployment_id=t[1]),
            )
        ),
    )


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[tuple[str, Any]], int]:
    run = new_id()[:10]
    events = draw(st.lists(st.one_of(_deployment(run), _others(run)), min_size=1, max_size=40))
    crash_after = draw(st.integers(0, len(events)))
    return events, crash_after


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(history=histories())
async def test_live_with_a_crash_equals_rebuild(
    store: EventStore, database: Database, history
) -> None:
    events, crash_after = history
    projector = Projector(store, database)
    live = asyncio.create_task(projector.run())
    try:
        for n, (subject, event) in enumerate(events):
            if n == crash_after:  # crash: the projector dies wherever it is, a new one starts
                live.cancel()
                await asyncio.gather(live, return_exceptions=True)
                projector = Projector(store, database)
                live = asyncio.create_task(projector.run())
            await store.append(subject, [event], cause=cause)
        await eventually(lambda: caught_up(projector, store), what="the live projector")
    finally:
        live.cancel()
        await asyncio.gather(live, return_exceptions=True)
    built_live = await snapshot(database)
    await rebuild(store, database)
    assert await snapshot(database) == built_live
