"""Ops on a live app: restart a pod, restart or scale the live colour, roll back, cancel
(ADR 0022). Each answers 202 with the action; its outcome is in the body once known."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import HeaderParameter, JSONBody, PathParameter, QueryParameter

from flightdeck.events.audit import OpsAction
from flightdeck.gateway.domain.auth import Principal, Scope
from flightdeck.gateway.domain.deploy import IDEMPOTENCY_KEY
from flightdeck.gateway.domain.errors import ErrorCode
from flightdeck.gateway.entrypoints.auth import needs
from flightdeck.gateway.entrypoints.openapi import BODY, IN_PATH, READ, SECURED, errors
from flightdeck.gateway.schemas import DNS_LABEL, ID, Envelope, OpsActionView, ScaleCreate
from flightdeck.gateway.service_layer import ops
from flightdeck.gateway.service_layer.ops import Operating, OpsRequest

AppPath = Annotated[
    str, PathParameter(min_length=1, max_length=53, pattern=DNS_LABEL, description="The app")
]
PodPath = Annotated[
    str, PathParameter(min_length=1, max_length=253, pattern=DNS_LABEL, description="A pod of it")
]
ActionPath = Annotated[str, PathParameter(min_length=1, max_length=64, pattern=ID)]
DeploymentPath = Annotated[str, PathParameter(min_length=1, max_length=64, pattern=ID)]
NamespaceQuery = Annotated[
    str | None,
    QueryParameter(
        name="namespace",
        required=False,
        min_length=1,
        max_length=63,
        pattern=DNS_LABEL,
        description="Only needed when the app exists in several of your namespaces",
    ),
]
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        min_length=1,
        max_length=128,
        pattern=IDEMPOTENCY_KEY,
        description="Retries with the same key answer the same action; "
        "the same key with another request: 409 CONFLICT",
    ),
]

ACTED = (
    *READ,
    *BODY,
    *IN_PATH,
    ErrorCode.APP_NOT_FOUND,
    ErrorCode.APP_BUSY,
    ErrorCode.CONFLICT,
    ErrorCode.RATE_LIMITED,
)
"""What every ops route may answer."""


def _accepted(view: OpsActionView) -> Envelope[OpsActionView]:
    return Envelope(code=202, message="Accepted", data=view)


class AppOpsController(Controller):
    """``/api/v1/apps/{app}/…``: ops on the live colour of one of your apps."""

    path = "/api/v1/apps"
    tags = ["ops"]
    security = SECURED

    @post(
        "/{app:str}/pods/{pod:str}/restart",
        operation_id="restartPod",
        status_code=202,
        guards=[needs(Scope.OPS)],
        summary="Restart a pod: delete it, its ReplicaSet replaces it",
        responses=errors(*ACTED, ErrorCode.POD_NOT_FOUND),
    )
    async def restart_pod(
        self,
        app: AppPath,
        pod: PodPath,
        operating: NamedDependency[Operating],
        principal: NamedDependency[Principal],
        namespace: NamespaceQuery = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Envelope[OpsActionView]:
        req = OpsRequest(OpsAction.RESTART_POD, app, namespace, target=pod)
        return _accepted(await ops.request_action(operating, principal, req, idempotency_key))

    @post(
        "/{app:str}/restart",
        operation_id="restartApp",
        status_code=202,
        guards=[needs(Scope.OPS)],
        summary="Rollout restart of the live colour (as kubectl rollout restart)",
        responses=errors(*ACTED, ErrorCode.NO_LIVE_COLOUR),
    )
    async def restart(
        self,
        app: AppPath,
        operating: NamedDependency[Operating],
        principal: NamedDependency[Principal],
        namespace: NamespaceQuery = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Envelope[OpsActionView]:
        req = OpsRequest(OpsAction.RESTART_ROLLOUT, app, namespace)
        return _accepted(await ops.request_action(operating, principal, req, idempotency_key))

    @post(
        "/{app:str}/scale",
        operation_id="scaleApp",
        status_code=202,
        guards=[needs(Scope.OPS)],
        summary="Scale the live colour to 0–50 replicas",
        responses=errors(*ACTED, ErrorCode.NO_LIVE_COLOUR),
    )
    async def scale(
        self,
        app: AppPath,
        data: JSONBody[ScaleCreate],
        operating: NamedDependency[Operating],
        principal: NamedDependency[Principal],
        namespace: NamespaceQuery = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Envelope[OpsActionView]:
        req = OpsRequest(OpsAction.SCALE, app, namespace, replicas=data.replicas)
        return _accepted(await ops.request_action(operating, principal, req, idempotency_key))

    @post(
        "/{app:str}/rollback",
        operation_id="rollbackApp",
        status_code=202,
        guards=[needs(Scope.OPS)],
        summary="Roll back to the previous release: a deployment of its own (deploymentId)",
        responses=errors(*ACTED, ErrorCode.NO_PREVIOUS_RELEASE),
    )
    async def rollback(
        self,
        app: AppPath,
        operating: NamedDependency[Operating],
        principal: NamedDependency[Principal],
        namespace: NamespaceQuery = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Envelope[OpsActionView]:
        req = OpsRequest(OpsAction.ROLLBACK, app, namespace)
        return _accepted(await ops.request_action(operating, principal, req, idempotency_key))

    @get(
        "/{app:str}/actions/{action_id:str}",
        operation_id="getOpsAction",
        summary="An ops action: who asked, and how it went",
        responses=errors(*READ, *IN_PATH, ErrorCode.APP_NOT_FOUND, ErrorCode.ACTION_NOT_FOUND),
    )
    async def action(
        self,
        app: AppPath,
        action_id: ActionPath,
        operating: NamedDependency[Operating],
        principal: NamedDependency[Principal],
    ) -> Envelope[OpsActionView]:
        view = await ops.action_status(operating, principal, app, action_id)
        return Envelope(code=200, message="OK", data=view)


class DeployCancelController(Controller):
    """``POST /api/v1/deploy/{id}/cancel``: stop a deployment in flight."""

    path = "/api/v1/deploy"
    tags = ["ops"]
    security = SECURED

    @post(
        "/{deployment_id:str}/cancel",
        operation_id="cancelDeployment",
        status_code=202,
        guards=[needs(Scope.OPS)],
        summary="Cancel a deployment: it stops at its next step, its new colour is scaled "
        "to zero, status CANCELLED",
        responses=errors(
            *READ,
            *IN_PATH,
            ErrorCode.FORBIDDEN,
            ErrorCode.DEPLOYMENT_NOT_FOUND,
            ErrorCode.DEPLOYMENT_FINISHED,
            ErrorCode.CONFLICT,
            ErrorCode.RATE_LIMITED,
        ),
    )
    async def cancel(
        self,
        deployment_id: DeploymentPath,
        operating: NamedDependency[Operating],
        principal: NamedDependency[Principal],
        idempotency_key: IdempotencyKey = None,
    ) -> Envelope[OpsActionView]:
        view = await ops.cancel_deployment(operating, principal, deployment_id, idempotency_key)
        return _accepted(view)
