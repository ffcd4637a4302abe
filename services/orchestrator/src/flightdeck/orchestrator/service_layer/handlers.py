"""One short function per message the orchestrator consumes, in one explicit map.

Each routes its message to the deployment(s) it concerns and hands it to the
pipeline: by deployment id where the message names one, by the
``flightdeck.io/deployment`` label for cluster observations. Deployments start
from a command (``StartDeployment``, ADR 0020), never from the orchestrator's
own events: it does not consume its own stream.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from flightdeck.events import Recorded
from flightdeck.events.artifacts import ImageMissing, ImageObserved
from flightdeck.events.cluster import DeploymentObserved, IngressObserved, PodObserved
from flightdeck.events.commands import CancelDeployment, RunOpsAction, StartDeployment
from flightdeck.events.probes import ProbeCompleted, VerificationCompleted
from flightdeck.orchestrator.domain.inputs import Observed
from flightdeck.orchestrator.domain.manifests import LABEL_DEPLOYMENT
from flightdeck.orchestrator.service_layer.intake import record_request
from flightdeck.orchestrator.service_layer.ops import on_ops_action
from flightdeck.orchestrator.service_layer.pipeline import Pipeline

Handler = Callable[[Pipeline, Recorded[Any]], Awaitable[None]]


async def on_start_deployment(p: Pipeline, r: Recorded[StartDeployment]) -> None:
    """Record the request once (its type validated it on decode), then start it."""
    if await record_request(p.store, r):
        await p.request(r.event.deployment_id, r.id)


async def on_cancel(p: Pipeline, r: Recorded[CancelDeployment]) -> None:
    await p.advance(r.event.deployment_id, r.event, r.id)


async def on_image(p: Pipeline, r: Recorded[ImageObserved | ImageMissing]) -> None:
    for deployment_id in r.event.deployment_ids:
        await p.advance(deployment_id, Observed(r.event, r.position), r.id)


async def on_cluster_object(
    p: Pipeline, r: Recorded[DeploymentObserved | PodObserved | IngressObserved]
) -> None:
    deployment_id = r.event.labels.get(LABEL_DEPLOYMENT)
    if deployment_id:
        await p.advance(deployment_id, Observed(r.event, r.position), r.id)


async def on_probe(p: Pipeline, r: Recorded[ProbeCompleted | VerificationCompleted]) -> None:
    if r.event.deployment_id:
        await p.advance(r.event.deployment_id, Observed(r.event, r.position), r.id)


HANDLERS: dict[type, Handler] = {
    StartDeployment: on_start_deployment,
    CancelDeployment: on_cancel,
    RunOpsAction: on_ops_action,
    ImageObserved: on_image,
    ImageMissing: on_image,
    DeploymentObserved: on_cluster_object,
    PodObserved: on_cluster_object,
    IngressObserved: on_cluster_object,
    ProbeCompleted: on_probe,
    VerificationCompleted: on_probe,
}


async def dispatch(p: Pipeline, r: Recorded[Any]) -> None:
    """Hand ``r`` to its handler; messages the orchestrator does not react to are skipped."""
    handler = HANDLERS.get(type(r.event))
    if handler is not None:
        await handler(p, r)
