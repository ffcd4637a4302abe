"""A deployment's history joins its pods': the watcher's observations of what a deployment
made carry the deployment id as their correlation id (ADR 0025)."""

from __future__ import annotations

import pytest

from flightdeck.events import subjects
from flightdeck.events.cluster import (
    ContainerUsage,
    KubeEventObserved,
    PodMetricsSampled,
    PodObserved,
)
from flightdeck.eventstore.memory import InMemoryEventStore
from flightdeck.k8s_watcher.adapters.publisher import Publisher

pytestmark = pytest.mark.unit


def pod(name: str, labels: dict[str, str], version: str = "1") -> PodObserved:
    return PodObserved(
        namespace="shop",
        name=name,
        uid=f"uid-{name}",
        labels=labels,
        owner=None,
        phase="Running",
        ready=True,
        node="node-1",
        pod_ip=None,
        host_ip=None,
        containers=[],
        resource_version=version,
    )


def about(name: str) -> KubeEventObserved:
    return KubeEventObserved(
        namespace="shop",
        involved_kind="Pod",
        involved_name=name,
        reason="Started",
        message="Started container app",
        event_type="Normal",
        count=1,
        last_seen=None,
        name=f"{name}.1",
    )


async def correlations(store: InMemoryEventStore, kind: str, name: str) -> list[str | None]:
    return [r.correlation_id for r in await store.read(subjects.cluster_object("shop", kind, name))]


async def test_a_deployments_pods_their_events_and_their_deletion_carry_its_id() -> None:
    store = InMemoryEventStore()
    publisher = Publisher(store)
    made = pod("web-1", {"app": "web", "flightdeck.io/deployment": "dep-7"})

    await publisher.observe("Pod", "web-1", made, "uid-web-1")
    await publisher.observe("Event", "web-1.1", about("web-1"), "uid-event")
    await publisher.sample(
        PodMetricsSampled(
            namespace="shop",
            pod="web-1",
            window_s=15.0,
            containers=[ContainerUsage(name="app", cpu_millicores=5.0, memory_bytes=1 << 20)],
        )
    )
    await publisher.deleted("Pod", "shop", "web-1", "uid-web-1")

    assert await correlations(store, "Pod", "web-1") == ["dep-7", "dep-7"]
    assert await correlations(store, "Event", "web-1.1") == ["dep-7"]
    assert await correlations(store, "PodMetrics", "web-1") == ["dep-7"]


async def test_what_no_deployment_made_is_correlated_by_its_own_uid() -> None:
    store = InMemoryEventStore()
    publisher = Publisher(store)

    await publisher.observe("Pod", "other", pod("other", {"app": "x"}), "uid-other")
    await publisher.observe("Event", "other.1", about("other"), "uid-event")

    assert await correlations(store, "Pod", "other") == ["uid-other"]
    assert await correlations(store, "Event", "other.1") == ["uid-event"]
