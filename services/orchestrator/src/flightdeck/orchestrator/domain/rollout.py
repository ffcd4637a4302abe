"""Is the new colour rolled out? The rules of ``kubectl rollout status`` and Argo CD.

Two pure judgements over the k8s-watcher's observations: one of the
Deployment (generation observed, replicas updated and available, none left
over, progress deadline), one of a pod (fail fast on a waiting reason that
will not fix itself).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from flightdeck.events.cluster import ContainerPhase, DeploymentObserved, PodObserved


class ErrorCode(enum.StrEnum):
    """Why a deployment failed, as its events and the result API report it."""

    IMAGE_PULL_FAILED = "IMAGE_PULL_FAILED"
    CRASH_LOOP = "CRASH_LOOP"
    POD_FAILED = "POD_FAILED"
    ROLLOUT_DEADLINE_EXCEEDED = "ROLLOUT_DEADLINE_EXCEEDED"
    ARTIFACT_TIMEOUT = "ARTIFACT_TIMEOUT"
    REPOSITORY_NOT_FOUND = "REPOSITORY_NOT_FOUND"
    APPLY_REJECTED = "APPLY_REJECTED"
    APPLY_FAILED = "APPLY_FAILED"
    HEALTH_CHECK_FAILED = "HEALTH_CHECK_FAILED"
    VERIFY_TARGET_INVALID = "VERIFY_TARGET_INVALID"
    SWITCH_FAILED = "SWITCH_FAILED"
    DEPLOYMENT_TIMEOUT = "DEPLOYMENT_TIMEOUT"
    APP_BUSY = "APP_BUSY"
    # tenancy (ADR 0012): the values of flightdeck.runtime.tenancy.Refusal
    NAMESPACE_PROTECTED = "NAMESPACE_PROTECTED"
    NAMESPACE_NOT_OWNED = "NAMESPACE_NOT_OWNED"
    APP_NOT_OWNED = "APP_NOT_OWNED"
    NAMESPACE_NOT_WATCHED = "NAMESPACE_NOT_WATCHED"
    CANCELLED = "CANCELLED"


def stage_timeout_code(stage: str) -> str:
    """``ROLLOUT_TIMEOUT`` and so on: a stage ran past its deadline."""
    return f"{stage.upper()}_TIMEOUT"


_IMAGE_PULL = frozenset(
    {"ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName"}
)
_CRASH = frozenset({"CrashLoopBackOff"})
_TRANSIENT = frozenset({"ContainerCreating", "PodInitializing"})


class Verdict(enum.Enum):
    PROGRESSING = "progressing"
    COMPLETE = "complete"
    FAILED = "failed"


@dataclass(frozen=True)
class RolloutStatus:
    verdict: Verdict
    message: str
    error_code: ErrorCode | None = None


def rollout_status(d: DeploymentObserved) -> RolloutStatus:
    """The Deployment's rollout, judged as ``kubectl rollout status`` judges it."""
    if d.observed_generation < d.generation:
        return RolloutStatus(Verdict.PROGRESSING, "waiting for the spec update to be observed")
    for condition in d.conditions:
        if condition.type == "Progressing" and condition.reason == "ProgressDeadlineExceeded":
            return RolloutStatus(
                Verdict.FAILED,
                f"deployment {d.name} exceeded its progress deadline",
                ErrorCode.ROLLOUT_DEADLINE_EXCEEDED,
            )
    desired, updated = d.replicas, d.updated_replicas
    if updated < desired:
        return RolloutStatus(Verdict.PROGRESSING, f"{updated} of {desired} new replicas updated")
    total = d.status_replicas if d.status_replicas is not None else updated
    if total > updated:
        return RolloutStatus(
            Verdict.PROGRESSING, f"{total - updated} old replicas pending termination"
        )
    if d.available_replicas < updated:
        return RolloutStatus(
            Verdict.PROGRESSING, f"{d.available_replicas} of {updated} updated replicas available"
        )
    return RolloutStatus(
        Verdict.COMPLETE, f"{d.available_replicas} of {desired} replicas available"
    )


@dataclass(frozen=True)
class PodStatus:
    """One word for the timeline (like kubectl's STATUS column), and a failure if fatal."""

    label: str
    restarts: int
    error_code: ErrorCode | None = None
    message: str | None = None


def pod_status(pod: PodObserved) -> PodStatus:
    """The pod's status; waiting reasons ending in BackOff or starting with Err are fatal."""
    restarts = sum(c.restart_count for c in pod.containers)
    for c in pod.containers:
        if c.phase is not ContainerPhase.WAITING or not c.reason or c.reason in _TRANSIENT:
            continue
        code = _fatal(c.reason)
        if code is not None:
            detail = f": {c.message}" if c.message else ""
            return PodStatus(
                c.reason, restarts, code, f"pod {pod.name}, container {c.name}: {c.reason}{detail}"
            )
    if pod.phase == "Failed":
        return PodStatus("Failed", restarts, ErrorCode.POD_FAILED, f"pod {pod.name} failed")
    return PodStatus(_label(pod), restarts)


def _fatal(reason: str) -> ErrorCode | None:
    if reason in _IMAGE_PULL:
        return ErrorCode.IMAGE_PULL_FAILED
    if reason in _CRASH:
        return ErrorCode.CRASH_LOOP
    if reason.endswith(("BackOff", "Error")) or reason.startswith("Err"):
        return ErrorCode.POD_FAILED
    return None


def _label(pod: PodObserved) -> str:
    if pod.terminating:
        return "Terminating"
    for c in pod.containers:
        if c.phase is not ContainerPhase.RUNNING and c.reason:
            return c.reason
    if pod.phase == "Running":
        return "Ready" if pod.ready else "Running"
    return pod.phase
