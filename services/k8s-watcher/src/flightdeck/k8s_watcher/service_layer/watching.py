"""Resync, then watch, each kind in each namespace; publish what changed.

A resync learns from the stream the last state published of every object,
lists the kind, and publishes every difference (deletions included); the
watch then continues from the list's resourceVersion (bookmarks keep that
version fresh while nothing changes). A resync runs on every start (a restart,
a new leader term) and after every NATS reconnect (see
:class:`~flightdeck.k8s_watcher.service_layer.leader.Watcher`), and when the watch's
version has expired (410). When the watch simply ends (server timeout,
dropped connection, NATS away for a publish) it resumes from the last version
published, after ``retries.RECONNECT``'s jittered backoff (anew after any
progress). Nothing already published is published again: the publisher
compares with the stream.
"""

from __future__ import annotations

import asyncio
import dataclasses

import structlog

from flightdeck.k8s_watcher.domain.diff import Observation, differences
from flightdeck.k8s_watcher.domain.failures import TRANSIENT, Expired
from flightdeck.k8s_watcher.domain.observe import OBSERVERS, pod_metrics
from flightdeck.k8s_watcher.service_layer.ports import ClusterReading, Obj, Publishing
from flightdeck.runtime import retries

log = structlog.get_logger(__name__)


class KindWatcher:
    def __init__(
        self,
        reader: ClusterReading,
        publisher: Publishing,
        kind: str,
        namespace: str,
        *,
        timeout_s: int = 300,
        retry_max_s: float = 10.0,
    ) -> None:
        self.reader, self.publisher = reader, publisher
        self.kind, self.namespace = kind, namespace
        self.timeout_s = timeout_s
        self.backoff = dataclasses.replace(retries.RECONNECT, wait_max=retry_max_s)
        self.relists = 0
        self.rewatches = 0

    async def run(self) -> None:
        await self.follow(await self.resync())

    async def follow(self, version: str) -> None:
        """Watch from ``version`` forever, publishing each change."""
        retrying = self.backoff.retrying(
            TRANSIENT, retries.logged(log, "watch failed", kind=self.kind)
        )
        async for attempt in retrying:
            with attempt:
                while True:
                    try:
                        changes = 0
                        async for kind_of_change, obj in self.reader.watch(
                            self.kind, self.namespace, version, self.timeout_s
                        ):
                            await self.apply(kind_of_change, obj)
                            # Only once published: a failed publish resumes from before it.
                            version = obj.get("metadata", {}).get("resourceVersion") or version
                            changes += 1
                            retrying.reset()
                        self.rewatches += 1
                        if not changes:
                            await asyncio.sleep(0.1)  # a watch closed at once must not spin
                    except Expired:
                        log.info(
                            "watch expired, listing again", kind=self.kind, namespace=self.namespace
                        )
                        version = await self.resync()

    async def relist(self) -> str:
        """Publish the difference between the cluster and what was last published;
        return the list's resourceVersion."""
        items, version = await self.reader.list_objects(self.kind, self.namespace)
        self.relists += 1
        listed: dict[str, Observation | None] = {}
        uids: dict[str, str] = {}
        for obj in items:
            meta = obj.get("metadata") or {}
            if "name" in meta:
                listed[str(meta["name"])] = self._observe(obj)
                uids[str(meta["name"])] = str(meta.get("uid", ""))
        published = self.publisher.last_published(self.namespace, self.kind)
        for name, news in differences(self.kind, self.namespace, published, listed):
            uid = uids.get(name) or str(getattr(news, "uid", ""))
            await self.publisher.observe(self.kind, name, news, uid)
        return version

    async def apply(self, kind_of_change: str, obj: Obj) -> None:
        meta = obj.get("metadata") or {}
        if kind_of_change == "BOOKMARK" or "name" not in meta:
            return
        uid = str(meta.get("uid", ""))
        if kind_of_change == "DELETED":
            await self.publisher.deleted(self.kind, self.namespace, meta["name"], uid)
            return
        observation = self._observe(obj)
        if observation is not None:
            await self.publisher.observe(self.kind, meta["name"], observation, uid)

    def _observe(self, obj: Obj) -> Observation | None:
        try:
            return OBSERVERS[self.kind](obj)
        except (KeyError, TypeError, ValueError) as exc:
            name = (obj.get("metadata") or {}).get("name")
            log.warning("unreadable object skipped", kind=self.kind, name=name, error=repr(exc))
            return None

    async def resync(self) -> str:
        """Learn from the stream what was published, list, publish the difference;
        again (with a growing delay) until it succeeds. Returns the list's version."""
        report = retries.logged(log, "resync failed", kind=self.kind)
        return await self.backoff.retrying(TRANSIENT, report).call(self._resync_once)

    async def _resync_once(self) -> str:
        await self.publisher.seed(self.namespace, self.kind)
        return await self.relist()


class MetricsPoller:
    """Pod CPU and memory from metrics.k8s.io, polled at its own interval (not watched)."""

    def __init__(
        self, reader: ClusterReading, publisher: Publishing, namespace: str, interval_s: float
    ) -> None:
        self.reader, self.publisher = reader, publisher
        self.namespace, self.interval_s = namespace, interval_s

    async def run(self) -> None:
        while True:
            try:
                for item in await self.reader.pod_metrics(self.namespace):
                    await self.publisher.sample(pod_metrics(item, self.interval_s))
            except TRANSIENT as exc:
                log.info("pod metrics unavailable", namespace=self.namespace, error=repr(exc))
            await asyncio.sleep(self.interval_s)
