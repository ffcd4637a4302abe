"""Ops requests: check, send ``RunOpsAction``, answer with the action as recorded (ADR 0022).

The checks read the event store, as ownership does (ADR 0012): which colour
serves, whether a deployment holds the app, whether a pod is a live pod of the
app. The orchestrator checks again before it touches the cluster. Another
tenant's app answers exactly like an unknown one (the app is looked up among the
caller's own apps only). The answer waits, bounded, for the outcome, so a 202
usually already says ``SUCCEEDED`` or ``FAILED``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flightdeck.events import Cause, Recorded, new_id, subjects
from flightdeck.events.audit import (
    OpsAction,
    OpsActionFailed,
    OpsActionRequested,
    OpsActionSucceeded,
)
from flightdeck.events.commands import RunOpsAction, rollback_deployment_id
from flightdeck.events.deployments import DeploymentRequested
from flightdeck.events.subjects import RUN_OPS_ACTION
from flightdeck.gateway.domain import ops as rules
from flightdeck.gateway.domain.auth import Principal
from flightdeck.gateway.domain.deploy import check_idempotency_key
from flightdeck.gateway.domain.errors import ApiError, ErrorCode
from flightdeck.gateway.schemas import OpsActionView
from flightdeck.gateway.service_layer.ports import Append, OpsEvents, OpsRows, Row


@dataclass(frozen=True)
class Operating:
    """What ops requests need."""

    send: Append
    events: OpsEvents
    rows: OpsRows
    rate: rules.OpsRate
    clock: Callable[[], float] = time.monotonic
    wait_s: float = 10.0
    """How long a request waits for the action's outcome before answering ``PENDING``."""


@dataclass(frozen=True)
class OpsRequest:
    action: OpsAction
    app: str
    namespace: str | None = None
    target: str = ""
    replicas: int | None = None


async def request_action(
    deps: Operating, who: Principal, req: OpsRequest, idempotency_key: str | None = None
) -> OpsActionView:
    """Check and send an action on one of ``who``'s apps; the action as recorded."""
    deps.rate.admit(who.tenant, deps.clock())
    namespace = await _namespace_of(deps, who, req.app, req.namespace)
    return await _run(deps, who, req, namespace, idempotency_key)


async def cancel_deployment(
    deps: Operating, who: Principal, deployment_id: str, idempotency_key: str | None = None
) -> OpsActionView:
    """Cancel one of ``who``'s deployments in flight (``DEPLOYMENT_NOT_FOUND`` for another
    tenant's, exactly as for an unknown id; ``DEPLOYMENT_FINISHED`` once it ended)."""
    deps.rate.admit(who.tenant, deps.clock())
    subject = subjects.deployment(deployment_id)
    first = await deps.events.read_first(subject)
    request = first.event if first is not None else None
    if not isinstance(request, DeploymentRequested) or request.tenant != who.tenant:
        raise ApiError(ErrorCode.DEPLOYMENT_NOT_FOUND, f"no deployment {deployment_id}")
    req = OpsRequest(OpsAction.CANCEL, request.app, request.namespace, target=deployment_id)
    return await _run(deps, who, req, request.namespace, idempotency_key)


async def action_status(deps: Operating, who: Principal, app: str, action_id: str) -> OpsActionView:
    """An action of one of ``who``'s apps: from the read model once it has the outcome,
    else from the stream (a read right after the 202 sees what the 202 said)."""
    await _namespace_of(deps, who, app, None, any_namespace=True)
    row = await deps.rows.ops_action(who.tenant, app, action_id)
    if row is not None and row["status"] != "PENDING":
        return _view_of_row(row)
    view = await _view(deps, who.tenant, app, action_id)
    if view is None:
        raise ApiError(ErrorCode.ACTION_NOT_FOUND, f"no action {action_id} on app {app}")
    return view


# ------------------------------------------------------------------ internals


async def _namespace_of(
    deps: Operating, who: Principal, app: str, asked: str | None, *, any_namespace: bool = False
) -> str:
    """Where ``who``'s app lives: the one namespace of theirs that has it, or ``asked``."""
    found = await deps.rows.app_namespaces(who.tenant, app)
    if asked is not None:
        found = [ns for ns in found if ns == asked]
    if not found:
        raise ApiError(ErrorCode.APP_NOT_FOUND, f"no app {app}")
    if len(found) > 1 and not any_namespace:
        raise ApiError(
            ErrorCode.VALIDATION_ERROR,
            f"namespace: app {app} is in {', '.join(sorted(found))}; name one with ?namespace=",
        )
    return found[0]


async def _run(
    deps: Operating, who: Principal, req: OpsRequest, namespace: str, key: str | None
) -> OpsActionView:
    digest = rules.request_digest(req.action, req.app, namespace, req.target, req.replicas)
    if key is None:
        action_id, ids = new_id(), None
    else:
        check_idempotency_key(key)
        action_id = rules.action_id_for(who.tenant, key)
        ids = [rules.command_id_for(action_id, digest)]
        earlier = await _view(deps, who.tenant, req.app, action_id, digest=digest)
        if earlier is not None:
            return earlier
    await _check(deps, req, namespace)
    command = RunOpsAction(
        action_id=action_id,
        tenant=who.tenant,
        app=req.app,
        action=req.action,
        namespace=namespace,
        target=req.target,
        replicas=req.replicas,
        token_id=who.token_id,
        request_digest=digest,
    )
    await deps.send(RUN_OPS_ACTION, [command], cause=Cause.root(who.key_name), ids=ids)
    subject = subjects.ops(who.tenant, req.app)
    await deps.events.wait_for(subject, _outcome_of(action_id), deps.wait_s)
    view = await _view(deps, who.tenant, req.app, action_id, digest=digest)
    return view or _pending(command)


async def _check(deps: Operating, req: OpsRequest, namespace: str) -> None:
    """Refuse what cannot run now, before anything is sent (nothing changes in the cluster)."""
    if req.action is OpsAction.CANCEL:
        last = await deps.events.read_last(subjects.deployment(req.target))
        if last is not None and isinstance(last.event, rules.TERMINAL):
            raise ApiError(
                ErrorCode.DEPLOYMENT_FINISHED, f"deployment {req.target} has already finished"
            )
        return
    slot = await deps.events.read_last(subjects.app(namespace, req.app))
    slot_event = slot.event if slot is not None else None
    holder = rules.slot_busy(slot_event)
    if holder is not None:
        raise ApiError(
            ErrorCode.APP_BUSY,
            f"deployment {holder} of {req.app} is in progress; retry when it has finished "
            f"(or cancel it: POST /api/v1/deploy/{holder}/cancel)",
        )
    if req.action is OpsAction.RESTART_POD:
        pod = await deps.events.read_last(subjects.cluster_object(namespace, "pod", req.target))
        if pod is None or not rules.live_pod_of(pod.event, req.app):
            raise ApiError(ErrorCode.POD_NOT_FOUND, f"no pod {req.target} of app {req.app}")
    elif req.action is OpsAction.ROLLBACK:
        history = [r.event for r in await deps.events.read(subjects.app(namespace, req.app))]
        if rules.successful_releases(history) < 2:
            raise ApiError(
                ErrorCode.NO_PREVIOUS_RELEASE, f"{req.app} has no earlier successful deployment"
            )
    elif rules.serving(slot_event) is None:
        raise ApiError(ErrorCode.NO_LIVE_COLOUR, f"{req.app} has no live colour yet")


def _outcome_of(action_id: str) -> Callable[[Recorded[Any]], bool]:
    def wanted(r: Recorded[Any]) -> bool:
        e = r.event
        return isinstance(e, OpsActionSucceeded | OpsActionFailed) and e.action_id == action_id

    return wanted


async def _view(
    deps: Operating, tenant: str, app: str, action_id: str, *, digest: str | None = None
) -> OpsActionView | None:
    """The action as its events say; ``CONFLICT`` if it was asked with another request."""
    requested: Recorded[Any] | None = None
    outcome: Recorded[Any] | None = None
    for r in await deps.events.read(subjects.ops(tenant, app)):
        e = r.event
        if getattr(e, "action_id", None) != action_id:
            continue
        if isinstance(e, OpsActionRequested) and requested is None:
            requested = r
        elif isinstance(e, OpsActionSucceeded | OpsActionFailed) and outcome is None:
            outcome = r
    if requested is None:
        return None
    asked: OpsActionRequested = requested.event
    if digest is not None and asked.request_digest not in (None, digest):
        raise ApiError(
            ErrorCode.CONFLICT, "this Idempotency-Key was used for a different ops request"
        )
    status, code, message, detail, finished = "PENDING", None, None, {}, None
    if outcome is not None:
        finished = outcome.time
        if isinstance(outcome.event, OpsActionSucceeded):
            status, detail = "SUCCEEDED", dict(outcome.event.detail)
        else:
            status, code, message = "FAILED", outcome.event.error_code, outcome.event.message
    return _build(asked, status, code, message, detail, requested.actor, requested.time, finished)


def _build(
    asked: OpsActionRequested | RunOpsAction,
    status: str,
    code: str | None,
    message: str | None,
    detail: dict[str, Any],
    by: str | None,
    at: datetime | None,
    finished: datetime | None,
) -> OpsActionView:
    deployment_id = _deployment_of(asked.action, asked.target, asked.action_id)
    return OpsActionView(
        action_id=asked.action_id,
        action=asked.action.value,
        app=asked.app,
        namespace=asked.namespace,
        target=asked.target,
        status=status,
        replicas=asked.replicas,
        error_code=code,
        message=message,
        detail=detail,
        requested_by=by,
        requested_at=at,
        finished_at=finished,
        deployment_id=deployment_id,
        action_url=f"/api/v1/apps/{asked.app}/actions/{asked.action_id}",
        events_url=f"/api/v1/deploy/{deployment_id}/events" if deployment_id else None,
    )


def _deployment_of(action: OpsAction, target: str, action_id: str) -> str | None:
    if action is OpsAction.CANCEL:
        return target
    if action is OpsAction.ROLLBACK:
        return rollback_deployment_id(action_id)
    return None


def _pending(command: RunOpsAction) -> OpsActionView:
    """No orchestrator recorded it within the wait: the command is kept and runs later."""
    return _build(command, "PENDING", None, None, {}, None, None, None)


def _view_of_row(row: Row) -> OpsActionView:
    detail = dict(row.get("detail") or {})
    finished = detail.pop("finishedAt", None)
    action = OpsAction(row["action"])
    deployment_id = _deployment_of(action, row["target"], row["id"])
    replicas = detail.get("replicas")
    return OpsActionView(
        action_id=row["id"],
        action=action.value,
        app=row["app"],
        namespace=row["namespace"],
        target=row["target"],
        status=row["status"],
        replicas=replicas if isinstance(replicas, int) else None,
        error_code=row["error_code"],
        message=row["message"],
        detail=detail,
        requested_by=row["requested_by"],
        requested_at=row["at"],
        finished_at=datetime.fromisoformat(finished) if isinstance(finished, str) else None,
        deployment_id=deployment_id,
        action_url=f"/api/v1/apps/{row['app']}/actions/{row['id']}",
        events_url=f"/api/v1/deploy/{deployment_id}/events" if deployment_id else None,
    )
