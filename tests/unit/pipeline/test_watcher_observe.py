"""The k8s-watcher's pure half: raw objects to observations, and what counts as news."""

from __future__ import annotations

import pytest

from flightdeck.events.cluster import ContainerPhase, ResourceDeleted
from flightdeck.k8s_watcher.domain import observe
from flightdeck.k8s_watcher.domain.diff import changed
from flightdeck.k8s_watcher.domain.quantities import byte_count, millicores, seconds

pytestmark = pytest.mark.unit

POD = {
    "metadata": {
        "name": "web-blue-abc12",
        "namespace": "apps",
        "uid": "u1",
        "resourceVersion": "100",
        "labels": {"app": "web", "colour": "blue"},
        "ownerReferences": [{"kind": "ReplicaSet", "name": "web-blue-5d9f"}],
    },
    "spec": {"nodeName": "node-1", "containers": [{"name": "app", "image": "web:v1"}]},
    "status": {
        "phase": "Pending",
        "podIP": "10.0.0.7",
        "conditions": [
            {"type": "Ready", "status": "False", "lastTransitionTime": "2026-11-25T12:00:00Z"}
        ],
        "containerStatuses": [
            {
                "name": "app",
                "image": "web:v1",
                "ready": False,
                "restartCount": 0,
                "state": {"waiting": {"reason": "ContainerCreating"}},
            }
        ],
    },
}


def test_a_pod_keeps_what_matters() -> None:
    got = observe.pod(POD)
    assert (got.name, got.phase, got.ready, got.owner, got.node) == (
        "web-blue-abc12",
        "Pending",
        False,
        "web-blue-5d9f",
        "node-1",
    )
    [c] = got.containers
    assert (c.phase, c.reason, c.restart_count) == (ContainerPhase.WAITING, "ContainerCreating", 0)


def test_a_running_ready_pod() -> None:
    running = {
        **POD,
        "status": {
            **POD["status"],
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [
                {
                    "name": "app",
                    "image": "web:v1",
                    "ready": True,
                    "restartCount": 1,
                    "state": {"running": {"startedAt": "2026-11-25T12:00:03Z"}},
                }
            ],
        },
    }
    got = observe.pod(running)
    assert got.ready and got.containers[0].phase is ContainerPhase.RUNNING
    assert (
        got.containers[0].started_at is not None and got.containers[0].started_at.tzinfo is not None
    )


def test_a_resync_with_only_a_new_resource_version_is_not_news() -> None:
    before = observe.pod(POD)
    resync = observe.pod({**POD, "metadata": {**POD["metadata"], "resourceVersion": "101"}})
    assert not changed(before, resync)
    moved = observe.pod({**POD, "status": {**POD["status"], "phase": "Running"}})
    assert changed(before, moved)
    assert changed(None, before)


def test_a_deletion_is_news_once() -> None:
    gone = ResourceDeleted(kind="Pod", namespace="apps", name="p", uid="u1")
    assert changed(observe.pod(POD), gone)
    assert not changed(gone, gone)
    assert changed(gone, observe.pod(POD))  # recreated under the same name


def test_a_deployment_status() -> None:
    got = observe.deployment(
        {
            "metadata": {
                "name": "web-blue",
                "namespace": "apps",
                "generation": 3,
                "resourceVersion": "5",
            },
            "spec": {"replicas": 2},
            "status": {
                "observedGeneration": 3,
                "replicas": 3,
                "updatedReplicas": 2,
                "availableReplicas": 1,
                "conditions": [
                    {
                        "type": "Progressing",
                        "status": "True",
                        "reason": "ReplicaSetUpdated",
                        "lastUpdateTime": "x",
                    }
                ],
            },
        }
    )
    assert (got.generation, got.observed_generation, got.replicas, got.status_replicas) == (
        3,
        3,
        2,
        3,
    )
    assert got.conditions[0].reason == "ReplicaSetUpdated"


def test_an_ingress_address_and_port() -> None:
    got = observe.ingress(
        {
            "metadata": {"name": "web", "namespace": "apps", "labels": {"app": "web"}},
            "spec": {"rules": [{"host": "web.localhost"}, {"host": "web-blue.localhost"}]},
            "status": {
                "loadBalancer": {"ingress": [{"hostname": "localhost", "ports": [{"port": 8081}]}]}
            },
        }
    )
    assert (got.hosts, got.address, got.port) == (
        ["web.localhost", "web-blue.localhost"],
        "localhost",
        8081,
    )
    bare = observe.ingress({"metadata": {"name": "web"}, "status": {"loadBalancer": {}}})
    assert (bare.address, bare.port) == (None, None)


def test_a_kubernetes_event() -> None:
    got = observe.kube_event(
        {
            "metadata": {"name": "web.17a", "namespace": "apps"},
            "involvedObject": {"kind": "Pod", "name": "web-blue-abc12"},
            "reason": "BackOff",
            "message": "Back-off pulling image",
            "type": "Warning",
            "count": 3,
            "lastTimestamp": "2026-11-25T12:00:09Z",
        }
    )
    assert (got.involved_name, got.reason, got.count, got.name) == (
        "web-blue-abc12",
        "BackOff",
        3,
        "web.17a",
    )


def test_pod_metrics() -> None:
    got = observe.pod_metrics(
        {
            "metadata": {"name": "p", "namespace": "apps"},
            "window": "30s",
            "containers": [{"name": "app", "usage": {"cpu": "12500000n", "memory": "64Mi"}}],
        }
    )
    assert got.window_s == 30.0
    assert (got.containers[0].cpu_millicores, got.containers[0].memory_bytes) == (12.5, 64 << 20)
    assert got.interval_s is None


def test_pod_metrics_state_the_polling_interval() -> None:
    """Readers coalesce to one sample per pod per interval; the sample says which (ADR 0023)."""
    item = {"metadata": {"name": "p", "namespace": "apps"}, "window": "30s", "containers": []}
    assert observe.pod_metrics(item, 5.0).interval_s == 5.0


@pytest.mark.parametrize(
    ("text", "value"), [("250m", 250.0), ("1", 1000.0), ("2500u", 2.5), ("0", 0.0)]
)
def test_millicores(text: str, value: float) -> None:
    assert millicores(text) == value


@pytest.mark.parametrize(
    ("text", "value"), [("64Mi", 64 << 20), ("1k", 1000), ("512", 512), ("1Gi", 1 << 30)]
)
def test_bytes(text: str, value: int) -> None:
    assert byte_count(text) == value


def test_durations() -> None:
    assert (seconds("30s"), seconds("1m30s"), seconds("500ms")) == (30.0, 90.0, 0.5)
