"""The resource types the sandbox serves, as the API server's discovery sees them."""

from __future__ import annotations

from dataclasses import dataclass, field

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
READ_VERBS = ("get", "list", "watch")


@dataclass(frozen=True)
class Subresource:
    name: str
    kind: str
    verbs: tuple[str, ...]
    group: str = ""
    version: str = ""


@dataclass(frozen=True)
class ResourceType:
    """One REST resource: where it lives, what it is called, what it allows."""

    group: str
    version: str
    plural: str
    singular: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    subresources: tuple[Subresource, ...] = ()
    has_status: bool = False
    spec_generation: bool = False
    """Whether metadata.generation follows spec changes (workload controllers read it)."""
    virtual: bool = field(default=False)
    """Computed on request (metrics), never stored."""

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def key(self) -> str:
        """Unique within the server: ``pods``, ``deployments.apps``."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    def subresource(self, name: str) -> Subresource | None:
        return next((s for s in self.subresources if s.name == name), None)

    def qualified(self) -> str:
        """How error messages name the resource: ``deployments.apps``."""
        return self.key


def _status(kind: str) -> Subresource:
    return Subresource("status", kind, ("get", "patch", "update"))


def _scale() -> Subresource:
    return Subresource("scale", "Scale", ("get", "patch", "update"), "autoscaling", "v1")


NAMESPACES = ResourceType(
    "",
    "v1",
    "namespaces",
    "namespace",
    "Namespace",
    False,
    ("ns",),
    verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
    subresources=(_status("Namespace"),),
    has_status=True,
)
NODES = ResourceType(
    "",
    "v1",
    "nodes",
    "node",
    "Node",
    False,
    ("no",),
    subresources=(_status("Node"),),
    has_status=True,
)
PODS = ResourceType(
    "",
    "v1",
    "pods",
    "pod",
    "Pod",
    True,
    ("po",),
    ("all",),
    subresources=(_status("Pod"), Subresource("log", "Pod", ("get",))),
    has_status=True,
)
SERVICES = ResourceType(
    "",
    "v1",
    "services",
    "service",
    "Service",
    True,
    ("svc",),
    ("all",),
    subresources=(_status("Service"),),
    has_status=True,
)
ENDPOINTS = ResourceType("", "v1", "endpoints", "endpoints", "Endpoints", True, ("ep",))
ENDPOINT_SLICES = ResourceType(
    "discovery.k8s.io", "v1", "endpointslices", "endpointslice", "EndpointSlice", True
)
EVENTS = ResourceType("", "v1", "events", "event", "Event", True, ("ev",))
DEPLOYMENTS = ResourceType(
    "apps",
    "v1",
    "deployments",
    "deployment",
    "Deployment",
    True,
    ("deploy",),
    ("all",),
    subresources=(_status("Deployment"), _scale()),
    has_status=True,
    spec_generation=True,
)
REPLICASETS = ResourceType(
    "apps",
    "v1",
    "replicasets",
    "replicaset",
    "ReplicaSet",
    True,
    ("rs",),
    ("all",),
    subresources=(_status("ReplicaSet"), _scale()),
    has_status=True,
    spec_generation=True,
)
INGRESSES = ResourceType(
    "networking.k8s.io",
    "v1",
    "ingresses",
    "ingress",
    "Ingress",
    True,
    ("ing",),
    subresources=(_status("Ingress"),),
    has_status=True,
)
POD_METRICS = ResourceType(
    "metrics.k8s.io",
    "v1beta1",
    "pods",
    "",
    "PodMetrics",
    True,
    verbs=("get", "list"),
    virtual=True,
)
NODE_METRICS = ResourceType(
    "metrics.k8s.io",
    "v1beta1",
    "nodes",
    "",
    "NodeMetrics",
    False,
    verbs=("get", "list"),
    virtual=True,
)

ALL: tuple[ResourceType, ...] = (
    NAMESPACES,
    NODES,
    PODS,
    SERVICES,
    ENDPOINTS,
    ENDPOINT_SLICES,
    EVENTS,
    DEPLOYMENTS,
    REPLICASETS,
    INGRESSES,
    POD_METRICS,
    NODE_METRICS,
)

GROUP_VERSIONS: tuple[tuple[str, str], ...] = (
    ("", "v1"),
    ("apps", "v1"),
    ("networking.k8s.io", "v1"),
    ("discovery.k8s.io", "v1"),
    ("metrics.k8s.io", "v1beta1"),
)


def lookup(group: str, version: str, plural: str) -> ResourceType | None:
    """The resource served at ``/apis/<group>/<version>/<plural>``, if any."""
    for rtype in ALL:
        if (rtype.group, rtype.version, rtype.plural) == (group, version, plural):
            return rtype
    return None


def in_group_version(group: str, version: str) -> list[ResourceType]:
    return [r for r in ALL if (r.group, r.version) == (group, version)]


def by_kind(api_version: str, kind: str) -> ResourceType | None:
    """The stored resource for an object's apiVersion/kind (ownerReferences, events)."""
    return next((r for r in ALL if r.api_version == api_version and r.kind == kind), None)
