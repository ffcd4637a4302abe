"""Tenancy on the gateway (ADR 0012): namespaces have one tenant, apps their first deployer,
reserved namespaces nobody; another tenant's things answer exactly like unknown ones.

acme owns ``default`` (and ``gw-logs``, ``unwatched``), globex owns ``globex`` (conftest).
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from flightdeck.events import streams, subjects
from flightdeck.events.tenancy import AppClaimed
from tests.integration.gateway.conftest import Gateway, new_deployment
from tests.integration.gateway.test_logs_world import make_app, many, publish, unique_app
from tests.integration.gateway.test_ws import Socket, connect

pytestmark = pytest.mark.integration


def deploy_body(app: str, namespace: str) -> dict[str, Any]:
    return {"appName": app, "imageRepository": app, "imageTag": "v1", "namespace": namespace}


def same_answer(a: httpx.Response, b: httpx.Response, a_id: str, b_id: str) -> dict[str, Any]:
    """Equal status, headers that matter and body, but for the timestamp and the id asked for."""
    assert a.status_code == b.status_code, (a.text, b.text)
    assert a.headers["content-type"] == b.headers["content-type"]
    first, second = a.json(), b.json()
    del first["timestamp"], second["timestamp"]
    assert a.text.count(a_id) == b.text.count(b_id)
    marker = "\0"
    assert {k: str(v).replace(a_id, marker) for k, v in first.items()} == {
        k: str(v).replace(b_id, marker) for k, v in second.items()
    }
    return dict(first)


async def deployments_stored(gateway: Gateway) -> int:
    return await gateway.store.stream_last_position(streams.DEPLOYMENTS)


async def test_a_tenant_cannot_deploy_over_another_tenants_app(gateway: Gateway) -> None:
    """Finding 1: globex's key deploying acme's running app answered 202 and took it over."""
    app = unique_app("taken")
    async with gateway.client("acme-deploy") as acme:
        mine = await acme.post("/api/v1/deploy", json=deploy_body(app, "default"))
    assert mine.status_code == 202, mine.text
    before = await deployments_stored(gateway)
    nowhere = f"nowhere-{uuid.uuid4().hex[:8]}"
    async with gateway.client("globex-admin") as globex:
        theirs = await globex.post("/api/v1/deploy", json=deploy_body(app, "default"))
        unknown = await globex.post("/api/v1/deploy", json=deploy_body(app, nowhere))
    assert theirs.status_code == 404, f"another tenant's app was taken over: {theirs.text}"
    body = same_answer(theirs, unknown, "default", nowhere)
    assert (body["status"], body["errorCode"]) == (404, "NAMESPACE_NOT_FOUND")
    assert await deployments_stored(gateway) == before, "nothing was requested"


@pytest.mark.parametrize(
    "namespace", ["kube-system", "kube-public", "kube-node-lease", "flightdeck"]
)
async def test_reserved_namespaces_are_never_deploy_targets(
    gateway: Gateway, namespace: str
) -> None:
    """Finding 2: "namespace": "kube-system" created a Deployment, Service and Ingress there."""
    before = await deployments_stored(gateway)
    nowhere = f"nowhere-{uuid.uuid4().hex[:8]}"
    async with gateway.client("acme-admin") as acme:
        reserved = await acme.post("/api/v1/deploy", json=deploy_body("web", namespace))
        unknown = await acme.post("/api/v1/deploy", json=deploy_body("web", nowhere))
    assert reserved.status_code == 404, f"{namespace} was accepted: {reserved.text}"
    body = same_answer(reserved, unknown, namespace, nowhere)
    assert body["errorCode"] == "NAMESPACE_NOT_FOUND"
    assert await deployments_stored(gateway) == before


async def test_the_first_deployment_claims_the_app_once(gateway: Gateway) -> None:
    app = unique_app("claim")
    async with gateway.client("acme-deploy") as acme:
        first = await acme.post("/api/v1/deploy", json=deploy_body(app, "default"))
        second = await acme.post("/api/v1/deploy", json=deploy_body(app, "default"))
    assert (first.status_code, second.status_code) == (202, 202), (first.text, second.text)
    claims = await gateway.store.read(subjects.claim("default", app))
    assert [type(r.event) for r in claims] == [AppClaimed]
    claim = claims[0].event
    assert (claim.tenant, claim.namespace, claim.app) == ("acme", "default", app)
    assert claim.deployment_id == first.json()["data"]["deploymentId"]


async def test_an_own_namespace_that_is_not_watched_is_refused_with_its_code(
    gateway: Gateway,
) -> None:
    before = await deployments_stored(gateway)
    async with gateway.client("acme-deploy") as acme:
        refused = await acme.post("/api/v1/deploy", json=deploy_body("web", "unwatched"))
    assert refused.status_code == 409, refused.text
    assert refused.json()["errorCode"] == "NAMESPACE_NOT_WATCHED"
    assert "FLIGHTDECK_K8S__NAMESPACES" in refused.json()["message"]
    assert await deployments_stored(gateway) == before


async def test_each_tenant_deploys_the_same_app_name_in_its_own_namespace(
    gateway: Gateway,
) -> None:
    app = unique_app("twin")
    async with gateway.client("acme-deploy") as acme:
        ours = await acme.post("/api/v1/deploy", json=deploy_body(app, "default"))
    async with gateway.client("globex-admin") as globex:
        theirs = await globex.post("/api/v1/deploy", json=deploy_body(app, "globex"))
    assert (ours.status_code, theirs.status_code) == (202, 202), (ours.text, theirs.text)
    owners = [
        (await gateway.store.read(subjects.claim(ns, app)))[0].event.tenant
        for ns in ("default", "globex")
    ]
    assert owners == ["acme", "globex"]


async def test_another_tenants_logs_answer_like_an_unknown_app(gateway: Gateway) -> None:
    app = unique_app("private")
    await make_app(gateway, app)
    await publish(gateway, app, many(app, "web-a", 1, "acme only"))
    nobody = unique_app("nobody")
    async with gateway.client("globex-admin") as globex:
        for path, params in (
            ("/api/v1/logs/{}/stream", {"namespace": "default", "tail": "5"}),
            ("/api/v1/logs/{}", {"namespace": "default", "limit": "5"}),
        ):
            theirs = await globex.get(path.format(app), params=params)
            unknown = await globex.get(path.format(nobody), params=params)
            body = same_answer(theirs, unknown, app, nobody)
            assert body["errorCode"] == "APP_NOT_FOUND"


async def test_websocket_subscriptions_to_another_tenants_things_answer_like_unknown_ones(
    gateway: Gateway,
) -> None:
    app = unique_app("wsprivate")
    dep = await make_app(gateway, app)
    other_dep, _ = await new_deployment(gateway.store, tenant="globex")
    async with connect(gateway, "globex-admin") as ws:
        sock = Socket(ws)
        answers = []
        for message in (
            {"type": "subscribe-to-pipeline", "deploymentId": dep},
            {"type": "subscribe-to-pipeline", "deploymentId": "0" * len(dep)},
            {"type": "subscribe-to-logs", "app": app, "namespace": "default"},
            {"type": "subscribe-to-logs", "app": "x" + app[1:], "namespace": "default"},
        ):
            await sock.send(**message)
            answers.append(await sock.next(type="error"))
        await sock.send(type="subscribe-to-pipeline", deploymentId=other_dep, subscriptionId="own")
        await sock.next(type="subscribed", subscriptionId="own")
    assert answers[0] == {
        **answers[1],
        "message": answers[1]["message"].replace("0" * len(dep), dep),
    }
    assert answers[0]["code"] == "DEPLOYMENT_NOT_FOUND"
    assert answers[2] == {
        **answers[3],
        "message": answers[3]["message"].replace("x" + app[1:], app),
    }
    assert answers[2]["code"] == "APP_NOT_FOUND"
