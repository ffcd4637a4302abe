"""Kubernetes REST paths → which resource, namespace, object and subresource.

``/api/v1/namespaces/{ns}/pods/{name}/log``,
``/apis/apps/v1/deployments`` (all namespaces), ``/api/v1/namespaces/{name}``
(the namespace itself), and the legacy ``/api/v1/watch/...`` prefix.
"""

from __future__ import annotations

from dataclasses import dataclass

from flightdeck.sandbox import resources
from flightdeck.sandbox.resources import ResourceType


@dataclass(frozen=True)
class Target:
    rtype: ResourceType
    namespace: str  # "" for cluster-scoped resources and for all-namespaces collections
    name: str  # "" for a collection
    subresource: str = ""
    watch: bool = False


def group_version(path: str) -> tuple[str, str, list[str]] | None:
    """Split ``/api/v1/...`` or ``/apis/<g>/<v>/...`` into group, version and the rest."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2 and parts[0] == "api":
        return "", parts[1], parts[2:]
    if len(parts) >= 3 and parts[0] == "apis":
        return parts[1], parts[2], parts[3:]
    return None


def resolve(path: str) -> Target | None:
    """The resource a path addresses, or None when it is not a resource path."""
    split = group_version(path)
    if split is None:
        return None
    group, version, rest = split
    watch = bool(rest) and rest[0] == "watch"
    if watch:
        rest = rest[1:]
    if not rest:
        return None
    if rest[0] == "namespaces" and len(rest) >= 3:
        namespaced = resources.lookup(group, version, rest[2])
        if namespaced is not None and namespaced.namespaced:
            name = rest[3] if len(rest) > 3 else ""
            sub = rest[4] if len(rest) > 4 else ""
            return None if len(rest) > 5 else Target(namespaced, rest[1], name, sub, watch)
    rtype = resources.lookup(group, version, rest[0])
    if rtype is None or len(rest) > 3:
        return None
    name = rest[1] if len(rest) > 1 else ""
    sub = rest[2] if len(rest) > 2 else ""
    return Target(rtype, "", name, sub, watch)
