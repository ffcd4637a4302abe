"""metrics.k8s.io/v1beta1: PodMetrics and NodeMetrics, computed when asked.

Usage is synthetic but stable: each container has a base CPU and memory
derived from its pod's uid, with a slow wobble over time, the units
metrics-server writes (nanocores, KiB). Only running containers report.
"""

from __future__ import annotations

import hashlib
import math
import time
from typing import Any

from flightdeck.sandbox import clock

Obj = dict[str, Any]
WINDOW = "10.062s"


def _base(seed: str) -> tuple[float, float]:
    digest = hashlib.sha256(seed.encode()).digest()
    cpu_millicores = 5 + digest[0] % 120
    memory_mib = 24 + digest[1] % 200
    return cpu_millicores, memory_mib


def container_usage(pod_uid: str, container: str, at: float) -> dict[str, str]:
    cpu, memory = _base(f"{pod_uid}/{container}")
    wobble = 1 + 0.25 * math.sin(at / 17 + len(container))
    return {
        "cpu": f"{int(cpu * wobble * 1_000_000)}n",
        "memory": f"{int(memory * 1024 * (0.9 + 0.1 * wobble))}Ki",
    }


def pod_metrics(pod: Obj) -> Obj | None:
    """The PodMetrics of a pod, or None while none of its containers runs."""
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    running = [s["name"] for s in statuses if "running" in (s.get("state") or {})]
    if not running:
        return None
    meta, at = pod["metadata"], time.time()
    return {
        "kind": "PodMetrics",
        "apiVersion": "metrics.k8s.io/v1beta1",
        "metadata": {
            "name": meta["name"],
            "namespace": meta["namespace"],
            "creationTimestamp": clock.rfc3339(),
            "labels": dict(meta.get("labels") or {}),
        },
        "timestamp": clock.rfc3339(),
        "window": WINDOW,
        "containers": [
            {"name": name, "usage": container_usage(meta["uid"], name, at)} for name in running
        ],
    }


def node_metrics(node: Obj, pods: list[Obj]) -> Obj:
    """A node's usage: its system overhead plus the pods running on it."""
    name = node["metadata"]["name"]
    cpu_n, memory_ki = 150_000_000, 900 * 1024
    for pod in pods:
        if (pod.get("spec") or {}).get("nodeName") != name or (found := pod_metrics(pod)) is None:
            continue
        for container in found["containers"]:
            cpu_n += int(container["usage"]["cpu"][:-1])
            memory_ki += int(container["usage"]["memory"][:-2])
    return {
        "kind": "NodeMetrics",
        "apiVersion": "metrics.k8s.io/v1beta1",
        "metadata": {
            "name": name,
            "creationTimestamp": clock.rfc3339(),
            "labels": dict(node["metadata"].get("labels") or {}),
        },
        "timestamp": clock.rfc3339(),
        "window": WINDOW,
        "usage": {"cpu": f"{cpu_n}n", "memory": f"{memory_ki}Ki"},
    }
