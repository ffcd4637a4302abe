"""Cluster observations of an app's pods, as the k8s-watcher publishes them, for the app
view's tests (ADR 0023)."""

from __future__ import annotations

from typing import Any

from flightdeck.events import new_id, subjects
from flightdeck.events.cluster import (
    ContainerPhase,
    ContainerState,
    ContainerUsage,
    DeploymentObserved,
    PodMetricsSampled,
    PodObserved,
    ResourceDeleted,
)
from flightdeck.events.envelope import Cause
from flightdeck.eventstore import EventStore

NS = "default"
CAUSE = Cause.root("service:k8s-watcher")


def pod(app: str, name: str, *, ready: bool = True, waiting: str | None = None) -> PodObserved:
    container = ContainerState(
        name="app",
        image=f"{app}:v1",
        phase=ContainerPhase.WAITING if waiting else ContainerPhase.RUNNING,
        ready=ready,
        restart_count=1,
        reason=waiting,
    )
    return PodObserved(
        namespace=NS,
        name=name,
        uid=new_id(),
        labels={"app": app, "colour": "blue"},
        owner=f"{app}-blue-abc",
        phase="Pending" if waiting else "Running",
        ready=ready,
        node="node-1",
        pod_ip=None,
        host_ip=None,
        containers=[container],
        resource_version="1",
    )


def sample(name: str, cpu: float, interval_s: float | None = 1.0) -> PodMetricsSampled:
    return PodMetricsSampled(
        namespace=NS,
        pod=name,
        window_s=30.0,
        containers=[ContainerUsage(name="app", cpu_millicores=cpu, memory_bytes=64 << 20)],
        interval_s=interval_s,
    )


def replicas(app: str, desired: int, ready: int) -> DeploymentObserved:
    return DeploymentObserved(
        namespace=NS,
        name=f"{app}-blue",
        uid=new_id(),
        labels={"app": app, "colour": "blue"},
        generation=1,
        observed_generation=1,
        replicas=desired,
        updated_replicas=desired,
        ready_replicas=ready,
        available_replicas=ready,
        unavailable_replicas=desired - ready,
        conditions=[],
        resource_version="1",
    )


async def observe(store: EventStore, event: Any) -> int:
    kind = {
        PodObserved: "Pod",
        PodMetricsSampled: "PodMetrics",
        DeploymentObserved: "Deployment",
        ResourceDeleted: "Pod",
    }[type(event)]
    name = event.pod if isinstance(event, PodMetricsSampled) else event.name
    result = await store.append(subjects.cluster_object(NS, kind, name), [event], cause=CAUSE)
    return result.last_position
