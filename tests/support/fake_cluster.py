"""A Kubernetes cluster for the orchestrator's unit tests: its writes, and what the pods do.

:class:`FakeCluster` implements the orchestrator's ``ClusterWrites`` port: it
records every write and refuses the ones a test queues. What the cluster then
does with an applied Deployment (:class:`Behaviour`) comes back the way the
k8s-watcher reports it: Pod, Deployment and Ingress observations, to append to
the store (:meth:`FakeCluster.observations`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from flightdeck.events import subjects
from flightdeck.events.base import Message
from flightdeck.events.cluster import (
    ContainerPhase,
    ContainerState,
    DeploymentObserved,
    IngressObserved,
    PodObserved,
)
from flightdeck.orchestrator.domain.manifests import Manifest
from flightdeck.orchestrator.domain.writes import KubeWriteError


class Behaviour(enum.Enum):
    """What the pods of an applied Deployment do (reported as the k8s-watcher would)."""

    HEALTHY = "healthy"
    """Every replica becomes ready; the rollout completes."""
    PULL_FAILS = "pull-fails"
    """The image cannot be pulled (ImagePullBackOff)."""
    CRASHES = "crashes"
    """The container keeps crashing (CrashLoopBackOff)."""
    STUCK = "stuck"
    """Pods run but never become ready: the rollout makes no progress."""


@dataclass
class Write:
    kind: str
    name: str
    manager: str


@dataclass
class FakeCluster:
    """The orchestrator's cluster (``ClusterWrites``): records writes, refuses on demand.

    ``refusals`` are raised by the next applies, one each, in order.
    """

    behaviour: dict[str, Behaviour] = field(default_factory=dict)
    """By app name; :attr:`Behaviour.HEALTHY` when absent."""
    refusals: list[KubeWriteError] = field(default_factory=list)
    writes: list[Write] = field(default_factory=list)
    scaled_to_zero: list[str] = field(default_factory=list)
    deleted_pods: list[str] = field(default_factory=list)
    restarted: list[tuple[str, str]] = field(default_factory=list)
    """``(deployment, restartedAt)`` of each rollout restart."""
    scaled: list[tuple[str, int]] = field(default_factory=list)
    ops_refusals: list[KubeWriteError] = field(default_factory=list)
    """Raised by the next ops writes (pod delete, restart, scale), one each."""
    objects: dict[tuple[str, str, str], tuple[Manifest, int]] = field(default_factory=dict)
    _changed: list[tuple[str, str, str]] = field(default_factory=list)

    async def apply(self, manifest: Manifest, manager: str) -> None:
        kind, meta = manifest["kind"], manifest["metadata"]
        if self.refusals:
            raise self.refusals.pop(0)
        self.writes.append(Write(kind, meta["name"], manager))
        key = (meta["namespace"], kind, meta["name"])
        _, generation = self.objects.get(key, ({}, 0))
        self.objects[key] = (manifest, generation + 1)
        self._changed.append(key)

    async def scale_to_zero(self, namespace: str, name: str) -> None:
        self.scaled_to_zero.append(name)

    async def delete_pod(self, namespace: str, name: str) -> None:
        self._refuse_ops()
        self.deleted_pods.append(name)

    async def restart_rollout(self, namespace: str, name: str, restarted_at: str) -> None:
        self._refuse_ops()
        self.restarted.append((name, restarted_at))

    async def scale(self, namespace: str, name: str, replicas: int) -> None:
        self._refuse_ops()
        self.scaled.append((name, replicas))

    def _refuse_ops(self) -> None:
        if self.ops_refusals:
            raise self.ops_refusals.pop(0)

    def applied(self, kind: str) -> list[str]:
        return [w.name for w in self.writes if w.kind == kind]

    def observations(self) -> list[tuple[str, Message]]:
        """What the k8s-watcher would report of the objects changed since the last call."""
        out: list[tuple[str, Message]] = []
        changed, self._changed = self._changed, []
        for namespace, kind, name in dict.fromkeys(changed):
            manifest, generation = self.objects[(namespace, kind, name)]
            if kind == "Deployment":
                out += self._rollout(manifest, generation)
            elif kind == "Ingress":
                ingress = IngressObserved(
                    namespace=namespace,
                    name=name,
                    uid=f"uid-{name}",
                    hosts=[rule["host"] for rule in manifest["spec"]["rules"]],
                    address="10.0.0.1",
                    resource_version=str(generation),
                    labels=manifest["metadata"]["labels"],
                )
                out.append((subjects.cluster_object(namespace, kind, name), ingress))
        return out

    def _rollout(self, manifest: Manifest, generation: int) -> list[tuple[str, Message]]:
        meta, spec = manifest["metadata"], manifest["spec"]
        namespace, name, labels = meta["namespace"], meta["name"], meta["labels"]
        behaviour = self.behaviour.get(labels["app"], Behaviour.HEALTHY)
        replicas = int(spec["replicas"])
        pod_labels = dict(spec["template"]["metadata"]["labels"])
        out: list[tuple[str, Message]] = []
        for n in range(replicas):
            pod = _pod(namespace, f"{name}-{generation}abc-{n}", pod_labels, behaviour, name)
            out.append((subjects.cluster_object(namespace, "Pod", pod.name), pod))
        ready = replicas if behaviour is Behaviour.HEALTHY else 0
        observed = DeploymentObserved(
            namespace=namespace,
            name=name,
            uid=f"uid-{name}",
            labels=labels,
            generation=generation,
            observed_generation=generation,
            replicas=replicas,
            updated_replicas=replicas,
            ready_replicas=ready,
            available_replicas=ready,
            unavailable_replicas=replicas - ready,
            conditions=[],
            resource_version=str(generation),
            status_replicas=replicas,
        )
        out.append((subjects.cluster_object(namespace, "Deployment", name), observed))
        return out


def _pod(
    namespace: str, name: str, labels: dict[str, str], behaviour: Behaviour, owner: str
) -> PodObserved:
    waiting = {
        Behaviour.PULL_FAILS: "ImagePullBackOff",
        Behaviour.CRASHES: "CrashLoopBackOff",
    }.get(behaviour)
    ready = behaviour is Behaviour.HEALTHY
    container = ContainerState(
        name="app",
        image="app",
        phase=ContainerPhase.WAITING if waiting else ContainerPhase.RUNNING,
        ready=ready,
        restart_count=3 if behaviour is Behaviour.CRASHES else 0,
        reason=waiting,
    )
    return PodObserved(
        namespace=namespace,
        name=name,
        uid=f"uid-{name}",
        labels=labels,
        owner=owner,
        phase="Pending" if behaviour is Behaviour.PULL_FAILS else "Running",
        ready=ready,
        node="node-1",
        pod_ip="10.1.0.2",
        host_ip="192.168.0.2",
        containers=[container],
        resource_version="1",
    )
