"""Builds the watcher from its settings: the one place adapters are constructed."""

from __future__ import annotations

import socket

from flightdeck.events import new_id
from flightdeck.eventstore import Buckets, EventStore
from flightdeck.k8s_watcher.adapters.kube import ClusterReader
from flightdeck.k8s_watcher.adapters.lease import Lease
from flightdeck.k8s_watcher.adapters.publisher import Publisher
from flightdeck.k8s_watcher.config import WatcherSettings
from flightdeck.k8s_watcher.service_layer.leader import Watcher
from flightdeck.k8s_watcher.service_layer.watching import KindWatcher, MetricsPoller
from flightdeck.runtime.kube import KubernetesSettings, api_client
from flightdeck.runtime.settings import load_section

SERVICE = "k8s-watcher"


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
    return Watcher(reader, lease, watchers, pollers, store)
