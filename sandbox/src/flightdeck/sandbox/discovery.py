"""API discovery documents: ``/version``, ``/api``, ``/apis`` and each group-version.

kubectl reads these before every command (cached per host) to map ``po`` or
``deploy`` to a resource, and client libraries to learn verbs. Built from
:mod:`flightdeck.sandbox.resources`, never written by hand.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flightdeck.sandbox import resources

Obj = dict[str, Any]
KUBERNETES_MINOR = "32"


def version() -> Obj:
    """kubectl's dispatcher picks its bundled 1.32 client from ``minor``."""
    return {
        "major": "1",
        "minor": KUBERNETES_MINOR,
        "gitVersion": f"v1.{KUBERNETES_MINOR}.0+flightdeck-sandbox",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-11-25T00:00:00Z",
        "goVersion": "go1.23.4",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def core_versions(server_address: str) -> Obj:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def _group(name: str) -> Obj:
    versions = [
        {"groupVersion": f"{g}/{v}", "version": v} for g, v in resources.GROUP_VERSIONS if g == name
    ]
    return {"name": name, "versions": versions, "preferredVersion": versions[0]}


def groups() -> Obj:
    names = dict.fromkeys(g for g, _ in resources.GROUP_VERSIONS if g)
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [_group(n) for n in names]}


def group(name: str) -> Obj | None:
    if not any(g == name for g, _ in resources.GROUP_VERSIONS if g):
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name)}


def _storage_hash(rtype: resources.ResourceType) -> str:
    return hashlib.sha256(f"{rtype.api_version}/{rtype.kind}".encode()).digest()[:8].hex()


def _entries(rtype: resources.ResourceType) -> list[Obj]:
    main: Obj = {
        "name": rtype.plural,
        "singularName": rtype.singular,
        "namespaced": rtype.namespaced,
        "kind": rtype.kind,
        "verbs": list(rtype.verbs),
    }
    if rtype.short_names:
        main["shortNames"] = list(rtype.short_names)
    if rtype.categories:
        main["categories"] = list(rtype.categories)
    if not rtype.virtual:
        main["storageVersionHash"] = _storage_hash(rtype)
    out = [main]
    for sub in rtype.subresources:
        entry: Obj = {
            "name": f"{rtype.plural}/{sub.name}",
            "singularName": "",
            "namespaced": rtype.namespaced,
            "kind": sub.kind,
            "verbs": list(sub.verbs),
        }
        if sub.group:
            entry["group"], entry["version"] = sub.group, sub.version
        out.append(entry)
    return out


def resource_list(group_name: str, version_name: str) -> Obj | None:
    """The APIResourceList of one group-version, or None if it is not served."""
    if (group_name, version_name) not in resources.GROUP_VERSIONS:
        return None
    group_version = f"{group_name}/{version_name}" if group_name else version_name
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": [
            e for r in resources.in_group_version(group_name, version_name) for e in _entries(r)
        ],
    }
