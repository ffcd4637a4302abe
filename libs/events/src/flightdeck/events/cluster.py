"""What the k8s-watcher saw in the cluster: ``fd.evt.k8s.<namespace>.<kind>.<name>``.

These are observations, not decisions: each carries only the fields that matter
to the pipeline and the dashboards, and is published only when one of them
changed.
"""

from __future__ import annotations

import enum
from datetime import datetime

import msgspec

from flightdeck.events.base import Event


class Condition(msgspec.Struct, frozen=True, kw_only=True):
    type: str
    status: str
    reason: str | None = None
    message: str | None = None


class ContainerPhase(enum.StrEnum):
    WAITING = "waiting"
    RUNNING = "running"
    TERMINATED = "terminated"


class ContainerState(msgspec.Struct, frozen=True, kw_only=True):
    """One container's status, flattened from the pod's ``containerStatuses``."""

    name: str
    image: str
    phase: ContainerPhase
    ready: bool
    restart_count: int
    reason: str | None = None
    message: str | None = None
    exit_code: int | None = None
    started_at: datetime | None = None


class DeploymentObserved(Event, frozen=True, kw_only=True, tag="k8s.deployment_observed"):
    namespace: str
    name: str
    uid: str
    labels: dict[str, str]
    generation: int
    observed_generation: int
    replicas: int
    updated_replicas: int
    ready_replicas: int
    available_replicas: int
    unavailable_replicas: int
    conditions: list[Condition]
    resource_version: str
    status_replicas: int | None = None
    """``status.replicas``: pods of every ReplicaSet, old ones pending termination included
    (``replicas`` is the desired count, ``spec.replicas``)."""


class ReplicaSetObserved(Event, frozen=True, kw_only=True, tag="k8s.replicaset_observed"):
    namespace: str
    name: str
    uid: str
    owner: str | None
    labels: dict[str, str]
    revision: str | None
    replicas: int
    ready_replicas: int
    available_replicas: int
    resource_version: str


class PodObserved(Event, frozen=True, kw_only=True, tag="k8s.pod_observed"):
    namespace: str
    name: str
    uid: str
    labels: dict[str, str]
    owner: str | None
    phase: str
    ready: bool
    node: str | None
    pod_ip: str | None
    host_ip: str | None
    containers: list[ContainerState]
    resource_version: str
    terminating: bool = False


class ServiceObserved(Event, frozen=True, kw_only=True, tag="k8s.service_observed"):
    namespace: str
    name: str
    uid: str
    selector: dict[str, str]
    cluster_ip: str | None
    ports: list[int]
    resource_version: str
    labels: dict[str, str] = {}


class IngressObserved(Event, frozen=True, kw_only=True, tag="k8s.ingress_observed"):
    """An Ingress; ``address`` is the load balancer's hostname or IP once assigned."""

    namespace: str
    name: str
    uid: str
    hosts: list[str]
    address: str | None
    resource_version: str
    labels: dict[str, str] = {}
    port: int | None = None
    """The load balancer's port (``status.loadBalancer.ingress[0].ports[0].port``), if any."""


class ResourceDeleted(Event, frozen=True, kw_only=True, tag="k8s.resource_deleted"):
    kind: str
    namespace: str
    name: str
    uid: str


class KubeEventObserved(Event, frozen=True, kw_only=True, tag="k8s.event_observed"):
    """A Kubernetes ``Event`` (Scheduled, Pulling, BackOff, ...)."""

    namespace: str
    involved_kind: str
    involved_name: str
    reason: str
    message: str
    event_type: str
    count: int
    last_seen: datetime | None
    name: str | None = None


class ContainerUsage(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    cpu_millicores: float
    memory_bytes: int


class PodMetricsSampled(Event, frozen=True, kw_only=True, tag="k8s.pod_metrics_sampled"):
    """One sample from metrics.k8s.io, polled (not watched) at the watcher's interval."""

    namespace: str
    pod: str
    window_s: float
    containers: list[ContainerUsage]
    interval_s: float | None = None
    """The watcher's polling interval when it took the sample (``None`` in samples recorded
    before it was stated): readers coalesce to at most one sample per pod per interval."""


ClusterEvent = (
    DeploymentObserved
    | ReplicaSetObserved
    | PodObserved
    | ServiceObserved
    | IngressObserved
    | ResourceDeleted
    | KubeEventObserved
    | PodMetricsSampled
)
