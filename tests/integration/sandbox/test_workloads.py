"""Simulated workloads: failure markers, HTTP through the ingress port, injected faults."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException

from flightdeck.sandbox import Sandbox
from tests.support import manifests
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


async def container_status(core: client.CoreV1Api, namespace: str, selector: str) -> Any:
    pods = (await core.list_namespaced_pod(namespace, label_selector=selector)).items
    if not pods or not pods[0].status.container_statuses:
        return None
    return pods[0], pods[0].status.container_statuses[0]


async def ready_pods(core: client.CoreV1Api, namespace: str, selector: str) -> set[str]:
    pods = (await core.list_namespaced_pod(namespace, label_selector=selector)).items
    return {
        p.metadata.name
        for p in pods
        if p.status.container_statuses
        and p.status.container_statuses[0].ready
        and not p.metadata.deletion_timestamp
    }


async def test_pull_failure_marker_backs_off(
    core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str
) -> None:
    await apps.create_namespaced_deployment(
        namespace, manifests.deployment("bad", "shop/bad:v1-pullfail", replicas=1)
    )

    async def waiting(reason: str) -> Any:
        found = await container_status(core, namespace, "app=bad")
        return (
            found
            if found and found[1].state.waiting and found[1].state.waiting.reason == reason
            else None
        )

    await eventually(lambda: waiting("ErrImagePull"), what="ErrImagePull")
    pod, status = await eventually(lambda: waiting("ImagePullBackOff"), what="ImagePullBackOff")
    events = await core.list_namespaced_event(
        namespace, field_selector=f"involvedObject.name={pod.metadata.name}"
    )

    assert pod.status.phase == "Pending" and not status.ready and status.restart_count == 0
    assert status.state.waiting.message == 'Back-off pulling image "shop/bad:v1-pullfail"'
    reasons = {(e.type, e.reason) for e in events.items}
    assert {("Normal", "Pulling"), ("Warning", "Failed"), ("Normal", "BackOff")} <= reasons


async def test_crash_marker_loops_with_growing_restarts(
    core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str
) -> None:
    await apps.create_namespaced_deployment(
        namespace, manifests.deployment("crashy", "shop/c:v1-crash", replicas=1)
    )

    async def looping() -> Any:
        found = await container_status(core, namespace, "app=crashy")
        if not found or not found[1].state.waiting or found[1].restart_count < 2:
            return None
        return found if found[1].state.waiting.reason == "CrashLoopBackOff" else None

    pod, status = await eventually(looping, what="CrashLoopBackOff with 2 restarts")
    previous = await core.read_namespaced_pod_log(pod.metadata.name, namespace, previous=True)

    assert pod.status.phase == "Running" and not status.ready
    assert (
        status.last_state.terminated.exit_code == 1
        and status.last_state.terminated.reason == "Error"
    )
    assert "back-off" in status.state.waiting.message
    assert "panic: runtime error" in previous


async def test_ingress_routes_by_host_to_ready_pods_and_follows_the_service(
    sandbox: Sandbox,
    core: client.CoreV1Api,
    apps: client.AppsV1Api,
    api_client: client.ApiClient,
    namespace: str,
) -> None:
    blue = manifests.deployment("shop-blue", "shop/web:v1", labels={"app": "shop", "color": "blue"})
    green = manifests.deployment(
        "shop-green", "shop/web:v2-unhealthy", labels={"app": "shop", "color": "green"}
    )
    for body in (blue, green):
        await apps.create_namespaced_deployment(namespace, body)
    await core.create_namespaced_service(
        namespace, manifests.service("shop", {"app": "shop", "color": "blue"})
    )
    net = client.NetworkingV1Api(api_client)
    await net.create_namespaced_ingress(
        namespace, manifests.ingress("shop", f"shop.{namespace}.test", "shop")
    )
    host = {"Host": f"shop.{namespace}.test"}
    blue_pods = await eventually(
        lambda: _count(ready_pods(core, namespace, "color=blue"), 2), what="blue ready"
    )
    green_pods = await eventually(
        lambda: _count(ready_pods(core, namespace, "color=green"), 2), what="green ready"
    )

    async with httpx.AsyncClient(base_url=sandbox.ingress_url, timeout=10) as http:
        served = [await http.get("/healthz", headers=host) for _ in range(6)]
        await core.patch_namespaced_service(
            "shop", namespace, {"spec": {"selector": {"app": "shop", "color": "green"}}}
        )
        green_health = await http.get("/healthz", headers=host)
        green_page = await http.get("/", headers=host)
        direct = await http.get("/", headers={"Host": f"shop.{namespace}.svc.cluster.local"})
        nowhere = await http.get("/", headers={"Host": "nobody.test"})
        await core.patch_namespaced_service(
            "shop", namespace, {"spec": {"selector": {"app": "none"}}}
        )
        unavailable = await http.get("/", headers=host)

    async def addressed() -> Any:
        found = await net.read_namespaced_ingress("shop", namespace)
        return found.status.load_balancer.ingress

    lb = await eventually(addressed, what="ingress address")
    assert all(r.status_code == 200 and r.json()["color"] == "blue" for r in served)
    assert {r.headers["X-Sandbox-Pod"] for r in served} == blue_pods
    assert green_health.status_code == 500 and green_health.json()["healthy"] is False
    assert green_page.status_code == 200 and green_page.headers["X-Sandbox-Pod"] in green_pods
    assert direct.status_code == 200 and direct.json()["color"] == "green"
    assert nowhere.status_code == 404
    assert unavailable.status_code == 503
    assert (lb[0].hostname, lb[0].ports[0].port) == (
        "localhost",
        int(sandbox.ingress_url.rsplit(":", 1)[1]),
    )


async def _count(found: Any, wanted: int) -> set[str] | None:
    pods = await found
    return pods if len(pods) == wanted else None


async def test_failure_rate_and_health_path_come_from_the_pod_env(
    sandbox: Sandbox, core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str
) -> None:
    flaky = manifests.deployment(
        "flaky",
        "shop/web:v1",
        replicas=1,
        env={"SANDBOX_FAILURE_RATE": "1.0", "SANDBOX_HEALTH_PATH": "/ready"},
    )
    await apps.create_namespaced_deployment(namespace, flaky)
    await core.create_namespaced_service(namespace, manifests.service("flaky", {"app": "flaky"}))
    await eventually(lambda: ready_pods(core, namespace, "app=flaky"), what="flaky ready")

    async with httpx.AsyncClient(base_url=sandbox.ingress_url, timeout=10) as http:
        answers = [
            await http.get("/ready", headers={"Host": f"flaky.{namespace}.svc"}) for _ in range(3)
        ]

    assert all(a.status_code == 500 and a.json()["status"] == "error" for a in answers)


async def test_injected_api_faults(
    sandbox: Sandbox, core: client.CoreV1Api, namespace: str
) -> None:
    await sandbox.faults.fail_api(status=503, count=2)
    failures = []
    for _ in range(2):
        with pytest.raises(ApiException) as failed:
            await core.list_namespaced_pod(namespace)
        failures.append(failed.value.status)
    recovered = await core.list_namespaced_pod(namespace)
    await sandbox.faults.delay_api(0.3, count=1)
    started = time.monotonic()
    await core.list_namespaced_pod(namespace)
    delayed = time.monotonic() - started

    assert failures == [503, 503]
    assert recovered.items == []
    assert delayed >= 0.3


async def test_killed_pod_is_replaced_by_its_replicaset(
    sandbox: Sandbox, core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str
) -> None:
    await apps.create_namespaced_deployment(namespace, manifests.deployment("web", "shop/web:v1"))
    before = await eventually(
        lambda: _count(ready_pods(core, namespace, "app=web"), 2), what="2 ready"
    )
    victim = sorted(before)[0]

    await sandbox.faults.kill_pod(namespace, victim)
    after = await eventually(
        lambda: _count(ready_pods(core, namespace, "app=web"), 2), what="a replacement"
    )

    assert victim not in after and len(after - before) == 1
