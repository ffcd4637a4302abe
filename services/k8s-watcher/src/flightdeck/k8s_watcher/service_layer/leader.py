"""What the leader does while it holds the lease: resync every kind, then follow the cluster,
and resync again after every NATS reconnect (what was published meanwhile may differ)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import structlog

from flightdeck.k8s_watcher.domain.diff import resync_order
from flightdeck.k8s_watcher.service_layer.ports import Closeable, LeaderLease, ReconnectCount
from flightdeck.k8s_watcher.service_layer.watching import KindWatcher, MetricsPoller

log = structlog.get_logger(__name__)


class _Reconnected(Exception):
    """NATS came back: what was published meanwhile may differ from what we think."""


@dataclass
class Watcher:
    reader: Closeable
    lease: LeaderLease
    watchers: list[KindWatcher]
    pollers: list[MetricsPoller]
    connection: ReconnectCount
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    resyncs: int = 0

    async def watch(self) -> None:
        """Everything a leader does, until cancelled: resync, then follow the cluster;
        after every NATS reconnect, resync again."""
        while True:
            since = self.connection.reconnects
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
        await self.connection.reconnected(since)
        raise _Reconnected

    async def run(self) -> None:
        await self.lease.lead(self.watch)

    async def close(self) -> None:
        await self.reader.close()
