"""Raw Kubernetes objects (as the API sends them) turned into observation events.

Each observation keeps only the fields that matter to the pipeline and the
dashboards; timestamps that change on every status write (``lastUpdateTime``,
heartbeat times) are left out so they cannot make a resync look like news.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flightdeck.events.cluster import (
    Condition,
    ContainerPhase,
    ContainerState,
    ContainerUsage,
    DeploymentObserved,
    IngressObserved,
    KubeEventObserved,
    PodMetricsSampled,
    PodObserved,
    ReplicaSetObserved,
    ServiceObserved,
)
from flightdeck.k8s_watcher.domain.diff import Observation
from flightdeck.k8s_watcher.domain.quantities import byte_count, millicores, seconds

Obj = dict[str, Any]


def _meta(obj: Obj) -> Obj:
    meta: Obj = obj.get("metadata") or {}
    return meta


def _status(obj: Obj) -> Obj:
    status: Obj = obj.get("status") or {}
    return status


def _spec(obj: Obj) -> Obj:
    spec: Obj = obj.get("spec") or {}
    return spec


def _labels(obj: Obj) -> dict[str, str]:
    return {str(k): str(v) for k, v in (_meta(obj).get("labels") or {}).items()}


def _owner(obj: Obj) -> str | None:
    refs = _meta(obj).get("ownerReferences") or []
    return str(refs[0].get("name")) if refs else None


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _conditions(obj: Obj) -> list[Condition]:
    return [
        Condition(
            type=str(c.get("type")),
            status=str(c.get("status")),
            reason=c.get("reason"),
            message=c.get("message"),
        )
        for c in _status(obj).get("conditions") or []
    ]


def deployment(obj: Obj) -> DeploymentObserved:
    meta, spec, status = _meta(obj), _spec(obj), _status(obj)
    replicas = int(spec.get("replicas", 1))
    available = int(status.get("availableReplicas", 0))
    return DeploymentObserved(
        namespace=meta.get("namespace", ""),
        name=meta["name"],
        uid=meta.get("uid", ""),
        labels=_labels(obj),
        generation=int(meta.get("generation", 0)),
        observed_generation=int(status.get("observedGeneration", 0)),
        replicas=replicas,
        updated_replicas=int(status.get("updatedReplicas", 0)),
        ready_replicas=int(status.get("readyReplicas", 0)),
        available_replicas=available,
        unavailable_replicas=int(status.get("unavailableReplicas", 0)),
        conditions=_conditions(obj),
        resource_version=meta.get("resourceVersion", ""),
        status_replicas=int(status.get("replicas", 0)),
    )


def replica_set(obj: Obj) -> ReplicaSetObserved:
    meta, status = _meta(obj), _status(obj)
    annotations = meta.get("annotations") or {}
    return ReplicaSetObserved(
        namespace=meta.get("namespace", ""),
        name=meta["name"],
        uid=meta.get("uid", ""),
        owner=_owner(obj),
        labels=_labels(obj),
        revision=annotations.get("deployment.kubernetes.io/revision"),
        replicas=int(_spec(obj).get("replicas", 1)),
        ready_replicas=int(status.get("readyReplicas", 0)),
        available_replicas=int(status.get("availableReplicas", 0)),
        resource_version=meta.get("resourceVersion", ""),
    )


def _container(c: Obj) -> ContainerState:
    state: Obj = c.get("state") or {}
    phase, detail = ContainerPhase.WAITING, state.get("waiting") or {}
    if "running" in state:
        phase, detail = ContainerPhase.RUNNING, state["running"] or {}
    elif "terminated" in state:
        phase, detail = ContainerPhase.TERMINATED, state["terminated"] or {}
    return ContainerState(
        name=str(c.get("name")),
        image=str(c.get("image", "")),
        phase=phase,
        ready=bool(c.get("ready")),
        restart_count=int(c.get("restartCount", 0)),
        reason=detail.get("reason"),
        message=detail.get("message"),
        exit_code=detail.get("exitCode"),
        started_at=_time(detail.get("startedAt")),
    )


def pod(obj: Obj) -> PodObserved:
    meta, spec, status = _meta(obj), _spec(obj), _status(obj)
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )
    return PodObserved(
        namespace=meta.get("namespace", ""),
        name=meta["name"],
        uid=meta.get("uid", ""),
        labels=_labels(obj),
        owner=_owner(obj),
        phase=str(status.get("phase", "Pending")),
        ready=ready,
        node=spec.get("nodeName"),
        pod_ip=status.get("podIP"),
        host_ip=status.get("hostIP"),
        containers=[_container(c) for c in status.get("containerStatuses") or []],
        resource_version=meta.get("resourceVersion", ""),
        terminating=bool(meta.get("deletionTimestamp")),
    )


def service(obj: Obj) -> ServiceObserved:
    meta, spec = _meta(obj), _spec(obj)
    return ServiceObserved(
        namespace=meta.get("namespace", ""),
        name=meta["name"],
        uid=meta.get("uid", ""),
        selector={str(k): str(v) for k, v in (spec.get("selector") or {}).items()},
        cluster_ip=spec.get("clusterIP"),
        ports=[int(p.get("port", 0)) for p in spec.get("ports") or []],
        resource_version=meta.get("resourceVersion", ""),
        labels=_labels(obj),
    )


def ingress(obj: Obj) -> IngressObserved:
    meta = _meta(obj)
    balancers = (_status(obj).get("loadBalancer") or {}).get("ingress") or []
    first: Obj = balancers[0] if balancers else {}
    ports = first.get("ports") or []
    return IngressObserved(
        namespace=meta.get("namespace", ""),
        name=meta["name"],
        uid=meta.get("uid", ""),
        hosts=[str(r["host"]) for r in _spec(obj).get("rules") or [] if r.get("host")],
        address=first.get("hostname") or first.get("ip"),
        resource_version=meta.get("resourceVersion", ""),
        labels=_labels(obj),
        port=int(ports[0]["port"]) if ports and ports[0].get("port") else None,
    )


def kube_event(obj: Obj) -> KubeEventObserved:
    meta = _meta(obj)
    involved: Obj = obj.get("involvedObject") or {}
    series: Obj = obj.get("series") or {}
    return KubeEventObserved(
        namespace=meta.get("namespace", ""),
        involved_kind=str(involved.get("kind", "")),
        involved_name=str(involved.get("name", "")),
        reason=str(obj.get("reason", "")),
        message=str(obj.get("message", "")),
        event_type=str(obj.get("type", "Normal")),
        count=int(series.get("count") or obj.get("count") or 1),
        last_seen=_time(
            series.get("lastObservedTime") or obj.get("lastTimestamp") or obj.get("eventTime")
        ),
        name=meta.get("name"),
    )


def pod_metrics(obj: Obj, interval_s: float | None = None) -> PodMetricsSampled:
    """One ``metrics.k8s.io/v1beta1`` PodMetrics item, polled every ``interval_s``."""
    meta = _meta(obj)
    return PodMetricsSampled(
        namespace=meta.get("namespace", ""),
        pod=meta["name"],
        window_s=seconds(str(obj.get("window") or "0s")),
        interval_s=interval_s,
        containers=[
            ContainerUsage(
                name=str(c.get("name")),
                cpu_millicores=millicores(str((c.get("usage") or {}).get("cpu", "0"))),
                memory_bytes=byte_count(str((c.get("usage") or {}).get("memory", "0"))),
            )
            for c in obj.get("containers") or []
        ],
    )


OBSERVERS: dict[str, Callable[[Obj], Observation]] = {
    "Deployment": deployment,
    "ReplicaSet": replica_set,
    "Pod": pod,
    "Service": service,
    "Ingress": ingress,
    "Event": kube_event,
}
"""Kind → observation. Subjects use the kind lowercased: ``fd.evt.k8s.<ns>.pod.<name>``."""
