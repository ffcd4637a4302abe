"""Start (or cancel) a deployment the way the gateway does: for demos, benchmarks and tests.

The gateway's ``POST /api/v1/deploy`` appends ``DeploymentRequested`` to the new
deployment's subject with ``expected=0``; :func:`start_deployment` does exactly
that, so the orchestrator cannot tell the difference.
"""

from __future__ import annotations

import os

from flightdeck.events import Cause, new_id, subjects
from flightdeck.events.commands import CancelDeployment
from flightdeck.events.deployments import DeploymentRequested
from flightdeck.eventstore import EventStore


async def start_deployment(
    store: EventStore,
    *,
    app: str = "hello",
    repository: str | None = None,
    tag: str = "v1",
    namespace: str = "default",
    registry: str = "000000000000.dkr.ecr.us-east-1.amazonaws.com",
    replicas: int = 2,
    health_path: str = "/healthz",
    verify_checks: int = 5,
    stage_timeout_s: float = 600.0,
    overall_timeout_s: float | None = None,
    tenant: str = "demo",
    actor: str = "user:demo",
    deployment_id: str | None = None,
) -> str:
    """Append a ``DeploymentRequested`` and return the new deployment's id.

    ``overall_timeout_s`` defaults to ``DEPLOYMENT_TIMEOUT`` from the environment, else 30 min.
    """
    repository = repository or app
    deployment_id = deployment_id or new_id()
    if overall_timeout_s is None:
        overall_timeout_s = float(os.environ.get("DEPLOYMENT_TIMEOUT", "1800"))
    request = DeploymentRequested(
        deployment_id=deployment_id,
        tenant=tenant,
        app=app,
        namespace=namespace,
        repository=repository,
        tag=tag,
        image=f"{registry}/{repository}:{tag}",
        replicas=replicas,
        health_path=health_path,
        verify_checks=verify_checks,
        stage_timeout_s=stage_timeout_s,
        overall_timeout_s=overall_timeout_s,
    )
    cause = Cause.root(actor, correlation_id=new_id())
    await store.append(subjects.deployment(deployment_id), [request], cause=cause, expected=0)
    return deployment_id


async def cancel_deployment(
    store: EventStore, deployment_id: str, reason: str = "cancelled", actor: str = "user:demo"
) -> None:
    """Send ``CancelDeployment`` to the orchestrator (too late after the traffic switch)."""
    command = CancelDeployment(deployment_id=deployment_id, reason=reason)
    await store.append(
        subjects.command("orchestrator", "cancel"), [command], cause=Cause.root(actor)
    )
