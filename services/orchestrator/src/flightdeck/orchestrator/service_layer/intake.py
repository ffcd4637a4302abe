"""Taking a ``StartDeployment``: its ``DeploymentRequested`` recorded once, however often it comes.

The request is appended with ``expected=0`` on the deployment's own subject, so
the deployment id is the idempotency key: a redelivered command, or one a
client retried (the gateway derives the id from its ``Idempotency-Key``), finds
its request already there and carries on from it; a different command naming
a taken id records nothing (ADR 0020).
"""

from __future__ import annotations

from typing import Any

import structlog

from flightdeck.events import Cause, ConcurrencyError, Recorded, subjects
from flightdeck.events.commands import StartDeployment, deployment_requested
from flightdeck.eventstore import EventStore

log = structlog.get_logger(__name__)


async def record_request(store: EventStore, command: Recorded[StartDeployment]) -> bool:
    """Record the request ``command`` asks for; ``True`` if it is (now, or already) the
    deployment's request, ``False`` if another request holds that deployment id.

    The request keeps who asked (the audit trail names the person or key behind a
    deployment, not the orchestrator) and is caused by the command. Its correlation
    id is the deployment id (ADR 0025): the pods carry it as their
    ``flightdeck.io/deployment`` label, so the watcher's observations and the log
    relay's lines of those pods carry the same correlation id as the stages.
    """
    cause = Cause(
        actor=command.actor or "unknown",
        correlation_id=command.event.deployment_id,
        causation_id=command.id,
    )
    return await record_start(store, command.event, cause)


async def record_start(store: EventStore, cmd: StartDeployment, cause: Cause) -> bool:
    """Record the request ``cmd`` asks for, with ``cause`` (see :func:`record_request`);
    also how a rollback starts its deployment (ADR 0022)."""
    request = deployment_requested(cmd)
    subject = subjects.deployment(cmd.deployment_id)
    try:
        await store.append(subject, [request], cause=cause, expected=0)
    except ConcurrencyError:
        first: Recorded[Any] | None = await store.read_first(subject)
        if first is None or first.event != request:
            log.warning(
                "a StartDeployment names a deployment that another request holds; ignored",
                deployment=cmd.deployment_id,
                causation=cause.causation_id,
            )
            return False
    return True
