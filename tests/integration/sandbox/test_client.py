"""kubernetes-asyncio, unchanged, against the sandbox API server over a real socket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from kubernetes_asyncio import client, watch
from kubernetes_asyncio.client.exceptions import ApiException

from flightdeck.sandbox import Sandbox
from tests.integration.sandbox.informer import PodInformer, pod_state
from tests.support import manifests
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

APPLY = "application/apply-patch+yaml"


async def raw(call: Any) -> Any:
    """The JSON body of a kubernetes-asyncio call made with ``_preload_content=False``."""
    response = await call
    return json.loads(await response.read())


async def rolled_out(apps: client.AppsV1Api, namespace: str, name: str) -> bool:
    d = await raw(apps.read_namespaced_deployment(name, namespace, _preload_content=False))
    status, replicas = d.get("status", {}), d["spec"]["replicas"]
    return (
        status.get("observedGeneration", 0) >= d["metadata"]["generation"]
        and status.get("updatedReplicas", 0) == replicas == status.get("availableReplicas", 0)
        and status.get("replicas", 0) == replicas
    )


async def test_discovery_answers_like_kubernetes_1_32(api_client: client.ApiClient) -> None:
    version = await client.VersionApi(api_client).get_code()
    groups = await client.ApisApi(api_client).get_api_versions()
    core = await client.CoreApi(api_client).get_api_versions()
    resources = await client.AppsV1Api(api_client).get_api_resources()

    assert (version.major, version.minor) == ("1", "32")
    assert {g.name for g in groups.groups} >= {"apps", "networking.k8s.io", "metrics.k8s.io"}
    assert core.versions == ["v1"]
    by_name = {r.name: r for r in resources.resources}
    assert by_name["deployments"].short_names == ["deploy"]
    assert by_name["deployments/scale"].kind == "Scale"


async def test_errors_are_status_objects_with_reason_and_code(
    apps: client.AppsV1Api, namespace: str
) -> None:
    body = manifests.deployment("web", "shop/web:v1")
    created = await apps.create_namespaced_deployment(namespace, body)

    with pytest.raises(ApiException) as missing:
        await apps.read_namespaced_deployment("nope", namespace)
    with pytest.raises(ApiException) as duplicate:
        await apps.create_namespaced_deployment(namespace, body)
    bad = manifests.deployment("bad", "shop/web:v1")
    bad["spec"]["selector"] = {"matchLabels": {"app": "other"}}
    with pytest.raises(ApiException) as invalid:
        await apps.create_namespaced_deployment(namespace, bad)
    stale = {**body, "metadata": {**body["metadata"], "resourceVersion": "1"}}
    with pytest.raises(ApiException) as conflict:
        await apps.replace_namespaced_deployment("web", namespace, stale)

    assert created.metadata.generation == 1
    assert (missing.value.status, json.loads(missing.value.body)["reason"]) == (404, "NotFound")
    assert json.loads(missing.value.body)["message"] == 'deployments.apps "nope" not found'
    assert (duplicate.value.status, json.loads(duplicate.value.body)["reason"]) == (
        409,
        "AlreadyExists",
    )
    details = json.loads(invalid.value.body)
    assert (invalid.value.status, details["reason"]) == (422, "Invalid")
    assert details["details"]["causes"][0]["field"] == "spec.template.metadata.labels"
    assert (conflict.value.status, json.loads(conflict.value.body)["reason"]) == (409, "Conflict")


async def test_label_and_field_selectors(core: client.CoreV1Api, namespace: str) -> None:
    for name, labels in [
        ("a", {"env": "prod", "tier": "web"}),
        ("b", {"env": "dev", "tier": "web"}),
        ("c", {"env": "prod", "tier": "db", "canary": "yes"}),
    ]:
        await core.create_namespaced_pod(namespace, manifests.pod(name, "shop/app:v1", labels))

    async def names(**selectors: str) -> list[str]:
        found = await core.list_namespaced_pod(namespace, **selectors)
        return sorted(p.metadata.name for p in found.items)

    assert await names(label_selector="env=prod") == ["a", "c"]
    assert await names(label_selector="env in (prod,dev),tier!=db") == ["a", "b"]
    assert await names(label_selector="env notin (dev),!canary") == ["a"]
    assert await names(label_selector="canary") == ["c"]
    assert await names(field_selector="metadata.name=b") == ["b"]
    assert await names(field_selector="metadata.namespace!=" + namespace) == []
    await eventually(lambda: names(field_selector="status.phase=Running"), what="pods running")
    running = await names(field_selector="status.phase=Running,spec.nodeName!=")
    assert running == ["a", "b", "c"]


async def test_strategic_merge_json_merge_and_json_patch(
    apps: client.AppsV1Api, namespace: str
) -> None:
    await apps.create_namespaced_deployment(
        namespace, manifests.deployment("web", "shop/web:v1", env={"A": "1", "B": "2"})
    )

    await apps.patch_namespaced_deployment(
        "web",
        namespace,
        {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": "app",
                                "env": [
                                    {"name": "C", "value": "3"},
                                    {"name": "A", "$patch": "delete"},
                                ],
                            },
                        ]
                    }
                }
            }
        },
        _content_type="application/strategic-merge-patch+json",
    )
    await apps.patch_namespaced_deployment(
        "web",
        namespace,
        {"metadata": {"labels": {"team": "shop"}}},
        _content_type="application/merge-patch+json",
    )
    patched = await apps.patch_namespaced_deployment(
        "web",
        namespace,
        [{"op": "replace", "path": "/spec/replicas", "value": 3}],
        _content_type="application/json-patch+json",
    )

    container = patched.spec.template.spec.containers[0]
    assert container.image == "shop/web:v1"
    assert [(e.name, e.value) for e in container.env] == [("B", "2"), ("C", "3")]
    assert patched.metadata.labels == {"app": "web", "team": "shop"}
    assert patched.spec.replicas == 3
    assert patched.metadata.generation == 3


async def test_server_side_apply_creates_tracks_owners_and_conflicts(
    core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str
) -> None:
    config = manifests.deployment("api", "shop/api:v1", replicas=2, env={"MODE": "a", "OLD": "x"})
    created = await apps.patch_namespaced_deployment(
        "api", namespace, config, field_manager="flightdeck", force=True, _content_type=APPLY
    )
    again = await apps.patch_namespaced_deployment(
        "api", namespace, config, field_manager="flightdeck", force=True, _content_type=APPLY
    )
    svc = manifests.service("api", {"app": "api"})
    first_svc = await core.patch_namespaced_service(
        "api", namespace, svc, field_manager="flightdeck", _content_type=APPLY
    )
    same_svc = await core.patch_namespaced_service(
        "api", namespace, svc, field_manager="flightdeck", _content_type=APPLY
    )
    rival = manifests.deployment("api", "shop/api:v1", replicas=5)
    with pytest.raises(ApiException) as conflict:
        await apps.patch_namespaced_deployment(
            "api", namespace, rival, field_manager="ops", _content_type=APPLY
        )
    config["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "MODE", "value": "b"}]
    changed = await apps.patch_namespaced_deployment(
        "api", namespace, config, field_manager="flightdeck", force=False, _content_type=APPLY
    )
    taken = await apps.patch_namespaced_deployment(
        "api", namespace, rival, field_manager="ops", force=True, _content_type=APPLY
    )

    assert created.metadata.generation == 1
    assert again.metadata.generation == 1
    assert same_svc.metadata.resource_version == first_svc.metadata.resource_version, (
        "a no-op apply wrote"
    )
    assert first_svc.spec.cluster_ip.startswith("10.96.")
    assert conflict.value.status == 409
    causes = json.loads(conflict.value.body)["details"]["causes"]
    assert {
        "type": "FieldManagerConflict",
        "message": 'conflict with "flightdeck" using apps/v1',
        "field": ".spec.replicas",
    } in causes
    assert [(e.name, e.value) for e in changed.spec.template.spec.containers[0].env] == [
        ("MODE", "b")
    ]
    assert taken.spec.replicas == 5
    assert {m.manager for m in taken.metadata.managed_fields} == {"flightdeck", "ops"}


async def test_scale_subresource(apps: client.AppsV1Api, namespace: str) -> None:
    await apps.create_namespaced_deployment(namespace, manifests.deployment("web", "shop/web:v1"))

    scale = await apps.patch_namespaced_deployment_scale(
        "web", namespace, {"spec": {"replicas": 4}}
    )
    await eventually(lambda: rolled_out(apps, namespace, "web"), what="4 replicas")
    read = await apps.read_namespaced_deployment_scale("web", namespace)

    assert (scale.kind, scale.api_version, scale.spec.replicas) == ("Scale", "autoscaling/v1", 4)
    assert (read.status.replicas, read.status.selector) == (4, "app=web")


async def test_watch_sees_every_pod_transition_of_a_rollout_in_order(
    core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str
) -> None:
    await apps.create_namespaced_deployment(namespace, manifests.deployment("web", "shop/web:v1"))
    await eventually(lambda: rolled_out(apps, namespace, "web"), what="first rollout")
    listed = await raw(core.list_namespaced_pod(namespace, _preload_content=False))
    old_pods = {p["metadata"]["name"] for p in listed["items"]}
    seen = {p["metadata"]["name"]: [pod_state(p)] for p in listed["items"]}
    versions: list[int] = []

    async def follow() -> None:
        async with watch.Watch() as stream:
            async for event in stream.stream(
                core.list_namespaced_pod,
                namespace,
                resource_version=listed["metadata"]["resourceVersion"],
            ):
                obj = event["raw_object"]
                versions.append(int(obj["metadata"]["resourceVersion"]))
                state = "DELETED" if event["type"] == "DELETED" else pod_state(obj)
                states = seen.setdefault(obj["metadata"]["name"], [])
                if not states or states[-1] != state:
                    states.append(state)

    watcher = asyncio.create_task(follow())
    await apps.patch_namespaced_deployment(
        "web",
        namespace,
        {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "shop/web:v2"}]}}}},
    )
    await eventually(lambda: rolled_out(apps, namespace, "web"), what="second rollout")
    await eventually(
        lambda: all(seen.get(p, [""])[-1] == "DELETED" for p in old_pods), what="old pods deleted"
    )
    watcher.cancel()

    new_pods = set(seen) - old_pods
    assert len(new_pods) == 2
    for name in new_pods:
        assert seen[name] == ["Pending", "Scheduled", "ContainerCreating", "Running", "Ready"], name
    for name in old_pods:
        assert seen[name] == ["Ready", "Terminating", "DELETED"], name
    assert versions == sorted(versions) and len(set(versions)) == len(versions)


async def test_relist_and_rewatch_after_410_loses_nothing(
    sandbox: Sandbox, core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str
) -> None:
    await apps.create_namespaced_deployment(
        namespace, manifests.deployment("web", "shop/web:v1", replicas=3)
    )
    await eventually(lambda: rolled_out(apps, namespace, "web"), what="first rollout")
    informer = PodInformer(core, namespace)
    running = asyncio.create_task(informer.run())
    await eventually(lambda: len(informer.cache) == 3, what="informer synced")

    await apps.patch_namespaced_deployment(
        "web",
        namespace,
        {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "shop/web:v2"}]}}}},
    )
    await eventually(lambda: len(informer.history) > 3, what="rollout under way")
    await sandbox.faults.expire_resource_versions(drop_watches=True)
    await eventually(lambda: rolled_out(apps, namespace, "web"), what="second rollout")

    async def in_sync() -> bool:
        server = await raw(core.list_namespaced_pod(namespace, _preload_content=False))
        truth = {p["metadata"]["name"]: p["metadata"]["resourceVersion"] for p in server["items"]}
        settled = not any(p["metadata"].get("deletionTimestamp") for p in server["items"])
        return settled and truth == {
            n: p["metadata"]["resourceVersion"] for n, p in informer.cache.items()
        }

    await eventually(in_sync, what="informer equal to the server")
    running.cancel()

    assert informer.expired >= 1 and informer.lists >= 2
    created = await core.list_namespaced_event(namespace, field_selector="reason=SuccessfulCreate")
    every_pod = {e.message.removeprefix("Created pod: ") for e in created.items}
    assert every_pod == set(informer.history), "a pod the cluster created was never seen"
    order = [
        "Pending",
        "Scheduled",
        "ContainerCreating",
        "Running",
        "Ready",
        "Terminating",
        "DELETED",
    ]
    for name, states in informer.history.items():
        assert states == sorted(states, key=order.index), f"{name} went backwards: {states}"
        assert states[-1] in ("Ready", "DELETED"), f"{name} ended as {states[-1]}"


async def test_watch_from_an_expired_version_gets_410_and_bookmarks_when_asked(
    sandbox: Sandbox, core: client.CoreV1Api, namespace: str
) -> None:
    await core.create_namespaced_pod(namespace, manifests.pod("a", "shop/app:v1", {"app": "a"}))
    listed = await raw(core.list_namespaced_pod(namespace, _preload_content=False))
    await sandbox.faults.expire_resource_versions()
    url = f"{sandbox.k8s_url}/api/v1/namespaces/{namespace}/pods"

    async with httpx.AsyncClient(timeout=30) as http:
        old = await http.get(
            url, params={"watch": "True", "resourceVersion": listed["metadata"]["resourceVersion"]}
        )
        fresh = await raw(core.list_namespaced_pod(namespace, _preload_content=False))
        lines: list[dict[str, Any]] = []
        async with http.stream(
            "GET",
            url,
            params={
                "watch": "true",
                "resourceVersion": fresh["metadata"]["resourceVersion"],
                "allowWatchBookmarks": "true",
                "timeoutSeconds": "30",
            },
        ) as live:
            async for line in live.aiter_lines():
                lines.append(json.loads(line))
                if lines[-1]["type"] == "BOOKMARK":
                    break

    error = json.loads(old.text.splitlines()[0])
    assert old.status_code == 200 and old.headers["content-type"] == "application/json"
    assert error["type"] == "ERROR"
    assert (error["object"]["code"], error["object"]["reason"]) == (410, "Expired")
    assert lines[-1]["object"]["kind"] == "Pod" and int(
        lines[-1]["object"]["metadata"]["resourceVersion"]
    ) >= int(fresh["metadata"]["resourceVersion"])


async def test_pod_logs_tail_timestamps_since_and_follow_until_deleted(
    sandbox: Sandbox, core: client.CoreV1Api, namespace: str
) -> None:
    await core.create_namespaced_pod(
        namespace, manifests.pod("talker", "shop/app:v1", {"app": "talker"})
    )

    async def enough_lines() -> str | None:
        try:
            text = await core.read_namespaced_pod_log("talker", namespace)
        except ApiException:
            return None
        return text if len(text.splitlines()) >= 12 else None

    everything = await eventually(enough_lines, what="log lines")
    tail = await core.read_namespaced_pod_log("talker", namespace, tail_lines=3, timestamps=True)
    recent = await core.read_namespaced_pod_log(
        "talker", namespace, since_seconds=3600, container="app"
    )
    url = f"{sandbox.k8s_url}/api/v1/namespaces/{namespace}/pods/talker/log"
    async with httpx.AsyncClient() as http:
        future = await http.get(url, params={"sinceTime": "2999-01-01T00:00:00Z"})
        limited = await http.get(url, params={"limitBytes": "10"})
    response = await core.read_namespaced_pod_log(
        "talker", namespace, follow=True, tail_lines=1, _preload_content=False
    )
    first = await response.content.readline()
    second = await response.content.readline()
    await core.delete_namespaced_pod("talker", namespace)
    rest = await asyncio.wait_for(response.content.read(), 20)
    response.release()

    lines = everything.splitlines()
    assert lines[0].startswith("INFO starting app")
    assert any('"level":' in line for line in lines) or any(line.startswith("[") for line in lines)
    assert len(tail.splitlines()) == 3
    assert all(line[:4].isdigit() and line[10] == "T" and " " in line for line in tail.splitlines())
    assert recent.splitlines()[0] == lines[0]
    assert future.status_code == 200 and future.text == ""
    assert limited.headers["content-type"] == "text/plain" and len(limited.content) == 10
    assert first and second and isinstance(rest, bytes)


async def test_pod_metrics_and_tables(
    sandbox: Sandbox, api_client: client.ApiClient, core: client.CoreV1Api, namespace: str
) -> None:
    await core.create_namespaced_pod(namespace, manifests.pod("m", "shop/app:v1", {"app": "m"}))
    metrics = client.CustomObjectsApi(api_client)

    async def pod_metrics() -> dict[str, Any] | None:
        found = await metrics.list_namespaced_custom_object(
            "metrics.k8s.io", "v1beta1", namespace, "pods"
        )
        return found if found["items"] else None

    listed = await eventually(pod_metrics, what="pod metrics")
    one = await metrics.get_namespaced_custom_object(
        "metrics.k8s.io", "v1beta1", namespace, "pods", "m"
    )
    async with httpx.AsyncClient(base_url=sandbox.k8s_url) as http:

        async def ready_table() -> dict[str, Any] | None:
            found = (
                await http.get(
                    f"/api/v1/namespaces/{namespace}/pods",
                    headers={
                        "Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
                    },
                )
            ).json()
            return found if found["rows"] and found["rows"][0]["cells"][1] == "1/1" else None

        table = await eventually(ready_table, what="a ready pod in the table")

    assert listed["kind"] == "PodMetricsList" and one["kind"] == "PodMetrics"
    assert one["containers"][0]["name"] == "app" and one["containers"][0]["usage"]["cpu"].endswith(
        "n"
    )
    assert table["kind"] == "Table"
    assert [c["name"] for c in table["columnDefinitions"]][:5] == [
        "Name",
        "Ready",
        "Status",
        "Restarts",
        "Age",
    ]
    assert table["rows"][0]["cells"][:4] == ["m", "1/1", "Running", "0"]


async def test_deleted_pod_is_replaced_and_deployment_deletion_collects_garbage(
    core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str
) -> None:
    await apps.create_namespaced_deployment(namespace, manifests.deployment("web", "shop/web:v1"))
    await eventually(lambda: rolled_out(apps, namespace, "web"), what="rollout")
    victim = (await core.list_namespaced_pod(namespace)).items[0].metadata.name

    deleted = await raw(core.delete_namespaced_pod(victim, namespace, _preload_content=False))

    async def replaced() -> bool:
        pods = (await core.list_namespaced_pod(namespace)).items
        return victim not in {p.metadata.name for p in pods} and len(pods) == 2

    await eventually(replaced, what="replacement pod")
    await apps.delete_namespaced_deployment("web", namespace)

    async def collected() -> bool:
        rs = await apps.list_namespaced_replica_set(namespace)
        pods = await core.list_namespaced_pod(namespace)
        return not rs.items and not pods.items

    await eventually(collected, what="garbage collection")

    assert deleted["kind"] == "Pod" and deleted["metadata"]["deletionTimestamp"]


async def test_watch_selectors_turn_relabels_into_added_and_deleted(
    sandbox: Sandbox, core: client.CoreV1Api, namespace: str
) -> None:
    await core.create_namespaced_pod(namespace, manifests.pod("p", "shop/app:v1", {"team": "a"}))
    url = f"{sandbox.k8s_url}/api/v1/namespaces/{namespace}/pods"
    events: list[tuple[str, str]] = []

    async with httpx.AsyncClient(timeout=30) as http:
        async with http.stream(
            "GET", url, params={"watch": "1", "labelSelector": "team=a", "timeoutSeconds": "20"}
        ) as live:
            lines = live.aiter_lines()
            events.append(await _transition(lines))
            await core.patch_namespaced_pod("p", namespace, {"metadata": {"labels": {"team": "b"}}})
            events.append(await _transition(lines))
            await core.patch_namespaced_pod("p", namespace, {"metadata": {"labels": {"team": "a"}}})
            events.append(await _transition(lines))
        ended = await http.get(
            url,
            params={
                "watch": "true",
                "timeoutSeconds": "1",
                "fieldSelector": "metadata.name=nothing",
            },
        )

    assert events == [("ADDED", "a"), ("DELETED", "b"), ("ADDED", "a")]
    assert ended.status_code == 200 and ended.text == ""


async def _transition(lines: AsyncIterator[str]) -> tuple[str, str]:
    """The next event that is not a status update (the kubelet keeps modifying the pod)."""
    async for line in lines:
        event = json.loads(line)
        if event["type"] != "MODIFIED":
            return event["type"], event["object"]["metadata"]["labels"]["team"]
    raise AssertionError("the watch ended")
