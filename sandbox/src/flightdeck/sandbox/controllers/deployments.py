"""The Deployment controller: ReplicaSets per template, rolling updates, status.

Follows ``pkg/controller/deployment``: the new ReplicaSet is the one whose
``pod-template-hash`` matches the template; RollingUpdate scales it up within
maxSurge and the old ones down within maxUnavailable; Recreate empties the old
ones first; status and the Available/Progressing conditions (including
ProgressDeadlineExceeded, on the simulated clock) are what
``kubectl rollout status`` reads. Scaling a deployment mid-rollout adds or
removes replicas at the newest (or oldest) ReplicaSet rather than
proportionally: the totals are right, the split is simpler.
"""

from __future__ import annotations

import copy

from flightdeck.sandbox import clock, resources
from flightdeck.sandbox.controllers import rollout
from flightdeck.sandbox.controllers.context import (
    CONTROLLER_MANAGER,
    Context,
    Obj,
    by_controller,
    controller_of,
    owner_reference,
)
from flightdeck.sandbox.store import Change

COMPONENT = "deployment-controller"
_SKIPPED_ANNOTATIONS = (
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/",
)


def _replicas(obj: Obj) -> int:
    return int((obj.get("spec") or {}).get("replicas", 1))


def _revision(rs: Obj) -> int:
    try:
        return int((rs["metadata"].get("annotations") or {}).get(rollout.REVISION, "0"))
    except ValueError:
        return 0


def _created(rs: Obj) -> str:
    return str(rs["metadata"].get("creationTimestamp", ""))


class DeploymentController:
    """Syncs the deployments that changed (or whose ReplicaSets did), and re-checks
    the ones still progressing for their deadline."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._progress_at: dict[str, float] = {}
        self._dirty: set[str] = set()
        self._progressing: set[str] = set()
        self._hashes: dict[str, tuple[int, str]] = {}
        ctx.cluster.store.listen(self._on_change)

    def _on_change(self, change: Change) -> None:
        if change.key == "deployments.apps":
            self._dirty.add(change.obj["metadata"]["uid"])
        elif change.key == "replicasets.apps" and (owner := controller_of(change.obj)):
            self._dirty.add(owner)

    def sync(self) -> None:
        store = self.ctx.cluster.store
        wanted, self._dirty = self._dirty | self._progressing, set()
        owned = by_controller(store.list("replicasets.apps")) if wanted else {}
        live = set()
        for deployment in store.list("deployments.apps"):
            uid = deployment["metadata"]["uid"]
            live.add(uid)
            if uid in wanted and not deployment["metadata"].get("deletionTimestamp"):
                self._sync_one(deployment, owned.get(uid, []))
        for table in (self._progress_at, self._hashes):
            for uid in set(table) - live:
                del table[uid]
        self._progressing &= live

    def _template_hash(self, d: Obj) -> str:
        uid, generation = d["metadata"]["uid"], int(d["metadata"].get("generation", 1))
        cached = self._hashes.get(uid)
        if cached is None or cached[0] != generation:
            cached = (generation, rollout.template_hash(d["spec"]["template"]))
            self._hashes[uid] = cached
        return cached[1]

    def _sync_one(self, d: Obj, owned: list[Obj]) -> None:
        template_hash = self._template_hash(d)
        new_rs = next(
            (
                rs
                for rs in owned
                if (rs["spec"]["template"]["metadata"].get("labels") or {}).get(rollout.HASH_LABEL)
                == template_hash
            ),
            None,
        )
        old = sorted((rs for rs in owned if rs is not new_rs), key=_created)
        surge, unavailable = rollout.fenceposts(d)
        created = new_rs is None
        if new_rs is None:
            new_rs = self._create_rs(d, template_hash, old, surge)
        else:
            new_rs = self._ensure_revision(d, new_rs, old)
        if not d["spec"].get("paused"):
            if self._is_scaling_event(d, [new_rs, *old]):
                new_rs, old = self._scale(d, new_rs, old, surge)
            elif (d["spec"].get("strategy") or {}).get("type") == "Recreate":
                new_rs = self._recreate(d, new_rs, old)
            else:
                target = rollout.new_rs_target(
                    _replicas(d), surge, sum(map(_replicas, [new_rs, *old])), _replicas(new_rs)
                )
                new_rs = self._scale_rs(d, new_rs, target, surge)
                old = self._scale_down_old(d, new_rs, old, unavailable, surge)
            old = self._clean_up(d, old)
        self._sync_status(d, new_rs, old, created)

    # -- replica sets ----------------------------------------------------------

    def _create_rs(self, d: Obj, template_hash: str, old: list[Obj], surge: int) -> Obj:
        template = copy.deepcopy(d["spec"]["template"])
        template.setdefault("metadata", {}).setdefault("labels", {})[rollout.HASH_LABEL] = (
            template_hash
        )
        selector = copy.deepcopy(d["spec"]["selector"])
        selector.setdefault("matchLabels", {})[rollout.HASH_LABEL] = template_hash
        rolling = (d["spec"].get("strategy") or {}).get("type", "RollingUpdate") == "RollingUpdate"
        initial = (
            rollout.new_rs_target(_replicas(d), surge, sum(map(_replicas, old)), 0)
            if rolling
            else 0
        )
        annotations = {
            k: v
            for k, v in (d["metadata"].get("annotations") or {}).items()
            if not k.startswith(_SKIPPED_ANNOTATIONS)
        }
        annotations[rollout.REVISION] = str(max(map(_revision, old), default=0) + 1)
        annotations[rollout.DESIRED_REPLICAS] = str(_replicas(d))
        annotations[rollout.MAX_REPLICAS] = str(_replicas(d) + surge)
        rs = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": f"{d['metadata']['name']}-{template_hash}",
                "labels": dict(template["metadata"]["labels"]),
                "annotations": annotations,
                "ownerReferences": [owner_reference(d)],
            },
            "spec": {
                "replicas": initial,
                "minReadySeconds": int(d["spec"].get("minReadySeconds", 0)),
                "selector": selector,
                "template": template,
            },
        }
        created = self.ctx.cluster.create(
            resources.REPLICASETS, d["metadata"]["namespace"], rs, manager=CONTROLLER_MANAGER
        )
        if initial > 0:
            self.ctx.recorder.emit(
                d,
                "Normal",
                "ScalingReplicaSet",
                f"Scaled up replica set {created['metadata']['name']} from 0 to {initial}",
                component=COMPONENT,
            )
        self._annotate_deployment(d, annotations[rollout.REVISION])
        return created

    def _annotate_deployment(self, d: Obj, revision: str) -> None:
        current = self.ctx.cluster.store.get(
            "deployments.apps", d["metadata"]["namespace"], d["metadata"]["name"]
        )
        if (
            current is None
            or (current["metadata"].get("annotations") or {}).get(rollout.REVISION) == revision
        ):
            return
        updated = copy.deepcopy(current)
        updated["metadata"].setdefault("annotations", {})[rollout.REVISION] = revision
        self.ctx.cluster.write(resources.DEPLOYMENTS, updated)

    def _ensure_revision(self, d: Obj, new_rs: Obj, old: list[Obj]) -> Obj:
        """A template rolled back to an old ReplicaSet makes it the newest revision again."""
        newest = max(map(_revision, old), default=0)
        if _revision(new_rs) > newest:
            self._annotate_deployment(d, str(_revision(new_rs)))
            return new_rs
        updated = copy.deepcopy(new_rs)
        updated["metadata"].setdefault("annotations", {})[rollout.REVISION] = str(newest + 1)
        self._annotate_deployment(d, str(newest + 1))
        return self.ctx.cluster.write(resources.REPLICASETS, updated)

    def _scale_rs(self, d: Obj, rs: Obj, replicas: int, surge: int) -> Obj:
        before = _replicas(rs)
        annotations = rs["metadata"].get("annotations") or {}
        wanted = {
            rollout.DESIRED_REPLICAS: str(_replicas(d)),
            rollout.MAX_REPLICAS: str(_replicas(d) + surge),
        }
        if before == replicas and all(annotations.get(k) == v for k, v in wanted.items()):
            return rs
        updated = copy.deepcopy(rs)
        updated["spec"]["replicas"] = replicas
        updated["metadata"].setdefault("annotations", {}).update(wanted)
        saved = self.ctx.cluster.write(resources.REPLICASETS, updated)
        if before != replicas:
            direction = "up" if replicas > before else "down"
            self.ctx.recorder.emit(
                d,
                "Normal",
                "ScalingReplicaSet",
                f"Scaled {direction} replica set {rs['metadata']['name']} from {before} to {replicas}",
                component=COMPONENT,
            )
        return saved

    def _is_scaling_event(self, d: Obj, all_rs: list[Obj]) -> bool:
        for rs in all_rs:
            desired = (rs["metadata"].get("annotations") or {}).get(rollout.DESIRED_REPLICAS)
            if _replicas(rs) > 0 and desired is not None and desired != str(_replicas(d)):
                return True
        return False

    def _scale(self, d: Obj, new_rs: Obj, old: list[Obj], surge: int) -> tuple[Obj, list[Obj]]:
        active = [rs for rs in [new_rs, *old] if _replicas(rs) > 0]
        if len(active) <= 1:
            target = active[0] if active else new_rs
            scaled = self._scale_rs(d, target, _replicas(d), surge)
            return (
                (scaled, old)
                if target is new_rs
                else (new_rs, [scaled if rs is target else rs for rs in old])
            )
        delta = _replicas(d) + surge - sum(map(_replicas, active))
        if delta > 0:
            new_rs = self._scale_rs(d, new_rs, _replicas(new_rs) + delta, surge)
        scaled_old = []
        for rs in old:
            take = min(_replicas(rs), -delta) if delta < 0 else 0
            delta += take
            scaled_old.append(
                self._scale_rs(d, rs, _replicas(rs) - take, surge) if _replicas(rs) else rs
            )
        if delta < 0:
            new_rs = self._scale_rs(d, new_rs, max(_replicas(new_rs) + delta, 0), surge)
        return new_rs, scaled_old

    def _scale_down_old(
        self, d: Obj, new_rs: Obj, old: list[Obj], unavailable: int, surge: int
    ) -> list[Obj]:
        old_pods = sum(map(_replicas, old))
        if old_pods == 0:
            return old
        new_available = int((new_rs.get("status") or {}).get("availableReplicas", 0))
        budget = rollout.old_scale_down_budget(
            _replicas(d),
            unavailable,
            old_pods + _replicas(new_rs),
            _replicas(new_rs),
            new_available,
        )
        if budget <= 0:
            return old
        result = []
        for rs in old:  # first the old pods that are not available anyway
            unhealthy = _replicas(rs) - int((rs.get("status") or {}).get("availableReplicas", 0))
            take = min(budget, max(unhealthy, 0))
            budget -= take
            result.append(self._scale_rs(d, rs, _replicas(rs) - take, surge) if take else rs)
        min_available = _replicas(d) - unavailable
        available = new_available + sum(
            int((rs.get("status") or {}).get("availableReplicas", 0)) for rs in result
        )
        excess = available - min_available
        final = []
        for rs in result:
            take = min(_replicas(rs), max(excess, 0))
            excess -= take
            final.append(self._scale_rs(d, rs, _replicas(rs) - take, surge) if take else rs)
        return final

    def _recreate(self, d: Obj, new_rs: Obj, old: list[Obj]) -> Obj:
        if any(_replicas(rs) for rs in old):
            for rs in old:
                self._scale_rs(d, rs, 0, 0)
            return new_rs
        pods = by_controller(self.ctx.cluster.store.list("pods", d["metadata"]["namespace"]))
        if any(pods.get(rs["metadata"]["uid"]) for rs in old):
            return new_rs  # wait until the old pods are really gone
        return self._scale_rs(d, new_rs, _replicas(d), 0)

    def _clean_up(self, d: Obj, old: list[Obj]) -> list[Obj]:
        """Keep at most revisionHistoryLimit empty old ReplicaSets."""
        limit = int(d["spec"].get("revisionHistoryLimit", 10))
        empty = [
            rs for rs in old if _replicas(rs) == 0 and not (rs.get("status") or {}).get("replicas")
        ]
        doomed = sorted(empty, key=_revision)[: max(len(empty) - limit, 0)]
        for rs in doomed:
            self.ctx.cluster.delete(
                resources.REPLICASETS, rs["metadata"]["namespace"], rs["metadata"]["name"]
            )
        return [rs for rs in old if rs not in doomed]

    # -- status ----------------------------------------------------------------

    def _sync_status(self, d: Obj, new_rs: Obj, old: list[Obj], created: bool) -> None:
        current = self.ctx.cluster.store.get(
            "deployments.apps", d["metadata"]["namespace"], d["metadata"]["name"]
        )
        if current is None:
            return
        uid, now, mono = current["metadata"]["uid"], clock.rfc3339(), self.ctx.clock.monotonic()
        old_status = current.get("status") or {}
        all_rs = [new_rs, *old]

        def total(field: str) -> int:
            return sum(int((rs.get("status") or {}).get(field, 0)) for rs in all_rs)

        available = total("availableReplicas")
        status: Obj = {
            "observedGeneration": int(current["metadata"].get("generation", 1)),
            "replicas": total("replicas"),
            "updatedReplicas": int((new_rs.get("status") or {}).get("replicas", 0)),
            "readyReplicas": total("readyReplicas"),
            "availableReplicas": available,
            "unavailableReplicas": max(_replicas(current) - available, 0),
            "conditions": copy.deepcopy(old_status.get("conditions") or []),
        }
        _, unavailable = rollout.fenceposts(current)
        if available >= _replicas(current) - unavailable:
            rollout.set_condition(
                status,
                rollout.new_condition(
                    "Available",
                    "True",
                    "MinimumReplicasAvailable",
                    "Deployment has minimum availability.",
                    now,
                ),
            )
        else:
            rollout.set_condition(
                status,
                rollout.new_condition(
                    "Available",
                    "False",
                    "MinimumReplicasUnavailable",
                    "Deployment does not have minimum availability.",
                    now,
                ),
            )
        self._progress(current, status, new_rs["metadata"]["name"], created, now, mono)
        for zero in (
            "readyReplicas",
            "availableReplicas",
            "unavailableReplicas",
            "updatedReplicas",
            "replicas",
        ):
            if not status[zero]:
                status.pop(zero)
        if status != old_status:
            self.ctx.cluster.write(
                resources.DEPLOYMENTS,
                {**current, "metadata": dict(current["metadata"]), "status": status},
            )
        self._progress_at.setdefault(uid, mono)
        reason = (rollout.condition(status, "Progressing") or {}).get("reason")
        if reason in (rollout.NEW_RS_CREATED, rollout.FOUND_NEW_RS, rollout.RS_UPDATED):
            self._progressing.add(uid)  # its deadline needs watching even when nothing changes
        else:
            self._progressing.discard(uid)

    def _progress(
        self, d: Obj, status: Obj, rs_name: str, created: bool, now: str, mono: float
    ) -> None:
        """syncRolloutStatus: the Progressing condition, as kubectl rollout status reads it."""
        uid = d["metadata"]["uid"]
        current = rollout.condition(d.get("status") or {}, "Progressing")
        if d["spec"].get("paused"):
            return
        if created:
            self._progress_at[uid] = mono
            _replace(
                status,
                rollout.new_condition(
                    "Progressing",
                    "True",
                    rollout.NEW_RS_CREATED,
                    f'Created new replica set "{rs_name}"',
                    now,
                ),
                current,
            )
            return
        if current is None:
            self._progress_at[uid] = mono
            rollout.set_condition(
                status,
                rollout.new_condition(
                    "Progressing",
                    "True",
                    rollout.FOUND_NEW_RS,
                    f'Found new replica set "{rs_name}"',
                    now,
                ),
            )
            return
        if (
            status.get("replicas", 0) == status.get("updatedReplicas", 0)
            and current.get("reason") == rollout.NEW_RS_AVAILABLE
        ):
            return
        if rollout.is_complete(d, status):
            rollout.set_condition(
                status,
                rollout.new_condition(
                    "Progressing",
                    "True",
                    rollout.NEW_RS_AVAILABLE,
                    f'ReplicaSet "{rs_name}" has successfully progressed.',
                    now,
                ),
            )
        elif rollout.is_progressing(d.get("status") or {}, status):
            self._progress_at[uid] = mono
            _replace(
                status,
                rollout.new_condition(
                    "Progressing",
                    "True",
                    rollout.RS_UPDATED,
                    f'ReplicaSet "{rs_name}" is progressing.',
                    now,
                ),
                current,
            )
        elif current.get("reason") != rollout.TIMED_OUT:
            deadline = float(d["spec"].get("progressDeadlineSeconds", 600))
            if mono - self._progress_at.get(uid, mono) > self.ctx.clock.wall(deadline):
                rollout.set_condition(
                    status,
                    rollout.new_condition(
                        "Progressing",
                        "False",
                        rollout.TIMED_OUT,
                        f'ReplicaSet "{rs_name}" has timed out progressing.',
                        now,
                    ),
                )


def _replace(status: Obj, condition: Obj, current: Obj | None) -> None:
    """Progressing is special: a new reason or time replaces it, keeping the transition time if still True."""
    if current is not None and current.get("status") == "True":
        condition["lastTransitionTime"] = current.get(
            "lastTransitionTime", condition["lastTransitionTime"]
        )
    status["conditions"] = [
        c for c in status.get("conditions") or [] if c.get("type") != "Progressing"
    ]
    status["conditions"].append(condition)
