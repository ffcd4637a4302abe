"""Server-side ``meta.k8s.io/v1`` Tables: the columns ``kubectl get`` prints.

Ported from the API server's printers (``pkg/printers/internalversion``) for
the resources the sandbox serves, so READY, STATUS, RESTARTS and AGE read as
on a real cluster. Pure functions of the objects and the current time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flightdeck.sandbox import clock, selectors

Obj = dict[str, Any]
Column = tuple[str, str, int, str]  # name, type, priority, description


def human_duration(seconds: float) -> str:
    """Go's ``duration.HumanDuration``: ``45s``, ``5m3s``, ``3h``, ``2d4h``."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m{s % 60}s" if s % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d{hours % 24}h" if hours % 24 else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y{days}d" if days else f"{hours // 24 // 365}y"
    return f"{hours // 24 // 365}y"


def since(timestamp: str | None, now: datetime) -> str:
    if not timestamp:
        return "<unknown>"
    return human_duration((now - clock.parse(timestamp)).total_seconds())


def _age(obj: Obj, now: datetime) -> str:
    return since(obj["metadata"].get("creationTimestamp"), now)


def _containers(spec: Obj) -> tuple[str, str]:
    containers = spec.get("containers") or []
    return ",".join(c.get("name", "") for c in containers), ",".join(
        c.get("image", "") for c in containers
    )


def _selector(selector: Obj | None) -> str:
    text = selectors.render(selectors.from_label_selector(selector)) if selector else ""
    return text or "<none>"


def pod_status_reason(pod: Obj) -> tuple[str, int, int, str | None]:
    """STATUS, ready containers, restarts and last restart time, as printPod computes them."""
    status = pod.get("status") or {}
    reason = status.get("reason") or status.get("phase") or "Unknown"
    ready = restarts = 0
    last_restart: str | None = None
    has_running = False
    for cs in reversed(status.get("containerStatuses") or []):
        restarts += int(cs.get("restartCount", 0))
        finished = ((cs.get("lastState") or {}).get("terminated") or {}).get("finishedAt")
        if finished and (last_restart is None or finished > last_restart):
            last_restart = finished
        state = cs.get("state") or {}
        waiting, terminated = state.get("waiting"), state.get("terminated")
        if waiting and waiting.get("reason"):
            reason = waiting["reason"]
        elif terminated and terminated.get("reason"):
            reason = terminated["reason"]
        elif terminated:
            signal = terminated.get("signal")
            reason = f"Signal:{signal}" if signal else f"ExitCode:{terminated.get('exitCode', 0)}"
        elif cs.get("ready") and state.get("running"):
            has_running = True
            ready += 1
    if reason == "Completed" and has_running:
        conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
        reason = "Running" if conditions.get("Ready") == "True" else "NotReady"
    if pod["metadata"].get("deletionTimestamp"):
        reason = "Unknown" if status.get("reason") == "NodeLost" else "Terminating"
    return reason, ready, restarts, last_restart


def _pod(pod: Obj, now: datetime) -> list[Any]:
    reason, ready, restarts, last_restart = pod_status_reason(pod)
    total = len((pod.get("spec") or {}).get("containers") or [])
    shown = f"{restarts} ({since(last_restart, now)} ago)" if last_restart else str(restarts)
    status = pod.get("status") or {}
    return [
        pod["metadata"]["name"],
        f"{ready}/{total}",
        reason,
        shown,
        _age(pod, now),
        status.get("podIP") or "<none>",
        (pod.get("spec") or {}).get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        "<none>",
    ]


def _deployment(obj: Obj, now: datetime) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    names, images = _containers((spec.get("template") or {}).get("spec") or {})
    return [
        obj["metadata"]["name"],
        f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
        status.get("updatedReplicas", 0),
        status.get("availableReplicas", 0),
        _age(obj, now),
        names,
        images,
        _selector(spec.get("selector")),
    ]


def _replicaset(obj: Obj, now: datetime) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    names, images = _containers((spec.get("template") or {}).get("spec") or {})
    return [
        obj["metadata"]["name"],
        spec.get("replicas", 1),
        status.get("replicas", 0),
        status.get("readyReplicas", 0),
        _age(obj, now),
        names,
        images,
        _selector(spec.get("selector")),
    ]


def _lb_addresses(obj: Obj) -> list[str]:
    found = ((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    return [i.get("ip") or i.get("hostname") or "" for i in found]


def _service(obj: Obj, now: datetime) -> list[Any]:
    spec = obj.get("spec") or {}
    kind = spec.get("type", "ClusterIP")
    if kind == "LoadBalancer":
        external = ",".join(_lb_addresses(obj) + list(spec.get("externalIPs") or [])) or "<pending>"
    elif kind == "ExternalName":
        external = spec.get("externalName", "<none>")
    else:
        external = ",".join(spec.get("externalIPs") or []) or "<none>"
    ports = (
        ",".join(
            f"{p.get('port')}:{p['nodePort']}/{p.get('protocol', 'TCP')}"
            if p.get("nodePort")
            else f"{p.get('port')}/{p.get('protocol', 'TCP')}"
            for p in spec.get("ports") or []
        )
        or "<none>"
    )
    selector = (
        ",".join(f"{k}={v}" for k, v in sorted((spec.get("selector") or {}).items())) or "<none>"
    )
    return [
        obj["metadata"]["name"],
        kind,
        spec.get("clusterIP") or "<none>",
        external,
        ports,
        _age(obj, now),
        selector,
    ]


def _ingress(obj: Obj, now: datetime) -> list[Any]:
    spec = obj.get("spec") or {}
    hosts = [r["host"] for r in spec.get("rules") or [] if r.get("host")]
    shown = ",".join(hosts[:4]) + (f" + {len(hosts) - 4} more..." if len(hosts) > 4 else "")
    return [
        obj["metadata"]["name"],
        spec.get("ingressClassName") or "<none>",
        shown or "*",
        ",".join(_lb_addresses(obj)),
        "80, 443" if spec.get("tls") else "80",
        _age(obj, now),
    ]


def _namespace(obj: Obj, now: datetime) -> list[Any]:
    return [
        obj["metadata"]["name"],
        (obj.get("status") or {}).get("phase", "Active"),
        _age(obj, now),
    ]


def _event(obj: Obj, now: datetime) -> list[Any]:
    involved = obj.get("involvedObject") or {}
    source = obj.get("source") or {}
    last = obj.get("lastTimestamp") or obj.get("eventTime")
    return [
        since(last, now),
        obj.get("type", ""),
        obj.get("reason", ""),
        f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}",
        involved.get("fieldPath", ""),
        ", ".join(v for v in (source.get("component"), source.get("host")) if v),
        obj.get("message", ""),
        since(obj.get("firstTimestamp") or last, now),
        int(obj.get("count", 1)),
        obj["metadata"]["name"],
    ]


def _node(obj: Obj, now: datetime) -> list[Any]:
    status = obj.get("status") or {}
    ready: Obj = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), {})
    info = status.get("nodeInfo") or {}
    internal = next(
        (a["address"] for a in status.get("addresses") or [] if a.get("type") == "InternalIP"),
        "<none>",
    )
    return [
        obj["metadata"]["name"],
        "Ready" if ready.get("status") == "True" else "NotReady",
        "<none>",
        _age(obj, now),
        info.get("kubeletVersion", ""),
        internal,
        "<none>",
        info.get("osImage", ""),
        info.get("kernelVersion", ""),
        info.get("containerRuntimeVersion", ""),
    ]


def _endpoints(obj: Obj, now: datetime) -> list[Any]:
    pairs = [
        f"{a['ip']}:{p['port']}"
        for s in obj.get("subsets") or []
        for p in s.get("ports") or []
        for a in s.get("addresses") or []
    ]
    shown = ",".join(pairs[:3]) + (f" + {len(pairs) - 3} more..." if len(pairs) > 3 else "")
    return [obj["metadata"]["name"], shown or "<none>", _age(obj, now)]


def _endpoint_slice(obj: Obj, now: datetime) -> list[Any]:
    ports = ",".join(str(p.get("port")) for p in obj.get("ports") or []) or "<unset>"
    addresses = [a for e in obj.get("endpoints") or [] for a in e.get("addresses") or []]
    shown = ",".join(addresses[:3]) + (
        f" + {len(addresses) - 3} more..." if len(addresses) > 3 else ""
    )
    return [
        obj["metadata"]["name"],
        obj.get("addressType", ""),
        ports,
        shown or "<unset>",
        _age(obj, now),
    ]


def _default(obj: Obj, now: datetime) -> list[Any]:
    return [obj["metadata"]["name"], obj["metadata"].get("creationTimestamp", "")]


_NAME: Column = ("Name", "string", 0, "Name must be unique within a namespace.")
_AGE: Column = (
    "Age",
    "string",
    0,
    "CreationTimestamp is a timestamp representing the server time when this object was created.",
)
_WORKLOAD_WIDE: list[Column] = [
    ("Containers", "string", 1, "Names of each container in the template."),
    ("Images", "string", 1, "Images referenced by each container in the template."),
    ("Selector", "string", 1, "Label selector for pods."),
]

PRINTERS: dict[str, tuple[list[Column], Callable[[Obj, datetime], list[Any]]]] = {
    "pods": (
        [
            _NAME,
            ("Ready", "string", 0, "The aggregate readiness state of this pod."),
            ("Status", "string", 0, "The aggregate status of the containers in this pod."),
            ("Restarts", "string", 0, "The number of times the containers have restarted."),
            _AGE,
            ("IP", "string", 1, "IP address allocated to the pod."),
            ("Node", "string", 1, "Name of the node the pod is assigned to."),
            ("Nominated Node", "string", 1, "Name of the node the pod is nominated to."),
            ("Readiness Gates", "string", 1, "Pod readiness gates."),
        ],
        _pod,
    ),
    "deployments.apps": (
        [
            _NAME,
            ("Ready", "string", 0, "Number of ready pods / desired."),
            ("Up-to-date", "integer", 0, "Pods updated to the latest template."),
            ("Available", "integer", 0, "Pods available for at least minReadySeconds."),
            _AGE,
            *_WORKLOAD_WIDE,
        ],
        _deployment,
    ),
    "replicasets.apps": (
        [
            _NAME,
            ("Desired", "integer", 0, "Number of desired pods."),
            ("Current", "integer", 0, "Number of actual pods."),
            ("Ready", "integer", 0, "Number of ready pods."),
            _AGE,
            *_WORKLOAD_WIDE,
        ],
        _replicaset,
    ),
    "services": (
        [
            _NAME,
            ("Type", "string", 0, "How the service is exposed."),
            ("Cluster-IP", "string", 0, "The cluster IP address."),
            ("External-IP", "string", 0, "External addresses."),
            ("Port(s)", "string", 0, "The ports exposed."),
            _AGE,
            ("Selector", "string", 1, "Pods this service routes to."),
        ],
        _service,
    ),
    "ingresses.networking.k8s.io": (
        [
            _NAME,
            ("Class", "string", 0, "The ingress class."),
            ("Hosts", "string", 0, "Hosts the rules match."),
            ("Address", "string", 0, "Load-balancer addresses."),
            ("Ports", "string", 0, "Ports served."),
            _AGE,
        ],
        _ingress,
    ),
    "namespaces": (
        [_NAME, ("Status", "string", 0, "The status of the namespace."), _AGE],
        _namespace,
    ),
    "events": (
        [
            ("Last Seen", "string", 0, "When the event last happened."),
            ("Type", "string", 0, "Normal or Warning."),
            ("Reason", "string", 0, "Why."),
            ("Object", "string", 0, "The object it is about."),
            ("Subobject", "string", 1, "The part of the object."),
            ("Source", "string", 1, "The component that reported it."),
            ("Message", "string", 0, "What happened."),
            ("First Seen", "string", 1, "When it first happened."),
            ("Count", "integer", 1, "How many times."),
            ("Name", "string", 1, "The event's name."),
        ],
        _event,
    ),
    "nodes": (
        [
            _NAME,
            ("Status", "string", 0, "Node readiness."),
            ("Roles", "string", 0, "Node roles."),
            _AGE,
            ("Version", "string", 0, "Kubelet version."),
            ("Internal-IP", "string", 1, "Internal address."),
            ("External-IP", "string", 1, "External address."),
            ("OS-Image", "string", 1, "OS image."),
            ("Kernel-Version", "string", 1, "Kernel version."),
            ("Container-Runtime", "string", 1, "Container runtime."),
        ],
        _node,
    ),
    "endpointslices.discovery.k8s.io": (
        [
            _NAME,
            ("AddressType", "string", 0, "The type of addresses."),
            ("Ports", "string", 0, "The ports of the endpoints."),
            ("Endpoints", "string", 0, "The addresses of the endpoints."),
            _AGE,
        ],
        _endpoint_slice,
    ),
    "endpoints": (
        [_NAME, ("Endpoints", "string", 0, "Ready endpoint addresses."), _AGE],
        _endpoints,
    ),
}
_DEFAULT: tuple[list[Column], Callable[[Obj, datetime], list[Any]]] = (
    [_NAME, ("Created At", "date", 0, "When the object was created.")],
    _default,
)


def _row_object(obj: Obj, include: str, version: str) -> Obj | None:
    if include == "None":
        return None
    if include == "Object":
        return obj
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": f"meta.k8s.io/{version}",
        "metadata": obj.get("metadata", {}),
    }


def table(
    key: str,
    objects: list[Obj],
    resource_version: str,
    *,
    include: str = "Metadata",
    version: str = "v1",
    now: datetime | None = None,
) -> Obj:
    """A Table of ``objects`` of resource ``key``; ``include`` is the includeObject policy."""
    columns, cells = PRINTERS.get(key, _DEFAULT)
    moment = now or clock.now()
    rows = []
    for obj in objects:
        row: Obj = {"cells": cells(obj, moment)}
        embedded = _row_object(obj, include, version)
        if embedded is not None:
            row["object"] = embedded
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": f"meta.k8s.io/{version}",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": [
            {
                "name": n,
                "type": t,
                "format": "name" if n == "Name" else "",
                "description": d,
                "priority": p,
            }
            for n, t, p, d in columns
        ],
        "rows": rows,
    }
