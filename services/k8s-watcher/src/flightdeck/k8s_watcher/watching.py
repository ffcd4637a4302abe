"""List, then watch, each kind in each namespace; publish what changed.

The list gives the full state and a resourceVersion; the watch continues from
it (bookmarks keep that version fresh while nothing changes). When the watch
ends (server timeout, dropped connection) it resumes from the last version
seen; when that version has expired (410) the kind is listed again and the
difference published, deletions included. Nothing is published on a re-list
or restart that was already published: the publisher compares with the stream.
"""

from __future__ import annotations

import asyncio

import structlog

from flightdeck.k8s_watcher.adapters.kube import TRANSIENT, ClusterReader, Expired, Obj
from flightdeck.k8s_watcher.adapters.publisher import Publisher
from flightdeck.k8s_watcher.domain.observe import OBSERVERS, pod_metrics

log = structlog.get_logger(__name__)


class KindWatcher:
    def __init__(
        self,
        reader: ClusterReader,
        publisher: Publisher,
        kind: str,
        namespace: str,
        *,
        timeout_s: int = 300,
        retry_max_s: float = 10.0,
    ) -> None:
        self.reader, self.publisher = reader, publisher
        self.kind, self.namespace = kind, namespace
        self.timeout_s, self.retry_max_s = timeout_s, retry_max_s
        self.relists = 0
        self.rewatches = 0

    async def run(self) -> None:
        version = await self._relist_until_done(seed=True)
        failures = 0
        while True:
            try:
                changes = 0
                async for kind_of_change, obj in self.reader.watch(
                    self.kind, self.namespace, version, self.timeout_s
                ):
                    await self.apply(kind_of_change, obj)
                    # Only once published: a failed publish resumes from before this change.
                    version = obj.get("metadata", {}).get("resourceVersion") or version
                    changes += 1
                    failures = 0
                self.rewatches += 1
                if not changes:
                    await asyncio.sleep(0.1)  # a watch closed at once must not spin
            except Expired:
                log.info("watch expired, listing again", kind=self.kind, namespace=self.namespace)
                version = await self._relist_until_done()
            except TRANSIENT as exc:
                failures += 1
                delay = min(self.retry_max_s, 0.2 * 2**failures)
                log.warning("watch failed", kind=self.kind, error=repr(exc), retry_in_s=delay)
                await asyncio.sleep(delay)

    async def relist(self) -> str:
        """Publish the difference between the cluster and what was last published."""
        items, version = await self.reader.list_objects(self.kind, self.namespace)
        self.relists += 1
        present = set()
        for obj in items:
            present.add(obj["metadata"]["name"])
            await self.apply("ADDED", obj)
        for name, uid in self.publisher.alive(self.namespace, self.kind).items():
            if name not in present:
                await self.publisher.deleted(self.kind, self.namespace, name, uid)
        return version

    async def apply(self, kind_of_change: str, obj: Obj) -> None:
        meta = obj.get("metadata") or {}
        if kind_of_change == "BOOKMARK" or "name" not in meta:
            return
        uid = str(meta.get("uid", ""))
        if kind_of_change == "DELETED":
            await self.publisher.deleted(self.kind, self.namespace, meta["name"], uid)
            return
        try:
            observation = OBSERVERS[self.kind](obj)
        except (KeyError, TypeError, ValueError) as exc:
            log.warning(
                "unreadable object skipped", kind=self.kind, name=meta["name"], error=repr(exc)
            )
            return
        await self.publisher.observe(self.kind, meta["name"], observation, uid)

    async def _relist_until_done(self, *, seed: bool = False) -> str:
        """List (after learning from the stream what was published, on a first start)."""
        failures = 0
        while True:
            try:
                if seed:
                    await self.publisher.seed(self.namespace, self.kind)
                    seed = False
                return await self.relist()
            except TRANSIENT as exc:
                failures += 1
                delay = min(self.retry_max_s, 0.2 * 2**failures)
                log.warning("list failed", kind=self.kind, error=repr(exc), retry_in_s=delay)
                await asyncio.sleep(delay)


class MetricsPoller:
    """Pod CPU and memory from metrics.k8s.io, polled at its own interval (not watched)."""

    def __init__(
        self, reader: ClusterReader, publisher: Publisher, namespace: str, interval_s: float
    ) -> None:
        self.reader, self.publisher = reader, publisher
        self.namespace, self.interval_s = namespace, interval_s

    async def run(self) -> None:
        while True:
            try:
                for item in await self.reader.pod_metrics(self.namespace):
                    await self.publisher.sample(pod_metrics(item))
            except TRANSIENT as exc:
                log.info("pod metrics unavailable", namespace=self.namespace, error=repr(exc))
            await asyncio.sleep(self.interval_s)
