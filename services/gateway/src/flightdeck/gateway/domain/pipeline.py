"""Deployment events as the Panda pipeline stream shows them: ``stage``, ``done``, ``error``.

Every event of a deployment becomes one SSE event; the final ones (completed,
failed, cancelled) end the stream. The payloads are documented in docs/api.md.
Each carries Panda's ``type`` (the SSE event's name), ``message`` and
``details.stage`` (the 1-based stage number) beside our fields (ADR 0024).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from flightdeck.events import Recorded
from flightdeck.events import deployments as d
from flightdeck.gateway.domain import panda
from flightdeck.gateway.domain.rendering import Rendered

Detail = dict[str, str | int | float | bool | None]


class StagePayload(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    deployment_id: str
    stage: str
    status: str
    message: str
    timestamp: datetime
    detail: Detail = {}
    type: str = "stage"
    details: Detail = {}


class ColourStatsPayload(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    colour: str
    checks: int
    failures: int
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    error_rate: float


class DonePayload(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    deployment_id: str
    status: str
    colour: str
    url: str | None
    stage_durations_ms: dict[str, int]
    total_duration_ms: int
    new_colour_stats: ColourStatsPayload | None
    old_colour_stats: ColourStatsPayload | None
    timestamp: datetime
    type: str = "done"
    message: str = ""
    details: Detail = {}


class ErrorPayload(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    deployment_id: str
    error_code: str
    message: str
    stage: str | None
    rolled_back: bool
    serving_colour: str | None
    timestamp: datetime
    error_reason: str | None = None
    timeout_seconds: float | None = None
    duration_seconds: float | None = None
    type: str = "error"
    details: Detail = {}


_encode = msgspec.json.Encoder().encode


def deployment_id_of(subject: str) -> str:
    from flightdeck.events.subjects import untoken

    return untoken(subject.rsplit(".", 1)[-1])


def _stats(stats: d.ColourStats | None) -> ColourStatsPayload | None:
    if stats is None:
        return None
    return ColourStatsPayload(
        colour=stats.colour.value,
        checks=stats.checks,
        failures=stats.failures,
        latency_p50_ms=stats.latency_p50_ms,
        latency_p99_ms=stats.latency_p99_ms,
        error_rate=stats.error_rate,
    )


def _stage(
    rec: Recorded[Any], stage: str, status: str, message: str, detail: Detail | None = None
) -> Rendered:
    payload = StagePayload(
        deployment_id=deployment_id_of(rec.subject),
        stage=stage,
        status=status,
        message=message,
        timestamp=rec.time,
        detail=detail or {},
        details={"stage": panda.stage_number(stage)},
    )
    return Rendered(rec.position, "stage", _encode(payload))


def _error(
    rec: Recorded[Any],
    code: str,
    message: str,
    stage: d.Stage | None,
    rolled_back: bool,
    serving: d.Colour | None,
    total_duration_ms: int,
    reason: str | None = None,
    timeout_s: float | None = None,
) -> Rendered:
    name = stage.value if stage is not None else None
    error = ErrorPayload(
        deployment_id=deployment_id_of(rec.subject),
        error_code=code,
        message=message,
        stage=name,
        rolled_back=rolled_back,
        serving_colour=serving.value if serving is not None else None,
        timestamp=rec.time,
        error_reason=reason,
        timeout_seconds=timeout_s,
        duration_seconds=panda.seconds(total_duration_ms),
        details={"stage": panda.stage_number(name), "status": panda.error_status(code)},
    )
    return Rendered(rec.position, "error", _encode(error), terminal=True)


def _final(rec: Recorded[Any]) -> Rendered | None:
    e = rec.event
    dep = deployment_id_of(rec.subject)
    if isinstance(e, d.DeploymentCompleted):
        done = DonePayload(
            deployment_id=dep,
            status=d.DeploymentStatus.SUCCEEDED.value,
            colour=e.colour.value,
            url=e.url,
            stage_durations_ms=e.stage_durations_ms,
            total_duration_ms=e.total_duration_ms,
            new_colour_stats=_stats(e.new_colour_stats),
            old_colour_stats=_stats(e.old_colour_stats),
            timestamp=rec.time,
            message=f"deployed in {e.total_duration_ms / 1000:.1f} s; {e.colour.value} serves",
            details={"stage": panda.stage_number(d.Stage.COMPLETE.value)},
        )
        return Rendered(rec.position, "done", _encode(done), terminal=True)
    if isinstance(e, d.DeploymentFailed):
        return _error(
            rec,
            e.error_code,
            e.message,
            e.stage,
            e.rolled_back,
            e.serving_colour,
            e.total_duration_ms,
            e.reason,
            e.timeout_s,
        )
    if isinstance(e, d.DeploymentCancelled):
        rolled_back = e.serving_colour is not None
        return _error(
            rec,
            "DEPLOYMENT_CANCELLED",
            e.reason,
            e.stage,
            rolled_back,
            e.serving_colour,
            e.total_duration_ms,
        )
    return None


def render(rec: Recorded[Any]) -> Rendered | None:
    """The Panda SSE event for one deployment event (see docs/api.md)."""
    e = rec.event
    match e:
        case d.DeploymentRequested():
            detail: Detail = {"app": e.app, "image": e.image, "replicas": e.replicas}
            return _stage(rec, "requested", "PENDING", f"deployment of {e.app} requested", detail)
        case d.ColourAssigned():
            prev = e.previous_colour.value if e.previous_colour else None
            detail = {"colour": e.colour.value, "previousColour": prev}
            return _stage(rec, "apply", "PENDING", f"deploying to {e.colour.value}", detail)
        case d.StageStarted():
            detail = {"deadline": e.deadline.isoformat()}
            return _stage(rec, e.stage.value, "RUNNING", f"{e.stage.value} started", detail)
        case d.StageProgressed():
            return _stage(rec, e.stage.value, "RUNNING", e.message, dict(e.detail))
        case d.StageSucceeded():
            detail = {**e.detail, "durationMs": e.duration_ms}
            return _stage(rec, e.stage.value, "SUCCEEDED", f"{e.stage.value} succeeded", detail)
        case d.StageFailed():
            detail = {"errorCode": e.error_code, "durationMs": e.duration_ms}
            if e.reason is not None:  # a timeout (ADR 0024)
                detail |= {"errorReason": e.reason, "timeoutSeconds": e.timeout_s}
            return _stage(rec, e.stage.value, "FAILED", e.message, detail)
        case d.TrafficSwitched():
            frm = e.from_colour.value if e.from_colour else None
            detail = {"service": e.service, "fromColour": frm, "toColour": e.to_colour.value}
            return _stage(
                rec, "switch", "RUNNING", f"traffic switched to {e.to_colour.value}", detail
            )
        case d.ColourScaledDown():
            detail = {"colour": e.colour.value, "deployment": e.deployment_name}
            return _stage(rec, "switch", "RUNNING", f"{e.colour.value} scaled down", detail)
    return _final(rec)
