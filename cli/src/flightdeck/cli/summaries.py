"""One line of plain words per event, for the replay table (presentation only)."""

from __future__ import annotations

from typing import Any

from flightdeck.events.deployments import (
    ColourAssigned,
    ColourScaledDown,
    DeploymentCancelled,
    DeploymentCompleted,
    DeploymentFailed,
    DeploymentRequested,
    StageFailed,
    StageProgressed,
    StageStarted,
    StageSucceeded,
    TrafficSwitched,
)


def summarize(event: Any) -> str:
    """What happened, in a few words."""
    match event:
        case DeploymentRequested():
            return f"deploy {event.app} {event.repository}:{event.tag} ×{event.replicas} to {event.namespace}"
        case ColourAssigned():
            return f"new colour {event.colour}, serving {event.previous_colour or 'nothing yet'}"
        case StageStarted():
            return f"{event.stage} started (deadline {event.deadline:%H:%M:%S})"
        case StageProgressed():
            return f"{event.stage}: {event.message}"
        case StageSucceeded():
            return f"{event.stage} succeeded in {event.duration_ms / 1000:.1f}s"
        case StageFailed():
            return f"{event.stage} failed: {event.error_code} {event.message}"
        case TrafficSwitched():
            return f"traffic {event.from_colour or '∅'} → {event.to_colour} on {event.service}"
        case ColourScaledDown():
            return f"{event.colour} scaled down ({event.deployment_name})"
        case DeploymentCompleted():
            return f"SUCCEEDED on {event.colour} in {event.total_duration_ms / 1000:.1f}s, url {event.url}"
        case DeploymentFailed():
            serving = event.serving_colour or "nothing"
            return f"FAILED at {event.stage}: {event.error_code} {event.message} ({serving} still serving)"
        case DeploymentCancelled():
            return f"CANCELLED at {event.stage or 'start'}: {event.reason}"
    return type(event).__name__
