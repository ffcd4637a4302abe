"""Which deployment an observation belongs to: its correlation id (ADR 0025).

The orchestrator labels everything it creates, pods included (through the pod
template), with ``flightdeck.io/deployment`` = the deployment id, and a
deployment's id is its correlation id. So an object's own label names it; a
deletion, a Kubernetes Event or a metrics sample about an object has no labels
and takes them from the object's last observation. Objects Flightdeck did not make have none.
"""

from __future__ import annotations

from collections.abc import Callable

from flightdeck.events.cluster import KubeEventObserved, PodMetricsSampled, ResourceDeleted

LABEL_DEPLOYMENT = "flightdeck.io/deployment"

LastSeen = Callable[[str, str], object | None]
"""(kind, name) in the observation's namespace → the last observation of that object."""


def _label(observation: object | None) -> str | None:
    labels = getattr(observation, "labels", None)
    found = labels.get(LABEL_DEPLOYMENT) if isinstance(labels, dict) else None
    return found or None


def deployment_of(observation: object, last_seen: LastSeen) -> str | None:
    """The deployment (correlation id) behind ``observation``, if Flightdeck made its object."""
    if isinstance(observation, ResourceDeleted):
        return _label(last_seen(observation.kind, observation.name))
    if isinstance(observation, KubeEventObserved):
        return _label(last_seen(observation.involved_kind, observation.involved_name))
    if isinstance(observation, PodMetricsSampled):
        return _label(last_seen("Pod", observation.pod))
    return _label(observation)
