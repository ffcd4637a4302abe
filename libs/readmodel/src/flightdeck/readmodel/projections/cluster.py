"""Cluster resources and pods, from the FD_CLUSTER stream (the k8s-watcher's view)."""

from __future__ import annotations

from typing import Any

import msgspec

from flightdeck.events.cluster import (
    DeploymentObserved,
    IngressObserved,
    KubeEventObserved,
    PodMetricsSampled,
    PodObserved,
    ReplicaSetObserved,
    ResourceDeleted,
    ServiceObserved,
)
from flightdeck.events.envelope import Recorded
from flightdeck.readmodel.projections.base import Projection, Touch, ignore, nothing
from flightdeck.readmodel.rows import RowSet

RESOURCES = "cluster_resources"
PODS = "pods"


def _resource(recorded: Recorded[Any]) -> list[Touch]:
    e = recorded.event
    return [(RESOURCES, (_KINDS[type(e)], e.namespace, e.name))]


def _pod(recorded: Recorded[Any]) -> list[Touch]:
    return [(PODS, (recorded.event.namespace, recorded.event.name))]


def _pod_of_sample(recorded: Recorded[Any]) -> list[Touch]:
    return [(PODS, (recorded.event.namespace, recorded.event.pod))]


def _deleted(recorded: Recorded[Any]) -> list[Touch]:
    e: ResourceDeleted = recorded.event
    table = PODS if e.kind == "Pod" else RESOURCES
    key = (e.namespace, e.name) if e.kind == "Pod" else (e.kind, e.namespace, e.name)
    return [(table, key)]


def _status(e: Any) -> dict[str, Any]:
    """The kind-specific summary kept in the ``status`` column."""
    match e:
        case DeploymentObserved():
            return {
                "generation": e.generation,
                "observedGeneration": e.observed_generation,
                "replicas": e.replicas,
                "updatedReplicas": e.updated_replicas,
                "readyReplicas": e.ready_replicas,
                "availableReplicas": e.available_replicas,
                "unavailableReplicas": e.unavailable_replicas,
                "conditions": msgspec.to_builtins(e.conditions),
            }
        case ReplicaSetObserved():
            return {
                "owner": e.owner,
                "revision": e.revision,
                "replicas": e.replicas,
                "readyReplicas": e.ready_replicas,
                "availableReplicas": e.available_replicas,
            }
        case ServiceObserved():
            return {"selector": e.selector, "clusterIP": e.cluster_ip, "ports": e.ports}
        case IngressObserved():
            return {"hosts": e.hosts, "address": e.address}
    raise TypeError(f"not a cluster resource: {type(e).__name__}")


def resource_observed(rows: RowSet, recorded: Recorded[Any]) -> None:
    e = recorded.event
    labels = getattr(e, "labels", {})
    kind = _KINDS[type(e)]
    rows.put(
        RESOURCES,
        (kind, e.namespace, e.name),
        {
            "kind": kind,
            "namespace": e.namespace,
            "name": e.name,
            "uid": e.uid,
            "app": labels.get("app"),
            "colour": labels.get("colour"),
            "labels": dict(labels),
            "status": _status(e),
            "resource_version": e.resource_version,
            "deleted": False,
            "last_seen": recorded.time,
        },
    )


def pod_observed(rows: RowSet, recorded: Recorded[Any]) -> None:
    e: PodObserved = recorded.event
    key = (e.namespace, e.name)
    before = rows.get(PODS, key) or {}
    rows.put(
        PODS,
        key,
        {
            "namespace": e.namespace,
            "name": e.name,
            "uid": e.uid,
            "app": e.labels.get("app"),
            "colour": e.labels.get("colour"),
            "owner": e.owner,
            "phase": e.phase,
            "ready": e.ready,
            "node": e.node,
            "pod_ip": e.pod_ip,
            "host_ip": e.host_ip,
            "restarts": sum(c.restart_count for c in e.containers),
            "containers": msgspec.to_builtins(e.containers),
            "cpu_millicores": before.get("cpu_millicores"),
            "memory_bytes": before.get("memory_bytes"),
            "deleted": False,
            "last_seen": recorded.time,
        },
    )


def metrics_sampled(rows: RowSet, recorded: Recorded[Any]) -> None:
    e: PodMetricsSampled = recorded.event
    rows.update(
        PODS,
        (e.namespace, e.pod),
        cpu_millicores=sum(c.cpu_millicores for c in e.containers),
        memory_bytes=sum(c.memory_bytes for c in e.containers),
    )


def deleted(rows: RowSet, recorded: Recorded[Any]) -> None:
    ((table, key),) = _deleted(recorded)
    rows.update(table, key, deleted=True, last_seen=recorded.time)


_KINDS: dict[type, str] = {
    DeploymentObserved: "Deployment",
    ReplicaSetObserved: "ReplicaSet",
    ServiceObserved: "Service",
    IngressObserved: "Ingress",
}

PROJECTIONS: dict[type, Projection] = {
    **{kind: Projection(_resource, resource_observed) for kind in _KINDS},
    PodObserved: Projection(_pod, pod_observed),
    PodMetricsSampled: Projection(_pod_of_sample, metrics_sampled),
    ResourceDeleted: Projection(_deleted, deleted),
    KubeEventObserved: Projection(nothing, ignore),
}
