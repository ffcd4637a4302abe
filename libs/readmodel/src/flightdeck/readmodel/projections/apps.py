"""Apps and the colour that serves each, from their slot aggregate (FD_DEPLOYMENTS)."""

from __future__ import annotations

from typing import Any

from flightdeck.events.apps import AppReleased, AppSlotClaimed
from flightdeck.events.envelope import Recorded
from flightdeck.readmodel.projections.base import Projection, Touch
from flightdeck.readmodel.rows import RowSet

APPS = "apps"


def _app(recorded: Recorded[Any]) -> list[Touch]:
    return [(APPS, (recorded.event.namespace, recorded.event.app))]


def claimed(rows: RowSet, recorded: Recorded[Any]) -> None:
    e: AppSlotClaimed = recorded.event
    key = (e.namespace, e.app)
    before = rows.get(APPS, key) or {}
    rows.put(
        APPS,
        key,
        {
            "namespace": e.namespace,
            "app": e.app,
            "serving_colour": e.previous_colour.value if e.previous_colour else None,
            "active_deployment_id": e.deployment_id,
            "active_colour": e.colour.value,
            "last_deployment_id": before.get("last_deployment_id"),
            "last_outcome": before.get("last_outcome"),
            "updated_at": recorded.time,
        },
    )


def released(rows: RowSet, recorded: Recorded[Any]) -> None:
    e: AppReleased = recorded.event
    rows.put(
        APPS,
        (e.namespace, e.app),
        {
            "namespace": e.namespace,
            "app": e.app,
            "serving_colour": e.serving_colour.value if e.serving_colour else None,
            "active_deployment_id": None,
            "active_colour": None,
            "last_deployment_id": e.deployment_id,
            "last_outcome": e.outcome.value,
            "updated_at": recorded.time,
        },
    )


PROJECTIONS: dict[type, Projection] = {
    AppSlotClaimed: Projection(_app, claimed),
    AppReleased: Projection(_app, released),
}
