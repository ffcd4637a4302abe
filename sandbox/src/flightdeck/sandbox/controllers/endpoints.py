"""The endpoints controllers: each Service's pods as Endpoints and as an EndpointSlice.

kubectl 1.32 reads EndpointSlices (``describe service``, ``describe ingress``);
older clients and ``kubectl get endpoints`` read Endpoints. Both are written
from the same selection: non-terminating pods with an IP, ready or not.
"""

from __future__ import annotations

import copy
import hashlib

from flightdeck.sandbox import resources
from flightdeck.sandbox.cluster import NAME_ALPHABET
from flightdeck.sandbox.controllers.context import Context, Obj, is_ready, owner_reference
from flightdeck.sandbox.controllers.services import target_port

SERVICE_NAME = "kubernetes.io/service-name"
MANAGED_BY = "endpointslice.kubernetes.io/managed-by"


def selected(service: Obj, pods: list[Obj]) -> list[Obj]:
    selector = (service.get("spec") or {}).get("selector") or {}
    return [
        p
        for p in pods
        if selector
        and not p["metadata"].get("deletionTimestamp")
        and (p.get("status") or {}).get("podIP")
        and all((p["metadata"].get("labels") or {}).get(k) == v for k, v in selector.items())
    ]


def _ports(service: Obj, pod: Obj) -> list[Obj]:
    return [
        {
            **({"name": p["name"]} if p.get("name") else {}),
            "port": target_port(p, pod) or p.get("port"),
            "protocol": p.get("protocol", "TCP"),
        }
        for p in service["spec"].get("ports") or []
    ]


def _target(pod: Obj) -> Obj:
    meta = pod["metadata"]
    return {"kind": "Pod", "namespace": meta["namespace"], "name": meta["name"], "uid": meta["uid"]}


def endpoints_for(service: Obj, pods: list[Obj]) -> Obj:
    """The Endpoints object of a Service: ready and not-ready addresses per port."""
    meta, chosen = service["metadata"], selected(service, pods)
    out: Obj = {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {
            "name": meta["name"],
            "namespace": meta["namespace"],
            "labels": dict(meta.get("labels") or {}),
        },
    }
    if chosen:
        subset: Obj = {"ports": _ports(service, chosen[0])}
        for key, ready in (("addresses", True), ("notReadyAddresses", False)):
            found = [
                {
                    "ip": p["status"]["podIP"],
                    "nodeName": p["spec"].get("nodeName", ""),
                    "targetRef": _target(p),
                }
                for p in chosen
                if is_ready(p) is ready
            ]
            if found:
                subset[key] = found
        out["subsets"] = [subset]
    return out


def slice_for(service: Obj, pods: list[Obj]) -> Obj:
    """The Service's one EndpointSlice (discovery.k8s.io/v1)."""
    meta, chosen = service["metadata"], selected(service, pods)
    digest = hashlib.sha256(meta["uid"].encode()).digest()
    suffix = "".join(NAME_ALPHABET[b % len(NAME_ALPHABET)] for b in digest[:5])
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": f"{meta['name']}-{suffix}",
            "namespace": meta["namespace"],
            "labels": {SERVICE_NAME: meta["name"], MANAGED_BY: "endpointslice-controller.k8s.io"},
            "ownerReferences": [owner_reference(service)],
        },
        "addressType": "IPv4",
        "endpoints": [
            {
                "addresses": [p["status"]["podIP"]],
                "conditions": {"ready": is_ready(p), "serving": is_ready(p), "terminating": False},
                "nodeName": p["spec"].get("nodeName", ""),
                "targetRef": _target(p),
            }
            for p in chosen
        ],
        # EndpointSlice ports always carry a name ("" when unnamed): clients dereference it.
        "ports": [{"name": "", **p} for p in _ports(service, chosen[0])] if chosen else [],
    }


class EndpointsController:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def sync(self) -> None:
        store = self.ctx.cluster.store
        pods_by_ns: dict[str, list[Obj]] = {}
        for pod in store.list("pods"):
            pods_by_ns.setdefault(pod["metadata"]["namespace"], []).append(pod)
        live: set[tuple[str, str]] = set()
        for service in store.list("services"):
            if not (service.get("spec") or {}).get("selector"):
                continue
            pods = pods_by_ns.get(service["metadata"]["namespace"], [])
            for rtype, wanted in (
                (resources.ENDPOINTS, endpoints_for(service, pods)),
                (resources.ENDPOINT_SLICES, slice_for(service, pods)),
            ):
                live.add(
                    (rtype.key, wanted["metadata"]["namespace"] + "/" + wanted["metadata"]["name"])
                )
                self._converge(rtype, wanted)
        for key in ("endpoints", resources.ENDPOINT_SLICES.key):
            for obj in store.list(key):
                meta = obj["metadata"]
                if (key, f"{meta['namespace']}/{meta['name']}") not in live:
                    store.remove(key, meta["namespace"], meta["name"])

    def _converge(self, rtype: resources.ResourceType, wanted: Obj) -> None:
        meta = wanted["metadata"]
        current = self.ctx.cluster.store.get(rtype.key, meta["namespace"], meta["name"])
        if current is None:
            self.ctx.cluster.create(rtype, meta["namespace"], wanted, manager="endpoint-controller")
            return
        body = {k: v for k, v in wanted.items() if k not in ("apiVersion", "kind", "metadata")}
        if all(current.get(k) == v for k, v in body.items()) and set(current) - {
            "apiVersion",
            "kind",
            "metadata",
        } == set(body):
            return
        updated = {
            **copy.deepcopy(body),
            "apiVersion": current["apiVersion"],
            "kind": current["kind"],
            "metadata": dict(current["metadata"]),
        }
        self.ctx.cluster.write(rtype, updated)
