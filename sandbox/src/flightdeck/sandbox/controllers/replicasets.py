"""The ReplicaSet controller: keep ``spec.replicas`` pods alive, report how many are.

A pod that is deleted (or killed) stops counting the moment it is
terminating, so its replacement is created at once, as on a real cluster.
Surplus pods go in the real controller's order: unscheduled, pending, not
ready, most restarted and newest first.
"""

from __future__ import annotations

import copy

from flightdeck.sandbox import clock, resources
from flightdeck.sandbox.controllers.context import (
    CONTROLLER_MANAGER,
    Context,
    Obj,
    by_controller,
    controller_of,
    is_active,
    is_ready,
    owner_reference,
)
from flightdeck.sandbox.store import Change

COMPONENT = "replicaset-controller"
_PHASE_RANK = {"Pending": 0, "Unknown": 1, "Running": 2}


def deletion_order(pod: Obj) -> tuple[int, int, int, int, float]:
    """Sort key: pods that should go first come first."""
    status = pod.get("status") or {}
    restarts = sum(int(c.get("restartCount", 0)) for c in status.get("containerStatuses") or [])
    created = clock.parse(pod["metadata"]["creationTimestamp"]).timestamp()
    return (
        1 if pod["spec"].get("nodeName") else 0,
        _PHASE_RANK.get(status.get("phase", ""), 3),
        1 if is_ready(pod) else 0,
        -restarts,
        -created,
    )


def _available(pod: Obj, min_ready_seconds: float, wall: float) -> bool:
    """Ready for at least minReadySeconds (scaled to wall-clock seconds)."""
    if not is_ready(pod):
        return False
    if min_ready_seconds <= 0:
        return True
    ready = next(c for c in pod["status"]["conditions"] if c.get("type") == "Ready")
    since = clock.parse(ready["lastTransitionTime"])
    return (clock.now() - since).total_seconds() >= wall


class ReplicaSetController:
    """Syncs the ReplicaSets that changed or whose pods did, and re-checks those
    waiting for pods to become available (minReadySeconds)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._dirty: set[str] = set()
        self._waiting: set[str] = set()
        ctx.cluster.store.listen(self._on_change)

    def _on_change(self, change: Change) -> None:
        if change.key == "replicasets.apps":
            self._dirty.add(change.obj["metadata"]["uid"])
        elif change.key == "pods" and (owner := controller_of(change.obj)):
            self._dirty.add(owner)

    def sync(self) -> None:
        store = self.ctx.cluster.store
        wanted, self._dirty = self._dirty | self._waiting, set()
        if not wanted:
            return
        pods = by_controller(store.list("pods"))
        for rs in store.list("replicasets.apps"):
            if rs["metadata"]["uid"] in wanted:
                self._sync_one(rs, pods.get(rs["metadata"]["uid"], []))

    def _sync_one(self, rs: Obj, pods: list[Obj]) -> None:
        active = [p for p in pods if is_active(p)]
        wanted = int(rs["spec"].get("replicas", 1))
        if len(active) < wanted:
            active += [self._create_pod(rs) for _ in range(wanted - len(active))]
        elif len(active) > wanted:
            victims = sorted(active, key=deletion_order)[: len(active) - wanted]
            for pod in victims:
                self.ctx.cluster.delete(
                    resources.PODS, pod["metadata"]["namespace"], pod["metadata"]["name"]
                )
                self.ctx.recorder.emit(
                    rs,
                    "Normal",
                    "SuccessfulDelete",
                    f"Deleted pod: {pod['metadata']['name']}",
                    component=COMPONENT,
                )
            active = [p for p in active if p not in victims]
        self._write_status(rs, active)

    def _create_pod(self, rs: Obj) -> Obj:
        template = rs["spec"].get("template") or {}
        meta = template.get("metadata") or {}
        pod: Obj = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "generateName": f"{rs['metadata']['name']}-",
                "labels": copy.deepcopy(meta.get("labels") or {}),
                "annotations": copy.deepcopy(meta.get("annotations") or {}),
                "ownerReferences": [owner_reference(rs)],
            },
            "spec": copy.deepcopy(template.get("spec") or {}),
        }
        if not pod["metadata"]["annotations"]:
            del pod["metadata"]["annotations"]
        created = self.ctx.cluster.create(
            resources.PODS, rs["metadata"]["namespace"], pod, manager=CONTROLLER_MANAGER
        )
        self.ctx.recorder.emit(
            rs,
            "Normal",
            "SuccessfulCreate",
            f"Created pod: {created['metadata']['name']}",
            component=COMPONENT,
        )
        return created

    def _write_status(self, rs: Obj, active: list[Obj]) -> None:
        min_ready = float(rs["spec"].get("minReadySeconds", 0))
        wall = self.ctx.clock.wall(min_ready)
        labels = ((rs["spec"].get("template") or {}).get("metadata") or {}).get("labels") or {}
        status = {
            **(rs.get("status") or {}),
            "replicas": len(active),
            "fullyLabeledReplicas": sum(
                1
                for p in active
                if all((p["metadata"].get("labels") or {}).get(k) == v for k, v in labels.items())
            ),
            "readyReplicas": sum(1 for p in active if is_ready(p)),
            "availableReplicas": sum(1 for p in active if _available(p, min_ready, wall)),
            "observedGeneration": int(rs["metadata"].get("generation", 1)),
        }
        if status["availableReplicas"] < status["readyReplicas"]:
            self._waiting.add(rs["metadata"]["uid"])
        else:
            self._waiting.discard(rs["metadata"]["uid"])
        for zero in ("readyReplicas", "availableReplicas", "fullyLabeledReplicas"):
            if not status[zero]:
                status.pop(zero)  # the real API omits zero counts
        if status != rs.get("status"):
            self.ctx.cluster.write(
                resources.REPLICASETS, {**rs, "metadata": dict(rs["metadata"]), "status": status}
            )
