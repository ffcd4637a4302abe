"""Uptime monitors and incidents, from the FD_MONITORS stream."""

from __future__ import annotations

import json
from typing import Any

from flightdeck.events.envelope import Recorded
from flightdeck.events.monitors import (
    IncidentOpened,
    IncidentResolved,
    MonitorCreated,
    MonitorDeleted,
    MonitorUpdated,
    NotificationSent,
)
from flightdeck.readmodel.projections.base import Projection, Touch, ignore, nothing
from flightdeck.readmodel.rows import RowSet

MONITORS = "monitors"
INCIDENTS = "incidents"


def _monitor(recorded: Recorded[Any]) -> list[Touch]:
    return [(MONITORS, (recorded.event.monitor_id,))]


def _incident(recorded: Recorded[Any]) -> list[Touch]:
    return [*_monitor(recorded), (INCIDENTS, (recorded.event.incident_id,))]


def _spec(e: MonitorCreated | MonitorUpdated) -> dict[str, Any]:
    """The monitor's settings as columns; sealed header values stay out (only their names)."""
    return {
        "name": e.name,
        "url": e.url,
        "app_name": e.app_name,
        "method": e.method,
        "headers": json.dumps(e.headers, sort_keys=True),
        "secret_header_names": json.dumps(sorted(e.secret_headers)),
        "body": e.body,
        "interval_s": e.interval_s,
        "timeout_s": e.timeout_s,
        "conditions": json.dumps(e.conditions),
        "failure_threshold": e.failure_threshold,
        "success_threshold": e.success_threshold,
        "paused": e.paused,
    }


def created(rows: RowSet, recorded: Recorded[Any]) -> None:
    e: MonitorCreated = recorded.event
    rows.put(
        MONITORS,
        (e.monitor_id,),
        {
            "id": e.monitor_id,
            "tenant": e.tenant,
            **_spec(e),
            "deleted": False,
            "state": "UNKNOWN",
            "open_incident_id": None,
            "created_at": recorded.time,
            "updated_at": recorded.time,
        },
    )


def updated(rows: RowSet, recorded: Recorded[Any]) -> None:
    e: MonitorUpdated = recorded.event
    rows.update(
        MONITORS,
        (e.monitor_id,),
        **_spec(e),
        updated_at=recorded.time,
    )


def deleted(rows: RowSet, recorded: Recorded[Any]) -> None:
    e: MonitorDeleted = recorded.event
    rows.update(MONITORS, (e.monitor_id,), deleted=True, updated_at=recorded.time)


def incident_opened(rows: RowSet, recorded: Recorded[Any]) -> None:
    e: IncidentOpened = recorded.event
    monitor = rows.get(MONITORS, (e.monitor_id,))
    rows.put(
        INCIDENTS,
        (e.incident_id,),
        {
            "id": e.incident_id,
            "monitor_id": e.monitor_id,
            "tenant": monitor["tenant"] if monitor else None,
            "cause": e.cause,
            "status": "OPEN",
            "started_at": e.started_at,
            "resolved_at": None,
            "duration_s": None,
        },
    )
    rows.update(MONITORS, (e.monitor_id,), state="DOWN", open_incident_id=e.incident_id)


def incident_resolved(rows: RowSet, recorded: Recorded[Any]) -> None:
    e: IncidentResolved = recorded.event
    rows.update(
        INCIDENTS,
        (e.incident_id,),
        status="RESOLVED",
        resolved_at=e.resolved_at,
        duration_s=e.duration_s,
    )
    rows.update(MONITORS, (e.monitor_id,), state="UP", open_incident_id=None)


PROJECTIONS: dict[type, Projection] = {
    MonitorCreated: Projection(_monitor, created),
    MonitorUpdated: Projection(_monitor, updated),
    MonitorDeleted: Projection(_monitor, deleted),
    IncidentOpened: Projection(_incident, incident_opened),
    IncidentResolved: Projection(_incident, incident_resolved),
    NotificationSent: Projection(nothing, ignore),
}
