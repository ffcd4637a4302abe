"""OpenAPI v3 (and a bare v2) documents, as much of them as kubectl reads.

``kubectl apply`` (default ``--validate=strict``) downloads ``/openapi/v3``
and, for the object's group-version, looks for the PATCH operation of its
kind: a ``fieldValidation`` parameter there means the server validates, so
kubectl sends ``fieldValidation=Strict`` instead of validating itself. No
schemas are published, so kubectl computes strategic merge patches from its
built-in types, as it does against any server without them.

Older kubectl (before 1.27, e.g. Debian's 1.20) validates against
``/openapi/v2`` instead, which it reads only as protobuf. A document with no
definitions makes it skip validation, as it does for kinds a server does not
describe, so :func:`v2_protobuf` holds only the swagger version and info.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flightdeck.sandbox import discovery, resources

Obj = dict[str, Any]

_QUERY = ("dryRun", "fieldManager", "fieldValidation", "force", "pretty")


def _base(rtype: resources.ResourceType) -> str:
    return f"/apis/{rtype.group}/{rtype.version}" if rtype.group else f"/api/{rtype.version}"


def _operation(rtype: resources.ResourceType, action: str, verb: str, scope: str) -> Obj:
    group = "".join(p.capitalize() for p in rtype.group.split(".")[:1]) if rtype.group else "Core"
    return {
        "operationId": f"{verb}{group}{rtype.version.capitalize()}{scope}{rtype.kind}",
        "parameters": [
            {
                "name": name,
                "in": "query",
                "schema": {"type": "boolean" if name == "force" else "string"},
                "uniqueItems": True,
            }
            for name in _QUERY
            if action in ("patch", "post", "put") or name in ("dryRun", "pretty")
        ],
        "responses": {"200": {"description": "OK"}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {
            "group": rtype.group,
            "version": rtype.version,
            "kind": rtype.kind,
        },
    }


def _paths(rtype: resources.ResourceType) -> Obj:
    scope = "Namespaced" if rtype.namespaced else ""
    collection = (
        _base(rtype) + ("/namespaces/{namespace}/" if rtype.namespaced else "/") + rtype.plural
    )
    if rtype.virtual:
        return {
            collection: {"get": _operation(rtype, "list", "list", scope)},
            collection + "/{name}": {"get": _operation(rtype, "get", "read", scope)},
        }
    return {
        collection: {
            "get": _operation(rtype, "list", "list", scope),
            "post": _operation(rtype, "post", "create", scope),
        },
        collection + "/{name}": {
            "get": _operation(rtype, "get", "read", scope),
            "put": _operation(rtype, "put", "replace", scope),
            "patch": _operation(rtype, "patch", "patch", scope),
            "delete": _operation(rtype, "delete", "delete", scope),
        },
    }


def _relative(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def document(group: str, version: str) -> Obj | None:
    if (group, version) not in resources.GROUP_VERSIONS:
        return None
    paths: Obj = {}
    for rtype in resources.in_group_version(group, version):
        paths.update(_paths(rtype))
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": f"v1.{discovery.KUBERNETES_MINOR}.0"},
        "paths": paths,
        "components": {},
    }


def index() -> Obj:
    """``/openapi/v3``: where each group-version's document is, with a content hash."""
    out = {}
    for group, version in resources.GROUP_VERSIONS:
        digest = hashlib.sha256(
            json.dumps(document(group, version), sort_keys=True).encode()
        ).hexdigest()
        out[_relative(group, version)] = {
            "serverRelativeURL": f"/openapi/v3/{_relative(group, version)}?hash={digest[:32].upper()}"
        }
    return {"paths": out}


V2_CONTENT_TYPE = "application/octet-stream"
"""What kube-apiserver sends (Go cannot parse the protobuf type with its "@")."""


def _pb_string(field: int, value: bytes) -> bytes:
    """One length-delimited protobuf field (strings and embedded messages alike)."""
    assert len(value) < 128, "one-byte lengths only"
    return bytes([field << 3 | 2, len(value)]) + value


def v2_protobuf() -> bytes:
    """``/openapi/v2``: a gnostic ``openapi_v2.Document`` with only ``swagger`` (1)
    and ``info`` (2: ``title`` 1, ``version`` 2)."""
    info = _pb_string(1, b"Kubernetes") + _pb_string(
        2, f"v1.{discovery.KUBERNETES_MINOR}.0".encode()
    )
    return _pb_string(1, b"2.0") + _pb_string(2, info)
