"""The sandbox keeps its cluster in its state dir across restarts, as a real cluster would.

Before, a second ``flightdeck up`` found an empty cluster while the event history
remembered the previous colour ("old colour: no answer (error rate 100%)").
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import httpx
import pytest
from kubernetes_asyncio import client

from flightdeck.sandbox import Sandbox
from tests.integration.sandbox.conftest import TEST_CONFIG
from tests.support import manifests
from tests.support.kube import kube_api
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration
NAMESPACE = "kept"


async def _ready_pods(core: client.CoreV1Api) -> dict[str, Any] | None:
    pods = (await core.list_namespaced_pod(NAMESPACE, label_selector="app=web")).items
    ready = {
        p.metadata.name: p
        for p in pods
        if p.status.phase == "Running"
        and p.status.container_statuses
        and all(c.ready for c in p.status.container_statuses)
    }
    return ready if len(ready) == 2 else None


async def _ecr_tags(sandbox: Sandbox, repository: str) -> set[str]:
    import aioboto3

    session = aioboto3.Session()
    async with session.client(
        "ecr",
        endpoint_url=sandbox.aws_endpoint,
        region_name=sandbox.aws_region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ) as ecr:
        found = await ecr.describe_images(repositoryName=repository)
    return {tag for d in found["imageDetails"] for tag in d.get("imageTags", [])}


async def test_a_restarted_sandbox_keeps_its_workloads_pods_images_and_addresses(
    tmp_path: Path,
) -> None:
    state = tmp_path / "sandbox"
    # arrange: a deployment, its service and ingress, ready pods, an image in ECR
    async with Sandbox(state, config=TEST_CONFIG) as first:
        async with kube_api(first.kubeconfig) as api:
            core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
            networking = client.NetworkingV1Api(api)
            await core.create_namespace(
                client.V1Namespace(metadata=client.V1ObjectMeta(name=NAMESPACE))
            )
            await apps.create_namespaced_deployment(
                NAMESPACE, manifests.deployment("web", "shop/web:v1", replicas=2)
            )
            await core.create_namespaced_service(
                NAMESPACE, manifests.service("web", {"app": "web"})
            )
            await networking.create_namespaced_ingress(
                NAMESPACE, manifests.ingress("web", "web.localhost", "web")
            )
            before = await eventually(lambda: _ready_pods(core), what="2 ready pods")
            deployment_uid = (await apps.read_namespaced_deployment("web", NAMESPACE)).metadata.uid
        await first.push_image("shop/web", "v1")
        urls = (first.k8s_url, first.ingress_url, first.aws_endpoint)

    # act: a new sandbox on the same state dir
    async with Sandbox(state, config=TEST_CONFIG) as second:
        async with kube_api(second.kubeconfig) as api:
            core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
            kept = await apps.read_namespaced_deployment("web", NAMESPACE)
            services = (await core.list_namespaced_service(NAMESPACE)).items
            after = await eventually(lambda: _ready_pods(core), what="2 ready pods again")
            async with httpx.AsyncClient(timeout=10) as http:
                answer = await http.get(second.ingress_url, headers={"Host": "web.localhost"})
        tags = await _ecr_tags(second, "shop/web")
        # a new object gets a new uid, never one the cluster already has
        async with kube_api(second.kubeconfig) as api:
            other = await client.AppsV1Api(api).create_namespaced_deployment(
                NAMESPACE, manifests.deployment("other", "shop/web:v1", replicas=1)
            )
        second_urls = (second.k8s_url, second.ingress_url, second.aws_endpoint)

    # assert: the same objects (same uids), running again, served, the image still in ECR
    assert kept.metadata.uid == deployment_uid
    assert [s.metadata.name for s in services] == ["web"]
    assert set(after) == set(before)
    assert answer.status_code == 200
    assert tags == {"v1"}
    assert other.metadata.uid not in {deployment_uid, *(p.metadata.uid for p in after.values())}
    assert second_urls == urls  # the same addresses: kubeconfigs and app URLs stay good
    assert stat.S_IMODE((state / "cluster.json").stat().st_mode) == 0o600  # the owner's alone


async def test_a_sandbox_on_an_empty_state_dir_starts_empty(tmp_path: Path) -> None:
    box = await Sandbox(tmp_path / "fresh", config=TEST_CONFIG).start()
    try:
        async with kube_api(box.kubeconfig) as api:
            namespaces = await client.CoreV1Api(api).list_namespace()
            deployments = await client.AppsV1Api(api).list_deployment_for_all_namespaces()
    finally:
        await box.stop()
    assert {n.metadata.name for n in namespaces.items} == {
        "default",
        "kube-system",
        "kube-public",
        "kube-node-lease",
    }
    assert deployments.items == []
