"""What every simulated controller is given: the cluster, the event recorder, time and logs."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from flightdeck.sandbox.clock import Clock
from flightdeck.sandbox.cluster import Cluster
from flightdeck.sandbox.config import SandboxConfig
from flightdeck.sandbox.podlogs import PodLogs
from flightdeck.sandbox.recorder import Recorder

Obj = dict[str, Any]
CONTROLLER_MANAGER = "kube-controller-manager"


@dataclass
class Context:
    cluster: Cluster
    recorder: Recorder
    config: SandboxConfig
    clock: Clock
    logs: PodLogs


def controller_of(obj: Obj) -> str | None:
    """The uid of the object's controlling owner, if any."""
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("controller"):
            return str(ref.get("uid"))
    return None


def by_controller(objects: list[Obj]) -> dict[str, list[Obj]]:
    """Group objects by their controlling owner's uid, in one pass."""
    index: dict[str, list[Obj]] = defaultdict(list)
    for obj in objects:
        if (owner := controller_of(obj)) is not None:
            index[owner].append(obj)
    return index


def owner_reference(owner: Obj) -> Obj:
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def is_ready(pod: Obj) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def is_active(pod: Obj) -> bool:
    """Counted by its ReplicaSet: not terminating and not finished."""
    phase = (pod.get("status") or {}).get("phase")
    return not pod["metadata"].get("deletionTimestamp") and phase not in ("Succeeded", "Failed")
