"""Start (or cancel) a deployment the way the gateway does: for demos, benchmarks and tests.

The gateway's ``POST /api/v1/deploy`` sends a ``StartDeployment`` on
``fd.cmd.orchestrator.start``; :func:`start_deployment` sends the same command,
so the orchestrator cannot tell the difference. Everything but the names below
comes from the command's own defaults; settings (a deployment timeout, say) are
the caller's to pass, never read from the environment here.
"""

from __future__ import annotations

from typing import Any

from flightdeck.events import Cause, new_id, subjects
from flightdeck.events.commands import CancelDeployment, StartDeployment
from flightdeck.eventstore import EventStore

SAMPLE_REGISTRY = "000000000000.dkr.ecr.us-east-1.amazonaws.com"


def sample_command(
    *,
    app: str = "hello",
    repository: str | None = None,
    tag: str = "v1",
    namespace: str = "default",
    registry: str | None = SAMPLE_REGISTRY,
    tenant: str = "demo",
    deployment_id: str | None = None,
    **fields: Any,
) -> StartDeployment:
    """A ``StartDeployment`` of ``app`` (its repository by default); ``fields`` are any
    other field of the command (``replicas``, ``stage_timeout_s`` …)."""
    return StartDeployment(
        deployment_id=deployment_id or new_id(),
        tenant=tenant,
        app=app,
        namespace=namespace,
        repository=repository or app,
        tag=tag,
        registry=registry,
        **fields,
    )


async def send_start(store: EventStore, command: StartDeployment, actor: str = "user:demo") -> str:
    """Send ``command`` to the orchestrator; the deployment's id."""
    cause = Cause.root(actor, correlation_id=new_id())
    await store.append(subjects.START_DEPLOYMENT, [command], cause=cause)
    return command.deployment_id


async def start_deployment(store: EventStore, *, actor: str = "user:demo", **kw: Any) -> str:
    """Ask for a deployment (see :func:`sample_command` for ``kw``); its id."""
    return await send_start(store, sample_command(**kw), actor)


async def cancel_deployment(
    store: EventStore, deployment_id: str, reason: str = "cancelled", actor: str = "user:demo"
) -> None:
    """Send ``CancelDeployment`` to the orchestrator (too late after the traffic switch)."""
    command = CancelDeployment(deployment_id=deployment_id, reason=reason)
    await store.append(
        subjects.command("orchestrator", "cancel"), [command], cause=Cause.root(actor)
    )
