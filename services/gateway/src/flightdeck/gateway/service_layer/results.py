"""A deployment's result and the deployment list, as fresh as what the client has seen.

Reads come from the read model (CQRS), after it has reached the deployment's
latest position (read your writes, ADR 0024): a client that reads the result the
instant its stream says ``done`` gets the final result. If the projector does not
get there within the bound (it is down, or far behind), the result is built from
the deployment's own events by the same projections the projector runs, so it is
never older than the stream. Another tenant's deployment and an unknown id cost
the same lookups and get the same answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from flightdeck.events import Recorded, streams, subjects
from flightdeck.events.deployments import DeploymentRequested
from flightdeck.gateway.service_layer.freshness import Freshness
from flightdeck.gateway.service_layer.ports import DeploymentRows, Row

Fold = Callable[[list[Recorded[Any]]], tuple[Row, list[Row]]]
"""The read-model rows (deployment, stages) a deployment's events become."""


@dataclass(frozen=True)
class Results:
    """What answering ``GET /api/v1/deploy/{id}/result`` and the list needs."""

    rows: DeploymentRows
    fresh: Freshness
    history: Callable[[str], Awaitable[list[Recorded[Any]]]]
    """A deployment's events, from the event store."""
    fold: Fold


async def deployment_result(
    r: Results, tenant: str, deployment_id: str
) -> tuple[Row, list[Row]] | None:
    """The deployment's row and its stages' rows; ``None`` unless it is ``tenant``'s."""
    subject = subjects.deployment(deployment_id)
    _, projected = await r.fresh.aggregate(streams.DEPLOYMENTS, subject)
    row = await r.rows.deployment(tenant, deployment_id)
    if projected:
        return (row, await r.rows.stages(deployment_id)) if row is not None else None
    events = await r.history(subject)
    if not events:
        return None
    request = events[0].event
    if not isinstance(request, DeploymentRequested) or request.tenant != tenant:
        return None
    return r.fold(events)


async def deployment_list(
    r: Results,
    tenant: str,
    *,
    app: str | None,
    status: str | None,
    namespace: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Row], int]:
    """A page of the tenant's deployments, once the read model holds every deployment
    event stored when it was asked for (or the bound has passed)."""
    await r.fresh.whole_stream(streams.DEPLOYMENTS)
    return await r.rows.deployments(
        tenant, app=app, status=status, namespace=namespace, limit=limit, offset=offset
    )
