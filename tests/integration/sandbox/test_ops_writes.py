"""The orchestrator's ops writes (ADR 0022) against the sandbox, as kubectl makes them:
a deleted pod is replaced by its ReplicaSet, a rollout restart (strategic merge patch
of ``restartedAt``) rolls out a new ReplicaSet, a scale goes through the subresource;
a missing pod is a 404 with the API server's reason. kubectl agrees with what it sees."""

from __future__ import annotations

import json

import pytest
from kubernetes_asyncio import client

from flightdeck.orchestrator.adapters.kubernetes import Kubernetes
from flightdeck.orchestrator.domain.ops import RESTARTED_AT
from flightdeck.orchestrator.domain.writes import KubeWriteError
from tests.integration.sandbox.kubectl import Kubectl
from tests.support import manifests
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


async def ready_pods(core: client.CoreV1Api, namespace: str) -> list[str]:
    pods = (await core.list_namespaced_pod(namespace, label_selector="app=web")).items
    return sorted(
        p.metadata.name
        for p in pods
        if p.metadata.deletion_timestamp is None
        and any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])
    )


async def test_delete_restart_and_scale_as_kubectl_would(
    api_client: client.ApiClient,
    apps: client.AppsV1Api,
    core: client.CoreV1Api,
    namespace: str,
) -> None:
    kube = Kubernetes(api_client)
    await apps.create_namespaced_deployment(namespace, manifests.deployment("web", "shop/web:v1"))
    first = await eventually(lambda: _count(core, namespace, 2), what="two ready pods", within=30)

    await kube.delete_pod(namespace, first[0])
    replaced = await eventually(
        lambda: _replaced(core, namespace, first), what="a replacement pod", within=30
    )

    await kube.restart_rollout(namespace, "web", "2026-12-07T08:00:00Z")
    restarted = await eventually(
        lambda: _all_new(core, namespace, replaced), what="a rolled-out pod set", within=60
    )
    live = await apps.read_namespaced_deployment("web", namespace)

    await kube.scale(namespace, "web", 3)
    scaled = await eventually(lambda: _count(core, namespace, 3), what="three pods", within=30)

    with pytest.raises(KubeWriteError) as missing:
        await kube.delete_pod(namespace, "web-nope")

    assert first[1] in replaced and first[0] not in replaced
    assert set(restarted).isdisjoint(replaced)
    assert live.spec.template.metadata.annotations[RESTARTED_AT] == "2026-12-07T08:00:00Z"
    assert len(scaled) == 3
    assert missing.value.status == 404 and "NotFound" in str(missing.value)


async def test_kubectl_sees_the_restart_annotation_and_the_new_replica_set(
    api_client: client.ApiClient, apps: client.AppsV1Api, kubectl: Kubectl, namespace: str
) -> None:
    kube = Kubernetes(api_client)
    await apps.create_namespaced_deployment(namespace, manifests.deployment("web", "shop/web:v1"))
    await kubectl.ok("-n", namespace, "rollout", "status", "deployment/web", "--timeout=30s")

    await kube.restart_rollout(namespace, "web", "2026-12-07T09:00:00Z")
    status = await kubectl.ok(
        "-n", namespace, "rollout", "status", "deployment/web", "--timeout=60s"
    )
    replica_sets = json.loads(await kubectl.ok("-n", namespace, "get", "rs", "-o", "json"))

    assert 'deployment "web" successfully rolled out' in status
    assert len(replica_sets["items"]) == 2
    annotations = [
        rs["spec"]["template"]["metadata"].get("annotations", {}) for rs in replica_sets["items"]
    ]
    assert {RESTARTED_AT: "2026-12-07T09:00:00Z"} in annotations


async def _count(core: client.CoreV1Api, namespace: str, n: int) -> list[str] | None:
    pods = await ready_pods(core, namespace)
    return pods if len(pods) == n else None


async def _replaced(core: client.CoreV1Api, namespace: str, before: list[str]) -> list[str] | None:
    pods = await ready_pods(core, namespace)
    return pods if len(pods) == 2 and pods != before else None


async def _all_new(core: client.CoreV1Api, namespace: str, before: list[str]) -> list[str] | None:
    pods = await ready_pods(core, namespace)
    return pods if len(pods) == 2 and set(pods).isdisjoint(before) else None
