"""Projections are pure: given rows and an event, the rows they leave."""

from __future__ import annotations

import typing
from datetime import timedelta
from typing import Any

import pytest

from flightdeck.events import streams, subjects
from flightdeck.events.audit import (
    ApiTokenCreated,
    ApiTokenRevoked,
    ConnectionResealed,
    OpsAction,
    OpsActionFailed,
    OpsActionRequested,
    OpsActionSucceeded,
)
from flightdeck.events.cluster import (
    ContainerPhase,
    ContainerState,
    ContainerUsage,
    PodMetricsSampled,
    ResourceDeleted,
)
from flightdeck.events.deployments import (
    Colour,
    ColourAssigned,
    ColourStats,
    DeploymentCancelled,
    DeploymentCompleted,
    Stage,
    StageFailed,
    StageStarted,
    StageSucceeded,
    TrafficSwitched,
)
from flightdeck.events.monitors import IncidentOpened, IncidentResolved, MonitorCreated
from flightdeck.events.tenancy import (
    AppClaimed,
    NamespaceAssigned,
    TenantCreated,
    TenantNamespacesAdded,
)
from flightdeck.readmodel.projections import PROJECTIONS
from flightdeck.readmodel.projector import PROJECTED
from flightdeck.readmodel.rows import RowSet
from tests.support.recorded import recorded
from tests.support.samples import T0, one_of_each, requested

pytestmark = pytest.mark.unit

# Event types of the projected streams that change no row, each with its reason.
NOT_PROJECTED: dict[type, str] = {
    ConnectionResealed: "only the sealed secret changes, and the read model holds no secret",
}


def members(union: Any) -> set[type]:
    """The event types of a stream's tagged union (unions of unions flattened)."""
    args = typing.get_args(union)
    return set().union(*(members(a) for a in args)) if args else {union}


def test_every_event_type_of_a_projected_stream_is_projected_or_excused() -> None:
    unhandled = {
        f"{stream}: {t.__name__}"
        for stream in PROJECTED
        for t in members(streams.UNIONS[stream])
        if t not in PROJECTIONS and t not in NOT_PROJECTED
    }
    assert unhandled == set(), "add a projection, or a reason to NOT_PROJECTED"


def test_every_projection_is_of_an_event_type_the_projector_reads() -> None:
    read = set().union(*(members(streams.UNIONS[stream]) for stream in PROJECTED))
    assert set(PROJECTIONS) - read == set()
    assert set(NOT_PROJECTED) & set(PROJECTIONS) == set()  # a stale excuse


def project(*events: Any, rows: RowSet | None = None) -> RowSet:
    """Apply events the way the projector does: preload what they touch, then apply."""
    rows = rows or RowSet()
    for r in events:
        projection = PROJECTIONS[type(r.event)]
        for table, key in projection.touches(r):
            if not rows.loaded(table, key):
                rows.preload(table, key, None)
        projection.apply(rows, r)
    return rows


def test_a_successful_deployment_fills_its_row_and_stages() -> None:
    subject = subjects.deployment("d1")
    stats = ColourStats(
        colour=Colour.GREEN, checks=5, failures=0, latency_p50_ms=3.0, latency_p99_ms=9.0
    )
    rows = project(
        recorded(subject, requested("d1")),
        recorded(subject, ColourAssigned(colour=Colour.GREEN, previous_colour=Colour.BLUE)),
        recorded(subject, StageStarted(stage=Stage.ARTIFACT, deadline=T0)),
        recorded(subject, StageSucceeded(stage=Stage.ARTIFACT, duration_ms=1200)),
        recorded(
            subject, TrafficSwitched(service="web", from_colour=Colour.BLUE, to_colour=Colour.GREEN)
        ),
        recorded(
            subject,
            DeploymentCompleted(
                colour=Colour.GREEN,
                url="http://web.localhost",
                stage_durations_ms={"artifact": 1200},
                total_duration_ms=5000,
                new_colour_stats=stats,
            ),
        ),
    )
    row = rows.get("deployments", ("d1",))
    assert row is not None
    assert (row["status"], row["current_stage"], row["serving_colour"]) == (
        "SUCCEEDED",
        "complete",
        "green",
    )
    assert (row["previous_colour"], row["url"], row["event_count"]) == (
        "blue",
        "http://web.localhost",
        6,
    )
    assert (row["new_latency_p50_ms"], row["new_error_rate"], row["total_duration_ms"]) == (
        3.0,
        0.0,
        5000,
    )
    stage = rows.get("deployment_stages", ("d1", "artifact"))
    assert stage is not None
    assert (stage["status"], stage["duration_ms"], stage["ordinal"]) == ("SUCCEEDED", 1200, 0)


def test_failed_and_cancelled_stages() -> None:
    subject = subjects.deployment("d2")
    rows = project(
        recorded(subject, requested("d2")),
        recorded(subject, StageStarted(stage=Stage.ROLLOUT, deadline=T0)),
        recorded(
            subject,
            StageFailed(
                stage=Stage.ROLLOUT, error_code="CRASH_LOOP", message="boom", duration_ms=10
            ),
        ),
        recorded(subject, StageStarted(stage=Stage.VERIFY, deadline=T0)),
        recorded(
            subject,
            DeploymentCancelled(
                stage=Stage.VERIFY, reason="user asked", serving_colour=None, total_duration_ms=20
            ),
        ),
    )
    assert rows.get("deployment_stages", ("d2", "rollout"))["error_code"] == "CRASH_LOOP"
    assert rows.get("deployment_stages", ("d2", "verify"))["status"] == "CANCELLED"
    row = rows.get("deployments", ("d2",))
    assert (row["status"], row["error_code"], row["error_stage"]) == (
        "CANCELLED",
        "CANCELLED",
        "verify",
    )


def test_events_of_an_unknown_deployment_change_nothing() -> None:
    rows = project(
        recorded(subjects.deployment("ghost"), StageStarted(stage=Stage.APPLY, deadline=T0))
    )
    assert rows.get("deployments", ("ghost",)) is None
    assert rows.get("deployment_stages", ("ghost", "apply")) is None


def test_a_repeated_request_does_not_reset_the_row() -> None:
    subject = subjects.deployment("d3")
    rows = project(
        recorded(subject, requested("d3")),
        recorded(subject, StageStarted(stage=Stage.APPLY, deadline=T0)),
        recorded(subject, requested("d3")),
    )
    assert rows.get("deployments", ("d3",))["status"] == "IN_PROGRESS"


def test_pods_keep_metrics_and_are_marked_deleted() -> None:
    subject, pod = one_of_each("p1")[3]
    rows = project(recorded(subject, pod))
    rows = project(
        recorded(
            subject,
            PodMetricsSampled(
                namespace="default",
                pod=pod.name,
                window_s=30,
                containers=[ContainerUsage(name="app", cpu_millicores=12.5, memory_bytes=1024)],
            ),
        ),
        recorded(subject, pod),  # a later observation keeps the last sample
        recorded(
            subject, ResourceDeleted(kind="Pod", namespace="default", name=pod.name, uid="u1")
        ),
        rows=rows,
    )
    row = rows.get("pods", ("default", pod.name))
    assert (row["cpu_millicores"], row["memory_bytes"], row["deleted"]) == (12.5, 1024, True)
    assert row["containers"][0]["phase"] == ContainerPhase.RUNNING
    assert isinstance(pod.containers[0], ContainerState)


def test_incidents_move_the_monitor_state() -> None:
    subject = subjects.monitor("m1")
    rows = project(
        recorded(
            subject, MonitorCreated(monitor_id="m1", tenant="acme", name="home", url="http://x/")
        ),
        recorded(
            subject, IncidentOpened(incident_id="i1", monitor_id="m1", cause="503", started_at=T0)
        ),
    )
    assert rows.get("monitors", ("m1",))["state"] == "DOWN"
    assert rows.get("incidents", ("i1",))["tenant"] == "acme"
    rows = project(
        recorded(
            subject,
            IncidentResolved(incident_id="i1", monitor_id="m1", resolved_at=T0, duration_s=60),
        ),
        rows=rows,
    )
    assert rows.get("monitors", ("m1",))["state"] == "UP"
    assert rows.get("incidents", ("i1",))["status"] == "RESOLVED"


def test_tokens_and_failed_ops_actions() -> None:
    access = subjects.access("acme")
    rows = project(
        recorded(
            access,
            ApiTokenCreated(
                token_id="t1", tenant="acme", name="ci", scopes=["read"], token_hash="h"
            ),
        ),
        recorded(access, ApiTokenRevoked(token_id="t1", tenant="acme")),
        recorded(
            subjects.ops("acme", "web"),
            OpsActionFailed(
                action_id="a1",
                action=OpsAction.SCALE,
                namespace="default",
                target="web-blue",
                error_code="NOT_FOUND",
                message="no such deployment",
            ),
        ),
    )
    assert rows.get("api_tokens", ("t1",))["revoked_at"] is not None
    op = rows.get("ops_actions", ("a1",))
    assert (op["tenant"], op["app"], op["status"], op["error_code"]) == (
        "acme",
        "web",
        "FAILED",
        "NOT_FOUND",
    )


def test_an_ops_action_is_pending_until_its_outcome_and_keeps_who_asked() -> None:
    subject = subjects.ops("acme", "web")
    request = OpsActionRequested(
        action_id="a2",
        tenant="acme",
        app="web",
        action=OpsAction.SCALE,
        namespace="default",
        target="",
        replicas=3,
    )
    rows = project(recorded(subject, request, actor="ada-laptop", seconds=1))
    pending = dict(rows.get("ops_actions", ("a2",)) or {})
    project(recorded(subject, request, actor="someone-else", seconds=2), rows=rows)  # again
    project(
        recorded(
            subject,
            OpsActionSucceeded(
                action_id="a2",
                action=OpsAction.SCALE,
                namespace="default",
                target="",
                detail={"deployment": "web-blue", "replicas": 3},
            ),
            actor="service:orchestrator",
            seconds=3,
        ),
        rows=rows,
    )

    done = rows.get("ops_actions", ("a2",))
    assert (pending["status"], pending["requested_by"], pending["detail"]) == (
        "PENDING",
        "ada-laptop",
        {"replicas": 3},
    )
    assert done is not None
    assert (done["status"], done["requested_by"], done["at"]) == (
        "SUCCEEDED",
        "ada-laptop",
        T0 + timedelta(seconds=1),
    )
    assert done["detail"]["deployment"] == "web-blue" and done["detail"]["finishedAt"]


def test_every_projected_event_type_has_touches_and_apply() -> None:
    for subject, event in one_of_each("k9"):
        projection = PROJECTIONS.get(type(event))
        if projection is None:
            continue  # commands and logs are not projected
        project(recorded(subject, event))


def test_tenancy_rows_say_who_owns_what_since_when_and_the_first_owner_stays() -> None:
    rows = project(
        recorded(
            subjects.tenant("acme"),
            TenantCreated(tenant="acme", namespaces=["web"]),
            seconds=1,
            actor="user:cli",
        ),
        recorded(subjects.namespace("web"), NamespaceAssigned(namespace="web", tenant="acme")),
        recorded(subjects.tenant("acme"), TenantNamespacesAdded(tenant="acme", namespaces=["x"])),
        recorded(subjects.namespace("x"), NamespaceAssigned(namespace="x", tenant="acme")),
        # a second event on an owner's subject (never appended with expected=0) changes nothing
        recorded(subjects.namespace("web"), NamespaceAssigned(namespace="web", tenant="evil")),
        recorded(
            subjects.claim("web", "shop"),
            AppClaimed(tenant="acme", namespace="web", app="shop", deployment_id="d1"),
            seconds=20,
            actor="token:t1",
        ),
        recorded(
            subjects.claim("web", "shop"),
            AppClaimed(tenant="evil", namespace="web", app="shop", deployment_id="d2"),
        ),
    )
    assert rows.get("tenants", ("acme",)) == {
        "tenant": "acme",
        "created_by": "user:cli",
        "created_at": T0 + timedelta(seconds=1),
    }
    assert rows.get("namespace_owners", ("web",))["tenant"] == "acme"
    assert rows.get("namespace_owners", ("x",))["tenant"] == "acme"
    assert rows.get("app_owners", ("web", "shop")) == {
        "namespace": "web",
        "app": "shop",
        "tenant": "acme",
        "deployment_id": "d1",
        "claimed_by": "token:t1",
        "claimed_at": T0 + timedelta(seconds=20),
    }


def test_a_monitor_row_holds_its_model_but_no_secret_header_value() -> None:
    from flightdeck.events.audit import SealedSecret
    from flightdeck.events.monitors import MonitorUpdated

    subject = subjects.monitor("m9")
    created = MonitorCreated(
        monitor_id="m9",
        tenant="acme",
        name="api",
        app_name="hello",
        method="HEAD",
        headers={"Accept": "text/plain"},
        secret_headers={"Authorization": SealedSecret(key_id="k-1", ciphertext="Y2lwaGVy")},
        conditions=["[STATUS] < 400"],
        success_threshold=5,
    )
    rows = project(recorded(subject, created))
    row = rows.get("monitors", ("m9",))
    assert (row["url"], row["app_name"], row["method"]) == (None, "hello", "HEAD")
    assert row["headers"] == '{"Accept": "text/plain"}'
    assert row["secret_header_names"] == '["Authorization"]'
    assert "Y2lwaGVy" not in str(row)
    assert (row["conditions"], row["success_threshold"], row["paused"]) == (
        '["[STATUS] < 400"]',
        5,
        False,
    )
    rows = project(
        recorded(
            subject,
            MonitorUpdated(monitor_id="m9", name="api", url="https://x/", paused=True),
        ),
        rows=rows,
    )
    row = rows.get("monitors", ("m9",))
    assert (row["url"], row["app_name"], row["paused"], row["conditions"]) == (
        "https://x/",
        None,
        True,
        "[]",
    )
