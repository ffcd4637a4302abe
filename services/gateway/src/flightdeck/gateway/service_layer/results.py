"""A deployment's result: the read model's row, or the one its request is about to become.

Reads come from the read model (CQRS). A deploy answers 202 once the
orchestrator has recorded the request (ADR 0020), which may be a moment before
the projector has written its row: then the result is built from that one
stored request, exactly as the projector will build the row (``PENDING``, no
stages), so a client may ask for it right after the 202. Another tenant's
deployment and an unknown id cost the same two lookups and get the same answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flightdeck.events import Recorded, subjects
from flightdeck.events.deployments import DeploymentRequested
from flightdeck.gateway.service_layer.ports import DeploymentRequests, DeploymentRows, Row


@dataclass(frozen=True)
class Results:
    """What answering ``GET /api/v1/deploy/{id}/result`` needs."""

    rows: DeploymentRows
    requests: DeploymentRequests
    row_of_request: Callable[[Recorded[Any]], Row]
    """The read-model row a deployment's ``DeploymentRequested`` becomes."""


async def deployment_result(
    r: Results, tenant: str, deployment_id: str
) -> tuple[Row, list[Row]] | None:
    """The deployment's row and its stages' rows; ``None`` unless it is ``tenant``'s."""
    row = await r.rows.deployment(tenant, deployment_id)
    if row is not None:
        return row, await r.rows.stages(deployment_id)
    first = await r.requests.read_first(subjects.deployment(deployment_id))
    if first is None:
        return None
    request = first.event
    if not isinstance(request, DeploymentRequested) or request.tenant != tenant:
        return None
    return r.row_of_request(first), []
