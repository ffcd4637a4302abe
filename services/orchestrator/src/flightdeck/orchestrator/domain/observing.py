"""Decisions on other services' observations: images, the cluster, health checks.

Each observer checks that the observation concerns the stage now running (an
older one, delivered late, is ignored by its position) and returns the
events it leads to. An observer's code is taken only where it names a cause
known to be final (a missing repository, a target the prober cannot send):
the stage fails at once with it instead of waiting for its deadline.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flightdeck.events.artifacts import ImageMissing, ImageObserved
from flightdeck.events.base import Event
from flightdeck.events.cluster import DeploymentObserved, IngressObserved, PodObserved
from flightdeck.events.deployments import Stage, StageProgressed
from flightdeck.events.probes import ProbeCompleted, VerificationCompleted
from flightdeck.orchestrator.domain import manifests, state
from flightdeck.orchestrator.domain.endings import fail, time_out
from flightdeck.orchestrator.domain.policy import Policy
from flightdeck.orchestrator.domain.rollout import ErrorCode, Verdict, pod_status, rollout_status
from flightdeck.orchestrator.domain.stages import next_stage
from flightdeck.orchestrator.domain.state import Deployment

Events = list[Event]


def _image_observed(
    s: Deployment, e: ImageObserved, position: int, now: datetime, policy: Policy
) -> Events:
    if s.stage is not Stage.ARTIFACT or (e.repository, e.tag) != (
        s.request.repository,
        s.request.tag,
    ):
        return []
    detail: state.DetailDict = {
        "digest": e.digest,
        "pushed_at": e.pushed_at.isoformat() if e.pushed_at else None,
        "size_bytes": e.size_bytes,
    }
    return next_stage(s, now, Stage.APPLY, detail)


def _image_missing(
    s: Deployment, e: ImageMissing, position: int, now: datetime, policy: Policy
) -> Events:
    if s.stage is not Stage.ARTIFACT or (e.repository, e.tag) != (
        s.request.repository,
        s.request.tag,
    ):
        return []
    if e.code == ErrorCode.REPOSITORY_NOT_FOUND:  # known to be final: fail now, not at the deadline
        message = f"image {e.repository}:{e.tag}: {e.reason} (after {e.waited_s:g}s)"
        return fail(s, now, ErrorCode.REPOSITORY_NOT_FOUND, message)
    message = f"image {e.repository}:{e.tag} did not appear within {e.waited_s:g}s ({e.reason})"
    timeout_s = s.request.stage_timeout_s
    return time_out(s, now, ErrorCode.ARTIFACT_TIMEOUT, timeout_s, message)


def _pod_observed(
    s: Deployment, e: PodObserved, position: int, now: datetime, policy: Policy
) -> Events:
    if s.colour is None or e.labels.get(manifests.LABEL_COLOUR) != s.colour.value:
        return []
    if s.stage not in (Stage.ROLLOUT, Stage.EXPOSE, Stage.VERIFY):
        return []
    seen = s.pods.get(e.name)
    if seen is not None and position <= seen.position:
        return []  # an older observation delivered late
    status = pod_status(e)
    if status.error_code is not None:
        return fail(s, now, status.error_code, status.message or status.label)
    if s.stage is not Stage.ROLLOUT or (
        seen and (seen.status, seen.restarts) == (status.label, status.restarts)
    ):
        return []
    detail: state.DetailDict = {
        state.POD: e.name,
        "status": status.label,
        "restarts": status.restarts,
        state.POSITION: position,
    }
    return [
        StageProgressed(stage=Stage.ROLLOUT, message=f"pod {e.name} {status.label}", detail=detail)
    ]


def _deployment_observed(
    s: Deployment, e: DeploymentObserved, position: int, now: datetime, policy: Policy
) -> Events:
    if s.stage is not Stage.ROLLOUT or s.colour is None or position <= s.summary_position:
        return []
    if e.name != manifests.colour_name(s.request.app, s.colour):
        return []
    if e.labels.get(manifests.LABEL_DEPLOYMENT) != s.id:
        return []  # observed before our apply reached it
    status = rollout_status(e)
    if status.verdict is Verdict.FAILED:
        return fail(s, now, status.error_code or ErrorCode.POD_FAILED, status.message)
    if status.verdict is Verdict.COMPLETE:
        return next_stage(
            s, now, Stage.EXPOSE, {"replicas": e.replicas, "available": e.available_replicas}
        )
    if status.message == s.summary:
        return []
    detail: state.DetailDict = {state.SUMMARY: status.message, state.POSITION: position}
    return [StageProgressed(stage=Stage.ROLLOUT, message=status.message, detail=detail)]


def _ingress_observed(
    s: Deployment, e: IngressObserved, position: int, now: datetime, policy: Policy
) -> Events:
    if s.stage is not Stage.EXPOSE or e.name != s.request.app or not e.address:
        return []
    return next_stage(s, now, Stage.VERIFY, access(s, e, policy))


def access(s: Deployment, e: IngressObserved, policy: Policy) -> dict[str, Any]:
    """Where the app answers: the load balancer's address, and the hosts to ask for."""
    assert s.colour is not None and e.address is not None
    port = e.port or 80
    suffix = "" if port == 80 else f":{port}"
    domain, app = policy.ingress_domain, s.request.app
    colours = {s.colour, *([s.previous_colour] if s.previous_colour else [])}
    return {
        "address": e.address,
        "port": port,
        "endpoint": f"http://{e.address}{suffix}",
        "url": f"http://{manifests.app_host(app, domain)}{suffix}/",
        "preview_url": f"http://{manifests.colour_host(app, s.colour, domain)}{suffix}/",
        # each colour the Ingress routes (Panda's blueUrl / greenUrl)
        **{
            f"{c.value}_url": f"http://{manifests.colour_host(app, c, domain)}{suffix}/"
            for c in sorted(colours)
        },
    }


def _probe_completed(
    s: Deployment, e: ProbeCompleted, position: int, now: datetime, policy: Policy
) -> Events:
    if (
        s.stage is not Stage.VERIFY
        or e.colour != s.colour
        or e.check is None
        or e.check in s.checks
    ):
        return []
    outcome = (
        f"ok in {e.latency_ms:.0f} ms"
        if e.ok and e.latency_ms is not None
        else (e.error or "failed")
    )
    detail: state.DetailDict = {
        state.CHECK: e.check,
        "ok": e.ok,
        "status_code": e.status_code,
        "latency_ms": e.latency_ms,
    }
    message = f"check {e.check}/{s.request.verify_checks}: {outcome}"
    return [StageProgressed(stage=Stage.VERIFY, message=message, detail=detail)]


def _verified(
    s: Deployment, e: VerificationCompleted, position: int, now: datetime, policy: Policy
) -> Events:
    if s.stage is not Stage.VERIFY or e.new.colour != s.colour:
        return []
    if not e.passed:
        reason = e.reason or f"{e.new.failures} of {e.new.checks} health checks failed"
        code = (
            ErrorCode.VERIFY_TARGET_INVALID
            if e.error_code == ErrorCode.VERIFY_TARGET_INVALID
            else ErrorCode.HEALTH_CHECK_FAILED
        )
        return fail(s, now, code, reason)
    detail: state.DetailDict = {
        **state.stats_detail("new", e.new),
        **state.stats_detail("old", e.old),
    }
    return next_stage(s, now, Stage.SWITCH, detail)


Observer = Callable[[Deployment, Any, int, datetime, Policy], Events]

OBSERVERS: dict[type, Observer] = {
    ImageObserved: _image_observed,
    ImageMissing: _image_missing,
    PodObserved: _pod_observed,
    DeploymentObserved: _deployment_observed,
    IngressObserved: _ingress_observed,
    ProbeCompleted: _probe_completed,
    VerificationCompleted: _verified,
}
