"""Health-check results, from the FD_PROBES stream: one row per check, keyed by position."""

from __future__ import annotations

from typing import Any

from flightdeck.events.envelope import Recorded
from flightdeck.events.probes import ProbeCompleted, VerificationCompleted
from flightdeck.readmodel.projections.base import Projection, ignore, nothing
from flightdeck.readmodel.rows import RowSet


def probe_completed(rows: RowSet, recorded: Recorded[Any]) -> None:
    e: ProbeCompleted = recorded.event
    rows.append(
        "probe_results",
        {
            "position": recorded.position,
            "target": e.target,
            "purpose": e.purpose.value,
            "url": e.url,
            "ok": e.ok,
            "status_code": e.status_code,
            "latency_ms": e.latency_ms,
            "error": e.error,
            "deployment_id": e.deployment_id,
            "colour": e.colour.value if e.colour else None,
            "monitor_id": e.monitor_id,
            "checked_at": recorded.time,
        },
    )


PROJECTIONS: dict[type, Projection] = {
    ProbeCompleted: Projection(nothing, probe_completed),
    # The verdict's figures reach the deployment row through DeploymentCompleted.
    VerificationCompleted: Projection(nothing, ignore),
}
