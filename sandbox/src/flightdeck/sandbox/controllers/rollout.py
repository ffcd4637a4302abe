"""Rolling-update arithmetic and rollout-status rules, as pure functions.

Ported from the Deployment controller (``pkg/controller/deployment/util``) and
from ``kubectl rollout status``, so the simulation scales replica sets in the
same steps a real cluster takes and judges completion by the same rules.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

Obj = dict[str, Any]

REVISION = "deployment.kubernetes.io/revision"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
HASH_LABEL = "pod-template-hash"

NEW_RS_CREATED = "NewReplicaSetCreated"
FOUND_NEW_RS = "FoundNewReplicaSet"
RS_UPDATED = "ReplicaSetUpdated"
NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
TIMED_OUT = "ProgressDeadlineExceeded"

_SAFE = "bcdfghjklmnpqrstvwxz2456789"


class RolloutFailed(Exception):
    """``kubectl rollout status`` would exit 1 with this message."""


def scaled_value(value: int | str | None, total: int, round_up: bool) -> int:
    """An IntOrString (``2`` or ``"25%"``) resolved against ``total`` replicas."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not text.endswith("%"):
        return int(text)
    exact = int(text[:-1]) * total / 100
    return math.ceil(exact) if round_up else math.floor(exact)


def fenceposts(deployment: Obj) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) in pods; both zero would deadlock, so unavailable becomes 1."""
    spec = deployment.get("spec") or {}
    strategy = spec.get("strategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return 0, 0
    rolling = strategy.get("rollingUpdate") or {}
    replicas = int(spec.get("replicas", 1))
    surge = scaled_value(rolling.get("maxSurge", "25%"), replicas, True)
    unavailable = scaled_value(rolling.get("maxUnavailable", "25%"), replicas, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, min(unavailable, replicas)


def template_hash(template: Obj) -> str:
    """A stable, label-safe digest of a pod template (the ``pod-template-hash`` label)."""
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).digest()
    number = int.from_bytes(digest[:8], "big")
    out = []
    for _ in range(10):
        number, rest = divmod(number, len(_SAFE))
        out.append(_SAFE[rest])
    return "".join(out)


def new_rs_target(replicas: int, surge: int, total_rs_replicas: int, new_rs_replicas: int) -> int:
    """How many replicas the new ReplicaSet may have now (NewRSNewReplicas for RollingUpdate)."""
    max_total = replicas + surge
    if total_rs_replicas >= max_total:
        return new_rs_replicas
    scale_up = min(max_total - total_rs_replicas, replicas - new_rs_replicas)
    return new_rs_replicas + max(scale_up, 0)


def old_scale_down_budget(
    replicas: int, unavailable: int, all_pods: int, new_rs_replicas: int, new_rs_available: int
) -> int:
    """How many old pods may go now without dropping below the minimum available."""
    min_available = replicas - unavailable
    new_unavailable = new_rs_replicas - new_rs_available
    return all_pods - min_available - new_unavailable


def rollout_status(deployment: Obj) -> tuple[str, bool]:
    """What ``kubectl rollout status`` prints, and whether it is done.

    Raises:
        RolloutFailed: the Progressing condition says the deadline was exceeded.
    """
    name = deployment["metadata"]["name"]
    spec, status = deployment.get("spec") or {}, deployment.get("status") or {}
    if int(deployment["metadata"].get("generation", 0)) > int(status.get("observedGeneration", 0)):
        return "Waiting for deployment spec update to be observed...", False
    progressing = condition(status, "Progressing")
    if progressing and progressing.get("reason") == TIMED_OUT:
        raise RolloutFailed(f'deployment "{name}" exceeded its progress deadline')
    replicas = int(spec.get("replicas", 1))
    updated = int(status.get("updatedReplicas", 0))
    if updated < replicas:
        return (
            f'Waiting for deployment "{name}" rollout to finish: {updated} out of {replicas} '
            "new replicas have been updated..."
        ), False
    if int(status.get("replicas", 0)) > updated:
        return (
            f'Waiting for deployment "{name}" rollout to finish: '
            f"{int(status['replicas']) - updated} old replicas are pending termination..."
        ), False
    available = int(status.get("availableReplicas", 0))
    if available < updated:
        return (
            f'Waiting for deployment "{name}" rollout to finish: {available} of {updated} '
            "updated replicas are available..."
        ), False
    return f'deployment "{name}" successfully rolled out', True


def condition(status: Obj, kind: str) -> Obj | None:
    return next((c for c in status.get("conditions") or [] if c.get("type") == kind), None)


def set_condition(status: Obj, new: Obj) -> None:
    """SetDeploymentCondition: same status and reason → unchanged; same status → keep transition time."""
    current = condition(status, new["type"])
    if (
        current
        and current.get("status") == new["status"]
        and current.get("reason") == new["reason"]
    ):
        return
    if current and current.get("status") == new["status"]:
        new = {
            **new,
            "lastTransitionTime": current.get("lastTransitionTime", new["lastTransitionTime"]),
        }
    others = [c for c in status.get("conditions") or [] if c.get("type") != new["type"]]
    status["conditions"] = [*others, new]


def new_condition(kind: str, status: str, reason: str, message: str, now: str) -> Obj:
    return {
        "type": kind,
        "status": status,
        "lastUpdateTime": now,
        "lastTransitionTime": now,
        "reason": reason,
        "message": message,
    }


def is_complete(deployment: Obj, status: Obj) -> bool:
    replicas = int((deployment.get("spec") or {}).get("replicas", 1))
    return (
        int(status.get("updatedReplicas", 0)) == replicas
        and int(status.get("replicas", 0)) == replicas
        and int(status.get("availableReplicas", 0)) == replicas
        and int(status.get("observedGeneration", 0))
        >= int(deployment["metadata"].get("generation", 0))
    )


def is_progressing(old: Obj, new: Obj) -> bool:
    old_old = int(old.get("replicas", 0)) - int(old.get("updatedReplicas", 0))
    new_old = int(new.get("replicas", 0)) - int(new.get("updatedReplicas", 0))
    return (
        int(new.get("updatedReplicas", 0)) > int(old.get("updatedReplicas", 0))
        or new_old < old_old
        or int(new.get("readyReplicas", 0)) > int(old.get("readyReplicas", 0))
        or int(new.get("availableReplicas", 0)) > int(old.get("availableReplicas", 0))
    )
