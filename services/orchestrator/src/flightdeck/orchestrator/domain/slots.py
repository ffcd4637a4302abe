"""An app's blue/green slots: who deploys it now, and which colour serves it.

A deployment must claim its app before touching the cluster; the claim picks
the colour (the one not serving; blue the first time). Claims are appended
with optimistic concurrency, so two deployments can never hold one app.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from flightdeck.events import Recorded
from flightdeck.events.apps import AppReleased, AppSlotClaimed
from flightdeck.events.deployments import Colour, DeploymentStatus


@dataclass(frozen=True)
class Slots:
    serving: Colour | None = None
    holder: str | None = None
    colour: Colour | None = None
    previous: Colour | None = None
    position: int = 0


def fold_slots(records: list[Recorded[Any]]) -> Slots:
    slots = Slots()
    for r in records:
        slots = evolve_slots(slots, r)
    return slots


def evolve_slots(slots: Slots, recorded: Recorded[Any]) -> Slots:
    e = recorded.event
    if isinstance(e, AppSlotClaimed):
        slots = replace(slots, holder=e.deployment_id, colour=e.colour, previous=e.previous_colour)
    elif isinstance(e, AppReleased) and e.deployment_id == slots.holder:
        slots = replace(slots, holder=None, colour=None, previous=None, serving=e.serving_colour)
    return replace(slots, position=recorded.position)


def claim(slots: Slots, namespace: str, app: str, deployment_id: str) -> AppSlotClaimed | None:
    """The claim to append, or ``None`` when the app is already held (by anyone)."""
    if slots.holder is not None:
        return None
    colour = slots.serving.other() if slots.serving is not None else Colour.BLUE
    return AppSlotClaimed(
        namespace=namespace,
        app=app,
        deployment_id=deployment_id,
        colour=colour,
        previous_colour=slots.serving,
    )


def release(
    slots: Slots,
    namespace: str,
    app: str,
    deployment_id: str,
    outcome: DeploymentStatus,
    serving: Colour | None,
) -> AppReleased | None:
    """The release to append, or ``None`` when ``deployment_id`` does not hold the app."""
    if slots.holder != deployment_id:
        return None
    return AppReleased(
        namespace=namespace,
        app=app,
        deployment_id=deployment_id,
        outcome=outcome,
        serving_colour=serving,
    )
