"""One line of plain words per event, for the replay table (presentation only)."""

from __future__ import annotations

from typing import Any

from flightdeck.events.apps import AppReleased, AppSlotClaimed
from flightdeck.events.audit import OpsActionFailed, OpsActionRequested, OpsActionSucceeded
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
        case OpsActionRequested():
            return f"ops {event.action} {_ops_target(event)} asked ({event.action_id[:12]})"
        case OpsActionSucceeded():
            detail = ", ".join(f"{k}={v}" for k, v in event.detail.items())
            return f"ops {event.action} succeeded ({event.action_id[:12]}) {detail}".rstrip()
        case OpsActionFailed():
            return f"ops {event.action} FAILED ({event.action_id[:12]}): {event.error_code} {event.message}"
        case AppSlotClaimed():
            return f"deployment {event.deployment_id[:12]} holds {event.app} ({event.colour})"
        case AppReleased():
            return f"deployment {event.deployment_id[:12]} {event.outcome}; {event.serving_colour or 'nothing'} serves"
    return type(event).__name__


def _ops_target(event: OpsActionRequested) -> str:
    if event.replicas is not None:
        return f"{event.app} to {event.replicas}"
    return f"{event.app} {event.target}".rstrip()
