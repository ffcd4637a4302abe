"""Tenant B against tenant A under ``flightdeck up`` (ADR 0012).

A is the dev tenant (it owns ``default``); B is made as an operator would, with
``flightdeck tenants create`` and ``flightdeck tokens create``, and owns
``team-b``. B tries every route there is against A's app, deployment and
namespace; each answer must be byte-identical to the answer for an unknown
one of the same length (bodies compared with the timestamp and the name asked
for masked), and the cluster, read with the real ``kubectl``, must not change.
Then B deploys an app of the same name in its own namespace: each tenant's log
stream carries its own pods' lines only.

The ops routes and the app view (issue 14) have their own cross-tenant tests: tests/e2e/test_ops.py,
tests/integration/gateway/test_ops.py and tests/integration/gateway/test_apps.py.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import uuid
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
import websockets

from tests.e2e.system import System
from tests.e2e.test_pipeline import deploy, follow
from tests.integration.sandbox.kubectl import Kubectl
from tests.support.cli import flightdeck
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

APP = "ledger"  # A's app; B later deploys one of the same name in its own namespace
B_TENANT = "team-b"
B_NAMESPACE = "team-b"  # watched: system.py lists it in FLIGHTDECK_K8S__NAMESPACES
UNKNOWN_NS = "nowhere"  # same length as "default"
_TIMESTAMP = re.compile(rb'"timestamp":"[^"]*"')


def same_length_unknown(known: str) -> str:
    """An id (or name) nobody has, as long as ``known``, so masked bodies compare byte for byte."""
    fresh = ("z" + uuid.uuid4().hex * 4)[: len(known)]
    assert fresh != known
    return fresh


def masked(body: bytes, asked: str) -> bytes:
    return _TIMESTAMP.sub(b'"timestamp":"T"', body).replace(asked.encode(), b"<asked>")


def assert_alike(theirs: httpx.Response, unknown: httpx.Response, asked: str, other: str) -> None:
    """Same status, same content type, same body but for the timestamp and the name asked."""
    assert theirs.status_code == unknown.status_code, (theirs.text, unknown.text)
    assert theirs.status_code >= 400, theirs.text
    assert theirs.headers["content-type"] == unknown.headers["content-type"]
    assert masked(theirs.content, asked) == masked(unknown.content, other)


@pytest.fixture(scope="module")
def kubectl(system: System, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed on this machine (CI installs it from Debian's)")
    home = Path(tmp_path_factory.mktemp("kubectl-home"))
    return Kubectl(Path(system.sandbox["kubeconfig"]), home / "cache")


@pytest.fixture(scope="module")
async def tenant_b(system: System, kubectl: Kubectl) -> str:
    """B's API key, after B exists and owns its namespace (in the cluster too)."""
    env = {"FLIGHTDECK_NATS__URL": system.nats.url, "FLIGHTDECK_STATE_DIR": str(system.state)}
    created = await flightdeck("tenants", "create", B_TENANT, "--namespaces", B_NAMESPACE, env=env)
    assert created.code == 0, created.err
    minted = await flightdeck(
        "tokens", "create", "--tenant", B_TENANT, "--scope", "admin", "--name", "b", env=env
    )
    assert minted.code == 0, minted.err
    key = next(w for w in minted.out.split() if w.startswith("fdk_"))
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": B_NAMESPACE}}
    await kubectl.ok("apply", "-f", "-", stdin=json.dumps(namespace))

    async def accepted() -> bool:
        async with as_tenant(system, key) as http:
            return (await http.get("/api/v1/deployments")).status_code == 200

    await eventually(accepted, what="B's key")
    return key


def as_tenant(system: System, key: str) -> httpx.AsyncClient:
    return system.client(key)


async def cluster(kubectl: Kubectl) -> list[dict[str, Any]]:
    """Every Deployment, Service and Ingress: what it is and what it asks for."""
    found = json.loads(await kubectl.ok("get", "deploy,svc,ing", "-A", "-o", "json"))
    return sorted(
        (
            {
                "kind": item["kind"],
                "namespace": item["metadata"].get("namespace"),
                "name": item["metadata"]["name"],
                "uid": item["metadata"]["uid"],
                "generation": item["metadata"].get("generation"),
                "labels": item["metadata"].get("labels"),
                "annotations": item["metadata"].get("annotations"),
                "spec": item.get("spec"),
            }
            for item in found["items"]
        ),
        key=lambda o: (o["kind"], o["namespace"] or "", o["name"]),
    )


async def ws_answers(system: System, key: str, messages: list[dict[str, Any]]) -> list[bytes]:
    """What the WebSocket answers to each message, raw, one socket for all."""
    url = system.gateway_url.replace("http://", "ws://") + "/api/v1/ws"
    answers = []
    async with websockets.connect(url, additional_headers={"Authorization": f"Bearer {key}"}) as ws:
        for message in messages:
            await ws.send(msgspec.json.encode(message).decode())
            raw = await asyncio.wait_for(ws.recv(), 20)
            answers.append(raw.encode() if isinstance(raw, str) else raw)
    return answers


async def logs_of(system: System, key: str, app: str, namespace: str) -> list[dict[str, Any]]:
    async with as_tenant(system, key) as http:
        page = await http.get(f"/api/v1/logs/{app}", params={"namespace": namespace, "limit": 1000})
    assert page.status_code == 200, page.text
    items: list[dict[str, Any]] = page.json()["data"]["items"]
    return items


async def test_tenant_b_gets_nothing_of_tenant_a_and_changes_nothing(
    system: System, kubectl: Kubectl, tenant_b: str
) -> None:
    # arrange: A deploys its app and it runs
    await system.push_image(APP, "v1")
    a_dep = await deploy(system, APP, "v1")
    assert (await follow(system, a_dep))[-1][1] == "done"
    before = await cluster(kubectl)
    no_dep = same_length_unknown(a_dep)
    no_app = same_length_unknown(APP)

    # act and assert: every route, A's thing against an unknown one
    async with as_tenant(system, tenant_b) as b:
        for body in (
            {"appName": APP, "imageRepository": APP, "imageTag": "v2"},  # A's app
            {"appName": "fresh", "imageRepository": "fresh", "imageTag": "v1"},  # A's namespace
        ):
            theirs = await b.post("/api/v1/deploy", json={**body, "namespace": "default"})
            unknown = await b.post("/api/v1/deploy", json={**body, "namespace": UNKNOWN_NS})
            assert theirs.json()["errorCode"] == "NAMESPACE_NOT_FOUND"
            assert_alike(theirs, unknown, "default", UNKNOWN_NS)
        for path, params in (
            ("/api/v1/deploy/{}/result", {}),
            ("/api/v1/deploy/{}/events", {}),
            ("/api/v1/deploy/{}/events", {"include": "logs"}),
        ):
            theirs = await b.get(path.format(a_dep), params=params)
            unknown = await b.get(path.format(no_dep), params=params)
            assert theirs.json()["errorCode"] == "DEPLOYMENT_NOT_FOUND"
            assert_alike(theirs, unknown, a_dep, no_dep)
        for path, params in (
            ("/api/v1/logs/{}/stream", {"namespace": "default"}),
            ("/api/v1/logs/{}/stream", {"namespace": "default", "tail": "10"}),
            ("/api/v1/logs/{}", {"namespace": "default"}),
        ):
            theirs = await b.get(path.format(APP), params=params)
            unknown = await b.get(path.format(no_app), params=params)
            assert theirs.json()["errorCode"] == "APP_NOT_FOUND"
            assert_alike(theirs, unknown, APP, no_app)
        listed = (await b.get("/api/v1/deployments")).json()["data"]
        assert listed["total"] == 0 and listed["items"] == []
    answers = await ws_answers(
        system,
        tenant_b,
        [
            {"type": "subscribe-to-pipeline", "deploymentId": a_dep},
            {"type": "subscribe-to-pipeline", "deploymentId": no_dep},
            {"type": "subscribe-to-logs", "app": APP, "namespace": "default"},
            {"type": "subscribe-to-logs", "app": no_app, "namespace": "default"},
        ],
    )
    assert b'"DEPLOYMENT_NOT_FOUND"' in answers[0] and b'"APP_NOT_FOUND"' in answers[2]
    assert answers[0].replace(a_dep.encode(), b"X") == answers[1].replace(no_dep.encode(), b"X")
    assert answers[2].replace(APP.encode(), b"X") == answers[3].replace(no_app.encode(), b"X")
    assert await cluster(kubectl) == before, "B's attempts changed the cluster"

    # B's app of the same name, in its own namespace: each log stream has its own pods only
    b_dep = await deploy(system, APP, "v1", namespace=B_NAMESPACE, key=tenant_b)
    assert (await follow(system, b_dep, key=tenant_b))[-1][1] == "done"
    listed_pods = json.loads(await kubectl.ok("get", "pods", "-n", B_NAMESPACE, "-o", "json"))
    b_pods = {p["metadata"]["name"] for p in listed_pods["items"]}
    assert b_pods

    async def b_logged() -> bool:
        return bool(await logs_of(system, tenant_b, APP, B_NAMESPACE))

    await eventually(b_logged, within=60, what="B's pods' log lines")
    a_lines = await logs_of(system, system.token, APP, "default")
    b_lines = await logs_of(system, tenant_b, APP, B_NAMESPACE)
    assert a_lines and {line["namespace"] for line in a_lines} == {"default"}
    assert {line["namespace"] for line in b_lines} == {B_NAMESPACE}
    assert {line["pod"] for line in b_lines} <= b_pods
    assert not {line["pod"] for line in a_lines} & b_pods, "A's log stream carried B's pods"
