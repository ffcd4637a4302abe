"""A list-then-watch cache of pods that relists on 410, as a real informer does.

It records, per pod, the sequence of states it observed, so a test can check
that nothing was lost across dropped connections and expired versions.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from kubernetes_asyncio import client, watch
from kubernetes_asyncio.client.exceptions import ApiException

Obj = dict[str, Any]


def pod_state(pod: Obj) -> str:
    """One word for where a pod is in its lifecycle."""
    if pod["metadata"].get("deletionTimestamp"):
        return "Terminating"
    if not pod["spec"].get("nodeName"):
        return "Pending"
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    if not statuses:
        return "Scheduled"
    state = statuses[0].get("state") or {}
    if "waiting" in state:
        return str(state["waiting"].get("reason", "Waiting"))
    if "terminated" in state:
        return str(state["terminated"].get("reason", "Terminated"))
    return "Ready" if statuses[0].get("ready") else "Running"


class PodInformer:
    """Keeps ``cache`` equal to the namespace's pods; ``history`` is what it saw happen."""

    def __init__(self, api: client.CoreV1Api, namespace: str, label_selector: str = "") -> None:
        self.api = api
        self.namespace = namespace
        self.label_selector = label_selector
        self.cache: dict[str, Obj] = {}
        self.history: dict[str, list[str]] = defaultdict(list)
        self.expired = 0
        self.lists = 0
        self.rvs: list[int] = []

    def _record(self, name: str, state: str) -> None:
        seen = self.history[name]
        if not seen or seen[-1] != state:
            seen.append(state)

    def _apply(self, kind: str, pod: Obj) -> None:
        name = pod["metadata"]["name"]
        if kind == "DELETED":
            self.cache.pop(name, None)
            self._record(name, "DELETED")
        else:
            self.cache[name] = pod
            self._record(name, pod_state(pod))

    async def _list(self) -> str:
        response = await self.api.list_namespaced_pod(
            self.namespace, label_selector=self.label_selector, _preload_content=False
        )
        body = json.loads(await response.read())
        self.lists += 1
        current = {item["metadata"]["name"]: item for item in body["items"]}
        for name in [n for n in self.cache if n not in current]:
            self._apply("DELETED", self.cache[name])
        for item in current.values():
            self._apply("MODIFIED", item)
        return str(body["metadata"]["resourceVersion"])

    async def run(self) -> None:
        """List, watch from the list's version, and on 410 Expired start over."""
        while True:
            version = await self._list()
            try:
                async with watch.Watch() as stream:
                    async for event in stream.stream(
                        self.api.list_namespaced_pod,
                        self.namespace,
                        label_selector=self.label_selector,
                        resource_version=version,
                        allow_watch_bookmarks=True,
                    ):
                        raw = event["raw_object"]
                        if event["type"] != "BOOKMARK":
                            self.rvs.append(int(raw["metadata"]["resourceVersion"]))
                            self._apply(event["type"], raw)
            except ApiException as exc:
                if exc.status != 410:
                    raise
                self.expired += 1
