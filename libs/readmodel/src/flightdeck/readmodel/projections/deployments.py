"""Deployments and their stages, from the FD_DEPLOYMENTS stream."""

from __future__ import annotations

from typing import Any

from flightdeck.events import subjects
from flightdeck.events.deployments import (
    ColourAssigned,
    ColourScaledDown,
    DeploymentCancelled,
    DeploymentCompleted,
    DeploymentFailed,
    DeploymentRequested,
    DeploymentStatus,
    Stage,
    StageFailed,
    StageProgressed,
    StageStarted,
    StageSucceeded,
    TrafficSwitched,
)
from flightdeck.events.envelope import Recorded
from flightdeck.readmodel.projections.base import Projection, Touch
from flightdeck.readmodel.rows import RowSet

DEPLOYMENTS = "deployments"
STAGES = "deployment_stages"
ORDINAL = {stage: n for n, stage in enumerate(Stage)}


def _id(recorded: Recorded[Any]) -> str:
    return subjects.aggregate_id(recorded.subject)


def _deployment(recorded: Recorded[Any]) -> list[Touch]:
    return [(DEPLOYMENTS, (_id(recorded),))]


def _with_stage(recorded: Recorded[Any]) -> list[Touch]:
    stage = recorded.event.stage
    touched = _deployment(recorded)
    if stage is not None:
        touched.append((STAGES, (_id(recorded), stage.value)))
    return touched


def _advance(rows: RowSet, recorded: Recorded[Any], **values: Any) -> bool:
    """Count the event on the deployment row and set ``values``; ``False`` if unknown."""
    key = (_id(recorded),)
    row = rows.get(DEPLOYMENTS, key)
    if row is None:
        return False
    return rows.update(
        DEPLOYMENTS,
        key,
        event_count=row["event_count"] + 1,
        last_position=recorded.position,
        updated_at=recorded.time,
        **values,
    )


def requested(rows: RowSet, recorded: Recorded[Any]) -> None:
    e: DeploymentRequested = recorded.event
    key = (_id(recorded),)
    if rows.get(DEPLOYMENTS, key) is not None:
        return
    rows.put(
        DEPLOYMENTS,
        key,
        {
            "id": key[0],
            "tenant": e.tenant,
            "app": e.app,
            "namespace": e.namespace,
            "repository": e.repository,
            "tag": e.tag,
            "image": e.image,
            "branch": e.branch,
            "commit_sha": e.commit_sha,
            "replicas": e.replicas,
            "status": DeploymentStatus.PENDING.value,
            "current_stage": None,
            "colour": None,
            "previous_colour": None,
            "serving_colour": None,
            "url": None,
            "error_code": None,
            "error_message": None,
            "error_stage": None,
            "rolled_back": False,
            "new_latency_p50_ms": None,
            "new_latency_p99_ms": None,
            "new_error_rate": None,
            "old_latency_p50_ms": None,
            "old_latency_p99_ms": None,
            "old_error_rate": None,
            "total_duration_ms": None,
            "event_count": 1,
            "last_position": recorded.position,
            "correlation_id": recorded.correlation_id,
            "requested_by": recorded.actor,
            "created_at": recorded.time,
            "updated_at": recorded.time,
            "finished_at": None,
            "github_owner": e.github_owner,
            "github_repo": e.github_repo,
            "error_reason": None,
            "timeout_s": None,
            "blue_url": None,
            "green_url": None,
        },
    )


def colour_assigned(rows: RowSet, recorded: Recorded[Any]) -> None:
    e: ColourAssigned = recorded.event
    previous = e.previous_colour.value if e.previous_colour else None
    _advance(
        rows, recorded, colour=e.colour.value, previous_colour=previous, serving_colour=previous
    )


def stage_started(rows: RowSet, recorded: Recorded[Any]) -> None:
    e: StageStarted = recorded.event
    if _advance(
        rows, recorded, status=DeploymentStatus.IN_PROGRESS.value, current_stage=e.stage.value
    ):
        rows.put(
            STAGES,
            (_id(recorded), e.stage.value),
            {
                "deployment_id": _id(recorded),
                "stage": e.stage.value,
                "ordinal": ORDINAL[e.stage],
                "status": "RUNNING",
                "started_at": recorded.time,
                "deadline": e.deadline,
                "finished_at": None,
                "duration_ms": None,
                "message": None,
                "error_code": None,
            },
        )


def stage_progressed(rows: RowSet, recorded: Recorded[Any]) -> None:
    e: StageProgressed = recorded.event
    if _advance(rows, recorded):
        rows.update(STAGES, (_id(recorded), e.stage.value), message=e.message)


def _colour_urls(e: StageSucceeded) -> dict[str, Any]:
    """Where each colour answers, once Expose has found the app's address."""
    if e.stage is not Stage.EXPOSE:
        return {}
    urls = {f"{c}_url": e.detail.get(f"{c}_url") for c in ("blue", "green")}
    return {column: url for column, url in urls.items() if isinstance(url, str)}


def stage_succeeded(rows: RowSet, recorded: Recorded[Any]) -> None:
    e: StageSucceeded = recorded.event
    if _advance(rows, recorded, **_colour_urls(e)):
        rows.update(
            STAGES,
            (_id(recorded), e.stage.value),
            status="SUCCEEDED",
            finished_at=recorded.time,
            duration_ms=e.duration_ms,
        )


def stage_failed(rows: RowSet, recorded: Recorded[Any]) -> None:
    e: StageFailed = recorded.event
    if _advance(rows, recorded):
        rows.update(
            STAGES,
            (_id(recorded), e.stage.value),
            status="FAILED",
            finished_at=recorded.time,
            duration_ms=e.duration_ms,
            message=e.message,
            error_code=e.error_code,
        )


def traffic_switched(rows: RowSet, recorded: Recorded[Any]) -> None:
    e: TrafficSwitched = recorded.event
    _advance(rows, recorded, serving_colour=e.to_colour.value)


def counted(rows: RowSet, recorded: Recorded[Any]) -> None:
    _advance(rows, recorded)


def completed(rows: RowSet, recorded: Recorded[Any]) -> None:
    e: DeploymentCompleted = recorded.event
    new, old = e.new_colour_stats, e.old_colour_stats
    _advance(
        rows,
        recorded,
        status=DeploymentStatus.SUCCEEDED.value,
        current_stage=Stage.COMPLETE.value,
        serving_colour=e.colour.value,
        url=e.url,
        total_duration_ms=e.total_duration_ms,
        finished_at=recorded.time,
        new_latency_p50_ms=new.latency_p50_ms if new else None,
        new_latency_p99_ms=new.latency_p99_ms if new else None,
        new_error_rate=new.error_rate if new else None,
        old_latency_p50_ms=old.latency_p50_ms if old else None,
        old_latency_p99_ms=old.latency_p99_ms if old else None,
        old_error_rate=old.error_rate if old else None,
    )


def failed(rows: RowSet, recorded: Recorded[Any]) -> None:
    e: DeploymentFailed = recorded.event
    _advance(
        rows,
        recorded,
        status=DeploymentStatus.FAILED.value,
        error_code=e.error_code,
        error_message=e.message,
        error_stage=e.stage.value,
        error_reason=e.reason,
        timeout_s=e.timeout_s,
        rolled_back=e.rolled_back,
        serving_colour=e.serving_colour.value if e.serving_colour else None,
        total_duration_ms=e.total_duration_ms,
        finished_at=recorded.time,
    )


def cancelled(rows: RowSet, recorded: Recorded[Any]) -> None:
    e: DeploymentCancelled = recorded.event
    if not _advance(
        rows,
        recorded,
        status=DeploymentStatus.CANCELLED.value,
        error_code="CANCELLED",
        error_message=e.reason,
        error_stage=e.stage.value if e.stage else None,
        serving_colour=e.serving_colour.value if e.serving_colour else None,
        total_duration_ms=e.total_duration_ms,
        finished_at=recorded.time,
    ):
        return
    if e.stage is not None:
        stage = rows.get(STAGES, (_id(recorded), e.stage.value))
        if stage is not None and stage["status"] == "RUNNING":
            rows.update(
                STAGES,
                (_id(recorded), e.stage.value),
                status="CANCELLED",
                finished_at=recorded.time,
                message=e.reason,
            )


PROJECTIONS: dict[type, Projection] = {
    DeploymentRequested: Projection(_deployment, requested),
    ColourAssigned: Projection(_deployment, colour_assigned),
    StageStarted: Projection(_with_stage, stage_started),
    StageProgressed: Projection(_with_stage, stage_progressed),
    StageSucceeded: Projection(_with_stage, stage_succeeded),
    StageFailed: Projection(_with_stage, stage_failed),
    TrafficSwitched: Projection(_deployment, traffic_switched),
    ColourScaledDown: Projection(_deployment, counted),
    DeploymentCompleted: Projection(_deployment, completed),
    DeploymentFailed: Projection(_deployment, failed),
    DeploymentCancelled: Projection(_with_stage, cancelled),
}
