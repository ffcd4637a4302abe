"""Builds the watcher from its settings: the one place adapters are constructed."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field

import structlog

from flightdeck.events import new_id
from flightdeck.eventstore import Buckets, EventStore
from flightdeck.k8s_watcher.adapters.kube import ClusterReader
from flightdeck.k8s_watcher.adapters.lease import Lease
from flightdeck.k8s_watcher.adapters.publisher import Publisher
from flightdeck.k8s_watcher.config import WatcherSettings
from flightdeck.k8s_watcher.domain.diff import resync_order
from flightdeck.k8s_watcher.watching import KindWatcher, MetricsPoller
from flightdeck.runtime.kube import KubernetesSettings, api_client
from flightdeck.runtime.settings import load_section

SERVICE = "k8s-watcher"

log = structlog.get_logger(__name__)


class _Reconnected(Exception):
    """NATS came back: what was published meanwhile may differ from what we think."""


@dataclass
class Watcher:
    reader: ClusterReader
    publisher: Publisher
    lease: Lease
    watchers: list[KindWatcher]
    pollers: list[MetricsPoller]
    store: EventStore
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    resyncs: int = 0

    async def watch(self) -> None:
        """Everything a leader does, until cancelled: resync, then follow the cluster;
        after every NATS reconnect, resync again."""
        while True:
            since = self.store.reconnects
            versions = await self.resync()
            try:
                async with asyncio.TaskGroup() as group:
                    for watcher, version in versions:
                        group.create_task(watcher.follow(version))
                    for poller in self.pollers:
                        group.create_task(poller.run())
                    group.create_task(self._reconnected(since))
            except* _Reconnected:
                log.info("nats reconnected: resyncing the cluster")

    async def resync(self) -> list[tuple[KindWatcher, str]]:
        """Every kind, one after the other, parts before wholes (``RESYNC_ORDER``), so a
        Deployment's availability is never published before the pods it counts."""
        order = resync_order(dict.fromkeys(w.kind for w in self.watchers))
        ordered = sorted(self.watchers, key=lambda w: order.index(w.kind))
        versions = [(watcher, await watcher.resync()) for watcher in ordered]
        self.resyncs += 1
        log.info("cluster resynced", kinds=len(ordered), resyncs=self.resyncs)
        return versions

    async def _reconnected(self, since: int) -> None:
        await self.store.reconnected(since)
        raise _Reconnected

    async def run(self) -> None:
        await self.lease.lead(self.watch)

    async def close(self) -> None:
        await self.reader.close()


async def build(
    store: EventStore,
    buckets: Buckets,
    k8s: KubernetesSettings | None = None,
    settings: WatcherSettings | None = None,
) -> Watcher:
    k8s = k8s or load_section(KubernetesSettings)
    settings = settings or load_section(WatcherSettings)
    reader = ClusterReader(await api_client(k8s), k8s.request_timeout_s)
    publisher = Publisher(store)
    holder = f"{socket.gethostname()}-{new_id()[:8]}"
    lease = Lease(buckets, settings.lease_bucket, SERVICE, holder, settings.lease_ttl_s)
    namespaces, kinds = k8s.namespace_list(), settings.kind_list()
    watchers = [
        KindWatcher(
            reader,
            publisher,
            kind,
            ns,
            timeout_s=settings.watch_timeout_s,
            retry_max_s=settings.retry_max_s,
        )
        for ns in namespaces
        for kind in kinds
    ]
    pollers = [
        MetricsPoller(reader, publisher, ns, settings.metrics_interval_s) for ns in namespaces
    ]
    return Watcher(reader, publisher, lease, watchers, pollers, store)
