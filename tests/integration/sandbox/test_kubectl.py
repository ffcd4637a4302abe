"""The real kubectl (a subprocess, KUBECONFIG at the sandbox) sees a cluster like any other."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest
import yaml

from tests.integration.sandbox.kubectl import Kubectl
from tests.support import manifests
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


def as_yaml(*objects: dict[str, object]) -> str:
    return yaml.safe_dump_all(objects)


async def read_until(
    stream: asyncio.StreamReader, wanted: str | Callable[[str], bool], timeout: float = 20.0
) -> list[str]:
    """Lines of a running kubectl's output up to (and with) the first one that is wanted."""
    lines: list[str] = []
    match = wanted if callable(wanted) else (lambda line: wanted in line)

    async def collect() -> None:
        while True:
            line = (await stream.readline()).decode()
            if not line:
                raise AssertionError(f"output ended before {wanted!r}: {lines}")
            lines.append(line.rstrip("\n"))
            if match(line):
                return

    await asyncio.wait_for(collect(), timeout)
    return lines


async def test_apply_twice_then_get_and_describe(kubectl: Kubectl, namespace: str) -> None:
    web = manifests.deployment("web", "shop/web:v1", replicas=2, env={"A": "1"})
    first = await kubectl.ok(
        "-n",
        namespace,
        "apply",
        "-f",
        "-",
        stdin=as_yaml(web, manifests.service("web", {"app": "web"})),
    )
    await kubectl.ok("-n", namespace, "rollout", "status", "deployment/web", "--timeout=30s")
    web["spec"]["template"]["spec"]["containers"][0]["image"] = "shop/web:v2"
    web["spec"]["template"]["spec"]["containers"][0]["env"].append({"name": "B", "value": "2"})
    second = await kubectl.ok("-n", namespace, "apply", "-f", "-", stdin=as_yaml(web))
    status = await kubectl.ok(
        "-n", namespace, "rollout", "status", "deployment/web", "--timeout=30s"
    )

    async def two_new_pods() -> str | None:
        out = await kubectl.ok("-n", namespace, "get", "pods")
        rows = out.splitlines()[1:]
        return out if len(rows) == 2 and all("1/1" in r and "Running" in r for r in rows) else None

    pods = await eventually(two_new_pods, what="two running pods")
    wide = await kubectl.ok("-n", namespace, "get", "pods", "-o", "wide")
    deployments = await kubectl.ok("-n", namespace, "get", "deploy,rs,svc")
    live = json.loads(await kubectl.ok("-n", namespace, "get", "deploy", "web", "-o", "json"))
    described = await kubectl.ok("-n", namespace, "describe", "deployment", "web")
    pod_name = pods.splitlines()[1].split()[0]
    pod_described = await kubectl.ok("-n", namespace, "describe", "pod", pod_name)
    service_described = await kubectl.ok("-n", namespace, "describe", "service", "web")

    assert "deployment.apps/web created" in first and "service/web created" in first
    assert "deployment.apps/web configured" in second
    assert 'deployment "web" successfully rolled out' in status
    assert pods.splitlines()[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert wide.splitlines()[0].split()[:7] == [
        "NAME",
        "READY",
        "STATUS",
        "RESTARTS",
        "AGE",
        "IP",
        "NODE",
    ]
    assert "10.244." in wide and "sandbox-node-" in wide
    rows = {
        line.split()[0]: line.split()[1:]
        for line in deployments.splitlines()
        if line and "NAME" not in line
    }
    assert rows["deployment.apps/web"][:3] == ["2/2", "2", "2"]
    assert rows["service/web"][0] == "ClusterIP"
    assert rows["service/web"][1].startswith("10.96.") and rows["service/web"][3] == "80/TCP"
    container = live["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "shop/web:v2"
    assert container["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    assert "NewReplicaSet:" in described and "Scaled up replica set web-" in described
    assert "Successfully assigned" in pod_described and "Started container app" in pod_described
    endpoints = next(
        line for line in service_described.splitlines() if line.startswith("Endpoints:")
    )
    assert endpoints.count("10.244.") == 2 and endpoints.count(":8080") == 2


async def test_server_side_apply_and_conflicts(kubectl: Kubectl, namespace: str) -> None:
    api = as_yaml(manifests.deployment("api", "shop/api:v1", replicas=2))

    created = await kubectl.ok("-n", namespace, "apply", "--server-side", "-f", "-", stdin=api)
    await kubectl.ok("-n", namespace, "scale", "deployment/api", "--replicas=3")
    refused = await kubectl("-n", namespace, "apply", "--server-side", "-f", "-", stdin=api)
    forced = await kubectl.ok(
        "-n", namespace, "apply", "--server-side", "--force-conflicts", "-f", "-", stdin=api
    )
    replicas = await kubectl.ok(
        "-n", namespace, "get", "deploy", "api", "-o", "jsonpath={.spec.replicas}"
    )

    assert "deployment.apps/api serverside-applied" in created
    assert refused.code == 1 and "conflict" in refused.err and ".spec.replicas" in refused.err
    assert "serverside-applied" in forced
    assert replicas == "2"


async def test_scale_rollout_restart_and_status(kubectl: Kubectl, namespace: str) -> None:
    await kubectl.ok(
        "-n",
        namespace,
        "apply",
        "-f",
        "-",
        stdin=as_yaml(manifests.deployment("web", "shop/web:v1")),
    )
    await kubectl.ok("-n", namespace, "rollout", "status", "deployment/web", "--timeout=30s")
    first_rs = await kubectl.ok("-n", namespace, "get", "rs", "-o", "name")

    scaled = await kubectl.ok("-n", namespace, "scale", "deployment/web", "--replicas=3")
    guarded = await kubectl.ok(
        "-n", namespace, "scale", "deployment/web", "--current-replicas=3", "--replicas=1"
    )
    restarted = await kubectl.ok("-n", namespace, "rollout", "restart", "deployment/web")
    status = await kubectl.ok(
        "-n", namespace, "rollout", "status", "deployment/web", "--timeout=30s"
    )
    rs = await kubectl.ok("-n", namespace, "get", "rs")
    annotation = await kubectl.ok(
        "-n",
        namespace,
        "get",
        "deploy",
        "web",
        "-o",
        "jsonpath={.spec.template.metadata.annotations}",
    )

    assert "deployment.apps/web scaled" in scaled and "deployment.apps/web scaled" in guarded
    assert "deployment.apps/web restarted" in restarted
    assert 'deployment "web" successfully rolled out' in status
    assert len(rs.splitlines()) == 3 and first_rs.strip().split("/")[1] in rs
    assert "kubectl.kubernetes.io/restartedAt" in annotation


async def test_rollout_status_fails_past_the_progress_deadline(
    kubectl: Kubectl, namespace: str
) -> None:
    crashing = manifests.deployment("crashy", "shop/web:v1-crash", replicas=1, progress_deadline=30)
    await kubectl.ok("-n", namespace, "apply", "-f", "-", stdin=as_yaml(crashing))

    result = await kubectl(
        "-n", namespace, "rollout", "status", "deployment/crashy", "--timeout=40s"
    )
    pods = await kubectl.ok("-n", namespace, "get", "pods")

    assert result.code == 1
    assert 'deployment "crashy" exceeded its progress deadline' in result.err
    assert "CrashLoopBackOff" in pods or "Error" in pods or "Running" in pods


async def test_logs_follow_ends_when_the_pod_goes(kubectl: Kubectl, namespace: str) -> None:
    await kubectl.ok(
        "-n",
        namespace,
        "apply",
        "-f",
        "-",
        stdin=as_yaml(manifests.pod("talker", "shop/app:v1", {"app": "talker"})),
    )
    await kubectl.ok(
        "-n", namespace, "wait", "--for=condition=Ready", "pod/talker", "--timeout=30s"
    )

    follower = await kubectl.start(
        "-n", namespace, "logs", "-f", "talker", "--tail=2", "--timestamps"
    )
    assert follower.stdout is not None
    seen = await read_until(follower.stdout, "seq=")
    await kubectl.ok("-n", namespace, "delete", "pod", "talker", "--wait=false")
    code = await asyncio.wait_for(follower.wait(), 30)
    tail = await kubectl("-n", namespace, "logs", "talker")

    assert code == 0
    assert seen[0][:4].isdigit() and "T" in seen[0].split()[0]
    assert tail.code == 1 and "NotFound" in tail.err


async def test_get_pods_watch_shows_new_pods_coming_up(kubectl: Kubectl, namespace: str) -> None:
    await kubectl.ok(
        "-n",
        namespace,
        "apply",
        "-f",
        "-",
        stdin=as_yaml(manifests.deployment("web", "shop/web:v1", replicas=1)),
    )
    await kubectl.ok("-n", namespace, "rollout", "status", "deployment/web", "--timeout=30s")
    watcher = await kubectl.start("-n", namespace, "get", "pods", "-w")
    assert watcher.stdout is not None
    header = await read_until(watcher.stdout, "Running")

    await kubectl.ok("-n", namespace, "scale", "deployment/web", "--replicas=2")
    new_lines = await read_until(watcher.stdout, "ContainerCreating")
    new_pod = new_lines[-1].split()[0]

    await read_until(
        watcher.stdout,
        lambda line: line.startswith(new_pod) and "1/1" in line and "Running" in line,
    )
    watcher.terminate()
    await watcher.wait()

    assert header[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert any(new_pod in line and "Pending" in line for line in new_lines)
