"""Taking a ``RunOpsAction``: request recorded once, the action carried out, the outcome recorded.

The request is appended to the app's ops aggregate (``fd.evt.ops.<tenant>.<app>``)
with optimistic concurrency, once per action id: a redelivered command, or a
client's retry (the gateway derives the action id from its ``Idempotency-Key``),
finds it there. If its outcome is missing (the replica died between the two),
the action is carried out again from the *recorded* request: every effect is
idempotent (a pod already gone, the same ``restartedAt`` value, the same
replica count, the same rollback deployment id). ADR 0022.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog

from flightdeck.events import Cause, ConcurrencyError, Recorded, subjects
from flightdeck.events.apps import AppReleased
from flightdeck.events.audit import (
    OpsAction,
    OpsActionFailed,
    OpsActionRequested,
    OpsActionSucceeded,
)
from flightdeck.events.commands import (
    CancelDeployment,
    RunOpsAction,
    StartDeployment,
    rollback_deployment_id,
)
from flightdeck.events.deployments import DeploymentRequested, DeploymentStatus, colour_name
from flightdeck.events.tenancy import AppClaimed
from flightdeck.orchestrator.domain import ops
from flightdeck.orchestrator.domain.ops import OpsError
from flightdeck.orchestrator.domain.writes import KubeWriteError
from flightdeck.orchestrator.service_layer.intake import record_start
from flightdeck.orchestrator.service_layer.pipeline import ACTOR, Pipeline

log = structlog.get_logger(__name__)

_ATTEMPTS = 10
Outcome = OpsActionSucceeded | OpsActionFailed


async def on_ops_action(p: Pipeline, r: Recorded[RunOpsAction]) -> None:
    """Record the request (once), carry it out, record how it went."""
    cmd = r.event
    subject = subjects.ops(cmd.tenant, cmd.app)
    cause = Cause(
        actor=r.actor or "unknown",
        correlation_id=r.correlation_id or r.id,
        causation_id=r.id,
    )
    for _ in range(_ATTEMPTS):
        stored = await p.store.read_aggregate(subject)
        history = ops.fold_ops(stored.events, stored.last_position)
        record = history.actions.get(cmd.action_id)
        if record is not None:
            if record.outcome is None:  # recorded, then the replica died: finish it
                await _carry_out(
                    p, subject, record.requested, record.requested_id, record.requested_at
                )
            return
        request = ops.requested(
            cmd.action_id,
            cmd.tenant,
            cmd.app,
            cmd.action,
            cmd.namespace,
            cmd.target,
            cmd.replicas,
            cmd.token_id,
            cmd.request_digest,
        )
        try:
            await p.store.append(subject, [request], cause=cause, expected=history.position)
        except ConcurrencyError:
            continue
        first = await _requested_record(p, subject, cmd.action_id)
        assert first is not None, "an appended request must be readable"
        await _carry_out(p, subject, request, first.id, first.time)
        return
    raise RuntimeError(f"ops on {cmd.app}: too many concurrent appends")


async def _requested_record(p: Pipeline, subject: str, action_id: str) -> Recorded[Any] | None:
    for recorded in reversed(await p.store.read(subject)):
        e = recorded.event
        if isinstance(e, OpsActionRequested) and e.action_id == action_id:
            return recorded
    return None


async def _carry_out(
    p: Pipeline, subject: str, request: OpsActionRequested, requested_id: str, at: datetime
) -> None:
    try:
        outcome = await _perform(p, request, requested_id, at)
    except KubeWriteError as exc:
        code = OpsError.KUBERNETES_REFUSED if exc.permanent else OpsError.KUBERNETES_UNAVAILABLE
        if exc.status == 404 and request.action is OpsAction.RESTART_POD:
            code = OpsError.POD_NOT_FOUND
        outcome = ops.failed(request, code, str(exc))
    cause = Cause(actor=ACTOR, correlation_id=request.action_id, causation_id=requested_id)
    await p.store.append(subject, [outcome], cause=cause)
    log.info(
        "ops action done",
        action=request.action.value,
        app=request.app,
        outcome=outcome.type_name(),
        code=getattr(outcome, "error_code", None),
    )


async def _perform(p: Pipeline, r: OpsActionRequested, requested_id: str, at: datetime) -> Outcome:
    claim = await p.store.read_first(subjects.claim(r.namespace, r.app))
    owner = (
        claim.event.tenant if claim is not None and isinstance(claim.event, AppClaimed) else None
    )
    if owner != r.tenant:  # defence in depth behind the gateway (ADR 0012)
        return ops.failed(r, OpsError.APP_NOT_FOUND, f"no app {r.app} in {r.namespace}")
    if r.action is OpsAction.CANCEL:
        return await _cancel(p, r, requested_id)
    slots = await p.slots.load(r.namespace, r.app)
    if slots.holder is not None:
        return ops.failed(
            r, OpsError.APP_BUSY, f"deployment {slots.holder} of {r.app} is in progress"
        )
    if r.action is OpsAction.ROLLBACK:
        return await _rollback(p, r, requested_id)
    if r.action is OpsAction.RESTART_POD:
        return await _restart_pod(p, r)
    if slots.serving is None:
        return ops.failed(r, OpsError.NO_LIVE_COLOUR, f"{r.app} has no live colour yet")
    name = colour_name(r.app, slots.serving)
    cluster = p.cluster
    assert cluster is not None, "the orchestrator was assembled without a cluster"
    if r.action is OpsAction.SCALE:
        replicas = r.replicas if r.replicas is not None else 0
        await cluster.scale(r.namespace, name, replicas)
        return ops.succeeded(r, deployment=name, colour=slots.serving.value, replicas=replicas)
    stamp = ops.restarted_at(at)
    await cluster.restart_rollout(r.namespace, name, stamp)
    return ops.succeeded(r, deployment=name, colour=slots.serving.value, restartedAt=stamp)


async def _restart_pod(p: Pipeline, r: OpsActionRequested) -> Outcome:
    last = await p.store.read_last(subjects.cluster_object(r.namespace, "pod", r.target))
    if last is None or not ops.pod_of_app(last.event, r.app):
        return ops.failed(r, OpsError.POD_NOT_FOUND, f"no pod {r.target} of {r.app}")
    assert p.cluster is not None, "the orchestrator was assembled without a cluster"
    await p.cluster.delete_pod(r.namespace, r.target)
    return ops.succeeded(r, pod=r.target)


async def _cancel(p: Pipeline, r: OpsActionRequested, requested_id: str) -> Outcome:
    loaded = await p.deployments.load(r.target)
    request = loaded.state.request if loaded is not None else None
    if request is None or (request.tenant, request.app) != (r.tenant, r.app):
        return ops.failed(r, OpsError.DEPLOYMENT_NOT_FOUND, f"no deployment {r.target}")
    if loaded is not None and loaded.state.finished:
        status = loaded.state.status.value
        return ops.failed(r, OpsError.DEPLOYMENT_FINISHED, f"deployment already {status}")
    reason = f"cancelled by {await _actor(p, r, requested_id)} (ops action {r.action_id})"
    await p.advance(r.target, CancelDeployment(deployment_id=r.target, reason=reason), requested_id)
    after = await p.deployments.load(r.target)
    assert after is not None
    if after.state.ending is None and after.state.status is not DeploymentStatus.CANCELLED:
        # The traffic switch already happened: the deployment completes as it is.
        return ops.failed(
            r, OpsError.DEPLOYMENT_FINISHED, "too late: traffic already moved to the new colour"
        )
    return ops.succeeded(r, deploymentId=r.target, status=after.state.status.value)


async def _rollback(p: Pipeline, r: OpsActionRequested, requested_id: str) -> Outcome:
    history = [rec.event for rec in await p.store.read(subjects.app(r.namespace, r.app))]
    previous = ops.previous_release(e for e in history if isinstance(e, AppReleased))
    loaded = await p.deployments.load(previous) if previous else None
    if loaded is None:
        return ops.failed(
            r, OpsError.NO_PREVIOUS_RELEASE, f"{r.app} has no earlier successful deployment"
        )
    command = _redeploy(loaded.state.request, rollback_deployment_id(r.action_id))
    actor = await _actor(p, r, requested_id)
    cause = Cause(actor=actor, correlation_id=command.deployment_id, causation_id=requested_id)
    if not await record_start(p.store, command, cause):
        return ops.failed(r, OpsError.APP_BUSY, "the rollback's deployment id is taken")
    await p.request(command.deployment_id, requested_id)
    return ops.succeeded(
        r,
        deploymentId=command.deployment_id,
        image=loaded.state.request.image,
        rollbackOf=previous,
    )


async def _actor(p: Pipeline, r: OpsActionRequested, requested_id: str) -> str:
    """Who asked for the rollback: its deployment's request names them, not us."""
    for recorded in await p.store.read(subjects.ops(r.tenant, r.app)):
        if recorded.id == requested_id:
            return recorded.actor or ACTOR
    return ACTOR


def _redeploy(previous: DeploymentRequested, deployment_id: str) -> StartDeployment:
    """The previous release again, as a deployment of its own (its image, its settings)."""
    return StartDeployment(
        deployment_id=deployment_id,
        tenant=previous.tenant,
        app=previous.app,
        namespace=previous.namespace,
        repository=previous.repository,
        tag=previous.tag,
        registry=_registry(previous),
        replicas=previous.replicas,
        container_port=previous.container_port,
        health_path=previous.health_path,
        env=dict(previous.env),
        verify_checks=previous.verify_checks,
        stage_timeout_s=previous.stage_timeout_s,
        overall_timeout_s=previous.overall_timeout_s,
        aws_connection_id=previous.aws_connection_id,
        github_connection_id=previous.github_connection_id,
        branch=previous.branch,
        commit_sha=previous.commit_sha,
    )


def _registry(previous: DeploymentRequested) -> str | None:
    """The registry the previous image was pulled from (its reference without
    ``repository:tag``), so the same reference is rebuilt."""
    suffix = f"/{previous.repository}:{previous.tag}"
    return previous.image[: -len(suffix)] if previous.image.endswith(suffix) else None
