"""Ops actions on a live app, decided purely (ADR 0022).

An app's ops aggregate (``fd.evt.ops.<tenant>.<app>``) holds each action's
request and its outcome. What an action does to the cluster is an effect
named here (:class:`DeletePod`, :class:`RestartRollout`, :class:`ScaleDeployment`);
the service layer runs it and records the outcome. Everything here is a
function of recorded events: no clock (a rollout restart's timestamp is the
request's recorded time, so a redelivered command writes the same value).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flightdeck.events import Recorded
from flightdeck.events.apps import AppReleased
from flightdeck.events.audit import (
    OpsAction,
    OpsActionFailed,
    OpsActionRequested,
    OpsActionSucceeded,
)
from flightdeck.events.cluster import PodObserved
from flightdeck.events.deployments import DeploymentStatus
from flightdeck.orchestrator.domain.manifests import LABEL_APP

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
"""The pod-template annotation ``kubectl rollout restart`` sets; we set the same."""


class OpsError(enum.StrEnum):
    """Why an ops action failed, as its ``OpsActionFailed.error_code`` says."""

    APP_NOT_FOUND = "APP_NOT_FOUND"
    POD_NOT_FOUND = "POD_NOT_FOUND"
    DEPLOYMENT_NOT_FOUND = "DEPLOYMENT_NOT_FOUND"
    APP_BUSY = "APP_BUSY"
    NO_LIVE_COLOUR = "NO_LIVE_COLOUR"
    NO_PREVIOUS_RELEASE = "NO_PREVIOUS_RELEASE"
    DEPLOYMENT_FINISHED = "DEPLOYMENT_FINISHED"
    KUBERNETES_REFUSED = "KUBERNETES_REFUSED"
    KUBERNETES_UNAVAILABLE = "KUBERNETES_UNAVAILABLE"


@dataclass(frozen=True)
class DeletePod:
    """Delete one pod; its ReplicaSet replaces it."""

    namespace: str
    pod: str


@dataclass(frozen=True)
class RestartRollout:
    """Set the pod template's ``restartedAt`` annotation: a new rollout of the same spec."""

    namespace: str
    deployment: str
    restarted_at: str


@dataclass(frozen=True)
class ScaleDeployment:
    namespace: str
    deployment: str
    replicas: int


ClusterEffect = DeletePod | RestartRollout | ScaleDeployment


@dataclass(frozen=True)
class ActionRecord:
    requested: OpsActionRequested
    requested_id: str
    requested_at: datetime
    outcome: OpsActionSucceeded | OpsActionFailed | None = None


@dataclass(frozen=True)
class OpsHistory:
    """An app's ops actions by id, and the position of its last stored message."""

    actions: dict[str, ActionRecord] = field(default_factory=dict)
    position: int = 0


def fold_ops(records: Iterable[Recorded[Any]], last_position: int) -> OpsHistory:
    actions: dict[str, ActionRecord] = {}
    for r in records:
        e = r.event
        if isinstance(e, OpsActionRequested) and e.action_id not in actions:
            actions[e.action_id] = ActionRecord(e, r.id, r.time)
        elif isinstance(e, OpsActionSucceeded | OpsActionFailed) and e.action_id in actions:
            before = actions[e.action_id]
            if before.outcome is None:
                actions[e.action_id] = ActionRecord(
                    before.requested, before.requested_id, before.requested_at, e
                )
    return OpsHistory(actions, last_position)


def requested(
    action_id: str,
    tenant: str,
    app: str,
    action: OpsAction,
    namespace: str,
    target: str,
    replicas: int | None,
    token_id: str | None,
    digest: str | None,
) -> OpsActionRequested:
    return OpsActionRequested(
        action_id=action_id,
        tenant=tenant,
        app=app,
        action=action,
        namespace=namespace,
        target=target,
        replicas=replicas,
        token_id=token_id,
        request_digest=digest,
    )


def failed(r: OpsActionRequested, code: OpsError, message: str) -> OpsActionFailed:
    return OpsActionFailed(
        action_id=r.action_id,
        action=r.action,
        namespace=r.namespace,
        target=r.target,
        error_code=code.value,
        message=message,
    )


def succeeded(r: OpsActionRequested, **detail: str | int | None) -> OpsActionSucceeded:
    return OpsActionSucceeded(
        action_id=r.action_id,
        action=r.action,
        namespace=r.namespace,
        target=r.target,
        detail=dict(detail),
    )


def restarted_at(at: datetime) -> str:
    """RFC 3339 in UTC, to the second, as kubectl writes it."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def pod_of_app(observed: Any, app: str) -> bool:
    """Is the last observation of a pod a live pod of ``app``?"""
    return (
        isinstance(observed, PodObserved)
        and observed.labels.get(LABEL_APP) == app
        and not observed.terminating
    )


def previous_release(history: Iterable[Any]) -> str | None:
    """The deployment that served before the one serving now, from an app's slot events
    (``kubectl rollout undo``: the release before the current one); ``None`` if the app
    has had fewer than two successful deployments."""
    succeeded_ids = [
        e.deployment_id
        for e in history
        if isinstance(e, AppReleased) and e.outcome is DeploymentStatus.SUCCEEDED
    ]
    return succeeded_ids[-2] if len(succeeded_ids) >= 2 else None
