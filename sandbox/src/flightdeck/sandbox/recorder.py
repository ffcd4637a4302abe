"""core/v1 Events, recorded as a real cluster's components do.

Repeats of the same event (same object, reason and message) bump ``count``
and ``lastTimestamp`` instead of adding a new Event, so ``kubectl describe``
shows ``(x3 over 40s)``. Each namespace keeps at most ``max_events``.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import time
import uuid
from typing import Any

from flightdeck.sandbox import clock, resources
from flightdeck.sandbox.cluster import Cluster

Obj = dict[str, Any]


class Recorder:
    def __init__(self, cluster: Cluster, max_events: int = 1000) -> None:
        self._cluster = cluster
        self._max = max_events
        self._seen: dict[tuple[str, ...], str] = {}
        self._serial = itertools.count()

    def emit(
        self,
        obj: Obj,
        type_: str,
        reason: str,
        message: str,
        *,
        component: str,
        host: str = "",
        field_path: str = "",
    ) -> None:
        """Record that ``reason`` happened to ``obj`` (Normal or Warning)."""
        meta = obj["metadata"]
        namespace = meta.get("namespace") or "default"
        key = (meta.get("uid", ""), field_path, reason, message, type_, component)
        now = clock.rfc3339()
        existing = self._seen.get(key)
        if existing is not None:
            found = self._cluster.store.get("events", namespace, existing)
            if found is not None:
                repeat = copy.deepcopy(found)
                repeat["count"] = int(repeat.get("count", 1)) + 1
                repeat["lastTimestamp"] = now
                self._cluster.write(resources.EVENTS, repeat)
                return
        name = f"{meta['name']}.{time.time_ns() + next(self._serial):x}"
        involved: Obj = {
            "kind": obj.get("kind", ""),
            "namespace": meta.get("namespace", ""),
            "name": meta["name"],
            "uid": meta.get("uid", ""),
            "apiVersion": obj.get("apiVersion", ""),
            "resourceVersion": meta.get("resourceVersion", ""),
        }
        if field_path:
            involved["fieldPath"] = field_path
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "uid": _uid(name),
                "creationTimestamp": now,
            },
            "involvedObject": involved,
            "reason": reason,
            "message": message,
            "source": {"component": component, **({"host": host} if host else {})},
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
            "type": type_,
            "eventTime": None,
            "reportingComponent": component,
            "reportingInstance": host,
        }
        self._cluster.write(resources.EVENTS, event)
        self._seen[key] = name
        self._trim(namespace)

    def _trim(self, namespace: str) -> None:
        if len(self._seen) > 4 * self._max:  # forget repeats of events that are gone
            live = {e["metadata"]["name"] for e in self._cluster.store.list("events")}
            self._seen = {k: v for k, v in self._seen.items() if v in live}
        if self._cluster.store.count("events") <= self._max:
            return
        events = self._cluster.store.list("events", namespace)
        if len(events) <= self._max:
            return
        events.sort(key=lambda e: int(e["metadata"]["resourceVersion"]))
        for old in events[: len(events) - self._max]:
            self._cluster.store.remove("events", namespace, old["metadata"]["name"])


def _uid(name: str) -> str:
    return str(uuid.UUID(bytes=hashlib.md5(name.encode()).digest(), version=4))
