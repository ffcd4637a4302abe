"""An app's blue/green slots: ``fd.evt.app.<namespace>.<app>``, in the deployments stream.

One small aggregate per app serialises its deployments: a deployment claims the
app (and so its colour) before it touches the cluster, and releases it when it
ends, saying which colour serves now. Two deployments of one app can therefore
never fight over the same colour, and the orchestrator finds every open
deployment after a restart by reading the last event of each app.
"""

from __future__ import annotations

from flightdeck.events.base import Event
from flightdeck.events.deployments import Colour, DeploymentStatus


class AppSlotClaimed(Event, frozen=True, kw_only=True, tag="app.claimed"):
    """``deployment_id`` now owns the app; it deploys into ``colour``."""

    namespace: str
    app: str
    deployment_id: str
    colour: Colour
    previous_colour: Colour | None


class AppReleased(Event, frozen=True, kw_only=True, tag="app.released"):
    """The deployment ended; ``serving_colour`` is what takes the app's traffic now."""

    namespace: str
    app: str
    deployment_id: str
    outcome: DeploymentStatus
    serving_colour: Colour | None


AppEvent = AppSlotClaimed | AppReleased
